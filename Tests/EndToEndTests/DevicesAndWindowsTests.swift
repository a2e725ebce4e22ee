import Foundation
import XCTest

/// Capture devices and windows, on an X server the test starts (Xvfb): x11grab as an input, libavdevice's
/// sdl2 output as a window, `rtcbox devices`, and a missing camera.
final class DevicesAndWindowsTests: XCTestCase {
    /// A private X display for one test.
    final class VirtualDisplay {
        let child: Child
        let name: String

        init(width: Int = 640, height: Int = 480) throws {
            let number = 100 + Int(getpid() % 400) + Int.random(in: 0..<50)
            name = ":\(number)"
            child = try Child(Tool.find("Xvfb"), [name, "-screen", "0", "\(width)x\(height)x24", "-nolisten", "tcp"])
            let deadline = Date().addingTimeInterval(10)
            while !FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(number)") && Date() < deadline { usleep(50_000) }
            guard FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(number)") else {
                throw NSError(domain: "Xvfb did not start: \(child.errorText)", code: 1)
            }
        }

        deinit {
            child.signal(SIGTERM)
            child.wait(timeout: 5)
        }
    }

    /// Pixels that differ from the most common value: a blank screen has none.
    func nonBackgroundShare(_ pixels: [UInt8]) -> Double {
        var counts = [Int](repeating: 0, count: 256)
        for p in pixels { counts[Int(p)] += 1 }
        let background = counts.max() ?? 0
        return pixels.isEmpty ? 0 : Double(pixels.count - background) / Double(pixels.count)
    }

    func screenshot(_ display: VirtualDisplay) throws -> [UInt8] {
        let path = temporaryPath("shot-\(UUID().uuidString).gray")
        let r = try runTool(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-y", "-f", "x11grab", "-video_size", "640x480",
                                                  "-i", display.name, "-frames:v", "1", "-pix_fmt", "gray", "-f", "rawvideo", path])
        XCTAssertEqual(r.status, 0, r.err)
        return Array((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data())
    }

    func testPreviewAndPlayShowVideoInAWindow() throws {
        let display = try VirtualDisplay()
        XCTAssertLessThan(nonBackgroundShare(try screenshot(display)), 0.01, "the new screen should be blank")
        let preview = try Child(Tool.rtcbox, ["preview", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "--duration", "4", "--window"],
                                environment: ["DISPLAY": display.name])
        usleep(2_000_000)
        let shown = nonBackgroundShare(try screenshot(display))
        XCTAssertEqual(preview.wait(timeout: 20), 0, preview.errorText)
        XCTAssertGreaterThan(shown, 0.15, "the preview window shows the test pattern (\(shown) of the screen is not background)")

        let serve = try ServeProcess()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi", "-i",
                                                "testsrc2=size=320x240:rate=30", "--duration", "10", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        let player = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--window", "--duration", "4"],
                               environment: ["DISPLAY": display.name])
        usleep(2_500_000)
        let playing = nonBackgroundShare(try screenshot(display))
        XCTAssertEqual(player.wait(timeout: 20), 0, player.errorText)
        XCTAssertGreaterThan(playing, 0.15, "play --window shows the stream (\(playing))")
        _ = serve.stop()
    }

    func testScreenCaptureWithDeviceOptions() throws {
        let display = try VirtualDisplay()
        // Something on the screen to capture: a window showing a test pattern.
        let pattern = try Child(Tool.rtcbox, ["preview", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "--duration", "8", "--window", "-q"],
                                environment: ["DISPLAY": display.name])
        defer { pattern.signal(SIGINT); pattern.wait() }
        let serve = try ServeProcess()
        let out = temporaryPath("screen-\(UUID().uuidString).mkv")
        let player = try Child(Tool.rtcbox, ["play", "r1", "screen", "--server", serve.address, "-o", out, "--frames", "20", "-q"])
        let grab = try runTool(Tool.rtcbox, ["publish", "r1", "screen", "--server", serve.address, "-f", "x11grab",
                                             "--video-size", "320x240", "--framerate", "15", "--input-option", "draw_mouse=0",
                                             "-i", "\(display.name)+160,120", "--duration", "3", "-q"])
        XCTAssertEqual(grab.status, 0, grab.err)
        XCTAssertEqual(player.wait(timeout: 20), 0, player.errorText)
        let probe = try Probe(path: out)
        XCTAssertEqual(probe.video?.width, 320)
        XCTAssertEqual(probe.video?.height, 240)
        XCTAssertEqual(probe.video?.frames, 20)
        _ = serve.stop()
    }

    func testDevicesListAndAMissingCamera() throws {
        let json = try runTool(Tool.rtcbox, ["devices", "--json"])
        XCTAssertEqual(json.status, 0, json.err)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        XCTAssertNotNil(object["devices"] as? [[String: Any]], "devices is a list (possibly empty)")
        let formats = try XCTUnwrap(object["formats"] as? [[String: Any]]).compactMap { $0["format"] as? String }
        XCTAssertTrue(formats.contains("x11grab") && formats.contains("lavfi"), "\(formats)")
        let nosuch = try runTool(Tool.rtcbox, ["devices", "--format", "nosuch"])
        XCTAssertEqual(nosuch.status, 64)
        XCTAssertEqual(nosuch.err, "rtcbox devices: libavdevice has no input device format \"nosuch\"\n")
        // libavdevice names v4l2 "video4linux2,v4l2": each of its names (and the whole) selects it, as publish -f does.
        for name in ["v4l2", "video4linux2", "video4linux2,v4l2"] {
            let one = try runTool(Tool.rtcbox, ["devices", "--format", name, "--json"])
            XCTAssertEqual(one.status, 0, "\(name): \(one.err)")
            let listed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(one.out.utf8)) as? [String: Any])
            XCTAssertEqual((listed["formats"] as? [[String: Any]])?.compactMap { $0["format"] as? String }, ["video4linux2,v4l2"], name)
        }

        let missing = try runTool(Tool.rtcbox, ["publish", "r1", "cam", "-f", "v4l2", "-i", "/dev/video9"])
        XCTAssertEqual(missing.status, 66)
        XCTAssertEqual(missing.err, "rtcbox publish: open input \"/dev/video9\": No such file or directory\n")
        let trailing = try runTool(Tool.rtcbox, ["publish", "r1", "cam", "-f", "lavfi", "-i", "testsrc2", "--framerate", "10"])
        XCTAssertEqual(trailing.status, 64)
        XCTAssertTrue(trailing.err.contains("framerate is not followed by -i"), trailing.err)
    }

    /// --window with no display to open it on: one line and exit 69, before connecting or opening inputs (SDL
    /// said "XDG_RUNTIME_DIR is invalid", showed nothing and exited 0).
    func testWindowWithoutADisplayFailsInOneLine() throws {
        let serve = try ServeProcess()
        let cam = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi",
                                          "-i", "testsrc=size=160x120:rate=15", "--duration", "10", "-q"])
        defer { cam.signal(SIGINT); cam.wait() }
        usleep(700_000)
        var environment = ProcessInfo.processInfo.environment
        for name in ["DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"] { environment[name] = nil }
        let commands: [(String, [String], [String: String])] = [
            ("play", ["play", "r1", "cam", "--server", serve.address, "--window", "--duration", "2"], environment),
            ("preview", ["preview", "-f", "lavfi", "-i", "testsrc2=size=160x120", "--window", "--duration", "1"], environment),
        ]
        for (name, arguments, env) in commands {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: Tool.rtcbox)
            child.arguments = arguments
            child.environment = env
            let err = Pipe()
            child.standardError = err
            child.standardOutput = FileHandle.nullDevice
            try child.run()
            child.waitUntilExit()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(child.terminationStatus, 69, text)
            XCTAssertEqual(text, "rtcbox \(name): cannot open a window: no display (DISPLAY is not set)\n")
        }
        let nobody = try runTool(Tool.rtcbox, ["preview", "-f", "lavfi", "-i", "testsrc2=size=160x120", "--window", "--duration", "1"],
                                 environment: ["DISPLAY": ":987", "WAYLAND_DISPLAY": "", "SDL_VIDEODRIVER": ""])
        XCTAssertEqual(nobody.status, 69, nobody.err)
        XCTAssertEqual(nobody.err, "rtcbox preview: cannot open a window: no X server on display :987 (no /tmp/.X11-unix/X987)\n")
        _ = serve.stop()
    }
}
