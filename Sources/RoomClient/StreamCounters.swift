import Foundation
import RoomProtocol

/// Running totals of one stream as a publisher sent it or a player received it. Totals only grow, so
/// every reader (quality events every 3 s, a progress line every second) takes its own differences.
public struct StreamCounters: Sendable, Equatable {
    public var videoFrames = 0
    public var audioFrames = 0
    public var bytes = 0
    public var framesDropped = 0
    /// Of those, what the server dropped before sending (a player's downlink too slow).
    public var framesDroppedUpstream = 0
    /// Capture-to-here delay of the frames counted, in µs (the capture clock travels in every media frame).
    public var latencyTotalMicroseconds: UInt64 = 0
    public var latencySamples = 0
    public var lastLatencyMicroseconds: UInt64?

    public init() {}

    public var frames: Int { videoFrames + audioFrames }

    mutating func record(track: TrackKind, bytes count: Int, captureTime: UInt64, now: UInt64 = StreamCounters.wallClock()) {
        if track == .video { videoFrames += 1 } else { audioFrames += 1 }
        bytes += count
        guard captureTime > 0 else { return }
        let latency = now > captureTime ? now - captureTime : 0
        latencyTotalMicroseconds += latency
        latencySamples += 1
        lastLatencyMicroseconds = latency
    }

    /// The figures between `previous` and these totals, over `seconds`.
    public func quality(since previous: StreamCounters, seconds: Double, streamID: String, rttMs: Double?) -> QualityReport {
        let span = max(seconds, 0.001)
        let video = videoFrames - previous.videoFrames
        let audio = audioFrames - previous.audioFrames
        let samples = latencySamples - previous.latencySamples
        let latency = samples > 0
            ? Double(latencyTotalMicroseconds - previous.latencyTotalMicroseconds) / Double(samples) / 1000 : nil
        var report = QualityReport(streamID: streamID, fps: Self.round(Double(video > 0 ? video : audio) / span),
                                   kbps: Self.round(Double(bytes - previous.bytes) * 8 / 1000 / span),
                                   framesDropped: framesDropped - previous.framesDropped,
                                   latencyMs: latency.map(Self.round), rttMs: rttMs.map(Self.round))
        let upstream = framesDroppedUpstream - previous.framesDroppedUpstream
        if upstream > 0 { report.serverFramesDropped = upstream }
        return report
    }

    static func round(_ value: Double) -> Double { (value * 10).rounded() / 10 }

    public static func wallClock() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1_000_000)) }
}
