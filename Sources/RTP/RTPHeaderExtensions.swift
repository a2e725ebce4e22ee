import NIOCore

/// One element of an RFC 8285 header extension: the local identifier negotiated by `a=extmap` and the
/// element's bytes (a slice of the packet when parsed).
public struct RTPHeaderExtensionElement: Sendable, Hashable {
    public var id: UInt8
    public var data: ByteBuffer

    public init(id: UInt8, data: ByteBuffer) {
        self.id = id
        self.data = data
    }

    public init(id: UInt8, bytes: [UInt8]) {
        self.init(id: id, data: ByteBuffer(bytes: bytes))
    }
}

/// RFC 8285's general mechanism for several header extensions in one RTP packet: the one-byte form
/// (profile 0xBEDE, ids 1-14, 1-16 bytes each, section 4.2) and the two-byte form (profile 0x100X, ids
/// 1-255, 0-255 bytes each, section 4.3).
public enum RTPHeaderExtensions {
    public static let oneByteProfile: UInt16 = 0xBEDE
    /// The two-byte form's profile; its low 4 bits ("appbits") are application data, 0 here.
    public static let twoByteProfile: UInt16 = 0x1000

    /// The elements of `headerExtension`, or nil when its profile is not one of RFC 8285's. Padding bytes
    /// (0x00) are skipped; in the one-byte form id 15, or id 0 with a non-zero length, ends the parse
    /// (section 4.2).
    public static func parse(_ headerExtension: RTPHeaderExtension) throws(RTPParseError) -> [RTPHeaderExtensionElement]? {
        let data = headerExtension.data
        if headerExtension.profile == oneByteProfile {
            return try parse(data, twoByte: false)
        } else if headerExtension.profile & 0xFFF0 == twoByteProfile {
            return try parse(data, twoByte: true)
        }
        return nil
    }

    private static func parse(_ data: ByteBuffer, twoByte: Bool) throws(RTPParseError) -> [RTPHeaderExtensionElement] {
        var elements: [RTPHeaderExtensionElement] = []
        let base = data.readerIndex
        let count = data.readableBytes
        var offset = 0
        while offset < count, let first = data.getInteger(at: base + offset, as: UInt8.self) {
            if first == 0 {
                offset += 1
                continue
            }
            let id: UInt8
            let length: Int
            let headerSize: Int
            if twoByte {
                guard let second = data.getInteger(at: base + offset + 1, as: UInt8.self) else {
                    throw .invalidExtensionElement(id: first, length: 0, available: count - offset - 1)
                }
                (id, length, headerSize) = (first, Int(second), 2)
            } else {
                id = first >> 4
                // 15 is reserved and ends the parse (4.2); so does id 0 with a length, which is not
                // padding (as libwebrtc reads it).
                if id == 15 || id == 0 { break }
                (length, headerSize) = (Int(first & 0x0F) + 1, 1)
            }
            let available = count - offset - headerSize
            guard length <= available, let element = data.getSlice(at: base + offset + headerSize, length: length)
            else { throw .invalidExtensionElement(id: id, length: length, available: available) }
            elements.append(RTPHeaderExtensionElement(id: id, data: element))
            offset += headerSize + length
        }
        return elements
    }

    /// A header extension holding `elements`: the one-byte form when every element has an id in 1-14
    /// and 1-16 bytes, otherwise the two-byte form. Elements neither form can carry (id 0, more than 255
    /// bytes) are left out; nil when nothing is left. Data is padded with zeros to 4 bytes.
    public static func make(_ elements: [RTPHeaderExtensionElement]) -> RTPHeaderExtension? {
        let usable = elements.filter { $0.id != 0 && $0.data.readableBytes <= 255 }
        guard !usable.isEmpty else { return nil }
        let oneByte = usable.allSatisfy { $0.id <= 14 && (1...16).contains($0.data.readableBytes) }
        var data = ByteBuffer()
        for element in usable {
            if oneByte {
                data.writeInteger(element.id << 4 | UInt8(element.data.readableBytes - 1))
            } else {
                data.writeInteger(element.id)
                data.writeInteger(UInt8(element.data.readableBytes))
            }
            data.writeImmutableBuffer(element.data)
        }
        data.writeRepeatingByte(0, count: (4 - data.readableBytes % 4) % 4)
        return RTPHeaderExtension(profile: oneByte ? oneByteProfile : twoByteProfile, data: data)
    }
}

extension RTPPacket {
    /// The RFC 8285 elements of the packet's header extension; empty when it has none or another profile.
    public func headerExtensionElements() throws(RTPParseError) -> [RTPHeaderExtensionElement] {
        guard let headerExtension else { return [] }
        return try RTPHeaderExtensions.parse(headerExtension) ?? []
    }

    /// The data of the first element with `id`, nil when there is none.
    public func headerExtensionElement(id: UInt8) throws(RTPParseError) -> ByteBuffer? {
        try headerExtensionElements().first { $0.id == id }?.data
    }

    /// Replaces the header extension with `elements` (see `RTPHeaderExtensions.make`).
    public mutating func setHeaderExtensionElements(_ elements: [RTPHeaderExtensionElement]) {
        headerExtension = RTPHeaderExtensions.make(elements)
    }
}
