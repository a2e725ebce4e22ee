/// One `-f FMT -i INPUT` pair, plus demuxer/device options.
public struct InputSpec: Sendable, Equatable {
    public var url: String
    public var format: String?
    public var options: [String: String]

    public init(url: String, format: String? = nil, options: [String: String] = [:]) {
        self.url = url
        self.format = format
        self.options = options
    }
}

/// What publish (and preview) encode, and how.
public struct PublishSettings: Sendable {
    public var inputs: [InputSpec]
    /// Output video size; nil keeps the input's (rounded down to even).
    public var width: Int?
    public var height: Int?
    /// Output frame rate; nil keeps the input's (30 when unknown).
    public var frameRate: Int?
    public var videoBitRate = 2_000_000
    public var gopSeconds = 2.0
    public var preset = "veryfast"
    public var tune: String? = "zerolatency"
    public var audioBitRate = 64_000
    public var audioSampleRate = 48_000
    public var audioChannels = 2
    public var useVideo = true
    public var useAudio = true
    /// Read at native rate: nil decides per input (files and lavfi yes, capture devices no).
    public var realtime: Bool?
    /// Stop after this much media (seconds).
    public var duration: Double?
    /// Pass H.264 and AAC through without re-encoding (bit-identical packets).
    public var copy = false
    /// How often the sound level of the captured audio is measured (ms; it rides on the audio frames, and is a
    /// captured_sound_level_update event); nil: not measured. `--copy` decodes nothing and measures nothing.
    public var soundLevelIntervalMs: Int? = 100
    /// `--layers`: a second, small video layer from the same capture (nil: one layer). Its size; nil inside:
    /// half the big one's.
    public var smallLayer: SmallLayer?
    /// Traffic control's floor for the video bit rate (nil: its default, a tenth of `videoBitRate`).
    public var minVideoBitRate: Int?

    public struct SmallLayer: Sendable, Equatable {
        public var width: Int?
        public var height: Int?
        public init(width: Int? = nil, height: Int? = nil) {
            self.width = width
            self.height = height
        }
    }

    public init(inputs: [InputSpec]) {
        self.inputs = inputs
    }
}

/// What a finished publish did.
public struct PublishSummary: Sendable, Equatable {
    public var videoFrames = 0
    public var audioFrames = 0
    public var framesDropped = 0
    public var mediaSeconds = 0.0
    public init() {}
}
