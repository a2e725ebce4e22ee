import Foundation
import XCTest

/// kill -9 of the server mid-stream: publisher and player come back when it is up again, the player's
/// file stays valid; with no server to come back to, they give up after --reconnect-timeout (exit 75).
final class ServerRestartTests: XCTestCase {
    func events(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func testPublisherAndPlayerComeBackAfterAServerRestart() throws {
        let first = try ServeProcess()
        let port = first.port
        let pubEvents = temporaryPath("pub-\(UUID().uuidString).jsonl")
        let playEvents = temporaryPath("play-\(UUID().uuidString).jsonl")
        let out = temporaryPath("restart-\(UUID().uuidString).ts")
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", first.address] + testSource
                                  + ["--duration", "20", "--events", pubEvents, "-q"])
        usleep(600_000)
        let player = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", first.address, "-o", out, "--duration", "8",
                                             "--events", playEvents, "-q"])
        usleep(3_000_000)
        first.child.signal(SIGKILL)
        first.child.wait()
        usleep(1_000_000)
        let second = try ServeProcess(["--listen", "127.0.0.1:\(port)"])
        let up = Date()
        XCTAssertEqual(player.wait(timeout: 30), 0, player.errorText)
        publisher.signal(SIGINT)
        publisher.wait()
        for (name, path) in [("publisher", pubEvents), ("player", playEvents)] {
            let states = events(path).filter { $0["event"] as? String == "room_state" }
            XCTAssertEqual(states.compactMap { $0["state"] as? String }.prefix(4), ["logining", "logined", "reconnecting", "reconnected"], name)
            let back = try XCTUnwrap(states.first { $0["state"] as? String == "reconnected" }?["ts"] as? Double, name)
            XCTAssertLessThan(back - up.timeIntervalSince1970, 2.0, "\(name) back within 2 s of the server being up")
        }
        let probe = try Probe(path: out)
        XCTAssertTrue(probe.dtsStrictlyIncreasing)
        XCTAssertGreaterThan(probe.video?.frames ?? 0, 200)
        XCTAssertEqual(try Probe.decodeErrors(path: out), "")
        _ = second.stop()
    }

    /// `--server a,b`: a login skips a server that does not answer; when the server in use dies, the publisher
    /// and the player reconnect to the other one (a fresh login there: it never knew the session) and meet
    /// again, the player's output one valid file.
    func testClientsWithSeveralServersFailOverToTheNextOne() throws {
        let first = try ServeProcess()
        let second = try ServeProcess()
        let dead = try ServeProcess()
        let deadAddress = dead.address
        _ = dead.stop()
        let once = try runTool(Tool.rtcbox, ["login", "r1", "--server", "\(deadAddress),\(second.address)", "--once", "-q"], timeout: 20)
        XCTAssertEqual(once.status, 0, "the first server is down, the second answers: \(once.err)")
        let servers = "\(first.address),\(second.address)"
        let pubEvents = temporaryPath("fo-pub-\(UUID().uuidString).jsonl")
        let playEvents = temporaryPath("fo-play-\(UUID().uuidString).jsonl")
        let out = temporaryPath("failover-\(UUID().uuidString).ts")
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", servers] + testSource
                                  + ["--duration", "20", "--events", pubEvents, "-q"])
        usleep(600_000)
        let player = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", servers, "-o", out, "--duration", "8",
                                             "--events", playEvents, "-q"])
        usleep(3_000_000)
        first.child.signal(SIGKILL)
        first.child.wait()
        XCTAssertEqual(player.wait(timeout: 30), 0, player.errorText)
        publisher.signal(SIGINT)
        publisher.wait()
        for (name, path) in [("publisher", pubEvents), ("player", playEvents)] {
            let states = events(path).filter { $0["event"] as? String == "room_state" }
            XCTAssertEqual(states.compactMap { $0["state"] as? String }.prefix(4), ["logining", "logined", "reconnecting", "reconnected"], name)
            let reason = states.first { $0["state"] as? String == "reconnected" }?["reason"] as? String ?? ""
            XCTAssertTrue(reason.hasPrefix("logged in again"), "\(name): the other server never knew the session: \(reason)")
        }
        let probe = try Probe(path: out)
        XCTAssertTrue(probe.dtsStrictlyIncreasing)
        XCTAssertGreaterThan(probe.video?.frames ?? 0, 150, "frames from both servers")
        XCTAssertEqual(try Probe.decodeErrors(path: out), "")
        let bad = try runTool(Tool.rtcbox, ["login", "r1", "--server", "\(second.address),", "--once"], timeout: 10)
        XCTAssertEqual(bad.status, 64, bad.err)
        XCTAssertTrue(bad.err.contains("is not HOST:PORT[,HOST:PORT...]"), bad.err)
        _ = second.stop()
    }

    func testNoServerToComeBackToExits75() throws {
        let serve = try ServeProcess()
        let login = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--reconnect-timeout", "2"])
        let deadline = Date().addingTimeInterval(10)
        while !login.outputText.contains("logined") && Date() < deadline { usleep(20_000) }
        serve.child.signal(SIGKILL)
        serve.child.wait()
        XCTAssertEqual(login.wait(timeout: 15), 75, login.errorText)
        XCTAssertTrue(login.outputText.contains("\"state\":\"reconnect_failed\""), login.outputText)
        let failed = try XCTUnwrap(login.outputText.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["state"] as? String == "reconnect_failed" })
        XCTAssertEqual(failed["network_error"] as? String, "connection_refused", "\(failed)")
        XCTAssertTrue((failed["reason"] as? String ?? "").hasSuffix("cannot reach server \(serve.address): connection refused"), "\(failed)")
        XCTAssertTrue(login.errorText.hasPrefix("rtcbox login: gave up reconnecting"), login.errorText)
        XCTAssertEqual(login.errorText.split(separator: "\n").count, 1, login.errorText)
    }

    /// --reconnect-timeout is honoured whole (it was 1.4 s of a 3 s timeout), and the give-up says how long it tried.
    func testReconnectTriesForTheWholeTimeoutAndSaysHowLong() throws {
        let serve = try ServeProcess()
        let login = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--reconnect-timeout", "3"])
        let deadline = Date().addingTimeInterval(10)
        while !login.outputText.contains("logined") && Date() < deadline { usleep(20_000) }
        serve.child.signal(SIGKILL)
        serve.child.wait()
        let killed = Date()
        XCTAssertEqual(login.wait(timeout: 15), 75, login.errorText)
        let took = Date().timeIntervalSince(killed)
        XCTAssertGreaterThanOrEqual(took, 3, login.errorText)
        let said = try XCTUnwrap(login.errorText.range(of: #"attempts in [0-9.]+ s"#, options: .regularExpression), login.errorText)
        let seconds = try XCTUnwrap(Double(login.errorText[said].split(separator: " ")[2]), login.errorText)
        XCTAssertGreaterThanOrEqual(seconds, 3, login.errorText)
        XCTAssertLessThanOrEqual(seconds, took, login.errorText)
    }
}
