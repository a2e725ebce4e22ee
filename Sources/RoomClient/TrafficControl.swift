import RoomProtocol

extension TrafficControlReport {
    /// The event of one traffic-control step; a layer change names the size and frame rate the encoder now
    /// makes of `configuredVideo` (the track as the publish described it).
    init(streamID: String, action: TrafficController.Action, sample: LinkSample, configuredVideo: TrackInfo?) {
        self.init(streamID: streamID, videoKbps: Double(action.videoBitRate / 1000), linkKbps: StreamCounters.round(sample.takenBitRate / 1000),
                  backlogMs: StreamCounters.round(sample.backlogMs), reason: action.reason)
        if case .setVideoLayer(let layer, _, _) = action, let configuredVideo {
            let encoded = layer.apply(to: configuredVideo)
            width = encoded.width
            height = encoded.height
            frameRate = encoded.frameRate
        }
    }

    /// The log line of the step.
    public var logLine: String {
        if let width, let height {
            return "traffic control: \(width)x\(height) at \(frameRate.map { String(format: "%g", $0) } ?? "?") fps, \(Int(videoKbps)) kbit/s (\(reason))"
        }
        return "traffic control: \(Int(videoKbps)) kbit/s (\(reason))"
    }
}

/// What the encoder makes of the configured video: a share of its size and of its frame rate. Traffic
/// control's second and third steps, after the bit rate: a smaller picture, then fewer frames.
public struct VideoLayer: Sendable, Equatable, CustomStringConvertible {
    /// The size in quarters of the configured width and height (4: as configured, 3: three quarters, 2: half).
    public var sizeQuarters: Int
    /// The configured frame rate is divided by this (1 or 2).
    public var frameRateDivisor: Int

    public init(sizeQuarters: Int, frameRateDivisor: Int) {
        self.sizeQuarters = min(4, max(1, sizeQuarters))
        self.frameRateDivisor = max(1, frameRateDivisor)
    }

    public static let full = VideoLayer(sizeQuarters: 4, frameRateDivisor: 1)
    /// The steps down, in order: 3/4 size, 1/2 size, then 1/2 size at half the frame rate.
    public static let ladder = [full, VideoLayer(sizeQuarters: 3, frameRateDivisor: 1), VideoLayer(sizeQuarters: 2, frameRateDivisor: 1),
                                VideoLayer(sizeQuarters: 2, frameRateDivisor: 2)]

    /// The share of the configured pixels a second this layer encodes.
    public var pixelRateShare: Double {
        let s = Double(sizeQuarters) / 4
        return s * s / Double(frameRateDivisor)
    }

    /// The configured video track as this layer encodes it: width and height scaled (even, at least 16),
    /// frame rate divided. Publisher and encoder both use this, so they agree on the numbers.
    public func apply(to track: TrackInfo) -> TrackInfo {
        var t = track
        if let w = track.width, let h = track.height {
            t.width = max(16, (w * sizeQuarters / 4) & ~1)
            t.height = max(16, (h * sizeQuarters / 4) & ~1)
        }
        if let rate = track.frameRate { t.frameRate = rate / Double(frameRateDivisor) }
        return t
    }

    public var description: String {
        let size = sizeQuarters == 4 ? "full size" : sizeQuarters == 2 ? "half size" : "\(sizeQuarters)/4 size"
        return frameRateDivisor == 1 ? size : "\(size) at 1/\(frameRateDivisor) of the frame rate"
    }
}

/// Traffic control (the SDK's name): steers a publisher's video bit rate to what its uplink carries. Lowers
/// it at once when a queue stands or frames are dropped, to a little under what the link was seen to carry;
/// climbs back in steps once the queue stays empty, slowly near the rate where it last met congestion.
/// When the rate leaves too few bits for the picture (under 45 % of the configured bits per pixel), the
/// encoder goes a step down `VideoLayer.ladder` (smaller, then fewer frames); it comes back a step when
/// the rate gives the larger layer 70 % of them. Layer changes are at least `layerHoldSeconds` apart.
/// A pure state machine: a `LinkSample` in, at most one action out.
public struct TrafficController: Sendable {
    public struct Settings: Sendable, Equatable {
        /// The configured video bit rate: the ceiling.
        public var maxVideoBitRate: Int
        /// The floor (`--min-video-bitrate`).
        public var minVideoBitRate: Int
        /// What else shares the link (audio, framing), bits/s.
        public var otherBitRate: Int

        public init(maxVideoBitRate: Int, minVideoBitRate: Int? = nil, otherBitRate: Int = 0) {
            self.maxVideoBitRate = max(1, maxVideoBitRate)
            self.minVideoBitRate = min(self.maxVideoBitRate, max(1, minVideoBitRate ?? max(50_000, maxVideoBitRate / 10)))
            self.otherBitRate = max(0, otherBitRate)
        }
    }

    public enum Action: Sendable, Equatable {
        case setVideoBitRate(Int, reason: String)
        /// A new layer (the encoder restarts at its size and frame rate) with the bit rate to encode it at.
        case setVideoLayer(VideoLayer, bitRate: Int, reason: String)

        /// The bit rate either action asks for.
        public var videoBitRate: Int {
            switch self {
            case .setVideoBitRate(let rate, _), .setVideoLayer(_, let rate, _): return rate
            }
        }

        public var reason: String {
            switch self {
            case .setVideoBitRate(_, let reason), .setVideoLayer(_, _, let reason): return reason
            }
        }
    }

    public let settings: Settings
    public private(set) var videoBitRate: Int
    /// Where on `VideoLayer.ladder` the encoder is.
    public private(set) var layerIndex = 0
    public var layer: VideoLayer { VideoLayer.ladder[layerIndex] }
    private var lastLayerChange = -Double.infinity
    /// What the link carried (bits/s) when it last was the limit; nil until then.
    public private(set) var linkBitRate: Double?
    private var clock = 0.0
    private var lastDecrease = -Double.infinity
    private var calm = 0.0
    /// What the link carried when it last was congested (bits/s).
    private var congestedAt: Double?

    /// A queue standing longer than this (its youngest age, ms) is congestion.
    static let standingQueueMs = 30.0
    /// The backlog at a sample's end above which it is congestion even without a standing queue.
    static let backlogMs = 200.0
    /// How long the queue must stay empty before climbing.
    static let calmSeconds = 2.0
    /// After a decrease, another waits this long (the queue needs time to drain).
    static let holdSeconds = 1.0
    /// Layer changes restart the encoder (a keyframe): at most one this often.
    public static let layerHoldSeconds = 4.0
    /// A layer steps down below this share of the configured bits per pixel, and up when the larger one
    /// would get `layerUpShare` of them.
    static let layerDownShare = 0.45
    static let layerUpShare = 0.7

    /// Whether a layer may change now (the last change is `layerHoldSeconds` ago).
    private var layerHoldOver: Bool { clock - lastLayerChange >= Self.layerHoldSeconds }

    /// Moves to another layer of the ladder, with the bit rate to encode it at.
    private mutating func moveLayer(to index: Int, bitRate: Int, reason: String) -> Action {
        layerIndex = index
        lastLayerChange = clock
        return .setVideoLayer(layer, bitRate: bitRate, reason: reason + layer.description)
    }

    /// The layer step a bit rate calls for from the current layer, if any (and the hold allows it).
    func layerStep(for rate: Int) -> Int? {
        guard layerHoldOver else { return nil }
        let max = Double(settings.maxVideoBitRate)
        if layerIndex + 1 < VideoLayer.ladder.count, Double(rate) < Self.layerDownShare * max * layer.pixelRateShare {
            return layerIndex + 1
        }
        if layerIndex > 0, Double(rate) >= Self.layerUpShare * max * VideoLayer.ladder[layerIndex - 1].pixelRateShare {
            return layerIndex - 1
        }
        return nil
    }

    /// The action for a new bit rate: with a layer step when the rate calls for one. Under congestion the
    /// picture does not get smaller yet: a new layer starts with a keyframe, ten frames' worth of bytes that
    /// would meet the full queue; it steps down once the queue has drained (see `update`).
    private mutating func action(rate: Int, reason: String, congested: Bool = false) -> Action {
        videoBitRate = rate
        guard let next = layerStep(for: rate), !(congested && next > layerIndex) else { return .setVideoBitRate(rate, reason: reason) }
        return moveLayer(to: next, bitRate: rate, reason: reason + (next > layerIndex ? "; too few bits for the picture: " : "; bits enough for "))
    }

    public init(settings: Settings) {
        self.settings = settings
        videoBitRate = settings.maxVideoBitRate
    }

    /// The smallest round trip seen: the path without queues.
    public private(set) var baseRttMs: Double?

    /// How much a sample's round trip is above the path's own (a queue on the way), ms.
    func pathQueueMs(_ s: LinkSample) -> Double {
        if let measured = s.pathQueueMs { return measured }
        guard let rtt = s.rttMs, let base = baseRttMs else { return 0 }
        return max(0, rtt - base)
    }

    /// A queue on the path this long (ms above the base round trip) is congestion.
    func pathQueueLimitMs() -> Double { max(30, 0.25 * (baseRttMs ?? 0)) }

    /// Whether a sample shows congestion.
    public func isCongested(_ s: LinkSample) -> Bool {
        s.droppedFrames > 0 || s.minBacklogMs > Self.standingQueueMs || s.backlogMs > Self.backlogMs
            || pathQueueMs(s) > pathQueueLimitMs()
    }

    public mutating func update(_ s: LinkSample) -> Action? {
        guard s.seconds > 0 else { return nil }
        clock += s.seconds
        if let rtt = s.rttMs, rtt > 0 { baseRttMs = min(baseRttMs ?? rtt, rtt) }
        // Media waited and the kernel took nothing: an outage, not a capacity. Lowering the rate would only
        // leave the stream poor after the link comes back; the drop policy keeps the queue short meanwhile.
        if s.takenBytes == 0 && (s.backlogMs > 0 || s.droppedFrames > 0) {
            calm = 0
            return nil
        }
        if let estimate = s.estimateBitRate, estimate > 0 { return follow(estimate: estimate, s) }
        let rate = s.takenBitRate
        // The link set the pace (and what it took is what it carries) when a queue stood in the socket or on
        // the path; an interval with drops but no standing queue sent less than the link could take.
        let limited = s.minBacklogMs > 5 || pathQueueMs(s) > pathQueueLimitMs()
        // What the link carried: the taken rate when the link set the pace; but a queue on the path with an
        // empty socket may come with an interval the encoder hardly sent in (that says nothing of the link).
        let current = Double(videoBitRate + settings.otherBitRate)
        let measured = s.minBacklogMs > 5 || (limited && rate >= 0.5 * current)
        if measured {
            linkBitRate = linkBitRate.map { 0.5 * $0 + 0.5 * rate } ?? rate
        } else if let link = linkBitRate, rate > link {
            linkBitRate = rate   // the link carried more than we thought
        }
        if isCongested(s) {
            calm = 0
            guard clock - lastDecrease >= Self.holdSeconds else { return nil }
            var carried = measured ? rate : (linkBitRate.map { min($0, current) } ?? current)
            // What the path delivered (acknowledged) is what it carries now, when a queue on the path or in the
            // socket shows it was the limit: what the kernel took may still include filling the larger
            // window of a faster link before.
            if let delivered = s.deliveryRate, delivered > 0, limited {
                carried = min(carried, delivered)
                linkBitRate = min(linkBitRate ?? delivered, delivered)
            }
            let fit = Int(carried * 0.85) - settings.otherBitRate
            let next = max(settings.minVideoBitRate, min(Int(Double(videoBitRate) * 0.85), fit))
            guard next < videoBitRate else {
                // At the floor and still congested: fewer pixels is all that is left.
                guard layerIndex + 1 < VideoLayer.ladder.count, layerHoldOver else { return nil }
                lastDecrease = clock
                return moveLayer(to: layerIndex + 1, bitRate: videoBitRate, reason: "congestion at the lowest bit rate (\(videoBitRate / 1000) kbit/s): ")
            }
            lastDecrease = clock
            congestedAt = carried
            let delivered = s.deliveryRate.map { ", \(Int($0 / 1000)) acknowledged" } ?? ""
            return action(rate: next, reason: "congestion: the link carried \(Int(rate / 1000)) kbit/s\(delivered), backlog \(Int(s.backlogMs)) ms, path queue \(Int(pathQueueMs(s))) ms, \(s.droppedFrames) frames dropped", congested: true)
        }
        guard s.minBacklogMs < 5 && s.backlogMs < 100 && pathQueueMs(s) < 0.75 * pathQueueLimitMs() else { calm = 0; return nil }
        // The queue drained: a smaller picture the rate called for under congestion comes now.
        if let next = layerStep(for: videoBitRate), next > layerIndex {
            return moveLayer(to: next, bitRate: videoBitRate, reason: "the queue drained; too few bits for the picture at \(videoBitRate / 1000) kbit/s: ")
        }
        calm += s.seconds
        guard calm >= Self.calmSeconds, videoBitRate < settings.maxVideoBitRate || layerIndex > 0 else { return nil }
        // Around the rate where the link last was the limit, climb by 3 % a step; elsewhere by 8 %.
        let total = Double(videoBitRate + settings.otherBitRate)
        let near = congestedAt.map { total > 0.85 * $0 && total < 1.15 * $0 } ?? false
        let step = near ? 1.03 : 1.08
        let next = min(settings.maxVideoBitRate, Int(Double(videoBitRate) * step) + 10_000)
        return action(rate: next, reason: "the link is clear: probing up")
    }

    /// Over RTP the session's congestion controller already found what the path carries (delay, loss, the
    /// pacer's queue, probing up): the encoder follows its target less the other tracks, within the bounds.
    /// Down at once (by at least 5 %) while a queue stands on the path or the pacer dropped: loss with no
    /// queue is random, repaired by NACK and RTX, and a lower rate would not help (the estimate's loss-based
    /// half falls under 10 % loss and more). Up at most once per `holdSeconds` and by at least 5 % (every
    /// change is an event). The layer ladder as over TCP.
    private mutating func follow(estimate: Double, _ s: LinkSample) -> Action? {
        let wanted = max(settings.minVideoBitRate, min(settings.maxVideoBitRate, Int(estimate) - settings.otherBitRate))
        let held = clock - lastDecrease < Self.holdSeconds
        let queued = pathQueueMs(s) > pathQueueLimitMs() || s.droppedFrames > 0
        if wanted < videoBitRate {
            calm = 0
            guard queued, Double(wanted) < 0.95 * Double(videoBitRate) else { return nil }
            lastDecrease = clock
            congestedAt = estimate
            return action(rate: wanted, reason: "the path's estimate fell to \(Int(estimate / 1000)) kbit/s (path queue \(Int(pathQueueMs(s))) ms, \(s.droppedFrames) packets dropped)", congested: queued)
        }
        if Int(estimate) - settings.otherBitRate < settings.minVideoBitRate, queued, !held,
           layerIndex + 1 < VideoLayer.ladder.count, layerHoldOver {
            // At the floor and the path carries even less: fewer pixels is all that is left.
            lastDecrease = clock
            return moveLayer(to: layerIndex + 1, bitRate: videoBitRate, reason: "the path's estimate (\(Int(estimate / 1000)) kbit/s) is under the lowest bit rate: ")
        }
        if !queued, let next = layerStep(for: videoBitRate), next > layerIndex {
            return moveLayer(to: next, bitRate: videoBitRate, reason: "the queue drained; too few bits for the picture at \(videoBitRate / 1000) kbit/s: ")
        }
        calm += s.seconds
        guard calm >= Self.holdSeconds, !held, wanted > videoBitRate,
              Double(wanted) >= 1.05 * Double(videoBitRate) || wanted == settings.maxVideoBitRate else { return nil }
        calm = 0
        return action(rate: wanted, reason: "the path's estimate rose to \(Int(estimate / 1000)) kbit/s")
    }
}

/// The SDK's five quality levels (and unknown before a measurement).
public enum NetworkQualityLevel: String, Sendable, Codable, CaseIterable {
    case unknown, excellent, good, medium, bad, die

    /// Worse levels are larger; unknown is the least.
    public var severity: Int { NetworkQualityLevel.allCases.firstIndex(of: self) ?? 0 }

    /// An uplink's level from its round trip, the share of the configured rate it carries, and its backlog.
    /// `stalled`: media waited and the kernel took nothing in the interval.
    public static func uplink(rttMs: Double?, rateShare: Double, backlogMs: Double, stalled: Bool) -> NetworkQualityLevel {
        if stalled { return .die }
        let rtt = rttMs ?? 0
        if rtt < 100 && rateShare >= 0.9 && backlogMs < 50 { return .excellent }
        if rtt < 200 && rateShare >= 0.7 && backlogMs < 150 { return .good }
        if rtt < 400 && rateShare >= 0.4 { return .medium }
        return .bad
    }

    /// A downlink's level from its round trip, the delay added beyond the quietest seen (ms) and frames lost.
    public static func downlink(rttMs: Double?, queueMs: Double, dropRatio: Double, stalled: Bool) -> NetworkQualityLevel {
        if stalled { return .die }
        let rtt = rttMs ?? 0
        if rtt < 100 && queueMs < 50 && dropRatio < 0.01 { return .excellent }
        if rtt < 200 && queueMs < 150 && dropRatio < 0.05 { return .good }
        if rtt < 400 && queueMs < 400 && dropRatio < 0.2 { return .medium }
        return .bad
    }
}
