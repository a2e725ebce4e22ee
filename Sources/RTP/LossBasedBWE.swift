/// The loss-based half of Google Congestion Control (draft-ietf-rmcat-gcc-02 section 6, as libwebrtc's
/// SendSideBandwidthEstimation): with loss under 2 % the rate grows 8 % per second (over the lowest rate
/// of the last second, plus 1 kbit/s), between 2 and 10 % it holds, over 10 % it drops to
/// rate × (1 - 0.5 × loss), at most once per loss report and once per 300 ms + RTT. Loss comes from
/// transport-cc results (summed until 20 packets and 1 s) or from RTCP receiver reports' fraction lost.
/// Capped by the delay-based estimate, so the minimum of both is this. Without a loss report in the last
/// 6 s it holds.
public struct LossBasedBWE: Sendable, Hashable {
    static let increaseInterval: Int64 = 1_000_000
    static let decreaseInterval: Int64 = 300_000
    static let reportValidity: Int64 = 6_000_000
    static let minimumPackets = 20
    static let minimumSampleTime: Int64 = 1_000_000
    static let lowLoss = 0.02
    static let highLoss = 0.1
    static let historyLimit = 64

    public var minBitrate: Double
    public var maxBitrate: Double
    /// The estimate, bits/s.
    public private(set) var bitrate: Double
    /// The delay-based estimate this one may not exceed.
    public var delayBasedLimit = Double.infinity
    public var roundTripTime: Int64 = 200_000
    /// The last loss fraction (0...1) and when it was reported.
    public private(set) var lastLoss: Double?
    var lastLossTime: Int64?
    var decreasedSinceLastLoss = false
    var lastDecrease: Int64?
    /// (time, bitrate) with increasing bitrates: the front is the minimum of the last second.
    var minHistory: [MinSample] = []
    var lostPackets = 0
    var expectedPackets = 0
    var sampleStart: Int64?

    struct MinSample: Sendable, Hashable {
        var time: Int64
        var bitrate: Double
    }

    public init(startBitrate: Double, minBitrate: Double, maxBitrate: Double) {
        self.minBitrate = minBitrate
        self.maxBitrate = max(maxBitrate, minBitrate)
        bitrate = min(max(startBitrate, minBitrate), self.maxBitrate)
    }

    /// Counts transport-cc results; a loss fraction is taken once 20 packets and a second are summed.
    public mutating func onPacketResults(lost: Int, total: Int, now: Int64) {
        guard total > 0 else { return }
        lostPackets += max(lost, 0)
        expectedPackets += total
        let start = sampleStart ?? now
        sampleStart = start
        guard expectedPackets >= Self.minimumPackets, now - start >= Self.minimumSampleTime else { return }
        onLossFraction(Double(lostPackets) / Double(expectedPackets), now: now)
        lostPackets = 0
        expectedPackets = 0
        sampleStart = now
    }

    /// A loss fraction 0...1 (an RTCP report block's fraction lost / 256).
    public mutating func onLossFraction(_ fraction: Double, now: Int64) {
        lastLoss = fraction.isFinite ? min(max(fraction, 0), 1) : 0
        lastLossTime = now
        decreasedSinceLastLoss = false
    }

    /// Moves the estimate for time `now`; returns it.
    @discardableResult
    public mutating func update(now: Int64) -> Double {
        updateMinHistory(now: now)
        if let loss = lastLoss, let reported = lastLossTime, now - reported < Self.reportValidity {
            if loss <= Self.lowLoss {
                let base = minHistory.first?.bitrate ?? bitrate
                setBitrate(base * 1.08 + 1000)
                return bitrate
            } else if loss > Self.highLoss, !decreasedSinceLastLoss,
                lastDecrease.map({ now - $0 >= Self.decreaseInterval + roundTripTime }) ?? true
            {
                lastDecrease = now
                decreasedSinceLastLoss = true
                setBitrate(bitrate * (1 - 0.5 * loss))
                return bitrate
            }
        }
        setBitrate(bitrate)
        return bitrate
    }

    private mutating func setBitrate(_ value: Double) {
        let capped = min(value, delayBasedLimit, maxBitrate)
        bitrate = capped.isFinite ? max(capped, minBitrate) : minBitrate
    }

    private mutating func updateMinHistory(now: Int64) {
        while let first = minHistory.first, now - first.time + 1000 > Self.increaseInterval { minHistory.removeFirst() }
        while let last = minHistory.last, bitrate <= last.bitrate { minHistory.removeLast() }
        minHistory.append(MinSample(time: now, bitrate: bitrate))
        if minHistory.count > Self.historyLimit { minHistory.removeFirst(minHistory.count - Self.historyLimit) }
    }
}
