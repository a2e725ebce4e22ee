import RoomProtocol
import RTP

/// What an uplink did over one interval: what the kernel took from the publisher's queue, and how old that
/// queue got. A standing queue (its youngest age above zero) means the link, not the encoder, set the pace,
/// and then what it took is what the link carries.
public struct LinkSample: Sendable, Equatable {
    public var seconds: Double
    /// Bytes the kernel took from the queue in the interval.
    public var takenBytes: Int
    /// The youngest and oldest the backlog was when a frame was sent, and at the end, in ms.
    public var minBacklogMs: Double
    public var maxBacklogMs: Double
    public var backlogMs: Double
    /// Frames dropped because the backlog was too old (or the connection backed up).
    public var droppedFrames: Int
    /// TCP's smoothed round trip at the end (TCP_INFO), ms: it grows when a queue builds on the path, beyond
    /// the socket, where the backlog cannot see it.
    public var rttMs: Double?
    /// What the peer acknowledged over the interval (TCP_INFO's tcpi_bytes_acked), bits/s: what the path
    /// delivered. Unlike what the kernel took from the socket it does not count data that only went into
    /// flight, so it shows a slower link at the first sample after the change. While the sender had less to
    /// send than the link carries it is only what was sent: it is used when a queue shows the link was the limit.
    public var deliveryRate: Double?
    /// Over RTP: the queue on the path measured directly (one-way delay above its floor, from transport-cc
    /// feedback), ms. Without it the queue is the round trip's growth above the smallest seen.
    public var pathQueueMs: Double?
    /// Over RTP: what the session's congestion controller (delay- and loss-based, GCC) estimates the path
    /// carries now, bits/s. The encoder follows it, as libwebrtc's does.
    public var estimateBitRate: Double?

    public init(seconds: Double, takenBytes: Int, minBacklogMs: Double, maxBacklogMs: Double, backlogMs: Double,
                droppedFrames: Int, rttMs: Double? = nil, deliveryRate: Double? = nil, pathQueueMs: Double? = nil,
                estimateBitRate: Double? = nil) {
        self.seconds = seconds
        self.takenBytes = takenBytes
        self.minBacklogMs = minBacklogMs
        self.maxBacklogMs = maxBacklogMs
        self.backlogMs = backlogMs
        self.droppedFrames = droppedFrames
        self.rttMs = rttMs
        self.deliveryRate = deliveryRate
        self.pathQueueMs = pathQueueMs
        self.estimateBitRate = estimateBitRate
    }

    /// Bits per second the kernel took.
    public var takenBitRate: Double { seconds > 0 ? Double(takenBytes) * 8 / seconds : 0 }
}

/// Gathers a `LinkSample` from the sends and the kernel's takes of one publisher (under its lock).
struct LinkMeter {
    var taken = 0
    var dropped = 0
    private var minAge: UInt64?
    private var maxAge: UInt64 = 0
    private var start: UInt64?

    mutating func observe(backlogAge age: UInt64) {
        minAge = min(minAge ?? age, age)
        maxAge = max(maxAge, age)
    }

    mutating func sample(now: UInt64, backlogAge: UInt64) -> LinkSample {
        observe(backlogAge: backlogAge)
        let seconds = start.map { Double(now &- $0) / 1e9 } ?? 0
        let s = LinkSample(seconds: seconds, takenBytes: taken, minBacklogMs: Double(minAge ?? 0) / 1e6,
                           maxBacklogMs: Double(maxAge) / 1e6, backlogMs: Double(backlogAge) / 1e6, droppedFrames: dropped)
        self = LinkMeter()
        start = now
        return s
    }
}

/// The same figures from an RTP session (media over UDP): what went out, what the remote received
/// (transport-cc), the queue on the path (one-way delay above its floor, from the same feedback), the
/// congestion controller's estimate, and packets the pacer gave up on (they waited longer than the estimate
/// allows) as drops. One meter per RTP session (its counters only grow).
struct RTPLinkMeter: Sendable {
    private var bytesSent = 0
    private var pacerDropped = 0

    mutating func sample(seconds: Double, statistics udp: RTPPeer.Statistics, droppedFrames: Int) -> LinkSample {
        let sent = udp.bytesSent - bytesSent
        let paced = udp.pacerDropped - pacerDropped
        bytesSent = udp.bytesSent
        pacerDropped = udp.pacerDropped
        return LinkSample(seconds: seconds, takenBytes: max(0, sent), minBacklogMs: 0, maxBacklogMs: 0, backlogMs: 0,
                          droppedFrames: droppedFrames + max(0, paced),
                          rttMs: udp.roundTripTime > 0 ? Double(udp.roundTripTime) / 1000 : nil,
                          deliveryRate: udp.acknowledgedBitrate > 0 ? Double(udp.acknowledgedBitrate) : nil,
                          pathQueueMs: Double(max(0, udp.queueDelay)) / 1000,
                          estimateBitRate: udp.targetBitrate > 0 ? Double(udp.targetBitrate) : nil)
    }
}
