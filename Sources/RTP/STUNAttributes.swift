import NIOCore

/// A STUN attribute type (RFC 8489 section 14, RFC 8445 section 16.1). Types 0x0000-0x7FFF are
/// comprehension-required: an agent that does not know one must refuse the request (420).
public struct STUNAttributeType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let mappedAddress = Self(rawValue: 0x0001)
    public static let username = Self(rawValue: 0x0006)
    public static let messageIntegrity = Self(rawValue: 0x0008)
    public static let errorCode = Self(rawValue: 0x0009)
    public static let unknownAttributes = Self(rawValue: 0x000A)
    public static let realm = Self(rawValue: 0x0014)
    public static let nonce = Self(rawValue: 0x0015)
    public static let xorMappedAddress = Self(rawValue: 0x0020)
    public static let priority = Self(rawValue: 0x0024)
    public static let useCandidate = Self(rawValue: 0x0025)
    public static let software = Self(rawValue: 0x8022)
    public static let fingerprint = Self(rawValue: 0x8028)
    public static let iceControlled = Self(rawValue: 0x8029)
    public static let iceControlling = Self(rawValue: 0x802A)

    /// RFC 8489 section 14: below 0x8000 an agent must understand the attribute to process the message.
    public var isComprehensionRequired: Bool { rawValue < 0x8000 }

    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// ERROR-CODE (RFC 8489 section 14.8): a code 300-699 and a UTF-8 reason phrase.
public struct STUNErrorCode: Hashable, Sendable {
    public var code: Int
    public var reason: String

    public init(code: Int, reason: String) {
        self.code = code
        self.reason = reason
    }

    public static let tryAlternate = 300
    public static let badRequest = 400
    public static let unauthorized = 401
    public static let unknownAttribute = 420
    public static let staleNonce = 438
    public static let roleConflict = 487
    public static let serverError = 500

    /// The RFC's reason phrase for a code this module sends.
    public static func standardReason(_ code: Int) -> String {
        switch code {
        case 300: return "Try Alternate"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 420: return "Unknown Attribute"
        case 438: return "Stale Nonce"
        case 487: return "Role Conflict"
        case 500: return "Server Error"
        default: return ""
        }
    }
}

/// One STUN attribute, typed where this module knows it (RFC 8489 section 14, RFC 8445 section 7.1.1)
/// and raw otherwise. MESSAGE-INTEGRITY and FINGERPRINT carry what was on the wire; the serializer
/// computes fresh ones when given a key (`STUNMessage.serialized(integrityKey:fingerprint:)`).
public enum STUNAttribute: Hashable, Sendable {
    case mappedAddress(TransportAddress)
    case xorMappedAddress(TransportAddress)
    case username(String)
    case messageIntegrity([UInt8])
    case fingerprint(UInt32)
    case errorCode(STUNErrorCode)
    case unknownAttributes([UInt16])
    case realm(String)
    case nonce(String)
    case software(String)
    case priority(UInt32)
    case useCandidate
    case iceControlled(tieBreaker: UInt64)
    case iceControlling(tieBreaker: UInt64)
    /// An attribute this module does not interpret, kept byte for byte (value without padding).
    case other(type: STUNAttributeType, value: [UInt8])

    public var type: STUNAttributeType {
        switch self {
        case .mappedAddress: return .mappedAddress
        case .xorMappedAddress: return .xorMappedAddress
        case .username: return .username
        case .messageIntegrity: return .messageIntegrity
        case .fingerprint: return .fingerprint
        case .errorCode: return .errorCode
        case .unknownAttributes: return .unknownAttributes
        case .realm: return .realm
        case .nonce: return .nonce
        case .software: return .software
        case .priority: return .priority
        case .useCandidate: return .useCandidate
        case .iceControlled: return .iceControlled
        case .iceControlling: return .iceControlling
        case .other(let type, _): return type
        }
    }

    /// Limits from RFC 8489 section 14 (in bytes of UTF-8): USERNAME < 513, REALM/NONCE/SOFTWARE < 763.
    static func maximumTextLength(_ type: STUNAttributeType) -> Int {
        type == .username ? 513 : 763
    }

    /// Decodes one attribute value (without padding). `transactionID` is for the XOR addresses.
    static func decode(
        type: STUNAttributeType, value buffer: ByteBuffer, transactionID: STUNTransactionID
    ) throws -> STUNAttribute {
        let count = buffer.readableBytes
        let start = buffer.readerIndex
        func fixed(_ n: Int) throws {
            guard count == n else { throw STUNParseError.badAttributeLength(type: type, length: count) }
        }
        func text() throws -> String {
            guard count <= maximumTextLength(type) else {
                throw STUNParseError.badAttributeLength(type: type, length: count)
            }
            let bytes = buffer.getBytes(at: start, length: count) ?? []
            let string = String(decoding: bytes, as: UTF8.self)
            guard string.utf8.elementsEqual(bytes) else { throw STUNParseError.invalidUTF8(type: type) }
            return string
        }
        switch type {
        case .mappedAddress:
            return .mappedAddress(try decodeAddress(buffer, type: type, xorWith: nil))
        case .xorMappedAddress:
            return .xorMappedAddress(try decodeAddress(buffer, type: type, xorWith: transactionID))
        case .username:
            return .username(try text())
        case .realm:
            return .realm(try text())
        case .nonce:
            return .nonce(try text())
        case .software:
            return .software(try text())
        case .messageIntegrity:
            try fixed(20)
            return .messageIntegrity(buffer.getBytes(at: start, length: 20) ?? [])
        case .fingerprint:
            try fixed(4)
            return .fingerprint(buffer.getInteger(at: start, as: UInt32.self) ?? 0)
        case .priority:
            try fixed(4)
            return .priority(buffer.getInteger(at: start, as: UInt32.self) ?? 0)
        case .useCandidate:
            try fixed(0)
            return .useCandidate
        case .iceControlled:
            try fixed(8)
            return .iceControlled(tieBreaker: buffer.getInteger(at: start, as: UInt64.self) ?? 0)
        case .iceControlling:
            try fixed(8)
            return .iceControlling(tieBreaker: buffer.getInteger(at: start, as: UInt64.self) ?? 0)
        case .errorCode:
            // 21 reserved bits, class (3 bits, 3-6), number (8 bits, 0-99), reason phrase (< 128 chars).
            guard count >= 4, count <= 4 + 763,
                let word = buffer.getInteger(at: start, as: UInt32.self)
            else { throw STUNParseError.badAttributeLength(type: type, length: count) }
            let errorClass = Int((word >> 8) & 0x7)
            let number = Int(word & 0xff)
            guard (3...6).contains(errorClass), number < 100 else {
                throw STUNParseError.malformedAttribute(type: type, reason: "error code \(errorClass)\(number)")
            }
            let bytes = buffer.getBytes(at: start + 4, length: count - 4) ?? []
            let reason = String(decoding: bytes, as: UTF8.self)
            guard reason.utf8.elementsEqual(bytes) else { throw STUNParseError.invalidUTF8(type: type) }
            return .errorCode(STUNErrorCode(code: errorClass * 100 + number, reason: reason))
        case .unknownAttributes:
            guard count % 2 == 0 else { throw STUNParseError.badAttributeLength(type: type, length: count) }
            let types = stride(from: 0, to: count, by: 2).map {
                buffer.getInteger(at: start + $0, as: UInt16.self) ?? 0
            }
            return .unknownAttributes(types)
        default:
            return .other(type: type, value: buffer.getBytes(at: start, length: count) ?? [])
        }
    }

    /// MAPPED-ADDRESS / XOR-MAPPED-ADDRESS (RFC 8489 sections 14.1-14.2): reserved byte, family
    /// (1 = IPv4, 2 = IPv6), port, address; the XOR form XORs the port with the cookie's top 16 bits
    /// and the address with the cookie (IPv4) or the cookie followed by the transaction id (IPv6).
    static func decodeAddress(
        _ buffer: ByteBuffer, type: STUNAttributeType, xorWith transactionID: STUNTransactionID?
    ) throws -> TransportAddress {
        let start = buffer.readerIndex
        guard buffer.readableBytes >= 4, let family = buffer.getInteger(at: start + 1, as: UInt8.self),
            var port = buffer.getInteger(at: start + 2, as: UInt16.self)
        else { throw STUNParseError.badAttributeLength(type: type, length: buffer.readableBytes) }
        let length: Int
        switch family {
        case 1: length = 4
        case 2: length = 16
        default: throw STUNParseError.malformedAttribute(type: type, reason: "address family \(family)")
        }
        guard buffer.readableBytes == 4 + length, var bytes = buffer.getBytes(at: start + 4, length: length) else {
            throw STUNParseError.badAttributeLength(type: type, length: buffer.readableBytes)
        }
        if let transactionID {
            port ^= UInt16(STUNMessage.magicCookie >> 16)
            let mask = xorMask(transactionID)
            for i in bytes.indices { bytes[i] ^= mask[i] }
        }
        guard let ip = TransportAddress.IP(bytes: bytes) else {
            throw STUNParseError.malformedAttribute(type: type, reason: "address length")
        }
        return TransportAddress(ip: ip, port: port)
    }

    /// The cookie then the transaction id: the XOR pad for addresses (first 4 bytes for IPv4).
    static func xorMask(_ transactionID: STUNTransactionID) -> [UInt8] {
        [0x21, 0x12, 0xA4, 0x42] + transactionID.bytes
    }

    /// Writes the value (no header, no padding).
    func writeValue(into buffer: inout ByteBuffer, transactionID: STUNTransactionID) {
        func address(_ a: TransportAddress, xor: Bool) {
            var bytes = a.ip.bytes
            var port = a.port
            if xor {
                port ^= UInt16(STUNMessage.magicCookie >> 16)
                let mask = Self.xorMask(transactionID)
                for i in bytes.indices { bytes[i] ^= mask[i] }
            }
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt8(a.ip.isIPv4 ? 1 : 2))
            buffer.writeInteger(port)
            buffer.writeBytes(bytes)
        }
        switch self {
        case .mappedAddress(let a): address(a, xor: false)
        case .xorMappedAddress(let a): address(a, xor: true)
        case .username(let s), .realm(let s), .nonce(let s), .software(let s): buffer.writeString(s)
        case .messageIntegrity(let mac): buffer.writeBytes(mac)
        case .fingerprint(let crc): buffer.writeInteger(crc)
        case .priority(let p): buffer.writeInteger(p)
        case .useCandidate: break
        case .iceControlled(let t), .iceControlling(let t): buffer.writeInteger(t)
        case .errorCode(let e):
            let code = min(max(e.code, 300), 699)
            buffer.writeInteger(UInt32((code / 100) << 8 | (code % 100)))
            buffer.writeString(e.reason)
        case .unknownAttributes(let types):
            for t in types { buffer.writeInteger(t) }
        case .other(_, let value): buffer.writeBytes(value)
        }
    }
}
