import CoreMetrics
import Foundation
import RTP

/// The server's figures, through swift-metrics: with a Prometheus factory they are scraped from
/// `serve --metrics`; without one they go to a no-op handler and cost next to nothing.
final class ServerMetrics: Sendable {
    let connections: Meter
    let rooms: Meter
    let users: Meter
    let streams: Meter
    let subscribers: Meter
    let bytesIn: Counter
    let bytesOut: Counter
    let mediaFramesIn: Counter
    let framesDropped: Counter
    let slowConsumers: Counter
    let logins: Counter
    let loginsRefused: Counter
    /// From a login request's arrival to its answer being queued.
    let loginLatency: CoreMetrics.Timer
    /// From a player being added to a live stream to its first media frame written.
    let joinTime: CoreMetrics.Timer
    /// What serve adds to a video frame: from the publisher's frame read to its write to each subscriber's
    /// socket (one video frame a second per stream is timed, for every subscriber).
    let fanoutVideoDelay: CoreMetrics.Timer
    /// The UDP media port (serve --udp): its sessions, what it read and wrote, and what it dropped, by reason.
    let udpSessions: Meter
    /// Streams whose AAC is made Opus for WebRTC players right now.
    let opusTranscodes: Meter
    let udpDatagramsIn: Counter
    let udpBytesIn: Counter
    let udpDatagramsOut: Counter
    let udpBytesOut: Counter
    let udpDropped: [UDPSessionRouter<UInt64>.DropReason: Counter]

    init(factory: MetricsFactory) {
        connections = Meter(label: "rtcbox_connections", factory: factory)
        rooms = Meter(label: "rtcbox_rooms", factory: factory)
        users = Meter(label: "rtcbox_users", factory: factory)
        streams = Meter(label: "rtcbox_streams", factory: factory)
        subscribers = Meter(label: "rtcbox_subscribers", factory: factory)
        bytesIn = Counter(label: "rtcbox_bytes_in_total", factory: factory)
        bytesOut = Counter(label: "rtcbox_bytes_out_total", factory: factory)
        mediaFramesIn = Counter(label: "rtcbox_media_frames_in_total", factory: factory)
        framesDropped = Counter(label: "rtcbox_frames_dropped_total", factory: factory)
        slowConsumers = Counter(label: "rtcbox_slow_consumers_total", factory: factory)
        logins = Counter(label: "rtcbox_logins_total", dimensions: [("result", "ok")], factory: factory)
        loginsRefused = Counter(label: "rtcbox_logins_total", dimensions: [("result", "refused")], factory: factory)
        loginLatency = CoreMetrics.Timer(label: "rtcbox_login_seconds", factory: factory)
        joinTime = CoreMetrics.Timer(label: "rtcbox_join_seconds", factory: factory)
        fanoutVideoDelay = CoreMetrics.Timer(label: "rtcbox_fanout_video_delay_seconds", factory: factory)
        udpSessions = Meter(label: "rtcbox_udp_sessions", factory: factory)
        opusTranscodes = Meter(label: "rtcbox_opus_transcodes", factory: factory)
        udpDatagramsIn = Counter(label: "rtcbox_udp_datagrams_in_total", factory: factory)
        udpBytesIn = Counter(label: "rtcbox_udp_bytes_in_total", factory: factory)
        udpDatagramsOut = Counter(label: "rtcbox_udp_datagrams_out_total", factory: factory)
        udpBytesOut = Counter(label: "rtcbox_udp_bytes_out_total", factory: factory)
        udpDropped = Dictionary(uniqueKeysWithValues: UDPSessionRouter<UInt64>.DropReason.allCases.map {
            ($0, Counter(label: "rtcbox_udp_dropped_total", dimensions: [("reason", $0.rawValue)], factory: factory))
        })
    }

    static let disabled = ServerMetrics(factory: NOOPMetricsHandler.instance)

    /// Histogram buckets that fit these timings (sub-millisecond logins, joins of tens of ms).
    static let loginBuckets: [Duration] = [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                                           .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(50),
                                           .milliseconds(250), .seconds(1)]
    static let fanoutDelayBuckets: [Duration] = [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                                                 .milliseconds(2), .milliseconds(3), .milliseconds(5), .milliseconds(10),
                                                 .milliseconds(20), .milliseconds(50), .milliseconds(100)]
    static let joinBuckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                          .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                          .seconds(1), .seconds(2), .seconds(5)]
}
