/// The send-side bandwidth estimate of Google Congestion Control (draft-ietf-rmcat-gcc-02, as libwebrtc's
/// goog_cc): the minimum of the delay-based estimate (`DelayBasedBWE`, fed transport-cc results and the
/// acknowledged bitrate) and the loss-based one (`LossBasedBWE`, fed the results' losses, or RTCP receiver
/// reports when the peer sends no transport-cc), bounded by the configured minimum and maximum.
///
/// A pure state machine: feed it `TransportFeedbackAdapter` results as feedback arrives (`update`), RTCP
/// receiver report loss (`onLossReport`) and round-trip times; it returns the target bitrate, which the
/// caller gives the encoders and the `Pacer`. Bits per second, times in microseconds.
public struct BandwidthEstimator: Sendable, Hashable {
    public struct Configuration: Sendable, Hashable {
        public var minBitrate: Int64
        public var maxBitrate: Int64
        public var startBitrate: Int64

        /// `minBitrate` at least 1 kbit/s; `maxBitrate` at least `minBitrate`; the start within both.
        public init(minBitrate: Int64 = 30_000, maxBitrate: Int64 = 2_500_000, startBitrate: Int64 = 300_000) {
            self.minBitrate = max(minBitrate, 1000)
            self.maxBitrate = max(maxBitrate, self.minBitrate)
            self.startBitrate = min(max(startBitrate, self.minBitrate), self.maxBitrate)
        }
    }

    /// Receiver report loss is ignored while transport-cc results came within this time.
    static let transportFeedbackPreference: Int64 = 5_000_000

    public let configuration: Configuration
    public private(set) var delayBased: DelayBasedBWE
    public private(set) var lossBased: LossBasedBWE
    public private(set) var acknowledged = AcknowledgedBitrateEstimator()
    var lastTransportFeedback: Int64?

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        let start = Double(configuration.startBitrate)
        let low = Double(configuration.minBitrate)
        let high = Double(configuration.maxBitrate)
        delayBased = DelayBasedBWE(startBitrate: start, minBitrate: low, maxBitrate: high)
        lossBased = LossBasedBWE(startBitrate: start, minBitrate: low, maxBitrate: high)
    }

    /// Whether transport-cc results came at all: until then the delay-based part knows nothing and the
    /// loss-based one (receiver reports) is the target alone.
    public var hasTransportFeedback: Bool { lastTransportFeedback != nil }

    /// The target, bits/s: min(delay-based, loss-based) within the configured bounds.
    public var targetBitrate: Int64 {
        let target = hasTransportFeedback ? min(delayBased.bitrate, lossBased.bitrate) : lossBased.bitrate
        guard target.isFinite else { return configuration.minBitrate }
        return min(max(Int64(target), configuration.minBitrate), configuration.maxBitrate)
    }

    /// What the receiver got per second, nil until measured.
    public var acknowledgedBitrate: Int64? { acknowledged.bitrate.map { Int64($0) } }
    public var usage: BandwidthUsage { delayBased.usage }

    /// One feedback's results (from `TransportFeedbackAdapter.onFeedback`) at local time `now`.
    @discardableResult
    public mutating func update(_ results: [PacketResult], now: Int64) -> Int64 {
        guard !results.isEmpty else { return targetBitrate }
        lastTransportFeedback = now
        acknowledged.update(results)
        let lost = results.reduce(0) { $0 + ($1.isLost ? 1 : 0) }
        lossBased.onPacketResults(lost: lost, total: results.count, now: now)
        delayBased.update(results, acknowledgedBitrate: acknowledged.bitrate ?? acknowledged.provisionalBitrate, now: now)
        lossBased.delayBasedLimit = delayBased.bitrate
        lossBased.update(now: now)
        return targetBitrate
    }

    /// Loss from an RTCP receiver report block (RFC 3550 6.4.1): `fractionLost` in 0...1 (the block's
    /// 8-bit fraction / 256). Used when no transport-cc results came in the last 5 s.
    @discardableResult
    public mutating func onLossReport(fractionLost: Double, now: Int64) -> Int64 {
        if let last = lastTransportFeedback, now - last < Self.transportFeedbackPreference { return targetBitrate }
        lossBased.onLossFraction(fractionLost, now: now)
        lossBased.update(now: now)
        return targetBitrate
    }

    /// A round-trip time measurement (RTCP SR/RR's LSR and DLSR, RFC 3550 6.4.1), microseconds.
    public mutating func onRoundTripTime(_ micros: Int64) {
        let rtt = min(max(micros, 0), 10_000_000)
        delayBased.setRoundTripTime(rtt)
        lossBased.roundTripTime = rtt
    }

    /// Lets the loss-based ramp go on between reports (call now and then, e.g. every 25 ms as libwebrtc).
    @discardableResult
    public mutating func process(now: Int64) -> Int64 {
        if hasTransportFeedback { lossBased.delayBasedLimit = delayBased.bitrate }
        lossBased.update(now: now)
        return targetBitrate
    }
}
