import NIOCore

/// A source description, RTCP type 202 (RFC 3550 section 6.5): per SSRC (chunk), a list of items of
/// which CNAME (type 1) is the one every compound packet carries. Item values are kept as bytes (the
/// RFC says UTF-8, peers do not always comply); `cname` reads them as text.
public struct RTCPSourceDescription: Sendable, Hashable {
    /// The item types of RFC 3550 6.5.
    public enum ItemType {
        public static let cname: UInt8 = 1
        public static let name: UInt8 = 2
        public static let email: UInt8 = 3
        public static let phone: UInt8 = 4
        public static let location: UInt8 = 5
        public static let tool: UInt8 = 6
        public static let note: UInt8 = 7
        public static let priv: UInt8 = 8
    }

    public struct Item: Sendable, Hashable {
        public var type: UInt8
        /// At most 255 bytes are written.
        public var value: [UInt8]

        public init(type: UInt8, value: [UInt8]) {
            self.type = type
            self.value = value
        }

        public init(type: UInt8, text: String) {
            self.init(type: type, value: Array(text.utf8))
        }
    }

    public struct Chunk: Sendable, Hashable {
        public var ssrc: UInt32
        public var items: [Item]

        public init(ssrc: UInt32, items: [Item]) {
            self.ssrc = ssrc
            self.items = items
        }

        /// The first CNAME item as text.
        public var cname: String? {
            items.first { $0.type == ItemType.cname }.map { String(decoding: $0.value, as: UTF8.self) }
        }
    }

    /// At most 31 are written.
    public var chunks: [Chunk]

    public init(chunks: [Chunk]) { self.chunks = chunks }

    /// One chunk with one CNAME item.
    public init(ssrc: UInt32, cname: String) {
        self.init(chunks: [Chunk(ssrc: ssrc, items: [Item(type: ItemType.cname, text: cname)])])
    }

    init(reader: inout RTCPBodyReader, count: UInt8) throws(RTCPParseError) {
        chunks = []
        for _ in 0..<count {
            let ssrc: UInt32 = try reader.read()
            var items: [Item] = []
            while true {
                guard reader.remaining > 0 else { throw .unterminatedSourceDescription }
                let type: UInt8 = try reader.read()
                if type == 0 {
                    // Null items pad the chunk to the next 32-bit boundary.
                    try reader.skip(min((4 - reader.offset % 4) % 4, reader.remaining))
                    break
                }
                let length: UInt8 = try reader.read()
                items.append(Item(type: type, value: try reader.readBytes(Int(length))))
            }
            chunks.append(Chunk(ssrc: ssrc, items: items))
        }
    }

    func serialize(into buffer: inout ByteBuffer) {
        let chunks = self.chunks.prefix(31)
        writeRTCPPacket(into: &buffer, count: UInt8(chunks.count), packetType: RTCPPacket.sourceDescriptionType) {
            body in
            for chunk in chunks {
                let start = body.writerIndex
                body.writeInteger(chunk.ssrc)
                for item in chunk.items where item.type != 0 {
                    let value = item.value.prefix(255)
                    body.writeInteger(item.type)
                    body.writeInteger(UInt8(value.count))
                    body.writeBytes(value)
                }
                // At least one null octet, then to the 32-bit boundary.
                body.writeInteger(UInt8(0))
                body.writeRepeatingByte(0, count: (4 - (body.writerIndex - start) % 4) % 4)
            }
        }
    }
}

/// A goodbye, RTCP type 203 (RFC 3550 section 6.6): the sources leaving, and an optional reason (bytes,
/// meant as UTF-8).
public struct RTCPBye: Sendable, Hashable {
    /// At most 31 are written.
    public var ssrcs: [UInt32]
    /// At most 255 bytes are written.
    public var reason: [UInt8]?

    public init(ssrcs: [UInt32], reason: [UInt8]? = nil) {
        self.ssrcs = ssrcs
        self.reason = reason
    }

    public init(ssrcs: [UInt32], reason: String) {
        self.init(ssrcs: ssrcs, reason: Array(reason.utf8))
    }

    public var reasonText: String? { reason.map { String(decoding: $0, as: UTF8.self) } }

    init(reader: inout RTCPBodyReader, count: UInt8) throws(RTCPParseError) {
        ssrcs = []
        for _ in 0..<count { ssrcs.append(try reader.read()) }
        if reader.remaining > 0 {
            let length: UInt8 = try reader.read()
            reason = try reader.readBytes(Int(length))
        }
    }

    func serialize(into buffer: inout ByteBuffer) {
        let ssrcs = self.ssrcs.prefix(31)
        writeRTCPPacket(into: &buffer, count: UInt8(ssrcs.count), packetType: RTCPPacket.byeType) { body in
            for ssrc in ssrcs { body.writeInteger(ssrc) }
            if let reason {
                let bytes = reason.prefix(255)
                body.writeInteger(UInt8(bytes.count))
                body.writeBytes(bytes)
            }
        }
    }
}
