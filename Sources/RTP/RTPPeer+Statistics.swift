// What an RTPPeer counts and measures.
extension RTPPeer {
    /// What went through this peer, for quality events and metrics.
    public struct Statistics: Sendable, Hashable {
        public var packetsSent = 0
        public var bytesSent = 0
        public var packetsReceived = 0
        public var bytesReceived = 0
        public var retransmissionsSent = 0
        public var retransmittedBytesSent = 0
        /// Of those, second copies sent because the link loses much (see `duplicateRetransmissionsAbove`).
        public var duplicateRetransmissionsSent = 0
        public var retransmissionsReceived = 0
        public var nacksSent = 0
        public var nacksReceived = 0
        public var keyframeRequestsSent = 0
        public var keyframeRequestsReceived = 0
        public var framesSent = 0
        public var framesReceived = 0
        /// Frames of ours not sent: before the peer connected, or without a track of their kind.
        public var framesNotSent = 0
        /// Video frames given up by the jitter buffer, and freezes (give-ups while frames flowed).
        public var videoFramesGivenUp = 0
        public var freezes = 0
        public var audioFramesConcealed = 0
        /// Audio frames that came (in time) on the receive streams.
        public var audioFramesReceived = 0
        /// Audio packets lost on the way and recovered from the next packets' redundancy (RED), not concealed.
        public var audioRecovered = 0
        /// Audio packets sent as RED (with redundancy), while the remote reported loss.
        public var redPacketsSent = 0
        /// Datagrams dropped: undecryptable, unparsable, of no known stream, from the wrong address.
        public var datagramsDropped = 0
        /// Packets the remote reported lost of what we sent (RTCP receiver reports, cumulative).
        public var remoteLost: Int64 = 0
        public var roundTripTime: Int64 = 0
        /// The bandwidth estimate for what we send, bits/s (0 before any feedback): min(delay-based, loss-based).
        public var targetBitrate: Int64 = 0
        /// What the remote received of what we sent, bits/s (transport-cc), 0 before it is known.
        public var acknowledgedBitrate: Int64 = 0
        /// How much longer our packets take to arrive now than the quickest of the last 30 s (one-way, from
        /// transport-cc's send and arrival times; the two clocks' offset cancels): a queue on the path, µs.
        public var queueDelay: Int64 = 0
        /// When the feedback that measured `queueDelay` came (monotonic µs).
        public var queueDelayMeasuredAt: Int64 = 0
        /// The newest packet the remote reported: when it was sent plus the queue it met (µs, our clock; the
        /// path is through with what came before it then), and `transportBytesSent` when it was sent.
        public var queueReference: Int64 = 0
        public var bytesSentAtQueueReference: Int64 = 0
        /// Bytes of packets sent with transport-wide sequence numbers (media and retransmissions).
        public var transportBytesSent: Int64 = 0
        /// The rate the last feedback's packets arrived at (bits/s; 0 before one with enough of them): with a
        /// queue on the path, its bottleneck's rate (the queue spaces the arrivals); without one, the rate
        /// they were sent at, or more (a receiver that read a batch late).
        public var arrivalRate: Int64 = 0
        /// Retransmissions not sent because they would have passed half the media's bytes (a congested link
        /// NACKs more the more it is sent).
        public var retransmissionsSuppressed = 0
        /// How long the oldest packet in the pacer had waited (µs), as of the peer's last call.
        public var pacerQueueDelay: Int64 = 0
        /// Packets the pacer dropped after waiting too long (or to stay within its bound).
        public var pacerDropped = 0
        public init() {}

        /// The queue a packet sent at `now` meets on the path (µs). With no queue measured (under 50 ms: a busy
        /// host's loop makes 30 on loopback) or no arrival rate yet, what is left of the measured one: the path
        /// drains it in real time. With one, the queue is the path's bottleneck at work: what was sent after the newest reported packet waits behind it, draining at the
        /// rate the last feedback's packets arrived at (the bottleneck's, while it queues), so the queue is
        /// known before the feedback that reports it, which comes a queue and a feedback interval late (a
        /// sender at twice a link's rate would fill a 400 ms buffer before hearing of it). A sender that stops
        /// sending sees the queue drain.
        public func pathQueueDelay(at now: Int64) -> Int64 {
            let rate = arrivalRate
            guard queueDelay >= 50_000, rate > 0 else { return max(0, queueDelay - max(0, now - queueDelayMeasuredAt)) }
            let behind = Double(max(0, transportBytesSent - bytesSentAtQueueReference)) * 8 / Double(rate) * 1e6
            return max(0, queueReference + Int64(behind) - now)
        }
    }
}
