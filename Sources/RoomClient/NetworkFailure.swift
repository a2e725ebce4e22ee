#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// A socket error as a person reads it: `words` like strerror's, lowercase ("connection refused"), and a
/// stable `code` for scripts ("connection_refused"). The one place NIO's errors (IOError, NIOConnectionError
/// and its SingleConnectionFailures, ChannelError.connectTimeout, DNS failures) become text: connecting
/// (`cannot reach server H:P: WORDS`, the reconnect_failed event's `network_error`) and listening
/// (`cannot listen on H:P: WORDS`).
public struct NetworkFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var words: String

    public init(code: String, words: String) {
        self.code = code
        self.words = words
    }

    public var description: String { words }

    /// The errnos rtcbox names; any other errno is strerror's text, lowercased.
    static let errnoNames: [Int32: String] = [
        ECONNREFUSED: "connection_refused",
        ETIMEDOUT: "timed_out",
        EHOSTUNREACH: "host_unreachable",
        ENETUNREACH: "network_unreachable",
        EHOSTDOWN: "host_down",
        ECONNRESET: "connection_reset",
        ECONNABORTED: "connection_aborted",
        EPIPE: "broken_pipe",
        EADDRINUSE: "address_in_use",
        EADDRNOTAVAIL: "address_not_available",
        EACCES: "permission_denied",
        EPERM: "not_permitted",
        EAFNOSUPPORT: "address_family_not_supported",
    ]

    /// The failure an errno stands for.
    public init(errno code: Int32) {
        let words = String(cString: strerror(code)).lowercased()
        self.init(code: Self.errnoNames[code] ?? words.replacingOccurrences(of: " ", with: "_"), words: words)
    }

    /// What went wrong in `error`, from NIO or not.
    public init(_ error: Error) {
        switch error {
        case let e as NetworkFailure:
            self = e
        case let e as IOError:
            self.init(errno: e.errnoCode)
        case let e as NIOConnectionError:
            // One failure per address tried: the first says it (they are alike for one host).
            if let first = e.connectionErrors.first {
                self.init(first.error)
            } else if let dns = e.dnsAError ?? e.dnsAAAAError {
                self.init(dns)
            } else {
                self.init(code: "unknown_host", words: "unknown host")
            }
        case let e as ChannelError:
            if case .connectTimeout = e { self.init(errno: ETIMEDOUT) } else { self.init(code: "other", words: "\(e)") }
        case is SocketAddressError.UnknownHost:
            self.init(code: "unknown_host", words: "unknown host")
        case let e as SocketAddressError:
            if case .unknown = e { self.init(code: "unknown_host", words: "unknown host") } else { self.init(code: "bad_address", words: "\(e)") }
        default:
            self.init(code: "other", words: "\(error)")
        }
    }
}
