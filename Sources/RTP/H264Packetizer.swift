import NIOCore

/// Packs one H.264 access unit into RTP payloads, RFC 6184 packetization mode 1 (non-interleaved,
/// section 6.3): NAL units that fit together go in a STAP-A (5.7.1), one that fits alone in a single
/// NAL unit packet (5.6), a larger one in FU-A fragments (5.8). The marker is set on the access unit's
/// last packet (5.1). Access unit delimiters, filler data and units of the unspecified types (0, 24-31)
/// are dropped. SPS and PPS go before every IDR: when an access unit with an IDR slice lacks them, the
/// last ones seen are inserted, so a receiver joining at any keyframe can decode.
public struct H264Packetizer: Sendable {
    /// The most payload bytes per packet (the MTU less IP, UDP, RTP, SRTP and extension overhead).
    public let maxPayloadSize: Int
    /// The last SPS and PPS seen (copies, not slices of a caller's buffer).
    public private(set) var lastSPS: ByteBuffer?
    public private(set) var lastPPS: ByteBuffer?

    /// `maxPayloadSize` is at least 3 (FU indicator, FU header, one byte).
    public init(maxPayloadSize: Int = 1200) {
        precondition(maxPayloadSize >= 3, "an FU-A needs 3 bytes")
        self.maxPayloadSize = maxPayloadSize
    }

    /// The payloads of one access unit in Annex-B form (3- or 4-byte start codes).
    public mutating func packetize(accessUnit: ByteBuffer) -> [RTPPayloadChunk] {
        packetize(nalUnits: H264AnnexB.split(accessUnit))
    }

    /// The payloads of one access unit given as NAL units (no start codes). Empty when nothing is left.
    public mutating func packetize(nalUnits: [ByteBuffer]) -> [RTPPayloadChunk] {
        var units = nalUnits.filter { unit in
            guard let header = unit.getInteger(at: unit.readerIndex, as: UInt8.self) else { return false }
            let type = H264NALUnitType.of(header)
            // Types 0 and 24-31 are unspecified in H.264 and would read as RTP packet types (RFC 6184 5.2).
            return type != H264NALUnitType.accessUnitDelimiter && type != H264NALUnitType.filler
                && (1...23).contains(type)
        }
        var hasIDR = false
        var hasSPS = false
        var hasPPS = false
        for unit in units {
            switch type(of: unit) {
            case H264NALUnitType.sps:
                hasSPS = true
                lastSPS = ByteBuffer(bytes: unit.readableBytesView)
            case H264NALUnitType.pps:
                hasPPS = true
                lastPPS = ByteBuffer(bytes: unit.readableBytesView)
            case H264NALUnitType.idrSlice:
                hasIDR = true
            default:
                break
            }
        }
        if hasIDR {
            // Parameter sets first (SPS, PPS), the rest in order.
            var parameters = units.filter { [H264NALUnitType.sps, H264NALUnitType.pps].contains(type(of: $0)) }
            if !hasSPS, let lastSPS { parameters.insert(lastSPS, at: 0) }
            if !hasPPS, let lastPPS { parameters.append(lastPPS) }
            units = parameters + units.filter { ![H264NALUnitType.sps, H264NALUnitType.pps].contains(type(of: $0)) }
        }

        var chunks: [RTPPayloadChunk] = []
        var pending: [ByteBuffer] = []
        var pendingSize = 1  // the STAP-A header
        func flush() {
            if pending.count == 1 {
                chunks.append(RTPPayloadChunk(payload: pending[0], marker: false))
            } else if pending.count > 1 {
                chunks.append(RTPPayloadChunk(payload: Self.stapA(pending), marker: false))
            }
            pending.removeAll(keepingCapacity: true)
            pendingSize = 1
        }
        for unit in units {
            let size = unit.readableBytes
            if size > maxPayloadSize {
                flush()
                fragment(unit, into: &chunks)
            } else if pending.isEmpty || pendingSize + 2 + size <= maxPayloadSize {
                pending.append(unit)
                pendingSize += 2 + size
            } else {
                flush()
                pending.append(unit)
                pendingSize += 2 + size
            }
        }
        flush()
        if !chunks.isEmpty { chunks[chunks.count - 1].marker = true }
        return chunks
    }

    private func type(of unit: ByteBuffer) -> UInt8 {
        H264NALUnitType.of(unit.getInteger(at: unit.readerIndex, as: UInt8.self) ?? 0)
    }

    /// STAP-A (RFC 6184 5.7.1): F is the OR of the units' F bits, NRI their highest NRI; then 16-bit
    /// size and unit, for each.
    static func stapA(_ units: [ByteBuffer]) -> ByteBuffer {
        var forbidden: UInt8 = 0
        var nri: UInt8 = 0
        var size = 1
        for unit in units {
            let header = unit.getInteger(at: unit.readerIndex, as: UInt8.self) ?? 0
            forbidden |= header & 0x80
            nri = max(nri, header & 0x60)
            size += 2 + unit.readableBytes
        }
        var payload = ByteBuffer()
        payload.reserveCapacity(size)
        payload.writeInteger(forbidden | nri | H264NALUnitType.stapA)
        for unit in units {
            payload.writeInteger(UInt16(unit.readableBytes))
            payload.writeImmutableBuffer(unit)
        }
        return payload
    }

    /// FU-A (RFC 6184 5.8): FU indicator (F and NRI of the unit, type 28), FU header (S, E, the unit's
    /// type), then a part of the unit after its header byte, as many bytes as fit.
    private func fragment(_ unit: ByteBuffer, into chunks: inout [RTPPayloadChunk]) {
        var rest = unit
        guard let header = rest.readInteger(as: UInt8.self) else { return }
        let indicator = header & 0xE0 | H264NALUnitType.fuA
        let type = H264NALUnitType.of(header)
        let room = maxPayloadSize - 2
        var first = true
        while rest.readableBytes > 0, let part = rest.readSlice(length: min(room, rest.readableBytes)) {
            var fuHeader = type
            if first { fuHeader |= 0x80 }
            if rest.readableBytes == 0 { fuHeader |= 0x40 }
            var payload = ByteBuffer()
            payload.reserveCapacity(2 + part.readableBytes)
            payload.writeInteger(indicator)
            payload.writeInteger(fuHeader)
            payload.writeImmutableBuffer(part)
            chunks.append(RTPPayloadChunk(payload: payload, marker: false))
            first = false
        }
    }
}
