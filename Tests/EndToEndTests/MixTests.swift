import Foundation
import XCTest

/// Raw video as `play --decode` writes it: yuv4mpegpipe, I420.
struct Y4MFrames {
    var width = 0
    var height = 0
    var frames: [[UInt8]] = []

    init(path: String) throws {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard let end = data.firstIndex(of: 0x0a) else { return }
        for field in String(decoding: data[..<end], as: UTF8.self).split(separator: " ") {
            if field.hasPrefix("W") { width = Int(field.dropFirst()) ?? 0 }
            if field.hasPrefix("H") { height = Int(field.dropFirst()) ?? 0 }
        }
        let size = width * height * 3 / 2
        var i = end + 1
        while i < data.count, let line = data[i...].firstIndex(of: 0x0a), line + 1 + size <= data.count {
            frames.append(Array(data[(line + 1)..<(line + 1 + size)]))
            i = line + 1 + size
        }
    }

    /// Y, U, V at a pixel of frame `n`.
    func yuv(_ n: Int, _ x: Int, _ y: Int) -> (Int, Int, Int) {
        let f = frames[n]
        let cw = width / 2, ch = height / 2
        return (Int(f[y * width + x]), Int(f[width * height + (y / 2) * cw + x / 2]), Int(f[width * height + cw * ch + (y / 2) * cw + x / 2]))
    }

    /// The nearest of a few named colours (BT.601 limited range, as libavfilter's color source makes them).
    func colour(_ n: Int, _ x: Int, _ y: Int) -> String {
        let (Y, U, V) = yuv(n, x, y)
        let named: [(String, (Int, Int, Int))] = [("red", (81, 90, 240)), ("blue", (41, 240, 110)), ("white", (235, 128, 128)),
                                                 ("black", (16, 128, 128)), ("lime", (145, 54, 34))]
        return named.min { a, b in
            func d(_ c: (Int, Int, Int)) -> Int { abs(c.0 - Y) + abs(c.1 - U) + abs(c.2 - V) }
            return d(a.1) < d(b.1)
        }!.0
    }
}

/// The strength of one frequency in a block of samples (Goertzel), relative to the block's energy.
func toneStrength(_ samples: [Float], frequency: Double, sampleRate: Double) -> Double {
    let w = 2 * Double.pi * frequency / sampleRate
    let coefficient = 2 * cos(w)
    var s1 = 0.0, s2 = 0.0
    for x in samples {
        let s0 = Double(x) + coefficient * s1 - s2
        s2 = s1
        s1 = s0
    }
    let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    let energy = samples.reduce(0.0) { $0 + Double($1) * Double($1) }
    return energy > 0 ? power / (energy * Double(samples.count) / 2) : 0
}

/// `rtcbox mix`: two publishers of solid colours and tones, composed into one published stream and
/// played back decoded (pixels and spectrum checked); an input that leaves and one that comes back.
final class MixTests: XCTestCase {
    private func publisher(_ serve: ServeProcess, _ id: String, colour: String, tone: Int) throws -> Child {
        try Child(Tool.rtcbox, ["publish", "r1", id, "--server", serve.address, "-f", "lavfi", "-i", "color=c=\(colour):s=320x240:r=30",
                                "-f", "lavfi", "-i", "sine=frequency=\(tone):sample_rate=48000", "--preset", "ultrafast", "--duration", "60", "-q"])
    }

    /// Decoded pictures of the room's mix stream (retrying while it is not live yet).
    private func mixedPictures(_ serve: ServeProcess, frames: Int = 10) throws -> Y4MFrames {
        let y4m = temporaryPath("mix-\(UUID().uuidString).y4m")
        let r = try runTool(Tool.rtcbox, ["play", "r1", "mix", "--server", serve.address, "--decode", "--frames", "\(frames)", "-o", y4m, "-q"], timeout: 30)
        XCTAssertEqual(r.status, 0, r.err)
        return try Y4MFrames(path: y4m)
    }

    /// Waits until the mix shows `colour` at (x, y) (or the time is up); returns what it showed last.
    private func waitForColour(_ serve: ServeProcess, _ colour: String, at x: Int, _ y: Int, within seconds: Double) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var seen = ""
        repeat {
            let p = try mixedPictures(serve, frames: 3)
            if let last = p.frames.indices.last { seen = p.colour(last, x, y) }
            if seen == colour { return seen }
        } while Date() < deadline
        return seen
    }

    private func waitForRightCell(_ serve: ServeProcess, _ colour: String, within seconds: Double) throws -> String {
        try waitForColour(serve, colour, at: 480, 180, within: seconds)
    }

    func testTwoColouredPublishersAreMixedIntoAGridWithBothTonesAndALeaverFreesItsCell() throws {
        let serve = try ServeProcess([])
        var red = try publisher(serve, "red", colour: "red", tone: 440)
        var blue = try publisher(serve, "blue", colour: "blue", tone: 1000)
        defer { red.signal(SIGINT); blue.signal(SIGINT); red.wait(); blue.wait() }
        let events = temporaryPath("mix-\(UUID().uuidString).jsonl")
        let mix = try Child(Tool.rtcbox, ["mix", "r1", "--server", serve.address, "--output-stream", "mix", "--streams", "red,blue",
                                          "--size", "640x360", "--background", "white", "--hold", "0.5", "--preset", "ultrafast",
                                          "--duration", "45", "--events", events])
        defer { mix.signal(SIGINT); mix.wait() }

        // Two 320x240 pictures, each fitted into a 320x360 cell: letterboxed on the white background.
        XCTAssertEqual(try waitForRightCell(serve, "blue", within: 10), "blue")
        let pictures = try mixedPictures(serve)
        XCTAssertEqual([pictures.width, pictures.height], [640, 360])
        XCTAssertEqual(pictures.frames.count, 10, mix.errorText)
        let last = pictures.frames.count - 1
        XCTAssertEqual(pictures.colour(last, 160, 180), "red", "\(pictures.yuv(last, 160, 180))")
        XCTAssertEqual(pictures.colour(last, 480, 180), "blue", "\(pictures.yuv(last, 480, 180))")
        XCTAssertEqual(pictures.colour(last, 160, 20), "white", "the background above the left picture")
        XCTAssertEqual(pictures.colour(last, 480, 350), "white", "the background below the right picture")

        // Both tones in the mixed sound, and nothing between them.
        let pcm = temporaryPath("mix-\(UUID().uuidString).f32")
        let a = try runTool(Tool.rtcbox, ["play", "r1", "mix", "--server", serve.address, "--decode", "--audio-only", "--format", "f32le",
                                          "--duration", "2", "-o", pcm, "-q"], timeout: 30)
        XCTAssertEqual(a.status, 0, a.err)
        let floats = try Data(contentsOf: URL(fileURLWithPath: pcm)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let left = stride(from: 0, to: floats.count - 1, by: 2).map { floats[$0] }.suffix(48_000)
        XCTAssertGreaterThan(left.count, 40_000)
        let block = Array(left)
        let t440 = toneStrength(block, frequency: 440, sampleRate: 48_000)
        let t1000 = toneStrength(block, frequency: 1000, sampleRate: 48_000)
        let t700 = toneStrength(block, frequency: 700, sampleRate: 48_000)
        XCTAssertGreaterThan(t440, 0.3, "440 Hz carries about half the energy")
        XCTAssertGreaterThan(t1000, 0.3, "1000 Hz carries about half the energy")
        XCTAssertLessThan(t700, 0.01, "nothing at 700 Hz")

        // Blue leaves: after the hold its cell is the background; red stays.
        blue.signal(SIGINT)
        XCTAssertEqual(blue.wait(timeout: 10), 130, "interrupted")
        XCTAssertEqual(try waitForRightCell(serve, "white", within: 10), "white")
        let after = try mixedPictures(serve, frames: 3)
        XCTAssertEqual(after.colour(after.frames.count - 1, 160, 180), "red")

        // Blue comes back into its own cell.
        blue = try publisher(serve, "blue", colour: "blue", tone: 1000)
        XCTAssertEqual(try waitForRightCell(serve, "blue", within: 15), "blue")

        // The extra info names the inputs; the events tell each input's story.
        let login = try runTool(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--once", "--events", "-", "-q"], timeout: 20)
        XCTAssertTrue(login.out.contains(#"{\"mix\":{\"inputs\":[\"red\",\"blue\"],\"layout\":\"grid\"}}"#), login.out)
        let states = (try String(contentsOfFile: events, encoding: .utf8)).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["event"] as? String == "mix_input_state" && $0["stream_id"] as? String == "blue" }
            .compactMap { $0["state"] as? String }
        // (A returning stream may be "waiting" between its start and its first frame, or go straight to mixing.)
        let story = Array(states.prefix(1)) + states.dropFirst().filter { $0 != "waiting" }
        XCTAssertEqual(Array(story.prefix(4)), ["waiting", "mixing", "left", "mixing"], "\(states)")
        let region = (try String(contentsOfFile: events, encoding: .utf8)).contains(#""region":{"height":360,"width":320,"x":320,"y":0}"#)
        XCTAssertTrue(region, "blue's region in its events")
    }

    /// Without --streams the mix follows the room: the first stream fills the picture, the next one takes
    /// the next cell; a publisher that stalls (SIGSTOP) keeps its last picture for the hold, then its cell
    /// is the background, and its pictures come back when it does.
    func testAFollowingMixGrowsItsGridAndAStalledInputFallsBackToTheBackground() throws {
        let serve = try ServeProcess([])
        let red = try publisher(serve, "red", colour: "red", tone: 440)
        defer { red.signal(SIGCONT); red.signal(SIGINT); red.wait() }
        let mix = try Child(Tool.rtcbox, ["mix", "r1", "--server", serve.address, "--output-stream", "mix", "--size", "640x360",
                                          "--background", "white", "--hold", "1", "--preset", "ultrafast", "--duration", "40", "-q"])
        defer { mix.signal(SIGINT); mix.wait() }
        XCTAssertEqual(try waitForColour(serve, "red", at: 320, 180, within: 10), "red", "one input: the whole picture")
        let alone = try mixedPictures(serve, frames: 3)
        XCTAssertEqual(alone.colour(alone.frames.count - 1, 20, 180), "white", "320x240 fitted into 640x360: pillarboxed")
        let blue = try publisher(serve, "blue", colour: "blue", tone: 1000)
        defer { blue.signal(SIGINT); blue.wait() }
        XCTAssertEqual(try waitForRightCell(serve, "blue", within: 15), "blue", "the joiner takes the second cell")
        let both = try mixedPictures(serve, frames: 3)
        XCTAssertEqual(both.colour(both.frames.count - 1, 160, 180), "red")

        red.signal(SIGSTOP)
        let deadline = Date().addingTimeInterval(10)
        var left = "red"
        while Date() < deadline && left != "white" {
            let p = try mixedPictures(serve, frames: 3)
            left = p.colour(p.frames.count - 1, 160, 180)
            XCTAssertEqual(p.colour(p.frames.count - 1, 480, 180), "blue", "the other input is not held up")
        }
        XCTAssertEqual(left, "white", "a stalled input's cell falls back to the background after the hold")
        red.signal(SIGCONT)
        let back = Date().addingTimeInterval(15)
        while Date() < back && left != "red" {
            let p = try mixedPictures(serve, frames: 3)
            left = p.colour(p.frames.count - 1, 160, 180)
        }
        XCTAssertEqual(left, "red", "its pictures come back")
    }

    func testAMixWrittenToAFileAndRefusals() throws {
        let serve = try ServeProcess([])
        let green = try Child(Tool.rtcbox, ["publish", "r1", "green", "--server", serve.address, "-f", "lavfi", "-i", "color=c=lime:s=320x180:r=30",
                                            "--preset", "ultrafast", "--duration", "30", "-q"])
        defer { green.signal(SIGINT); green.wait() }
        // A custom region; the file stops after 45 frames, in a container ffprobe reads.
        let out = temporaryPath("mix-\(UUID().uuidString).mkv")
        let r = try runTool(Tool.rtcbox, ["mix", "r1", "--server", serve.address, "--layout", "custom", "--region", "green=320,180,320,180",
                                          "--size", "640x360", "--frames", "45", "-o", out, "-q"], timeout: 40)
        XCTAssertEqual(r.status, 0, r.err)
        let probe = try Probe(path: out)
        XCTAssertEqual(probe.video?.frames, 45)
        XCTAssertEqual(probe.video?.width, 640)
        XCTAssertNotNil(probe.audio, "a silent sound track when no input has sound")
        XCTAssertEqual(try Probe.decodeErrors(path: out), "")
        let y4m = temporaryPath("mix-\(UUID().uuidString).y4m")
        let d = try runTool(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-i", out, "-f", "yuv4mpegpipe", "-pix_fmt", "yuv420p", "-y", y4m])
        XCTAssertEqual(d.status, 0, d.err)
        let p = try Y4MFrames(path: y4m)
        let n = p.frames.count - 1
        XCTAssertEqual(p.colour(n, 480, 270), "lime", "the region shows its stream")
        XCTAssertEqual(p.colour(n, 160, 90), "black", "outside it the background")

        for (args, words) in [
            (["mix", "r1"], "give --output-stream ID"),
            (["mix", "r1", "--output-stream", "m", "-o", out], "give one"),
            (["mix", "r1", "-o", out, "--layout", "custom"], "needs at least one --region"),
            (["mix", "r1", "-o", out, "--layout", "custom", "--region", "a=0,0,2000,100"], "reaches past"),
            (["mix", "r1", "-o", out, "--region", "a=0,0,100,100"], "--region goes with --layout custom"),
            (["mix", "r1", "-o", out, "--background", "nocolour"], "is not a colour"),
            (["mix", "r1", "-o", out, "--volume", "a=loud"], "is not ID=PERCENT"),
            (["mix", "r1", "--output-stream", "m", "--streams", "a,m"], "own --output-stream"),
        ] {
            let bad = try runTool(Tool.rtcbox, args + ["--server", serve.address])
            XCTAssertEqual(bad.status, 64, "\(args): \(bad.err)")
            XCTAssertTrue(bad.err.contains(words), "\(args): \(bad.err)")
        }
    }
}
