/// Violations of the wire format found while decoding. Each maps to a `RoomErrorCode` sent to the peer.
public enum RoomProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyFrame
    case frameTooLarge(length: UInt32, maximum: UInt32)
    case truncatedFrame(buffered: Int)
    case badMagic
    case unsupportedVersion(peer: UInt16, peerMinimum: UInt16, ours: UInt16, oursMinimum: UInt16)
    case malformedHello(String)
    case malformedControl(String)
    case unknownMessageType(String, requestID: UInt32?)
    case malformedMedia(String)
    case unexpectedFrame(String)

    public var code: RoomErrorCode {
        switch self {
        case .frameTooLarge: return .frameTooLarge
        case .unsupportedVersion: return .unsupportedVersion
        default: return .badRequest
        }
    }

    public var description: String {
        switch self {
        case .emptyFrame: return "frame with length 0"
        case .frameTooLarge(let length, let maximum): return "frame of \(length) bytes exceeds the maximum of \(maximum)"
        case .truncatedFrame(let n): return "connection closed inside a frame (\(n) bytes buffered)"
        case .badMagic: return "hello does not start with the magic RTCB (not an rtcbox peer?)"
        case .unsupportedVersion(let peer, let peerMin, let ours, let oursMin):
            return "peer speaks protocol versions \(peerMin)...\(peer), this side speaks \(oursMin)...\(ours)"
        case .malformedHello(let why): return "malformed hello: \(why)"
        case .malformedControl(let why): return "malformed control message: \(why)"
        case .unknownMessageType(let type, _): return "unknown control message type \"\(type)\""
        case .malformedMedia(let why): return "malformed media frame: \(why)"
        case .unexpectedFrame(let why): return "unexpected frame: \(why)"
        }
    }
}
