/// Why a token or credential was not accepted. Each maps to one room protocol error code.
public enum TokenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The token is not token04 (names the problem).
    case malformed(String)
    /// The GCM tag did not verify: another app's secret, or a changed token.
    case wrongSecret
    /// The token was made for another app or user.
    case mismatch(String)
    case expired(secondsAgo: Int64)
    /// The token does not allow this room, action or stream id.
    case noPrivilege(String)
    /// A server secret or app sign that cannot be used (wrong length, not hex).
    case invalidSecret(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .malformed(let why): return "the token is malformed: \(why)"
        case .wrongSecret: return "the token was not made with this app's server secret"
        case .mismatch(let why): return "the token \(why)"
        case .expired(let ago): return "the token expired \(ago) s ago"
        case .noPrivilege(let why): return "the token \(why)"
        case .invalidSecret(let why): return why
        case .invalidArgument(let why): return why
        }
    }
}
