import RoomProtocol

/// `play --layer auto`: which layer of a layered stream the downlink carries, from what the player sees of
/// it every traffic tick (0.5 s): frames the server dropped because this connection could not take them,
/// and the latency above the quietest seen (a queue on the way). Pure: observations in, a switch out.
///
/// Starts big. Two backed-up ticks in a row take it to small; after a hold without trouble (5 s, doubled
/// each time a climb back fails within 30 s, at most 20 s) it climbs back to big and sees if it stays calm.
/// The server switches at the next keyframe, so the output never breaks.
public struct LayerSelector: Sendable {
    public struct Settings: Sendable {
        public var queueLimitMs = 300.0
        public var calmQueueMs = 120.0
        public var badTicksToFall = 2
        public var firstHoldSeconds = 5.0
        public var maxHoldSeconds = 20.0
        public var failedClimbWindowSeconds = 30.0
        public init() {}
    }

    public let settings: Settings
    public private(set) var layer: VideoLayerChoice = .big
    private var badTicks = 0
    private var hold: Double
    private var holdUntil = 0.0
    private var lastClimb: Double?

    public init(settings: Settings = Settings()) {
        self.settings = settings
        hold = settings.firstHoldSeconds
    }

    /// One tick at `now` (s): server drops since the last tick, and the queue (ms, nil when nothing came).
    /// Returns the layer to switch to, or nil to stay.
    public mutating func update(now: Double, droppedByServer: Int, queueMs: Double?) -> VideoLayerChoice? {
        let backedUp = droppedByServer > 0 || (queueMs ?? 0) > settings.queueLimitMs
        switch layer {
        case .big:
            badTicks = backedUp ? badTicks + 1 : 0
            guard badTicks >= settings.badTicksToFall else { return nil }
            badTicks = 0
            if let climbed = lastClimb, now - climbed < settings.failedClimbWindowSeconds {
                hold = min(hold * 2, settings.maxHoldSeconds)
            } else {
                hold = settings.firstHoldSeconds
            }
            holdUntil = now + hold
            layer = .small
            return .small
        case .small:
            if backedUp {
                holdUntil = max(holdUntil, now + settings.firstHoldSeconds)
                return nil
            }
            guard now >= holdUntil, (queueMs ?? 0) <= settings.calmQueueMs else { return nil }
            lastClimb = now
            layer = .big
            return .big
        }
    }
}
