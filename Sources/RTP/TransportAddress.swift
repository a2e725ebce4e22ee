import NIOCore

/// An IP address and UDP/TCP port: where a STUN request came from, what XOR-MAPPED-ADDRESS reports,
/// what an SDP candidate names. A plain value (no sockaddr), so ICE state machines stay pure; it
/// converts from and to NIO's `SocketAddress` and from text (`192.0.2.1:3478`, `[2001:db8::1]:3478`).
public struct TransportAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address itself: 4 or 16 bytes in network order, kept as integers so the value is cheap.
    public enum IP: Hashable, Sendable, CustomStringConvertible {
        case v4(UInt32)
        case v6(high: UInt64, low: UInt64)

        /// The address bytes in network order (4 or 16).
        public var bytes: [UInt8] {
            switch self {
            case .v4(let a):
                return (0..<4).map { UInt8(truncatingIfNeeded: a >> (24 - 8 * $0)) }
            case .v6(let high, let low):
                return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                    + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
            }
        }

        /// An address from 4 or 16 network-order bytes; nil for any other count.
        public init?(bytes: some Collection<UInt8>) {
            switch bytes.count {
            case 4:
                self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
            case 16:
                let high = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let low = bytes.dropFirst(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                self = .v6(high: high, low: low)
            default:
                return nil
            }
        }

        /// Dotted quad or RFC 4291 text (`::` compression, embedded IPv4 tail); no zone ids.
        public init?(_ text: some StringProtocol) {
            if let v4 = Self.parseIPv4(Substring(text)) {
                self = .v4(v4)
            } else if let v6 = Self.parseIPv6(Substring(text)) {
                self = v6
            } else {
                return nil
            }
        }

        /// Dotted quad for IPv4; RFC 5952 canonical text for IPv6 (lower case, longest zero run as `::`).
        public var description: String {
            switch self {
            case .v4(let a):
                return (0..<4).map { String((a >> (24 - 8 * $0)) & 0xff) }.joined(separator: ".")
            case .v6(let high, let low):
                let groups = (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) }
                    + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
                // RFC 5952 4.2: compress the longest run (of two or more) of zero groups, the first if tied.
                var best = (start: -1, count: 0)
                var run = (start: -1, count: 0)
                for (i, g) in groups.enumerated() {
                    if g == 0 {
                        run = run.start < 0 ? (i, 1) : (run.start, run.count + 1)
                        if run.count > best.count { best = run }
                    } else {
                        run = (-1, 0)
                    }
                }
                let hex = groups.map { String($0, radix: 16) }
                if best.count < 2 { return hex.joined(separator: ":") }
                let head = hex[..<best.start].joined(separator: ":")
                let tail = hex[(best.start + best.count)...].joined(separator: ":")
                return head + "::" + tail
            }
        }

        public var isIPv4: Bool {
            if case .v4 = self { return true }
            return false
        }

        static func parseIPv4(_ text: Substring) -> UInt32? {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var value: UInt32 = 0
            for part in parts {
                guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), let octet = UInt8(part) else { return nil }
                value = value << 8 | UInt32(octet)
            }
            return value
        }

        static func parseIPv6(_ text: Substring) -> IP? {
            guard text.count <= 45, text.contains(":") else { return nil }
            var groups: [UInt16] = []
            var tail: [UInt16] = []
            var sawGap = false
            let halves = text.components(separatedByDoubleColon: ())
            guard halves.count <= 2 else { return nil }
            func parseGroups(_ part: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
                if part.isEmpty { return [] }
                var out: [UInt16] = []
                let fields = part.split(separator: ":", omittingEmptySubsequences: false)
                for (i, field) in fields.enumerated() {
                    if i == fields.count - 1, allowIPv4Tail, field.contains(".") {
                        guard let v4 = parseIPv4(field) else { return nil }
                        out.append(UInt16(v4 >> 16))
                        out.append(UInt16(v4 & 0xffff))
                    } else {
                        guard (1...4).contains(field.count), field.allSatisfy(\.isHexDigit),
                            let g = UInt16(field, radix: 16)
                        else { return nil }
                        out.append(g)
                    }
                }
                return out
            }
            if halves.count == 2 {
                sawGap = true
                guard let head = parseGroups(halves[0], allowIPv4Tail: false),
                    let rest = parseGroups(halves[1], allowIPv4Tail: true)
                else { return nil }
                groups = head
                tail = rest
            } else {
                guard let all = parseGroups(halves[0], allowIPv4Tail: true) else { return nil }
                groups = all
            }
            if sawGap {
                guard groups.count + tail.count <= 7 else { return nil }
                groups += Array(repeating: 0, count: 8 - groups.count - tail.count) + tail
            }
            guard groups.count == 8 else { return nil }
            let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
            let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
            return .v6(high: high, low: low)
        }
    }

    public var ip: IP
    public var port: UInt16

    public init(ip: IP, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    /// `192.0.2.1:3478` or `[2001:db8::1]:3478`; nil when it is neither.
    public init?(_ text: some StringProtocol) {
        let text = Substring(text)
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            portText = after.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { return nil }  // bare IPv6 needs brackets
        }
        guard portText.allSatisfy(\.isASCII), let port = UInt16(portText), let ip = IP(host) else { return nil }
        self.init(ip: ip, port: port)
    }

    /// The address of a NIO socket address; nil for Unix domain sockets.
    public init?(_ address: SocketAddress) {
        guard let text = address.ipAddress, let port = address.port, let p = UInt16(exactly: port),
            let ip = IP(text)
        else { return nil }
        self.init(ip: ip, port: p)
    }

    /// The NIO socket address, for the channel that sends to it.
    public func socketAddress() throws -> SocketAddress {
        try SocketAddress(ipAddress: ip.description, port: Int(port))
    }

    public var description: String {
        switch ip {
        case .v4: return "\(ip):\(port)"
        case .v6: return "[\(ip)]:\(port)"
        }
    }
}

extension Substring {
    /// Splits at the first `::` (and reports a second one as a third part, which callers refuse).
    fileprivate func components(separatedByDoubleColon: Void) -> [Substring] {
        var parts: [Substring] = []
        var rest = self[...]
        while let range = rest.firstRange(of: "::") {
            parts.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        parts.append(rest)
        return parts
    }
}
