import RoomProtocol

/// Why a client operation failed.
public enum RoomClientError: Error, CustomStringConvertible, Sendable {
    /// The server could not be reached.
    case unreachable(host: String, port: Int, failure: NetworkFailure)
    /// The server answered a request with an error.
    case refused(ErrorMessage)
    /// The server ended the session (kicked out, slow consumer, shutdown).
    case sessionEnded(SessionEnded)
    /// The connection dropped.
    case connectionLost(String)
    /// A request got no answer in time.
    case timedOut(String)
    /// The peer broke the protocol (or is not an rtcbox server).
    case protocolViolation(String)
    /// The connection was lost and every reconnect attempt failed until the reconnect timeout.
    case reconnectFailed(String, NetworkFailure?)
    /// The client's own credentials cannot be used (an app sign that is not 64 hex characters).
    case invalidCredentials(String)

    public var description: String {
        switch self {
        case .unreachable(let host, let port, let failure): return "cannot reach server \(host):\(port): \(failure.words)"
        case .refused(let e): return "\(e.message) (\(e.name))"
        case .sessionEnded(let e): return "\(e.reason) (\(e.name))"
        case .connectionLost(let why): return "connection to the server lost: \(why)"
        case .timedOut(let what): return "\(what) got no answer in time"
        case .protocolViolation(let why): return "protocol error: \(why)"
        case .invalidCredentials(let why): return why
        case .reconnectFailed(let why, _): return "gave up reconnecting: \(why)"
        }
    }

    /// The text of an event's "reason": the server's own words when it gave a code (the code is a field of its own).
    public var reason: String {
        switch self {
        case .refused(let e): return e.message
        case .sessionEnded(let e): return e.reason
        default: return description
        }
    }

    /// The socket error under it, when the network failed (the last attempt's, for reconnectFailed).
    public var networkFailure: NetworkFailure? {
        switch self {
        case .unreachable(_, _, let failure): return failure
        case .reconnectFailed(_, let failure): return failure
        default: return nil
        }
    }

    /// The protocol error code, when the server gave one.
    public var code: RoomErrorCode? {
        switch self {
        case .refused(let e): return e.errorCode
        case .sessionEnded(let e): return e.errorCode
        default: return nil
        }
    }
}
