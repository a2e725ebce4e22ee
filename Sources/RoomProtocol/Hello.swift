import Foundation
import NIOCore

/// The first frame of each side: `magic "RTCB" | u16 version | u16 minimum version | JSON details`.
public struct Hello: Sendable, Equatable {
    public var version: UInt16
    public var minimumVersion: UInt16
    public var details: Details

    public struct Details: Codable, Sendable, Equatable {
        /// "rtcbox/0.1" or whatever the peer is.
        public var software: String
        /// Sent by servers: the largest frame they accept.
        public var maxFrameLength: UInt32?
        /// Sent by servers: a fresh random value clients sign when they prove an AppSign.
        public var nonce: String?

        public init(software: String, maxFrameLength: UInt32? = nil, nonce: String? = nil) {
            self.software = software
            self.maxFrameLength = maxFrameLength
            self.nonce = nonce
        }

        enum CodingKeys: String, CodingKey {
            case software
            case maxFrameLength = "max_frame_length"
            case nonce
        }
    }

    public init(version: UInt16 = RoomProtocolConstants.version,
                minimumVersion: UInt16 = RoomProtocolConstants.minimumVersion,
                details: Details) {
        self.version = version
        self.minimumVersion = minimumVersion
        self.details = details
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeFrame(.hello) { body in
            body.writeBytes(RoomProtocolConstants.magic)
            body.writeInteger(version)
            body.writeInteger(minimumVersion)
            body.writeBytes(ControlCoding.encodeJSON(details))
        }
    }

    public static func decode(payload: ByteBuffer) throws -> Hello {
        var p = payload
        guard let magic = p.readBytes(length: 4), magic == RoomProtocolConstants.magic else {
            throw RoomProtocolError.badMagic
        }
        guard let version = p.readInteger(as: UInt16.self), let minimum = p.readInteger(as: UInt16.self) else {
            throw RoomProtocolError.malformedHello("shorter than its fixed header")
        }
        let json = p.readBytes(length: p.readableBytes) ?? []
        let details: Details
        do {
            details = try ControlCoding.decoder.decode(Details.self, from: Data(json))
        } catch {
            throw RoomProtocolError.malformedHello("details are not the expected JSON object")
        }
        return Hello(version: version, minimumVersion: minimum, details: details)
    }

    /// The hello as WebSocket peers exchange it: one text message,
    /// `{"type":"hello","version":1,"minimum_version":1,"software":"…",…}` (the details' fields beside the versions).
    public func jsonText() -> [UInt8] {
        ControlCoding.encodeJSON(WebHello(type: "hello", version: version, minimumVersion: minimumVersion, software: details.software,
                                          maxFrameLength: details.maxFrameLength, nonce: details.nonce))
    }

    /// Reads a WebSocket hello text message.
    public static func decode(jsonText: ByteBuffer) throws -> Hello {
        let web: WebHello
        do {
            web = try ControlCoding.decoder.decode(WebHello.self, from: Data(jsonText.readableBytesView))
        } catch {
            throw RoomProtocolError.malformedHello("not a hello object with type, version, minimum_version and software")
        }
        guard web.type == "hello" else { throw RoomProtocolError.unexpectedFrame("the first message must be a hello") }
        return Hello(version: web.version, minimumVersion: web.minimumVersion,
                     details: Details(software: web.software, maxFrameLength: web.maxFrameLength, nonce: web.nonce))
    }

    private struct WebHello: Codable {
        var type: String
        var version: UInt16
        var minimumVersion: UInt16
        var software: String
        var maxFrameLength: UInt32?
        var nonce: String?

        enum CodingKeys: String, CodingKey {
            case type, version, software, nonce
            case minimumVersion = "minimum_version"
            case maxFrameLength = "max_frame_length"
        }
    }

    /// The version both sides speak, or an error naming both ranges.
    public func negotiate(with peer: Hello) throws -> UInt16 {
        let common = min(version, peer.version)
        guard common >= minimumVersion, common >= peer.minimumVersion else {
            throw RoomProtocolError.unsupportedVersion(peer: peer.version, peerMinimum: peer.minimumVersion,
                                                       ours: version, oursMinimum: minimumVersion)
        }
        return common
    }
}
