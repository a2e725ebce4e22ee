/// The delay-based half of Google Congestion Control on the send side (draft-ietf-rmcat-gcc-02 section
/// 5 with transport-cc, as libwebrtc's DelayBasedBwe): received packets, in arrival order, go through
/// inter-arrival grouping and the trendline detector; after each feedback the AIMD controller takes the
/// detector's verdict and the acknowledged bitrate. Before any acknowledged bitrate, over-use halves the
/// estimate at most every 200 ms. Two seconds without feedback reset the detector.
public struct DelayBasedBWE: Sendable, Hashable {
    static let streamTimeout: Int64 = 2_000_000
    static let initialReductionInterval: Int64 = 200_000

    public private(set) var rateControl: AIMDRateControl
    var interArrival = InterArrivalDelta()
    var detector = TrendlineEstimator()
    var lastSeenPacket: Int64?

    public init(startBitrate: Double, minBitrate: Double, maxBitrate: Double) {
        rateControl = AIMDRateControl(startBitrate: startBitrate, minBitrate: minBitrate, maxBitrate: maxBitrate)
    }

    /// The estimate, bits/s.
    public var bitrate: Double { rateControl.bitrate }
    public var usage: BandwidthUsage { detector.state }

    public mutating func setRoundTripTime(_ micros: Int64) { rateControl.roundTripTime = max(micros, 0) }

    /// Processes one feedback's results at local time `now`; returns the (possibly unchanged) estimate.
    @discardableResult
    public mutating func update(_ results: [PacketResult], acknowledgedBitrate: Double?, now: Int64) -> Double {
        let received = results.filter { $0.arrivalTime != nil }
            .sorted { ($0.arrivalTime ?? 0, $0.sequenceNumber) < ($1.arrivalTime ?? 0, $1.sequenceNumber) }
        guard !received.isEmpty else { return bitrate }
        if let last = lastSeenPacket, now - last > Self.streamTimeout {
            interArrival = InterArrivalDelta()
            detector = TrendlineEstimator()
        }
        lastSeenPacket = now
        for result in received {
            guard let arrival = result.arrivalTime,
                let deltas = interArrival.add(sendTime: result.sendTime, arrivalTime: arrival, systemTime: now, size: result.size)
            else { continue }
            detector.update(
                receiveDelta: Double(deltas.arrivalDelta) / 1000, sendDelta: Double(deltas.sendDelta) / 1000,
                arrivalTime: Double(arrival) / 1000)
        }
        if detector.state == .overusing {
            if let acknowledgedBitrate {
                if rateControl.timeToReduceFurther(now: now, acknowledgedBitrate: acknowledgedBitrate) {
                    rateControl.update(usage: .overusing, acknowledgedBitrate: acknowledgedBitrate, now: now)
                }
            } else if rateControl.timeToReduceFurther(now: now, acknowledgedBitrate: rateControl.bitrate / 2 - 1) {
                rateControl.setEstimate(rateControl.bitrate / 2, now: now)
            }
        } else {
            rateControl.update(usage: detector.state, acknowledgedBitrate: acknowledgedBitrate, now: now)
        }
        return bitrate
    }
}
