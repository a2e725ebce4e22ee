import NIOCore

/// A frame with its payload interpreted.
public enum RoomFrame: Sendable, Equatable {
    case hello(Hello)
    case control(ControlMessage)
    case media(MediaFrame)

    public init(_ raw: RawFrame) throws {
        switch raw.type {
        case .hello: self = .hello(try Hello.decode(payload: raw.payload))
        case .control: self = .control(try ControlMessage.decode(payload: raw.payload))
        case .media: self = .media(try MediaFrame.decode(payload: raw.payload))
        case nil: throw RoomProtocolError.unexpectedFrame("unknown frame type 0x\(String(raw.typeByte, radix: 16))")
        }
    }
}
