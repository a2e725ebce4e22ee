import ArgumentParser
import Foundation
import Media
import RoomProtocol

/// What to capture or read and how to encode it: shared by publish and preview.
struct EncodeOptions: ParsableArguments {
    @Option(name: [.customShort("i"), .customLong("input")], help: ArgumentHelp("An input (repeatable; - is stdin).", valueName: "input"))
    var inputs: [String] = []

    @Option(name: [.customShort("f"), .customLong("format-in")], help: ArgumentHelp("Format or device of the next -i (lavfi, v4l2, alsa, pulse, x11grab, mpegts...).", valueName: "format"))
    var formats: [String] = []

    @Option(name: .long, help: ArgumentHelp("Capture size for the next -i (a device's video_size, e.g. 1280x720).", valueName: "WxH"))
    var videoSize: [String] = []

    @Option(name: .long, help: ArgumentHelp("Capture frame rate for the next -i (a device's framerate).", valueName: "fps"))
    var framerate: [String] = []

    @Option(name: .long, help: ArgumentHelp("Capture pixel format for the next -i (e.g. yuyv422, mjpeg for v4l2).", valueName: "format"))
    var pixelFormat: [String] = []

    @Option(name: .long, help: ArgumentHelp("Capture sample rate for the next -i (alsa, pulse).", valueName: "hz"))
    var sampleRate: [String] = []

    @Option(name: .long, help: ArgumentHelp("Capture channels for the next -i (alsa, pulse).", valueName: "n"))
    var channels: [String] = []

    @Option(name: .long, help: ArgumentHelp("Any demuxer or device option for the next -i (e.g. draw_mouse=0 for x11grab).", valueName: "key=value"))
    var inputOption: [String] = []

    @Option(name: .long, help: ArgumentHelp("Output video size, WxH (default: the input's).", valueName: "WxH"))
    var size: VideoSizeValue?

    // Numbers take .unconditional parsing: "-5" is then a value (refused by validate), not a flag.
    @Option(name: .long, parsing: .unconditional, help: "Output frame rate (default: the input's, else 30).")
    var fps: Int?

    @OptionGroup var encoder: EncoderOptions

    @Option(name: .long, help: ArgumentHelp("Defaults for a kind of call: call, hq-call, chatroom, broadcast, karaoke (size, fps, bit rates, GOP, audio channels, traffic floor, layers; see the SCENARIOS section of rtcbox-publish(1)); flags given explicitly win.", valueName: "name"))
    var scenario: ScenarioValue?

    @Flag(name: .long, help: "Pass H.264 and AAC or Opus through without re-encoding (bit-identical packets); other codecs are refused.")
    var copy = false

    @Flag(name: .long, help: "Publish no video even if an input has some.")
    var noVideo = false

    @Flag(name: .long, help: "Publish no audio even if an input has some.")
    var noAudio = false

    @Flag(name: .long, inversion: .prefixedNo, help: "Read files and lavfi at native rate (default); capture devices, stdin and network streams come at their own pace.")
    var realtime = true

    @Option(name: .long, help: ArgumentHelp("Stop after this much media (e.g. 30, 10s, 1m).", valueName: "duration"))
    var duration: DurationValue?

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("no input: give at least one -i (e.g. -f lavfi -i testsrc2)") }
        if noVideo && noAudio { throw ValidationError("--no-video and --no-audio leave nothing to publish") }
        if scenario != nil && copy { throw ValidationError("--scenario sets encoder settings; --copy passes packets through without encoding") }
        if let fps, !(1...240).contains(fps) { throw ValidationError("--fps must be between 1 and 240") }
        _ = try inputSpecs()
    }

    func inputSpecs() throws -> [InputSpec] {
        let pairs = try InputPairing.pair(arguments: Array(CommandLine.arguments.dropFirst()))
        guard pairs.map(\.url) == inputs else {
            // The raw scan and the parser disagree (unusual spelling such as -ifile): pair by position.
            return inputs.enumerated().map { i, url in InputSpec(url: url, format: i < formats.count ? formats[i] : nil) }
        }
        return pairs.map { InputSpec(url: $0.url, format: $0.format, options: $0.options) }
    }

    /// The settings a scenario leaves alone because they were given on the command line (argument-parser's
    /// defaults cannot tell given from default).
    func scenarioKeeps() -> Set<Scenario.Field> {
        let arguments = CommandLine.arguments.dropFirst()
        func given(_ flag: String) -> Bool { arguments.contains { $0 == flag || $0.hasPrefix(flag + "=") } }
        var keep: Set<Scenario.Field> = []
        if size != nil { keep.insert(.size) }
        if fps != nil { keep.insert(.frameRate) }
        if given("--video-bitrate") { keep.insert(.videoBitRate) }
        if given("--gop") { keep.insert(.gop) }
        if given("--audio-bitrate") { keep.insert(.audioBitRate) }
        if noVideo { keep.insert(.layers) }
        return keep
    }

    /// What to encode; `--scenario` fills what was not given, and `extraKeeps` (layers unless the command
    /// sends them, a traffic floor it was given).
    func settings(extraKeeps: Set<Scenario.Field> = [.layers]) throws -> PublishSettings {
        var s = PublishSettings(inputs: try inputSpecs())
        s.width = size?.width
        s.height = size?.height
        s.frameRate = fps
        s.videoBitRate = encoder.videoBitrate.bitsPerSecond
        s.gopSeconds = encoder.gop
        s.preset = encoder.preset
        s.audioBitRate = encoder.audioBitrate.bitsPerSecond
        s.useVideo = !noVideo
        s.useAudio = !noAudio
        s.realtime = realtime ? nil : false
        s.duration = duration?.seconds
        s.copy = copy
        if let scenario { scenario.value.apply(to: &s, keeping: scenarioKeeps().union(extraKeeps)) }
        return s
    }

}

/// `--scenario NAME`.
struct ScenarioValue: ExpressibleByArgument, Sendable {
    var value: Scenario
    init?(argument: String) {
        guard let v = Scenario(rawValue: argument.lowercased()) else { return nil }
        value = v
    }
    static var allValueStrings: [String] { Scenario.allCases.map(\.rawValue) }
}

/// How H.264 and AAC are encoded: shared by publish, preview (through EncodeOptions) and mix.
struct EncoderOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Video bit rate (e.g. 2M, 800k).", valueName: "rate"))
    var videoBitrate = BitRateValue(bitsPerSecond: 2_000_000)

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Keyframe interval in seconds.", valueName: "seconds"))
    var gop: Double = 2

    @Option(name: .long, help: "libx264 preset (ultrafast ... veryslow).")
    var preset = "veryfast"

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Audio bit rate (e.g. 64k).", valueName: "rate"))
    var audioBitrate = BitRateValue(bitsPerSecond: 64_000)

    static let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"]

    func validate() throws {
        try videoBitrate.check("--video-bitrate")
        try audioBitrate.check("--audio-bitrate")
        if !(gop > 0 && gop <= 60) { throw ValidationError("--gop must be between 0 and 60 seconds") }
        if !Self.presets.contains(preset) { throw ValidationError("--preset \"\(preset)\" is not one of \(Self.presets.joined(separator: ", "))") }
    }
}
