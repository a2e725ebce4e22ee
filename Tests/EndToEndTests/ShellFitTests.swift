import Foundation
import XCTest

/// How rtcbox fits a shell: links named like subcommands, man pages and completions that match the
/// binary, a progress line only on terminals.
final class ShellFitTests: XCTestCase {
    var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func testInstallLinksRunSubcommandsByName() throws {
        let dir = temporaryPath("links-\(UUID().uuidString)")
        let made = try runTool(Tool.rtcbox, ["install-links", dir, "--plain"])
        XCTAssertEqual(made.status, 0, made.err)
        let paths = made.out.split(separator: "\n").map(String.init)
        for name in ["rtcbox-serve", "rtcbox-token", "rtcbox-login", "rtcbox-publish", "rtcbox-play", "rtcbox-preview", "rtcbox-devices", "publish", "play", "token"] {
            XCTAssertTrue(paths.contains("\(dir)/\(name)"), "no link \(name) in \(paths)")
        }
        // Through a prefixed link: the token subcommand, same arguments.
        let token = try runTool("\(dir)/rtcbox-token", ["--app-id", "1", "--secret", String(repeating: "s", count: 32), "--user", "u"])
        XCTAssertEqual(token.status, 0, token.err)
        XCTAssertTrue(token.out.hasPrefix("04"), token.out)
        // Through a bare link: login, and its errors name it.
        let login = try runTool("\(dir)/login", ["r1", "--server", "127.0.0.1:1", "--once"])
        XCTAssertEqual(login.status, 69)
        XCTAssertTrue(login.err.hasPrefix("rtcbox login: cannot reach server"), login.err)
        let usage = try runTool("\(dir)/publish", ["r1"])
        XCTAssertEqual(usage.status, 64)
        XCTAssertTrue(usage.err.hasPrefix("rtcbox publish: "), usage.err)
        // Running it again keeps the links; a foreign file is left alone unless --force.
        XCTAssertEqual(try runTool(Tool.rtcbox, ["install-links", dir]).status, 0)
        try "not ours".write(toFile: "\(dir)/rtcbox-serve", atomically: true, encoding: .utf8)
        XCTAssertEqual(try runTool(Tool.rtcbox, ["install-links", dir]).status, 1)
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/rtcbox-serve", encoding: .utf8), "not ours")
        XCTAssertEqual(try runTool(Tool.rtcbox, ["install-links", dir, "--force"]).status, 0)
        XCTAssertNotNil(try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/rtcbox-serve"))
    }

    func testManPagesCoverEveryOptionAndHaveTheUsualSections() throws {
        let root = try runTool(Tool.rtcbox, ["--help"])
        let commands = ["serve", "token", "login", "publish", "play", "record", "preview", "devices", "load-test", "install-links"]
        for command in commands {
            XCTAssertTrue(root.out.contains(command), "rtcbox --help does not list \(command)")
            let help = try runTool(Tool.rtcbox, [command, "--help"])
            let page = try String(contentsOf: packageRoot.appendingPathComponent("man/rtcbox-\(command).1"), encoding: .utf8)
            let options = Set(help.out.matches(of: /--([a-z][a-z0-9-]*)/).map { String($0.output.1) })
            XCTAssertFalse(options.isEmpty)
            for option in options {
                XCTAssertTrue(page.contains("Fl -\(option)"), "man/rtcbox-\(command).1 lacks --\(option) (run scripts/generate-docs)")
            }
            for section in [".Sh EXIT STATUS", ".Sh EXAMPLES"] {
                XCTAssertTrue(page.contains(section), "man/rtcbox-\(command).1 has no \(section)")
            }
            if !["install-links", "devices"].contains(command) {
                XCTAssertTrue(page.contains(".Sh ENVIRONMENT"), "man/rtcbox-\(command).1 has no ENVIRONMENT")
            }
        }
    }

    /// Negative numbers are values (refused with a reason), and rate defaults read as they are written.
    func testNumberOptionsSayWhatIsWrongAndHelpShowsRates() throws {
        let input = ["-f", "lavfi", "-i", "testsrc2"]
        for (command, args) in [("publish", ["r1", "cam"] + input), ("preview", input)] {
            for (flag, words) in [("--video-bitrate", "--video-bitrate must be positive"), ("--audio-bitrate", "--audio-bitrate must be positive"),
                                  ("--fps", "--fps must be between 1 and 240"), ("--gop", "--gop must be between 0 and 60")] {
                let r = try runTool(Tool.rtcbox, [command] + args + [flag, "-5"])
                XCTAssertEqual(r.status, 64, "\(command) \(flag): \(r.err)")
                XCTAssertTrue(r.err.hasPrefix("rtcbox \(command): \(words)"), "\(command) \(flag): \(r.err)")
            }
        }
        let huge = try runTool(Tool.rtcbox, ["publish", "r1", "cam"] + input + ["--video-bitrate", "5G"])
        XCTAssertEqual(huge.status, 64, huge.err)
        let load = try runTool(Tool.rtcbox, ["load-test", "r1", "--video-bitrate", "-5"])
        XCTAssertEqual(load.status, 64)
        XCTAssertTrue(load.err.hasPrefix("rtcbox load-test: --video-bitrate must be positive"), load.err)
        for command in ["publish", "preview", "load-test"] {
            let help = try runTool(Tool.rtcbox, [command, "--help"])
            XCTAssertFalse(help.out.contains("BitRateValue"), help.out)
            XCTAssertTrue(help.out.replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression).contains("(default: 2M)"), help.out)
        }
        XCTAssertTrue(try runTool(Tool.rtcbox, ["publish", "--help"]).out.contains("(default: 64k)"))
    }

    func testBashCompletionCompletesSubcommandsAndFlags() throws {
        let script = packageRoot.appendingPathComponent("completions/rtcbox.bash").path
        func complete(_ words: [String]) throws -> [String] {
            let line = words.joined(separator: " ")
            let code = """
                source '\(script)'
                COMP_WORDS=(\(words.map { "'\($0)'" }.joined(separator: " "))); COMP_CWORD=\(words.count - 1)
                COMP_LINE='\(line)'; COMP_POINT=\(line.count)
                _rtcbox rtcbox '\(words.last ?? "")' '\(words.dropLast().last ?? "")'
                printf '%s\\n' "${COMPREPLY[@]}"
                """
            let r = try runTool("/bin/bash", ["-c", code])
            XCTAssertEqual(r.status, 0, r.err)
            return r.out.split(separator: "\n").map(String.init)
        }
        XCTAssertEqual(try complete(["rtcbox", "pu"]), ["publish"])
        XCTAssertTrue(try complete(["rtcbox", "publish", "r1", "cam", "--video-b"]).contains("--video-bitrate"))
        XCTAssertTrue(try complete(["rtcbox", "serve", "--con"]).contains("--config"))
    }

    func testProgressLineOnlyOnATerminal() throws {
        let serve = try ServeProcess()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi", "-i",
                                                "testsrc2=size=320x240:rate=30", "--duration", "12"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        // Not a terminal: no carriage returns, no escape codes.
        let piped = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", temporaryPath("p.nut"),
                                              "--duration", "2.5"])
        XCTAssertEqual(piped.status, 0, piped.err)
        XCTAssertFalse(piped.err.contains("\r") || piped.err.contains("\u{1B}"), piped.err)
        // A terminal (script gives the command a pty): the line is rewritten each second.
        let typescript = temporaryPath("typescript-\(UUID().uuidString)")
        let command = "\(Tool.rtcbox) play r1 cam --server \(serve.address) -o \(temporaryPath("t.nut")) --duration 4"
        let tty = try runTool(Tool.find("script"), ["-q", "-e", "-c", command, typescript])
        XCTAssertEqual(tty.status, 0, tty.err)
        let seen = try String(contentsOfFile: typescript, encoding: .utf8)
        let updates = seen.components(separatedBy: "\relapsed 00:00:0").count - 1
        XCTAssertGreaterThanOrEqual(updates, 2, seen)
        XCTAssertTrue(seen.contains("state playing") && seen.contains("fps "), seen)
        // --quiet on a terminal: nothing.
        let quietScript = temporaryPath("typescript-q-\(UUID().uuidString)")
        _ = try runTool(Tool.find("script"), ["-q", "-e", "-c", command + " --quiet", quietScript])
        XCTAssertFalse(try String(contentsOfFile: quietScript, encoding: .utf8).contains("elapsed"))
        // record has one too.
        let recordScript = temporaryPath("typescript-r-\(UUID().uuidString)")
        let record = "\(Tool.rtcbox) record r1 --server \(serve.address) --dir \(temporaryPath("rec-progress")) --duration 2.5"
        _ = try runTool(Tool.find("script"), ["-q", "-e", "-c", record, recordScript])
        XCTAssertTrue(try String(contentsOfFile: recordScript, encoding: .utf8).contains("state recording 1 stream"))
        _ = serve.stop()
    }

    /// scripts/demo installs only what the build and the demo use (it installed Chromium and Xvfb for a demo
    /// that uses neither); scripts/test keeps installing everything.
    func testDemoInstallsOnlyTheFFmpegPackages() throws {
        let script = packageRoot.appendingPathComponent("scripts/install-deps").path
        let demo = try runTool("/usr/bin/env", ["bash", script, "--demo", "--list"])
        XCTAssertEqual(demo.status, 0, demo.err)
        let demoPackages = Set(demo.out.split(separator: "\n").map(String.init))
        XCTAssertTrue(demoPackages.isSuperset(of: ["libavcodec-dev", "libavformat-dev", "libavdevice-dev", "pkg-config", "ffmpeg"]), demo.out)
        XCTAssertTrue(demoPackages.isDisjoint(with: ["chromium", "xvfb", "python3-pycryptodome", "fonts-liberation", "postgresql-15"]), demo.out)
        let all = try runTool("/usr/bin/env", ["bash", script, "--list"])
        XCTAssertEqual(all.status, 0, all.err)
        XCTAssertTrue(Set(all.out.split(separator: "\n").map(String.init)).isSuperset(of: demoPackages.union(["chromium", "xvfb", "postgresql-15"])), all.out)
        let demoScript = try String(contentsOfFile: packageRoot.appendingPathComponent("scripts/demo").path, encoding: .utf8)
        XCTAssertTrue(demoScript.contains("scripts/install-deps --demo"), "scripts/demo installs with --demo")
        let testScript = try String(contentsOfFile: packageRoot.appendingPathComponent("scripts/test").path, encoding: .utf8)
        XCTAssertTrue(testScript.contains("scripts/install-deps\n"), "scripts/test installs everything")
    }
}

/// `rtcbox load-test`: publishers and players in one process, reported as JSON.
final class LoadTestCommandTests: XCTestCase {
    /// `rtcbox play ... -o - | reader`: when the reader goes away, play ends, also while nothing flows (a
    /// stream not live yet, a reconnect); it used to wait for a frame to write before it noticed.
    func testPlayEndsWhenItsReaderGoesAwayWhileNothingFlows() throws {
        let serve = try ServeProcess()
        let started = Date()
        let r = try runTool("/bin/sh", ["-c", "'\(Tool.rtcbox)' play r1 notlive --server \(serve.address) -o - | true"], timeout: 20)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "play noticed the closed pipe")
        XCTAssertTrue(r.err.contains("0 video, 0 audio frames, 0.0 s written (the output was closed)"), r.err)
        _ = serve.stop()
    }

    func testASmallLoadTestReportsWhatItSaw() throws {
        let serve = try ServeProcess()
        let r = try runTool(Tool.rtcbox, ["load-test", "r1", "--server", serve.address, "--publishers", "2", "--subscribers", "20",
                                          "--duration", "3", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        XCTAssertEqual(report["publishers"] as? Int, 2)
        XCTAssertEqual(report["subscribers_joined"] as? Int, 20)
        XCTAssertGreaterThan(report["frames_received"] as? Int ?? 0, 20 * 70 * 2, "about 77 frames a second for each of 20 players")
        let video = try XCTUnwrap(report["video_latency_ms"] as? [String: Double])
        XCTAssertLessThan(video["p50"] ?? 1e9, 200, "loopback latency")
        let perStream = report["kbps_in_per_stream"] as? Double ?? 0
        XCTAssertGreaterThan(perStream, 1500)
        XCTAssertLessThan(perStream, 2600)
        _ = serve.stop()
    }

    func testLoginsWithUserEventsAndMessages() throws {
        let serve = try ServeProcess()
        let r = try runTool(Tool.rtcbox, ["load-test", "r1", "--server", serve.address, "--publishers", "0", "--subscribers", "30",
                                          "--user-status", "--messages-per-second", "4", "--duration", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let sent = report["messages_sent"] as? Int ?? 0
        XCTAssertGreaterThanOrEqual(sent, 6)
        XCTAssertEqual(report["message_deliveries"] as? Int, sent * 30, "every member gets every message")
        // Member k (in login order) hears of the joins after it, and of those before it at login: 30 * 29 in all.
        XCTAssertEqual(report["user_events_received"] as? Int, 30 * 29 + 30, "user events, plus each member hearing of the messenger")
        _ = serve.stop()
    }
}
