import Foundation
import RoomProtocol

/// Where and who a client is.
public struct ClientConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var appID: UInt32
    public var user: UserInfo
    public var token: String?
    /// The app's AppSign (64 hex characters); it never travels, the login carries a signature made with it.
    public var appSign: String?
    public var connectTimeoutSeconds: Double = 5
    /// How long a request waits for its result.
    public var requestTimeoutSeconds: Double = 10
    public var maximumFrameLength = RoomProtocolConstants.defaultMaximumFrameLength
    /// After losing the connection, try to reconnect (resuming the session) for this long; 0: do not.
    public var reconnectTimeoutSeconds: Double = 60
    /// A connection the server has sent nothing on for this long is taken as lost (pings go every second).
    public var deadConnectionSeconds: Double = 5
    /// publisher_quality / player_quality events (and a ping for the round-trip time) this often; 0: never.
    public var qualityIntervalSeconds: Double = 3
    /// Traffic control looks at each publisher's uplink this often; 0: never (no network_quality either).
    public var trafficIntervalSeconds: Double = 0.5
    /// network_quality events this often (a multiple of the traffic interval); 0: never.
    public var networkQualityIntervalSeconds: Double = 2
    /// How publishes and plays carry media: UDP when the server offers it (auto), UDP only, or TCP only.
    public var mediaTransport: MediaTransport = .auto
    /// More servers after `host:port` (`--server a:7700,b:7700`): a login tries them in order until one
    /// answers; a reconnect tries the one it had first, then the others in turn.
    public var otherServers: [ServerAddress] = []

    /// `host:port` first, then `otherServers`.
    public var servers: [ServerAddress] { [ServerAddress(host: host, port: port)] + otherServers }

    /// This configuration aimed at one of `servers`.
    public func aimed(at server: ServerAddress) -> ClientConfiguration {
        var copy = self
        copy.host = server.host
        copy.port = server.port
        return copy
    }

    public init(host: String = "127.0.0.1", port: Int = RoomProtocolConstants.defaultPort, appID: UInt32 = 1,
                user: UserInfo, token: String? = nil, appSign: String? = nil) {
        self.host = host
        self.port = port
        self.appID = appID
        self.user = user
        self.token = token
        self.appSign = appSign
    }

    /// Parses one address or several separated by commas ("a:7700,b:7700"); nil when any is not one.
    public static func parseAddressList(_ text: String, defaultPort: Int = RoomProtocolConstants.defaultPort) -> [ServerAddress]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var out: [ServerAddress] = []
        for part in parts {
            guard !part.isEmpty, let a = parseAddress(part, defaultPort: defaultPort) else { return nil }
            out.append(ServerAddress(host: a.host, port: a.port))
        }
        return out.isEmpty ? nil : out
    }

    /// Parses "HOST:PORT", "HOST", ":PORT" or "[v6]:PORT".
    public static func parseAddress(_ text: String, defaultPort: Int = RoomProtocolConstants.defaultPort) -> (host: String, port: Int)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return (host, defaultPort) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (0...65535).contains(port) else { return nil }
            return (host, port)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return parts[0].isEmpty ? nil : (String(parts[0]), defaultPort)
        case 2:
            guard let port = Int(parts[1]), (0...65535).contains(port) else { return nil }
            return (parts[0].isEmpty ? "127.0.0.1" : String(parts[0]), port)
        default:
            return nil
        }
    }
}

/// One room server's address.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) { self.host = host; self.port = port }
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
