import Foundation
import XCTest

/// Room rules and error exits as a shell user meets them.
final class RulesAndErrorsTests: XCTestCase {
    func testDuplicatePublisherIsRefusedAtOnce() throws {
        let serve = try ServeProcess()
        let first = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "--user", "alice"] + testSource + ["--duration", "20"])
        let login = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--duration", "10"])
        let deadline = Date().addingTimeInterval(10)
        while !login.outputText.contains("\"stream_id\":\"cam\"") && Date() < deadline { usleep(50_000) }
        login.signal(SIGINT)
        login.wait()
        let start = Date()
        let second = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "--user", "bob"] + testSource)
        XCTAssertEqual(second.wait(timeout: 10), 77)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        let lines = second.errorText.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, second.errorText)
        XCTAssertEqual(lines.first.map(String.init),
                       "rtcbox publish: stream \"cam\" is already published in room \"r1\" by user \"alice\" (duplicate_stream)")
        first.signal(SIGINT)
        first.wait()
        _ = serve.stop()
    }

    func testSecondLoginKicksTheFirst() throws {
        let serve = try ServeProcess()
        let first = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--user", "alice", "--duration", "20"])
        let deadline = Date().addingTimeInterval(10)
        while !first.outputText.contains("logined") && Date() < deadline { usleep(20_000) }
        let second = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--user", "alice", "--duration", "1"])
        XCTAssertEqual(first.wait(timeout: 10), 77)
        XCTAssertEqual(second.wait(), 0)
        let events = first.outputText.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let last = events.last
        XCTAssertEqual(last?["event"] as? String, "room_state")
        XCTAssertEqual(last?["state"] as? String, "kicked_out")
        XCTAssertEqual(last?["error"] as? String, "kicked_out")
        XCTAssertTrue(first.errorText.hasSuffix("(kicked_out)\n"), first.errorText)
        _ = serve.stop()
    }

    func testLoginPrintsUserEventsOnlyWhenAsked() throws {
        let serve = try ServeProcess()
        let watcher = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--user-status", "--events", "-", "--duration", "3"])
        let quiet = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--duration", "3"])
        usleep(800_000)
        let visitor = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--user", "visitor", "--duration", "0.5"])
        XCTAssertEqual(visitor.wait(), 0)
        XCTAssertEqual(watcher.wait(), 0)
        XCTAssertEqual(quiet.wait(), 0)
        _ = serve.stop()
        XCTAssertTrue(watcher.outputText.contains(#""event":"room_user_update","room_id":"r1","update_type":"add","users":[{"user_id":"visitor""#), watcher.outputText)
        XCTAssertTrue(watcher.outputText.contains(#""update_type":"delete","users":[{"user_id":"visitor""#), watcher.outputText)
        XCTAssertFalse(quiet.outputText.contains("room_user_update"), quiet.outputText)
        for line in watcher.outputText.split(separator: "\n") {
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(line.utf8)), "every line is JSON: \(line)")
        }
    }

    /// Socket errors are one line in strerror's words, not NIO's: connecting, listening, and in the events.
    func testNetworkErrorsSayWhatHappenedInWords() throws {
        let play = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", "127.0.0.1:1", "-o", temporaryPath("never.nut")])
        XCTAssertEqual(play.status, 69)
        XCTAssertEqual(play.err, "rtcbox play: cannot reach server 127.0.0.1:1: connection refused\n")
        let login = try runTool(Tool.rtcbox, ["login", "r1", "--server", "127.0.0.1:1"])
        XCTAssertEqual(login.status, 69)
        let last = try XCTUnwrap(login.out.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }, login.out)
        XCTAssertEqual(last["state"] as? String, "disconnected")
        XCTAssertEqual(last["reason"] as? String, "cannot reach server 127.0.0.1:1: connection refused")
        XCTAssertEqual(last["network_error"] as? String, "connection_refused")
        let serve = try ServeProcess()
        let busy = try runTool(Tool.rtcbox, ["serve", "--listen", serve.address], timeout: 10)
        XCTAssertEqual(busy.status, 69)
        XCTAssertEqual(busy.err, "rtcbox serve: cannot listen on \(serve.address): address already in use\n")
        let busyWeb = try runTool(Tool.rtcbox, ["serve", "--listen", "127.0.0.1:0", "--web", serve.address], timeout: 10)
        XCTAssertEqual(busyWeb.status, 69)
        XCTAssertEqual(busyWeb.err, "rtcbox serve: cannot listen for the web page on \(serve.address): address already in use\n")
        _ = serve.stop()
    }

    func testExitCodes() throws {
        // Usage errors: 64, one line.
        let missing = try Child(Tool.rtcbox, ["publish", "r1"])
        XCTAssertEqual(missing.wait(), 64)
        XCTAssertEqual(missing.errorText.split(separator: "\n").count, 1, missing.errorText)
        let unknown = try Child(Tool.rtcbox, ["play", "r1", "cam", "--no-such-flag"])
        XCTAssertEqual(unknown.wait(), 64)
        let badID = try Child(Tool.rtcbox, ["login", "room with spaces"])
        XCTAssertEqual(badID.wait(), 64)
        // Nobody listening: 69.
        let unreachable = try Child(Tool.rtcbox, ["login", "r1", "--server", "127.0.0.1:1", "--duration", "1"])
        XCTAssertEqual(unreachable.wait(), 69)
        XCTAssertTrue(unreachable.errorText.hasPrefix("rtcbox login: cannot reach server 127.0.0.1:1"), unreachable.errorText)
        // A missing input file: 66, named.
        let serve = try ServeProcess()
        let noFile = try Child(Tool.rtcbox, ["publish", "r1", "s", "--server", serve.address, "-i", "/nonexistent/input.mp4"])
        XCTAssertEqual(noFile.wait(), 66)
        XCTAssertTrue(noFile.errorText.contains("/nonexistent/input.mp4"), noFile.errorText)
        // A reader that goes away (`| head -1`) stops the events cleanly, no crash.
        let pipe = Pipe()
        let reader = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--duration", "5"], stdoutTo: pipe)
        let firstLine = pipe.fileHandleForReading.availableData
        XCTAssertTrue(String(decoding: firstLine, as: UTF8.self).contains("room_state"))
        try pipe.fileHandleForReading.close()
        XCTAssertEqual(reader.wait(timeout: 10), 0, reader.errorText)
        XCTAssertFalse(reader.errorText.contains("Fatal error"), reader.errorText)
        // An interrupted login: 130.
        let login = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address])
        usleep(700_000)
        login.signal(SIGINT)
        XCTAssertEqual(login.wait(timeout: 10), 130)
        XCTAssertTrue(login.outputText.contains(#""state":"logout""#), "a clean stop logs out: \(login.outputText)")
        _ = serve.stop()
    }

    /// A missing input file or device is the first thing said, at once (it took 2.1 s: the events were
    /// waited for of a session that never connected), with no server anywhere: exit 66, one line.
    func testMissingInputIsReportedAtOnceWithoutAServer() throws {
        for input in [["-i", "/nonexistent.mp4"], ["-f", "v4l2", "-i", "/dev/video99"], ["-f", "lavfi", "-i", "sine", "-i", "/nonexistent.mp4"]] {
            let started = Date()
            let r = try runTool(Tool.rtcbox, ["publish", "r1", "cam", "--server", "127.0.0.1:1"] + input, timeout: 20)
            let took = Date().timeIntervalSince(started)
            XCTAssertEqual(r.status, 66, r.err)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertTrue(r.err.hasPrefix("rtcbox publish: open input \"\(input.last!)\": No such file or directory"), r.err)
            XCTAssertLessThan(took, 1.0, "\(input): \(r.err)")
        }
    }

    /// Client commands log their own steps on stderr: -v (info) says connect, login and publish states, -vv,
    /// --log-level debug and RTCBOX_LOG_LEVEL more; by default nothing but the command's own lines.
    func testClientCommandsLogTheirStepsWithVerbose() throws {
        let serve = try ServeProcess()
        let login = ["login", "r1", "--server", serve.address, "--duration", "1s"]
        let quietRun = try runTool(Tool.rtcbox, login, timeout: 20)
        XCTAssertEqual(quietRun.status, 0, quietRun.err)
        XCTAssertEqual(quietRun.err, "")
        let verbose = try runTool(Tool.rtcbox, login + ["-v"], timeout: 20)
        XCTAssertEqual(verbose.status, 0, verbose.err)
        for line in ["info rtcbox.login:", "connecting to \(serve.address)", "logged in to room r1", "room r1: logout"] {
            XCTAssertTrue(verbose.err.contains(line), "\(line) in \(verbose.err)")
        }
        XCTAssertFalse(verbose.err.contains(" debug "), verbose.err)
        for (arguments, environment) in [(["-vv"], [:]), (["--log-level", "debug"], [:]), ([], ["RTCBOX_LOG_LEVEL": "debug"])] {
            let r = try runTool(Tool.rtcbox, login + arguments, timeout: 20, environment: environment)
            XCTAssertEqual(r.status, 0, r.err)
            XCTAssertTrue(r.err.contains("debug rtcbox.login:") && r.err.contains("connected to \(serve.address)"), "\(arguments) \(environment): \(r.err)")
        }
        let publish = try runTool(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi", "-i", "testsrc2=size=160x120",
                                                "--duration", "1", "-v"], timeout: 20)
        XCTAssertEqual(publish.status, 0, publish.err)
        XCTAssertTrue(publish.err.contains("info rtcbox.publish:") && publish.err.contains("publish cam: publishing"), publish.err)
        // load-test: its own steps with -v, every client's with -vv.
        let load = ["load-test", "r2", "--server", serve.address, "--subscribers", "2", "--duration", "1s", "--json"]
        let loadInfo = try runTool(Tool.rtcbox, load + ["-v"], timeout: 30)
        XCTAssertEqual(loadInfo.status, 0, loadInfo.err)
        for line in ["info rtcbox.load-test:", "1 publisher logged in to r2 and publishing", "2 players logged in and playing",
                     "logging out 3 clients"] {
            XCTAssertTrue(loadInfo.err.contains(line), "\(line) in \(loadInfo.err)")
        }
        XCTAssertFalse(loadInfo.err.contains("connecting to"), "clients log only with -vv: \(loadInfo.err)")
        XCTAssertTrue(loadInfo.out.hasPrefix("{"), "stdout keeps only the JSON report: \(loadInfo.out)")
        let loadDebug = try runTool(Tool.rtcbox, load + ["-vv"], timeout: 30)
        XCTAssertEqual(loadDebug.status, 0, loadDebug.err)
        XCTAssertTrue(loadDebug.err.contains("user=load-sub-1") && loadDebug.err.contains("connecting to \(serve.address)"), loadDebug.err)
        _ = serve.stop()
    }
}
