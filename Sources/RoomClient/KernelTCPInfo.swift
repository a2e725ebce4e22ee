#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Linux's `struct tcp_info` as the kernel fills it (linux/tcp.h: 232 bytes since 5.x). glibc's
/// netinet/tcp.h, whose struct NIO's `getTCPInfo` returns, ends at tcpi_total_retrans, before the fields
/// traffic control wants most: the delivery rate (what the path delivered over the last round trips, from
/// the ACK clock: the link's rate when the sender is not app-limited) and the bytes not yet sent. An older
/// kernel fills less; what it leaves is zero, read here as "not known".
public struct KernelTCPInfo: Sendable {
    /// 29 × 8 = 232 bytes, zeroed by NIO before getsockopt.
    var raw: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
              UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
              UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    // Offsets in linux/tcp.h's struct tcp_info (checked with offsetof on this machine's headers).
    static let rttOffset = 68            // __u32 tcpi_rtt, µs
    static let bytesAckedOffset = 120    // __u64 tcpi_bytes_acked
    static let notSentOffset = 144       // __u32 tcpi_notsent_bytes
    static let deliveryRateOffset = 160  // __u64 tcpi_delivery_rate, bytes/s

    private func load<T: FixedWidthInteger>(_ offset: Int, as: T.Type) -> T {
        withUnsafeBytes(of: raw) { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    /// Smoothed round trip, ms.
    public var rttMs: Double? {
        let us = load(Self.rttOffset, as: UInt32.self)
        return us > 0 ? Double(us) / 1000 : nil
    }

    /// What the path delivered, bits/s; nil when the kernel did not say.
    public var deliveryRate: Double? {
        let bytes = load(Self.deliveryRateOffset, as: UInt64.self)
        return bytes > 0 ? Double(bytes) * 8 : nil
    }

    public var notSentBytes: Int { Int(load(Self.notSentOffset, as: UInt32.self)) }

    /// Bytes the peer acknowledged since the connection opened (RFC 4898 tcpEStatsAppHCThruOctetsAcked).
    /// Its growth over an interval is what the path delivered then: unlike `deliveryRate`, a single ACK that
    /// covers a repaired hole does not read as a burst far above the link.
    public var bytesAcked: UInt64 { load(Self.bytesAckedOffset, as: UInt64.self) }

    /// Reads it from a socket channel (nil where it cannot: not a socket, or not Linux).
    public static func read(_ channel: Channel) -> EventLoopFuture<KernelTCPInfo?> {
        #if os(Linux)
        guard let provider = channel as? SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        let future: EventLoopFuture<KernelTCPInfo> = provider.unsafeGetSocketOption(level: SocketOptionLevel(IPPROTO_TCP),
                                                                                      name: SocketOptionName(TCP_INFO))
        return future.map { Optional($0) }.recover { _ in nil }
        #else
        return channel.eventLoop.makeSucceededFuture(nil)
        #endif
    }
}
