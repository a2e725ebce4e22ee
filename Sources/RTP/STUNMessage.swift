import NIOCore

/// A STUN message class: the two C bits of the message type (RFC 8489 section 5).
public enum STUNClass: UInt8, Hashable, Sendable {
    case request = 0b00
    case indication = 0b01
    case successResponse = 0b10
    case errorResponse = 0b11
}

/// A STUN method: 12 bits of the message type (RFC 8489 section 18.2). ICE only uses Binding.
public struct STUNMethod: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    /// Keeps the low 12 bits.
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }
    public static let binding = Self(rawValue: 0x001)
}

/// The 96-bit transaction id (RFC 8489 section 5): matches responses to requests.
public struct STUNTransactionID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt32
    public var middle: UInt32
    public var low: UInt32

    public init(high: UInt32, middle: UInt32, low: UInt32) {
        self.high = high
        self.middle = middle
        self.low = low
    }

    /// From exactly 12 bytes; nil otherwise.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 12 else { return nil }
        let a = Array(bytes)
        func word(_ i: Int) -> UInt32 { a[i..<i + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        self.init(high: word(0), middle: word(4), low: word(8))
    }

    /// A fresh id from the system's cryptographic generator (RFC 8489 says uniformly random).
    public static func random() -> STUNTransactionID {
        var rng = SystemRandomNumberGenerator()
        return random(using: &rng)
    }

    public static func random(using rng: inout some RandomNumberGenerator) -> STUNTransactionID {
        STUNTransactionID(high: rng.next(), middle: rng.next(), low: rng.next())
    }

    public var bytes: [UInt8] {
        [high, middle, low].flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (24 - 8 * $0)) } }
    }

    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

/// Why bytes are not a STUN message this module accepts (RFC 8489 sections 5-6, 14).
public enum STUNParseError: Error, Hashable, Sendable {
    case truncated(needed: Int, have: Int)
    /// The first two bits are not zero (RFC 7983: then it is RTP, DTLS, ... on the same port).
    case notSTUN(firstByte: UInt8)
    case badMagicCookie(UInt32)
    /// The header's length is not a multiple of 4.
    case badLength(Int)
    case attributeOverrun(type: STUNAttributeType, length: Int, remaining: Int)
    case badAttributeLength(type: STUNAttributeType, length: Int)
    case malformedAttribute(type: STUNAttributeType, reason: String)
    case invalidUTF8(type: STUNAttributeType)
    case tooManyAttributes(Int)
}

/// Why a message cannot be written.
public enum STUNEncodingError: Error, Hashable, Sendable {
    /// An attribute value or the whole message does not fit the 16-bit length fields.
    case tooLong(Int)
}

/// A STUN message (RFC 8489 section 5): type, transaction id and attributes. It is a value:
/// `parse` reads one from a datagram (as a `ReceivedSTUNMessage`, which keeps the bytes needed to
/// check MESSAGE-INTEGRITY and FINGERPRINT), `serialized` writes one, computing integrity and
/// fingerprint when asked.
public struct STUNMessage: Hashable, Sendable {
    public static let magicCookie: UInt32 = 0x2112_A442
    public static let headerLength = 20
    /// A bound on attributes per message (hostile input); real ICE checks carry fewer than 10.
    public static let maximumAttributes = 64

    public var method: STUNMethod
    public var messageClass: STUNClass
    public var transactionID: STUNTransactionID
    public var attributes: [STUNAttribute]

    public init(
        method: STUNMethod = .binding, messageClass: STUNClass, transactionID: STUNTransactionID,
        attributes: [STUNAttribute] = []
    ) {
        self.method = method
        self.messageClass = messageClass
        self.transactionID = transactionID
        self.attributes = attributes
    }

    /// The 14-bit message type: method bits M11-M0 interleaved with class bits C1 C0 (RFC 8489 5).
    public var messageType: UInt16 {
        let m = method.rawValue
        let c = UInt16(messageClass.rawValue)
        return (m & 0x0F80) << 2 | (m & 0x0070) << 1 | (m & 0x000F) | (c & 0b10) << 7 | (c & 0b01) << 4
    }

    static func split(messageType t: UInt16) -> (STUNMethod, STUNClass) {
        let method = (t & 0x3E00) >> 2 | (t & 0x00E0) >> 1 | (t & 0x000F)
        let c = UInt8((t & 0x0100) >> 7 | (t & 0x0010) >> 4)
        return (STUNMethod(rawValue: method), STUNClass(rawValue: c) ?? .request)
    }

    /// RFC 7983 demultiplexing plus the magic cookie: whether a datagram on the shared port is STUN.
    public static func looksLikeSTUN(_ buffer: ByteBuffer) -> Bool {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), first < 4,
            buffer.readableBytes >= headerLength,
            let cookie = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self)
        else { return false }
        return cookie == magicCookie
    }

    /// Parses the message at the buffer's reader index (bytes after the header's length are ignored).
    /// Attributes after MESSAGE-INTEGRITY other than FINGERPRINT, and any after FINGERPRINT, are
    /// ignored as RFC 8489 section 14.5/14.7 says.
    public static func parse(_ buffer: ByteBuffer) throws -> ReceivedSTUNMessage {
        let base = buffer.readerIndex
        let have = buffer.readableBytes
        guard have >= headerLength,
            let type = buffer.getInteger(at: base, as: UInt16.self),
            let length = buffer.getInteger(at: base + 2, as: UInt16.self),
            let cookie = buffer.getInteger(at: base + 4, as: UInt32.self),
            let idBytes = buffer.getBytes(at: base + 8, length: 12),
            let transactionID = STUNTransactionID(bytes: idBytes)
        else { throw STUNParseError.truncated(needed: headerLength, have: have) }
        guard type & 0xC000 == 0 else { throw STUNParseError.notSTUN(firstByte: UInt8(type >> 8)) }
        guard cookie == magicCookie else { throw STUNParseError.badMagicCookie(cookie) }
        let bodyLength = Int(length)
        guard bodyLength % 4 == 0 else { throw STUNParseError.badLength(bodyLength) }
        guard have >= headerLength + bodyLength else {
            throw STUNParseError.truncated(needed: headerLength + bodyLength, have: have)
        }
        let (method, messageClass) = split(messageType: type)
        var attributes: [STUNAttribute] = []
        var unknownRequired: [STUNAttributeType] = []
        var integrityOffset: Int?
        var fingerprintOffset: Int?
        var offset = headerLength
        let end = headerLength + bodyLength
        var count = 0
        while offset < end, fingerprintOffset == nil {
            guard end - offset >= 4,
                let rawType = buffer.getInteger(at: base + offset, as: UInt16.self),
                let rawLength = buffer.getInteger(at: base + offset + 2, as: UInt16.self)
            else { throw STUNParseError.truncated(needed: offset + 4, have: end) }
            let attributeType = STUNAttributeType(rawValue: rawType)
            let valueLength = Int(rawLength)
            let padded = (valueLength + 3) & ~3
            guard padded <= end - offset - 4 else {
                throw STUNParseError.attributeOverrun(type: attributeType, length: valueLength, remaining: end - offset - 4)
            }
            count += 1
            guard count <= maximumAttributes else { throw STUNParseError.tooManyAttributes(count) }
            let ignored = integrityOffset != nil && attributeType != .fingerprint
            if !ignored, let value = buffer.getSlice(at: base + offset + 4, length: valueLength) {
                let attribute = try STUNAttribute.decode(type: attributeType, value: value, transactionID: transactionID)
                if case .other = attribute, attributeType.isComprehensionRequired {
                    unknownRequired.append(attributeType)
                }
                if attributeType == .messageIntegrity { integrityOffset = offset }
                if attributeType == .fingerprint { fingerprintOffset = offset }
                attributes.append(attribute)
            }
            offset += 4 + padded
        }
        let raw = buffer.getSlice(at: base, length: end) ?? ByteBuffer()
        return ReceivedSTUNMessage(
            message: STUNMessage(
                method: method, messageClass: messageClass, transactionID: transactionID, attributes: attributes),
            raw: raw, integrityOffset: integrityOffset, fingerprintOffset: fingerprintOffset,
            unknownComprehensionRequired: unknownRequired)
    }

    /// Writes the message. Without a key and fingerprint flag the attributes are written as they are
    /// (a parsed message comes out with the MESSAGE-INTEGRITY and FINGERPRINT values it had). With
    /// `integrityKey`, any MESSAGE-INTEGRITY and FINGERPRINT in `attributes` are left out and a fresh
    /// MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 section 14.5) is appended; with `fingerprint`, a fresh
    /// FINGERPRINT (section 14.7) goes last. `padding` is the byte that fills values to a multiple of
    /// 4 (any value is allowed; RFC 5769's vectors use 0x20).
    public func serialized(integrityKey: [UInt8]? = nil, fingerprint: Bool = false, padding: UInt8 = 0) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(128)
        buffer.writeInteger(messageType)
        buffer.writeInteger(UInt16(0))  // patched below
        buffer.writeInteger(Self.magicCookie)
        buffer.writeBytes(transactionID.bytes)
        let fresh = integrityKey != nil || fingerprint
        for attribute in attributes {
            if fresh, attribute.type == .messageIntegrity || attribute.type == .fingerprint { continue }
            try Self.write(attribute, into: &buffer, transactionID: transactionID, padding: padding)
        }
        if let integrityKey {
            // The length covers everything up to and including MESSAGE-INTEGRITY while computing it.
            try Self.setLength(buffer.readableBytes + 24 - Self.headerLength, in: &buffer)
            let mac = STUNIntegrity.hmacSHA1(key: integrityKey, buffer.readableBytesView)
            try Self.write(.messageIntegrity(mac), into: &buffer, transactionID: transactionID, padding: padding)
        }
        if fingerprint {
            try Self.setLength(buffer.readableBytes + 8 - Self.headerLength, in: &buffer)
            let crc = STUNIntegrity.fingerprint(buffer.readableBytesView)
            try Self.write(.fingerprint(crc), into: &buffer, transactionID: transactionID, padding: padding)
        }
        try Self.setLength(buffer.readableBytes - Self.headerLength, in: &buffer)
        return buffer
    }

    static func write(
        _ attribute: STUNAttribute, into buffer: inout ByteBuffer, transactionID: STUNTransactionID, padding: UInt8
    ) throws {
        buffer.writeInteger(attribute.type.rawValue)
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt16(0))
        let start = buffer.writerIndex
        attribute.writeValue(into: &buffer, transactionID: transactionID)
        let length = buffer.writerIndex - start
        guard length <= 0xFFFF else { throw STUNEncodingError.tooLong(length) }
        buffer.setInteger(UInt16(length), at: lengthIndex)
        let pad = (4 - length % 4) % 4
        buffer.writeRepeatingByte(padding, count: pad)
    }

    static func setLength(_ length: Int, in buffer: inout ByteBuffer) throws {
        guard length <= 0xFFFF else { throw STUNEncodingError.tooLong(length) }
        buffer.setInteger(UInt16(length), at: buffer.readerIndex + 2)
    }

    // MARK: Attribute access

    public var username: String? {
        for case .username(let u) in attributes { return u }
        return nil
    }

    public var xorMappedAddress: TransportAddress? {
        for case .xorMappedAddress(let a) in attributes { return a }
        return nil
    }

    public var mappedAddress: TransportAddress? {
        for case .mappedAddress(let a) in attributes { return a }
        return nil
    }

    public var priority: UInt32? {
        for case .priority(let p) in attributes { return p }
        return nil
    }

    public var errorCode: STUNErrorCode? {
        for case .errorCode(let e) in attributes { return e }
        return nil
    }

    public var useCandidate: Bool { attributes.contains(.useCandidate) }

    public var iceControlled: UInt64? {
        for case .iceControlled(let t) in attributes { return t }
        return nil
    }

    public var iceControlling: UInt64? {
        for case .iceControlling(let t) in attributes { return t }
        return nil
    }
}

/// A parsed STUN message together with the bytes it came in, which MESSAGE-INTEGRITY and
/// FINGERPRINT are computed over (RFC 8489 sections 14.5, 14.7), and the comprehension-required
/// attributes it carried that this module does not know (for a 420 answer, section 6.3.1).
public struct ReceivedSTUNMessage: Hashable, Sendable {
    public var message: STUNMessage
    /// The message's bytes, header included, exactly as long as the header says.
    public var raw: ByteBuffer
    /// Offsets (from the first header byte) of MESSAGE-INTEGRITY and FINGERPRINT, if present.
    public var integrityOffset: Int?
    public var fingerprintOffset: Int?
    public var unknownComprehensionRequired: [STUNAttributeType]

    public var hasIntegrity: Bool { integrityOffset != nil }
    public var hasFingerprint: Bool { fingerprintOffset != nil }

    /// Checks MESSAGE-INTEGRITY with `key` (short-term credentials: the password's UTF-8 bytes) in
    /// constant time. False when there is no MESSAGE-INTEGRITY.
    public func isIntegrityValid(key: [UInt8]) -> Bool {
        guard let offset = integrityOffset,
            var covered = raw.getSlice(at: raw.readerIndex, length: offset),
            let mac = raw.getBytes(at: raw.readerIndex + offset + 4, length: 20)
        else { return false }
        // The length field as it was when the sender computed the HMAC: up to the end of MI.
        covered.setInteger(UInt16(truncatingIfNeeded: offset + 24 - STUNMessage.headerLength), at: covered.readerIndex + 2)
        return STUNIntegrity.isValidHMACSHA1(mac, key: key, covered.readableBytesView)
    }

    /// Whether FINGERPRINT is present and matches (CRC-32 of the message up to it, XOR 0x5354554E).
    public var isFingerprintValid: Bool {
        guard let offset = fingerprintOffset,
            var covered = raw.getSlice(at: raw.readerIndex, length: offset),
            let value = raw.getInteger(at: raw.readerIndex + offset + 4, as: UInt32.self)
        else { return false }
        covered.setInteger(UInt16(truncatingIfNeeded: offset + 8 - STUNMessage.headerLength), at: covered.readerIndex + 2)
        return STUNIntegrity.fingerprint(covered.readableBytesView) == value
    }
}
