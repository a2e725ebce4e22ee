import ArgumentParser
import Foundation
import Media

struct Preview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture and encode like publish, with no server: show it in a window or write it out.",
        discussion: """
        Runs the capture and encode half of publish (same inputs and encoder options) and, instead of \
        publishing, shows the encoded video in a window (--window: libavdevice's sdl2, or --window-device xv) \
        or writes the encoded stream to -o PATH or - like play does (mpegts, nut, matroska, flv, mp4). \
        Check a camera, a screen grab or encoder settings before going live.
        """)

    @OptionGroup var encode: EncodeOptions

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write the encoded stream to a file, or - for stdout.", valueName: "path|-"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("Container for -o: mpegts, nut, matroska, flv or mp4. Default: from the file name; mpegts on stdout.", valueName: "format"))
    var format: String?

    @Flag(name: .long, help: "Show the video in a window.")
    var window = false

    @Option(name: .long, help: ArgumentHelp("The window's libavdevice output device: sdl2 or xv.", valueName: "device"))
    var windowDevice = "sdl2"

    @Option(name: .long, help: ArgumentHelp("The window title.", valueName: "text"))
    var title = "rtcbox preview"

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        if window == (output != nil) { throw ValidationError("give --window or -o PATH|- (one of them)") }
        if output == "-" && isatty(STDOUT_FILENO) == 1 {
            throw ValidationError("refusing to write media to a terminal: use -o FILE or a pipe (| ffplay -)")
        }
        do { try pipeline(StopSignal()).validate() } catch { throw ValidationError("\(error)") }
    }

    func pipeline(_ stop: StopSignal) throws -> PreviewPipeline {
        var play = PlaySettings(output: window ? title : (output ?? "-"), format: format)
        play.window = window ? windowDevice : nil
        return PreviewPipeline(publish: try encode.settings(), play: play, stop: stop)
    }

    func run() async throws {
        outputOptions.applyToLibav()
        let stop = StopSignal()
        InterruptHandler.shared.onInterrupt { stop.raise() }
        let (published, played) = try await pipeline(stop).run()
        if !outputOptions.quiet {
            printError(String(format: "rtcbox preview: %.1f s of media (%d video, %d audio frames encoded; %d video frames %@)",
                              published.mediaSeconds, published.videoFrames, published.audioFrames, played.videoFrames,
                              window ? "shown" : "written"))
        }
        if InterruptHandler.shared.wasInterrupted { throw CLIError(.interrupted, "interrupted") }
    }
}
