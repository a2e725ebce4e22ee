import Foundation

/// The rate controller of Google Congestion Control's delay-based part (draft-ietf-rmcat-gcc-02 section
/// 5.5, as libwebrtc's AimdRateControl): a state machine Hold / Increase / Decrease driven by the
/// over-use detector. On over-use the rate drops to beta (0.85) × the acknowledged bitrate; otherwise it
/// grows multiplicatively (8 % per second) while the link capacity is unknown, additively (about one
/// packet per response time) near a known capacity, never past 1.5 × acknowledged + 10 kbit/s. Bits per
/// second as `Double`, times in microseconds.
public struct AIMDRateControl: Sendable, Hashable {
    enum State: Sendable, Hashable { case hold, increase, decrease }

    public static let beta = 0.85
    public var minBitrate: Double
    public var maxBitrate: Double
    /// The current estimate (bits/s).
    public private(set) var bitrate: Double
    /// Round-trip time (µs): the interval between decreases and the additive increase's response time.
    public var roundTripTime: Int64 = 200_000

    var state: State = .hold
    var linkCapacity = LinkCapacityEstimator()
    var latestThroughput: Double
    var timeLastChange: Int64?
    var timeLastDecrease: Int64?

    public init(startBitrate: Double, minBitrate: Double, maxBitrate: Double) {
        self.minBitrate = minBitrate
        self.maxBitrate = max(maxBitrate, minBitrate)
        bitrate = min(max(startBitrate, minBitrate), self.maxBitrate)
        latestThroughput = bitrate
    }

    /// Whether an over-use now may lower the rate again: a round trip (10...200 ms) after the last
    /// change, or at once when the acknowledged rate fell under half the estimate.
    public func timeToReduceFurther(now: Int64, acknowledgedBitrate: Double) -> Bool {
        let interval = min(max(roundTripTime, 10_000), 200_000)
        if let last = timeLastChange, now - last < interval {
            return acknowledgedBitrate < 0.5 * bitrate
        }
        return true
    }

    /// Sets the estimate (probing, or halving on over-use before any acknowledged rate).
    public mutating func setEstimate(_ value: Double, now: Int64) {
        bitrate = clamp(value)
        timeLastChange = now
    }

    /// Applies one detector verdict; `acknowledgedBitrate` nil when not yet measured.
    @discardableResult
    public mutating func update(usage: BandwidthUsage, acknowledgedBitrate: Double?, now: Int64) -> Double {
        let throughput = acknowledgedBitrate ?? latestThroughput
        if let acknowledgedBitrate { latestThroughput = acknowledgedBitrate }
        switch usage {
        case .normal:
            if state == .hold {
                timeLastChange = now
                state = .increase
            }
        case .overusing:
            state = .decrease
        case .underusing:
            state = .hold
        }
        var newBitrate: Double?
        switch state {
        case .hold:
            break
        case .increase:
            if throughput > linkCapacity.upperBound { linkCapacity.reset() }
            let limit = 1.5 * throughput + 10_000
            if bitrate < limit {
                let increase = linkCapacity.estimate != nil
                    ? additiveIncrease(now: now) : multiplicativeIncrease(now: now)
                newBitrate = min(bitrate + increase, limit)
            }
            timeLastChange = now
        case .decrease:
            var decreased = throughput * Self.beta
            if decreased > bitrate, let capacity = linkCapacity.estimate { decreased = Self.beta * capacity }
            if decreased < bitrate { newBitrate = decreased }
            if throughput < linkCapacity.lowerBound { linkCapacity.reset() }
            linkCapacity.onOveruse(throughput)
            state = .hold
            timeLastChange = now
            timeLastDecrease = now
        }
        bitrate = clamp(newBitrate ?? bitrate)
        return bitrate
    }

    /// 8 % per second (pro rata, at most a second's worth), at least 1 kbit/s.
    private func multiplicativeIncrease(now: Int64) -> Double {
        var alpha = 1.08
        if let last = timeLastChange {
            alpha = pow(alpha, min(Double(max(now - last, 0)) / 1e6, 1.0))
        }
        return max(bitrate * (alpha - 1), 1000)
    }

    /// About one average packet per response time (RTT + 100 ms), at least 4 kbit/s per second.
    private func additiveIncrease(now: Int64) -> Double {
        let elapsed = Double(max(now - (timeLastChange ?? now), 0)) / 1e6
        let frameSize = bitrate / 30 / 8  // bytes per frame at 30 fps
        let packetsPerFrame = max((frameSize / 1200).rounded(.up), 1)
        let packetSize = frameSize / packetsPerFrame
        let responseTime = Double(roundTripTime + 100_000) / 1e6
        let ratePerSecond = max(4000, packetSize * 8 / responseTime)
        return ratePerSecond * elapsed
    }

    private func clamp(_ value: Double) -> Double {
        guard value.isFinite else { return minBitrate }
        return min(max(value, minBitrate), maxBitrate)
    }
}

/// The link capacity as the acknowledged rates seen at over-use (libwebrtc's LinkCapacityEstimator): an
/// exponential average (alpha 0.05) with a normalized variance; the band ±3 deviations around it tells
/// whether the rate is near the capacity (additive increase) or far from it (forget it, ramp faster).
struct LinkCapacityEstimator: Sendable, Hashable {
    /// kbit/s.
    var estimateKbps: Double?
    var deviationKbps = 0.4

    var estimate: Double? { estimateKbps.map { $0 * 1000 } }

    var upperBound: Double {
        guard let estimateKbps else { return .infinity }
        return (estimateKbps + 3 * deviation(estimateKbps)) * 1000
    }

    var lowerBound: Double {
        guard let estimateKbps else { return 0 }
        return max(0, estimateKbps - 3 * deviation(estimateKbps)) * 1000
    }

    mutating func reset() { estimateKbps = nil }

    mutating func onOveruse(_ acknowledged: Double) { update(acknowledged, alpha: 0.05) }

    private mutating func update(_ sample: Double, alpha: Double) {
        let sampleKbps = sample / 1000
        let estimate = estimateKbps.map { (1 - alpha) * $0 + alpha * sampleKbps } ?? sampleKbps
        estimateKbps = estimate
        let error = estimate - sampleKbps
        deviationKbps = (1 - alpha) * deviationKbps + alpha * error * error / max(estimate, 1)
        deviationKbps = min(max(deviationKbps, 0.4), 2.5)
    }

    private func deviation(_ estimate: Double) -> Double { (deviationKbps * estimate).squareRoot() }
}
