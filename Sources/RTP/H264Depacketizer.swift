import NIOCore

/// A reassembled H.264 access unit: NAL units behind 4-byte start codes (Annex B).
public struct H264AccessUnit: Sendable, Hashable {
    public var timestamp: UInt32
    public var annexB: ByteBuffer
    /// The types of the NAL units, in order.
    public var nalUnitTypes: [UInt8]
    /// NAL units left out: an FU-A with a fragment missing or out of place, a malformed STAP-A, a
    /// packet type mode 1 does not use, or a unit past the size limit.
    public var discardedNALUnits: Int

    /// It has an IDR slice (type 5).
    public var isKeyframe: Bool { nalUnitTypes.contains(H264NALUnitType.idrSlice) }
}

/// Why the depacketizer refused a packet.
public enum H264DepacketizerError: Error, Sendable, Hashable {
    case emptyPayload
    case timestampMismatch(expected: UInt32, got: UInt32)
    /// Before the frame's known first packet, or after its marker.
    case outOfFrame(sequenceNumber: UInt16)
    /// A second marker at another sequence number.
    case conflictingMarker(sequenceNumber: UInt16)
    case tooManyPackets(limit: Int)
    case accessUnitTooLarge(limit: Int)
}

/// Reassembles the RTP packets of one H.264 frame (one RTP timestamp), RFC 6184 packetization mode 1:
/// single NAL unit packets, STAP-A, FU-A. Pure and bounded: the caller (a jitter buffer) keeps one per
/// timestamp, inserts packets in any order and gets the access unit when the marker and every
/// sequence number from the first to it are there. When it stops waiting, `finish()` says which
/// sequence numbers are missing (for NACK) and gives what could be assembled (an FU-A with a lost
/// fragment discards that NAL unit only).
///
/// The first sequence number is known when the caller passes it (the previous frame's marker + 1);
/// otherwise it is the lowest seen, which is trusted unless it is an FU-A fragment without the start bit.
public struct H264Depacketizer: Sendable {
    public struct Limits: Sendable, Hashable {
        public var maxAccessUnitBytes: Int
        public var maxPacketsPerFrame: Int

        public init(maxAccessUnitBytes: Int = 4 << 20, maxPacketsPerFrame: Int = 4096) {
            self.maxAccessUnitBytes = maxAccessUnitBytes
            self.maxPacketsPerFrame = max(1, min(maxPacketsPerFrame, 16384))
        }
    }

    public enum Event: Sendable, Hashable {
        /// Stored; the frame is not complete yet.
        case pending
        /// Already had that sequence number.
        case duplicate
        /// The frame is complete (returned once).
        case complete(H264AccessUnit)
        case rejected(H264DepacketizerError)
    }

    public enum Outcome: Sendable, Hashable {
        case complete(H264AccessUnit)
        /// `missing` lists the absent sequence numbers between the first packet and the marker (or the
        /// highest packet when no marker came: packets after it are unknown). `partial` holds the NAL
        /// units that were whole, nil when there are none.
        case incomplete(missing: [UInt16], markerReceived: Bool, partial: H264AccessUnit?)
    }

    public let timestamp: UInt32
    public let limits: Limits
    private let knownFirst: Bool
    /// The sequence number offsets count from: the known first, else the first inserted.
    private var base: UInt16
    private var anchored: Bool
    /// Payloads by offset from `base` (wrap-aware, within +-maxPacketsPerFrame).
    private var packets: [Int: ByteBuffer] = [:]
    private var lowest = 0
    private var highest = 0
    private var markerOffset: Int?
    private var payloadBytes = 0
    private var completed = false

    public init(timestamp: UInt32, firstSequenceNumber: UInt16? = nil, limits: Limits = Limits()) {
        self.timestamp = timestamp
        self.limits = limits
        self.knownFirst = firstSequenceNumber != nil
        self.base = firstSequenceNumber ?? 0
        self.anchored = firstSequenceNumber != nil
    }

    /// Inserts a packet of this frame (its RTP timestamp must be `timestamp`).
    public mutating func insert(_ packet: RTPPacket) -> Event {
        guard packet.timestamp == timestamp else {
            return .rejected(.timestampMismatch(expected: timestamp, got: packet.timestamp))
        }
        return insert(sequenceNumber: packet.sequenceNumber, marker: packet.marker, payload: packet.payload)
    }

    public mutating func insert(sequenceNumber: UInt16, marker: Bool, payload: ByteBuffer) -> Event {
        guard payload.readableBytes > 0 else { return .rejected(.emptyPayload) }
        if !anchored {
            anchored = true
            base = sequenceNumber
        }
        let offset = Int(Int16(bitPattern: sequenceNumber &- base))
        if packets[offset] != nil { return .duplicate }
        if completed { return .rejected(.outOfFrame(sequenceNumber: sequenceNumber)) }
        if knownFirst, offset < 0 { return .rejected(.outOfFrame(sequenceNumber: sequenceNumber)) }
        if let markerOffset {
            if offset > markerOffset { return .rejected(.outOfFrame(sequenceNumber: sequenceNumber)) }
            if marker { return .rejected(.conflictingMarker(sequenceNumber: sequenceNumber)) }
        }
        let newLowest = packets.isEmpty ? offset : min(lowest, offset)
        var newHighest = packets.isEmpty ? offset : max(highest, offset)
        if marker { newHighest = offset }
        let first = knownFirst ? 0 : newLowest
        guard packets.count < limits.maxPacketsPerFrame, newHighest - first < limits.maxPacketsPerFrame else {
            return .rejected(.tooManyPackets(limit: limits.maxPacketsPerFrame))
        }
        guard payloadBytes + payload.readableBytes <= limits.maxAccessUnitBytes else {
            return .rejected(.accessUnitTooLarge(limit: limits.maxAccessUnitBytes))
        }
        if marker {
            markerOffset = offset
            // Anything stored after the marker was not of this frame.
            for (late, dropped) in packets where late > offset {
                packets[late] = nil
                payloadBytes -= dropped.readableBytes
            }
        }
        packets[offset] = payload
        payloadBytes += payload.readableBytes
        lowest = newLowest
        highest = newHighest
        if let unit = completeAccessUnit() {
            completed = true
            return .complete(unit)
        }
        return .pending
    }

    /// The absent sequence numbers between the first packet and the marker (or the highest so far).
    public var missingSequenceNumbers: [UInt16] {
        guard !packets.isEmpty else { return [] }
        let first = knownFirst ? 0 : lowest
        var missing: [UInt16] = []
        for offset in first...highest where packets[offset] == nil {
            missing.append(base &+ UInt16(truncatingIfNeeded: offset))
        }
        if !knownFirst, let start = packets[lowest], !Self.canStartAccessUnit(start) {
            missing.insert(base &+ UInt16(truncatingIfNeeded: lowest - 1), at: 0)
        }
        return missing
    }

    /// The frame as it stands: complete, or what is missing and what could be assembled.
    public func finish() -> Outcome {
        if let unit = completeAccessUnit() { return .complete(unit) }
        let partial = assemble(packets.keys.sorted())
        return .incomplete(
            missing: missingSequenceNumbers, markerReceived: markerOffset != nil,
            partial: partial.nalUnitTypes.isEmpty ? nil : partial)
    }

    private func completeAccessUnit() -> H264AccessUnit? {
        guard let markerOffset else { return nil }
        let first = knownFirst ? 0 : lowest
        guard first <= markerOffset, packets.count == markerOffset - first + 1 else { return nil }
        if !knownFirst, let start = packets[first], !Self.canStartAccessUnit(start) { return nil }
        let unit = assemble(Array(first...markerOffset))
        if !knownFirst, !unit.nalUnitTypes.contains(where: { (1...5).contains($0) }) { return nil }
        return unit
    }

    /// Whether a packet can be an access unit's first when the first sequence number is not known
    /// (H.264 7.4.1.2.3): it starts with a non-VCL unit that may precede the primary picture (SEI, SPS,
    /// PPS, AUD, ...) or with a slice whose first_mb_in_slice is 0 (its ue(v) is the single bit 1). Not
    /// an FU-A continuation. Arbitrary slice order (Baseline ASO) would defeat the slice test.
    static func canStartAccessUnit(_ payload: ByteBuffer) -> Bool {
        let base = payload.readerIndex
        guard let indicator = payload.getInteger(at: base, as: UInt8.self) else { return false }
        let type: UInt8
        let firstSliceByte: Int
        switch H264NALUnitType.of(indicator) {
        case H264NALUnitType.fuA:
            guard let header = payload.getInteger(at: base + 1, as: UInt8.self), header & 0x80 != 0 else { return false }
            (type, firstSliceByte) = (H264NALUnitType.of(header), base + 2)
        case H264NALUnitType.stapA:
            guard let header = payload.getInteger(at: base + 3, as: UInt8.self) else { return false }
            (type, firstSliceByte) = (H264NALUnitType.of(header), base + 4)
        case let single:
            (type, firstSliceByte) = (single, base + 1)
        }
        switch type {
        case 1...5:
            return (payload.getInteger(at: firstSliceByte, as: UInt8.self) ?? 0) & 0x80 != 0
        case 6...9, 13...18:
            return true
        default:
            return false
        }
    }

    /// Annex-B from the packets at `offsets` (ascending), FU-A fragments joined only when consecutive.
    private func assemble(_ offsets: [Int]) -> H264AccessUnit {
        var output = ByteBuffer()
        output.reserveCapacity(min(payloadBytes + 64, limits.maxAccessUnitBytes))
        var types: [UInt8] = []
        var discarded = 0
        // The FU-A being joined: where its start code begins in `output`, its type, the last offset.
        var open: (start: Int, type: UInt8, last: Int)?
        var orphanRun = false
        let limit = limits.maxAccessUnitBytes

        func append(_ unit: ByteBuffer) {
            guard let header = unit.getInteger(at: unit.readerIndex, as: UInt8.self) else { return }
            guard output.readableBytes + 4 + unit.readableBytes <= limit else {
                discarded += 1
                return
            }
            output.writeBytes(H264AnnexB.startCode)
            output.writeImmutableBuffer(unit)
            types.append(H264NALUnitType.of(header))
        }
        func abandon() {
            if let fragment = open {
                output.moveWriterIndex(to: fragment.start)
                discarded += 1
                open = nil
            }
        }

        for offset in offsets {
            guard var payload = packets[offset], let indicator = payload.getInteger(at: payload.readerIndex, as: UInt8.self)
            else { continue }
            let type = H264NALUnitType.of(indicator)
            if type != H264NALUnitType.fuA {
                abandon()
                orphanRun = false
            }
            switch type {
            case 1...23:
                append(payload)
            case H264NALUnitType.stapA:
                payload.moveReaderIndex(forwardBy: 1)
                while payload.readableBytes > 0 {
                    guard let size = payload.readInteger(as: UInt16.self), size > 0,
                        let unit = payload.readSlice(length: Int(size))
                    else {
                        discarded += 1
                        break
                    }
                    append(unit)
                }
            case H264NALUnitType.fuA:
                guard payload.readableBytes >= 3, let header = payload.getInteger(at: payload.readerIndex + 1, as: UInt8.self)
                else {
                    abandon()
                    discarded += 1
                    continue
                }
                payload.moveReaderIndex(forwardBy: 2)
                let unitType = H264NALUnitType.of(header)
                let isStart = header & 0x80 != 0
                let isEnd = header & 0x40 != 0
                if isStart {
                    abandon()
                    orphanRun = false
                    guard output.readableBytes + 5 + payload.readableBytes <= limit else {
                        discarded += 1
                        continue
                    }
                    open = (output.writerIndex, unitType, offset)
                    output.writeBytes(H264AnnexB.startCode)
                    output.writeInteger(indicator & 0xE0 | unitType)
                    output.writeImmutableBuffer(payload)
                } else if let fragment = open, fragment.last + 1 == offset, fragment.type == unitType,
                    output.readableBytes + payload.readableBytes <= limit
                {
                    output.writeImmutableBuffer(payload)
                    open?.last = offset
                } else {
                    // A gap in the open unit loses it (counted once); a fragment of another unit, or with
                    // nothing open, loses that unit too (once for its run of fragments).
                    let sameUnit = open?.type == unitType
                    abandon()
                    if !sameUnit && !orphanRun { discarded += 1 }
                    orphanRun = !isEnd
                    continue
                }
                if isEnd, let fragment = open {
                    types.append(fragment.type)
                    open = nil
                }
            default:
                // STAP-B, MTAP, FU-B and reserved types are not mode 1.
                discarded += 1
            }
        }
        abandon()
        return H264AccessUnit(timestamp: timestamp, annexB: output, nalUnitTypes: types, discardedNALUnits: discarded)
    }
}
