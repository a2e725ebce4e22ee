import NIOCore

/// Generic NACK, RTPFB FMT 1 (RFC 4585 section 6.2.1): lost packets of `mediaSSRC` as pairs of a packet
/// id (PID) and a bitmask of the 16 following ones (BLP, bit i = PID + i + 1).
public struct RTCPNack: Sendable, Hashable {
    public static let format: UInt8 = 1

    public struct Pair: Sendable, Hashable {
        public var packetID: UInt16
        public var lostBitmask: UInt16

        public init(packetID: UInt16, lostBitmask: UInt16 = 0) {
            self.packetID = packetID
            self.lostBitmask = lostBitmask
        }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    /// At most 65533 fit one packet.
    public var pairs: [Pair]

    public init(senderSSRC: UInt32, mediaSSRC: UInt32, pairs: [Pair]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.pairs = pairs
    }

    /// Pairs for `lostSequenceNumbers`, taken in the given order (oldest first, wrap-aware): a number
    /// within 1...16 after the current pair's PID sets its bit, any other starts a new pair; repeats of
    /// the PID are skipped.
    public init(senderSSRC: UInt32, mediaSSRC: UInt32, lostSequenceNumbers: [UInt16]) {
        var pairs: [Pair] = []
        for sequenceNumber in lostSequenceNumbers {
            if let last = pairs.last {
                let distance = sequenceNumber &- last.packetID
                if distance == 0 { continue }
                if distance <= 16 {
                    pairs[pairs.count - 1].lostBitmask |= 1 << (distance - 1)
                    continue
                }
            }
            pairs.append(Pair(packetID: sequenceNumber))
        }
        self.init(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, pairs: pairs)
    }

    /// The sequence numbers the pairs name, in order (each PID, then its set bits upward, wrapping).
    public var lostSequenceNumbers: [UInt16] {
        var numbers: [UInt16] = []
        for pair in pairs {
            numbers.append(pair.packetID)
            for bit in 0..<16 where pair.lostBitmask & (1 << bit) != 0 {
                numbers.append(pair.packetID &+ UInt16(bit + 1))
            }
        }
        return numbers
    }

    init(reader: inout RTCPBodyReader) throws(RTCPParseError) {
        senderSSRC = try reader.read()
        mediaSSRC = try reader.read()
        pairs = []
        while reader.remaining >= 4 {
            pairs.append(Pair(packetID: try reader.read(), lostBitmask: try reader.read()))
        }
    }

    func serialize(into buffer: inout ByteBuffer) {
        writeRTCPPacket(into: &buffer, count: Self.format, packetType: RTCPPacket.transportFeedbackType) { body in
            body.writeInteger(senderSSRC)
            body.writeInteger(mediaSSRC)
            for pair in pairs {
                body.writeInteger(pair.packetID)
                body.writeInteger(pair.lostBitmask)
            }
        }
    }
}

/// Picture Loss Indication, PSFB FMT 1 (RFC 4585 section 6.3.1): the receiver lost picture data of
/// `mediaSSRC` and asks for a keyframe. No FCI.
public struct RTCPPictureLossIndication: Sendable, Hashable {
    public static let format: UInt8 = 1

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32

    public init(senderSSRC: UInt32, mediaSSRC: UInt32) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
    }

    init(reader: inout RTCPBodyReader) throws(RTCPParseError) {
        senderSSRC = try reader.read()
        mediaSSRC = try reader.read()
    }

    func serialize(into buffer: inout ByteBuffer) {
        writeRTCPPacket(into: &buffer, count: Self.format, packetType: RTCPPacket.payloadFeedbackType) { body in
            body.writeInteger(senderSSRC)
            body.writeInteger(mediaSSRC)
        }
    }
}

/// Full Intra Request, PSFB FMT 4 (RFC 5104 section 4.3.1): a decoder refresh point now, per target
/// SSRC, with a command sequence number the sender increments per new request (repeats are the same
/// request). The header's media SSRC is 0 (kept as read).
public struct RTCPFullIntraRequest: Sendable, Hashable {
    public static let format: UInt8 = 4

    public struct Entry: Sendable, Hashable {
        public var ssrc: UInt32
        public var sequenceNumber: UInt8

        public init(ssrc: UInt32, sequenceNumber: UInt8) {
            self.ssrc = ssrc
            self.sequenceNumber = sequenceNumber
        }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var entries: [Entry]

    public init(senderSSRC: UInt32, mediaSSRC: UInt32 = 0, entries: [Entry]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.entries = entries
    }

    init(reader: inout RTCPBodyReader) throws(RTCPParseError) {
        senderSSRC = try reader.read()
        mediaSSRC = try reader.read()
        entries = []
        while reader.remaining >= 8 {
            let ssrc: UInt32 = try reader.read()
            let word: UInt32 = try reader.read()
            entries.append(Entry(ssrc: ssrc, sequenceNumber: UInt8(truncatingIfNeeded: word >> 24)))
        }
    }

    func serialize(into buffer: inout ByteBuffer) {
        writeRTCPPacket(into: &buffer, count: Self.format, packetType: RTCPPacket.payloadFeedbackType) { body in
            body.writeInteger(senderSSRC)
            body.writeInteger(mediaSSRC)
            for entry in entries {
                body.writeInteger(entry.ssrc)
                body.writeInteger(UInt32(entry.sequenceNumber) << 24)
            }
        }
    }
}

/// Receiver Estimated Maximum Bitrate, PSFB FMT 15 with the "REMB" identifier
/// (draft-alvestrand-rmcat-remb-03 section 2.2): the receiver's estimate of the total bitrate the
/// listed SSRCs may use, as an 18-bit mantissa and a 6-bit exponent. The header's media SSRC is 0.
///
///     | "R" "E" "M" "B" | Num SSRC (8) | BR Exp (6) | BR Mantissa (18) | SSRC feedback ... |
public struct RTCPReceiverEstimatedMaxBitrate: Sendable, Hashable {
    public static let format: UInt8 = 15
    static let identifier: UInt32 = 0x5245_4D42  // "REMB"

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    /// Bits per second. The mantissa keeps 18 significant bits, so serialization rounds down.
    public var bitrate: UInt64
    /// At most 255 are written.
    public var ssrcs: [UInt32]

    public init(senderSSRC: UInt32, mediaSSRC: UInt32 = 0, bitrate: UInt64, ssrcs: [UInt32]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.bitrate = bitrate
        self.ssrcs = ssrcs
    }

    /// nil when the FCI does not start with "REMB" (another application-layer feedback).
    init?(reader: inout RTCPBodyReader) throws(RTCPParseError) {
        senderSSRC = try reader.read()
        mediaSSRC = try reader.read()
        guard reader.remaining >= 4, try reader.read(UInt32.self) == Self.identifier else { return nil }
        let count: UInt8 = try reader.read()
        let exponentAndMantissa: UInt32 = UInt32(try reader.read(UInt8.self)) << 16 | UInt32(try reader.read(UInt16.self))
        let exponent = UInt8(exponentAndMantissa >> 18)
        let mantissa = exponentAndMantissa & 0x3_FFFF
        let value = UInt64(mantissa) << exponent
        guard value >> exponent == UInt64(mantissa) else {
            throw .invalidREMBBitrate(exponent: exponent, mantissa: mantissa)
        }
        bitrate = value
        try reader.require(4 * Int(count))
        ssrcs = []
        for _ in 0..<count { ssrcs.append(try reader.read()) }
    }

    func serialize(into buffer: inout ByteBuffer) {
        var exponent: UInt32 = 0
        while bitrate >> exponent >= 1 << 18 { exponent += 1 }
        let mantissa = UInt32(truncatingIfNeeded: bitrate >> exponent)
        let ssrcs = self.ssrcs.prefix(255)
        writeRTCPPacket(into: &buffer, count: Self.format, packetType: RTCPPacket.payloadFeedbackType) { body in
            body.writeInteger(senderSSRC)
            body.writeInteger(mediaSSRC)
            body.writeInteger(Self.identifier)
            body.writeInteger(UInt8(ssrcs.count))
            body.writeInteger(UInt8(truncatingIfNeeded: (exponent << 18 | mantissa) >> 16))
            body.writeInteger(UInt16(truncatingIfNeeded: mantissa))
            for ssrc in ssrcs { body.writeInteger(ssrc) }
        }
    }
}
