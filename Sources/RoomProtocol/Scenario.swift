/// Room scenarios (the SDK's setRoomScenario): encoder, audio, traffic-control and layer defaults for a kind
/// of call, set at once. A publisher picks one (`publish --scenario`), or the server's config gives a room
/// one (the login result's `scenario`); what the user gives explicitly wins over it, field by field.
public enum Scenario: String, Sendable, CaseIterable, Codable {
    /// A one-to-one or small video call: speech, a modest picture.
    case call
    /// A video call that looks good: 720p30, speech.
    case hqCall = "hq-call"
    /// A voice chat room with small pictures: speech first.
    case chatroom
    /// One host to many viewers: a full picture, music-grade stereo, and a small layer for weak viewers.
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
        /// Traffic control's floor: the video bit rate it never goes below behind a slow uplink.
        public var minVideoBitRate: Int
        /// Video layers: 2 adds a small layer at half size (over the room connection).
        public var layers: Int
    }

    public var preset: Preset {
        switch self {
        case .call:
            return Preset(width: 640, height: 360, frameRate: 15, videoBitRate: 600_000, gopSeconds: 2, audioBitRate: 48_000,
                          audioChannels: 1, minVideoBitRate: 100_000, layers: 1)
        case .hqCall:
            return Preset(width: 1280, height: 720, frameRate: 30, videoBitRate: 1_500_000, gopSeconds: 2, audioBitRate: 64_000,
                          audioChannels: 1, minVideoBitRate: 200_000, layers: 1)
        case .chatroom:
            return Preset(width: 320, height: 180, frameRate: 15, videoBitRate: 250_000, gopSeconds: 4, audioBitRate: 64_000,
                          audioChannels: 1, minVideoBitRate: 50_000, layers: 1)
        case .broadcast:
            return Preset(width: 1280, height: 720, frameRate: 30, videoBitRate: 2_500_000, gopSeconds: 2, audioBitRate: 128_000,
                          audioChannels: 2, minVideoBitRate: 800_000, layers: 2)
        case .karaoke:
            return Preset(width: 640, height: 360, frameRate: 15, videoBitRate: 800_000, gopSeconds: 2, audioBitRate: 128_000,
                          audioChannels: 2, minVideoBitRate: 150_000, layers: 1)
        }
    }

    /// The names, for errors and help.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
