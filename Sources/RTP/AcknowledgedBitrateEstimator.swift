/// What the receiver actually got per second, from transport-cc results (libwebrtc's
/// AcknowledgedBitrateEstimator / BitrateEstimator): received bytes are summed over windows of the
/// arrival clock (500 ms for the first sample, 150 ms after), and each window's rate updates a Bayesian
/// estimate whose sample variance grows with the distance from the estimate, so single odd windows move
/// it little. Feeds the AIMD controller's decrease (0.85 × this) and its increase limit.
///
/// Until that first sample, `provisionalBitrate` is the plain average since the first arrival (not in
/// libwebrtc, which halves the estimate every 200 ms of over-use until it has a rate; a start above the
/// link's rate then lands at a quarter of it, not at 0.85 of it).
public struct AcknowledgedBitrateEstimator: Sendable, Hashable {
    static let provisionalMinimumSpan: Int64 = 50_000

    static let initialWindow: Int64 = 500_000
    static let window: Int64 = 150_000
    static let uncertaintyScale = 10.0

    /// Bits per second; nil before the first full window.
    public var bitrate: Double? { estimateKbps.map { $0 * 1000 } }

    /// Bits per second averaged since the first arrival, while `bitrate` is nil and 50 ms have passed.
    public var provisionalBitrate: Double? {
        guard estimateKbps == nil, let first = firstArrival, let last = previousTime,
            last - first >= Self.provisionalMinimumSpan
        else { return nil }
        return 8 * Double(bytesAfterFirst) / (Double(last - first) / 1e6)
    }

    var estimateKbps: Double?
    var estimateVariance = 50.0
    var firstArrival: Int64?
    var bytesAfterFirst = 0
    var sum = 0
    var currentWindow: Int64 = 0
    var previousTime: Int64?

    public init() {}

    /// Adds the received packets among `results` in arrival order.
    public mutating func update(_ results: [PacketResult]) {
        let received = results.compactMap { result in result.arrivalTime.map { ($0, result.size) } }
        for (arrival, size) in received.sorted(by: { $0.0 < $1.0 }) { add(arrivalTime: arrival, size: size) }
    }

    mutating func add(arrivalTime: Int64, size: Int) {
        if estimateKbps == nil {
            if let first = firstArrival, arrivalTime >= first {
                bytesAfterFirst += size
            } else {
                firstArrival = arrivalTime
                bytesAfterFirst = 0
            }
        }
        let window = estimateKbps == nil ? Self.initialWindow : Self.window
        guard let sampleKbps = updateWindow(now: arrivalTime, bytes: size, window: window) else { return }
        guard let estimate = estimateKbps else {
            estimateKbps = sampleKbps
            return
        }
        let uncertainty = Self.uncertaintyScale * abs(estimate - sampleKbps) / max(estimate, 1e-9)
        let sampleVariance = uncertainty * uncertainty
        let predictedVariance = estimateVariance + 5
        let updated = (sampleVariance * estimate + predictedVariance * sampleKbps) / (sampleVariance + predictedVariance)
        estimateKbps = updated.isFinite ? max(updated, 0) : sampleKbps
        estimateVariance = sampleVariance * predictedVariance / (sampleVariance + predictedVariance)
    }

    /// The rate of a window that just completed (kbit/s), nil otherwise.
    private mutating func updateWindow(now: Int64, bytes: Int, window: Int64) -> Double? {
        if let previous = previousTime, now < previous {
            previousTime = nil
            sum = 0
            currentWindow = 0
        }
        if let previous = previousTime {
            currentWindow += now - previous
            if now - previous > window {
                sum = 0
                currentWindow %= window
            }
        }
        previousTime = now
        var sample: Double?
        if currentWindow >= window {
            sample = 8 * Double(sum) / Double(window / 1000)
            currentWindow -= window
            sum = 0
        }
        sum += bytes
        return sample
    }
}
