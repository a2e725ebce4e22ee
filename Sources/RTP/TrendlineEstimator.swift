/// The delay-based detector's verdict (draft-ietf-rmcat-gcc-02 section 5.4).
public enum BandwidthUsage: Sendable, Hashable {
    case normal
    /// Queues are building: the delay gradient is above the threshold.
    case overusing
    /// Queues are draining.
    case underusing
}

/// The delay gradient filter and over-use detector of Google Congestion Control, as libwebrtc's
/// TrendlineEstimator (which replaced the draft's Kalman filter): the accumulated one-way delay
/// variation is smoothed (coefficient 0.9), a least-squares line is fitted over the last 20 groups, and
/// its slope × min(deltas, 60) × 4 is compared with an adaptive threshold (draft-ietf-rmcat-gcc-02
/// section 5.4: gamma starts at 12.5 ms, moves toward |trend| with k_up 0.0087 and k_down 0.039 per ms,
/// clamped to 6...600, and is not adapted to spikes more than 15 ms over it). Over-use is declared when
/// the trend stayed over the threshold for more than 10 ms and two samples and is not falling.
public struct TrendlineEstimator: Sendable, Hashable {
    public static let windowSize = 20
    static let smoothingCoefficient = 0.9
    static let thresholdGain = 4.0
    static let minimumDeltas = 60
    static let deltaCounterMax = 1000
    static let overusingTimeThreshold = 10.0  // ms
    static let kUp = 0.0087
    static let kDown = 0.039
    static let maxAdaptOffset = 15.0  // ms
    static let maxThresholdTimeDelta = 100.0  // ms

    struct Sample: Sendable, Hashable {
        var arrivalTime: Double  // ms since the first
        var smoothedDelay: Double
    }

    public private(set) var state: BandwidthUsage = .normal
    /// The adaptive threshold (gamma), in ms.
    public private(set) var threshold = 12.5
    /// The last trend × gain × sample count, the figure compared with the threshold.
    public private(set) var modifiedTrend = 0.0

    var numberOfDeltas = 0
    var firstArrival: Double?
    var accumulatedDelay = 0.0
    var smoothedDelay = 0.0
    var history: [Sample] = []
    var previousTrend = 0.0
    var timeOverUsing = -1.0
    var overuseCounter = 0
    var lastThresholdUpdate: Double?

    public init() {}

    /// Adds one pair of group deltas (milliseconds); `arrivalTime` is the newer group's, in ms.
    public mutating func update(receiveDelta: Double, sendDelta: Double, arrivalTime: Double) {
        let delta = receiveDelta - sendDelta
        numberOfDeltas = min(numberOfDeltas + 1, Self.deltaCounterMax)
        let first = firstArrival ?? arrivalTime
        firstArrival = first
        accumulatedDelay += delta
        smoothedDelay = Self.smoothingCoefficient * smoothedDelay + (1 - Self.smoothingCoefficient) * accumulatedDelay
        history.append(Sample(arrivalTime: arrivalTime - first, smoothedDelay: smoothedDelay))
        if history.count > Self.windowSize { history.removeFirst(history.count - Self.windowSize) }
        var trend = previousTrend
        if history.count == Self.windowSize, let slope = Self.linearFitSlope(history) { trend = slope }
        detect(trend: trend, sendDelta: sendDelta, now: arrivalTime)
    }

    static func linearFitSlope(_ samples: [Sample]) -> Double? {
        let count = Double(samples.count)
        let meanX = samples.reduce(0) { $0 + $1.arrivalTime } / count
        let meanY = samples.reduce(0) { $0 + $1.smoothedDelay } / count
        var numerator = 0.0
        var denominator = 0.0
        for sample in samples {
            let dx = sample.arrivalTime - meanX
            numerator += dx * (sample.smoothedDelay - meanY)
            denominator += dx * dx
        }
        guard denominator != 0, numerator.isFinite, denominator.isFinite else { return nil }
        return numerator / denominator
    }

    private mutating func detect(trend: Double, sendDelta: Double, now: Double) {
        guard numberOfDeltas >= 2 else {
            state = .normal
            return
        }
        let modified = Double(min(numberOfDeltas, Self.minimumDeltas)) * trend * Self.thresholdGain
        modifiedTrend = modified
        if modified > threshold {
            if timeOverUsing < 0 {
                timeOverUsing = sendDelta / 2  // assume over-use for half the time since the previous sample
            } else {
                timeOverUsing += sendDelta
            }
            overuseCounter += 1
            if timeOverUsing > Self.overusingTimeThreshold, overuseCounter > 1, trend >= previousTrend {
                timeOverUsing = 0
                overuseCounter = 0
                state = .overusing
            }
        } else if modified < -threshold {
            timeOverUsing = -1
            overuseCounter = 0
            state = .underusing
        } else {
            timeOverUsing = -1
            overuseCounter = 0
            state = .normal
        }
        previousTrend = trend
        updateThreshold(modified, now: now)
    }

    private mutating func updateThreshold(_ modified: Double, now: Double) {
        let last = lastThresholdUpdate ?? now
        lastThresholdUpdate = now
        guard abs(modified) <= threshold + Self.maxAdaptOffset else { return }
        let k = abs(modified) < threshold ? Self.kDown : Self.kUp
        let elapsed = min(max(now - last, 0), Self.maxThresholdTimeDelta)
        threshold += k * (abs(modified) - threshold) * elapsed
        threshold = min(max(threshold, 6), 600)
    }
}
