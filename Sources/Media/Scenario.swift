/// Room scenarios (the SDK's setRoomScenario): encoder and audio defaults for a kind of call, set at once.
/// What the user gives explicitly wins over the scenario, field by field.
public enum Scenario: String, Sendable, CaseIterable {
    /// A one-to-one or small video call: speech, a modest picture.
    case call
    /// A video call that looks good: 720p30, speech.
    case hqCall = "hq-call"
    /// A voice chat room with small pictures: speech first.
    case chatroom
    /// One host to many viewers: a full picture and music-grade stereo.
    case broadcast
    /// Singing over music: stereo audio at a high rate, a small picture.
    case karaoke

    /// What a scenario sets.
    public struct Preset: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var frameRate: Int
        public var videoBitRate: Int
        public var gopSeconds: Double
        public var audioBitRate: Int
        public var audioChannels: Int
    }

    public var preset: Preset {
        switch self {
        case .call: return Preset(width: 640, height: 360, frameRate: 15, videoBitRate: 600_000, gopSeconds: 2, audioBitRate: 48_000, audioChannels: 1)
        case .hqCall: return Preset(width: 1280, height: 720, frameRate: 30, videoBitRate: 1_500_000, gopSeconds: 2, audioBitRate: 64_000, audioChannels: 1)
        case .chatroom: return Preset(width: 320, height: 180, frameRate: 15, videoBitRate: 250_000, gopSeconds: 4, audioBitRate: 64_000, audioChannels: 1)
        case .broadcast: return Preset(width: 1280, height: 720, frameRate: 30, videoBitRate: 2_500_000, gopSeconds: 2, audioBitRate: 128_000, audioChannels: 2)
        case .karaoke: return Preset(width: 640, height: 360, frameRate: 15, videoBitRate: 800_000, gopSeconds: 2, audioBitRate: 128_000, audioChannels: 2)
        }
    }

    /// The settings a publish user could give explicitly, so that the scenario leaves them alone.
    public enum Field: Sendable, Hashable {
        case size, frameRate, videoBitRate, gop, audioBitRate
    }

    /// `settings` with this scenario's values, except for the `given` fields (and the audio channels,
    /// which have no flag of their own).
    public func apply(to settings: inout PublishSettings, keeping given: Set<Field>) {
        let p = preset
        if !given.contains(.size) {
            settings.width = p.width
            settings.height = p.height
        }
        if !given.contains(.frameRate) { settings.frameRate = p.frameRate }
        if !given.contains(.videoBitRate) { settings.videoBitRate = p.videoBitRate }
        if !given.contains(.gop) { settings.gopSeconds = p.gopSeconds }
        if !given.contains(.audioBitRate) { settings.audioBitRate = p.audioBitRate }
        settings.audioChannels = p.audioChannels
    }
}
