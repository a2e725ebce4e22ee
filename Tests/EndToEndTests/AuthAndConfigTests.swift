import Foundation
import XCTest

/// Apps, tokens and the room's extras as a shell user meets them: `rtcbox serve --config` with two apps,
/// tokens from `rtcbox token` and from an independent generator, each refusal with its code and exit 77.
final class AuthAndConfigTests: XCTestCase {
    static let secretA = "0123456789abcdef0123456789abcdef"
    static let secretB = "fedcba9876543210fedcba9876543210"
    static let signA = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

    var fixture: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/token04.py").path
    }

    func writeConfig() throws -> String {
        let path = temporaryPath("apps-\(UUID().uuidString).toml")
        try """
            [[apps]]
            app_id = 1001
            server_secret = "\(Self.secretA)"
            app_sign = "\(Self.signA)"
            messages_per_second = 20

            [[apps]]
            app_id = 1002
            server_secret = "\(Self.secretB)"
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func token(_ arguments: [String]) throws -> String {
        let r = try runTool(Tool.rtcbox, ["token"] + arguments)
        XCTAssertEqual(r.status, 0, r.err)
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func login(_ serve: ServeProcess, app: String, _ extra: [String]) throws -> (status: Int32, out: String, err: String) {
        try runTool(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--app-id", app, "--once"] + extra, timeout: 20)
    }

    func testTokensLogInAndEveryRefusalHasItsCode() throws {
        let serve = try ServeProcess(["--config", try writeConfig()])
        XCTAssertTrue(serve.child.errorText.contains("apps: 1001 (token, app sign), 1002 (token)"), serve.child.errorText)

        // A token from rtcbox token, and one from the independent generator.
        let ours = try token(["--app-id", "1001", "--secret", Self.secretA, "--user", "alice"])
        XCTAssertEqual(try login(serve, app: "1001", ["--user", "alice", "--token", ours]).status, 0)
        let theirs = try runTool("/usr/bin/env", ["python3", fixture, "generate", "1002", "bob", Self.secretB, "60"]).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let bob = try login(serve, app: "1002", ["--user", "bob", "--token", theirs])
        XCTAssertEqual(bob.status, 0, bob.err)
        XCTAssertTrue(bob.out.contains("\"state\":\"logined\""))

        // An app sign login works; a wrong one is refused.
        XCTAssertEqual(try login(serve, app: "1001", ["--user", "signer", "--app-sign", Self.signA]).status, 0)
        let wrongSign = try login(serve, app: "1001", ["--user", "signer", "--app-sign", String(Self.signA.reversed())])
        XCTAssertEqual(wrongSign.status, 77)
        XCTAssertTrue(wrongSign.err.hasSuffix("(token_invalid)\n"), wrongSign.err)

        let refusals: [([String], String)] = [
            (["--app-id", "1001", "--secret", Self.secretB, "--user", "carol"], "token_invalid"),
            (["--app-id", "1001", "--secret", Self.secretA, "--user", "carol", "--room", "r2"], "no_privilege"),
        ]
        for (arguments, code) in refusals {
            let r = try login(serve, app: "1001", ["--user", "carol", "--token", try token(arguments)])
            XCTAssertEqual(r.status, 77, r.err)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertTrue(r.err.hasPrefix("rtcbox login: ") && r.err.hasSuffix("(\(code))\n"), r.err)
        }
        let expired = try runTool("/usr/bin/env", ["python3", fixture, "generate", "1001", "carol", Self.secretA, "-10"]).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let r = try login(serve, app: "1001", ["--user", "carol", "--token", expired])
        XCTAssertEqual(r.status, 77)
        XCTAssertTrue(r.err.hasSuffix("(token_expired)\n"), r.err)

        // Publishing: the privilege and the stream list.
        let noPublish = try token(["--app-id", "1001", "--secret", Self.secretA, "--user", "dave", "--privilege", "login"])
        let p1 = try runTool(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "--app-id", "1001", "--user", "dave",
                                           "--token", noPublish, "-f", "lavfi", "-i", "testsrc2=size=160x120", "--duration", "1"])
        XCTAssertEqual(p1.status, 77)
        XCTAssertTrue(p1.err.hasSuffix("the token denies the publish privilege (no_privilege)\n"), p1.err)
        let listed = try token(["--app-id", "1001", "--secret", Self.secretA, "--user", "dave", "--streams", "a,b"])
        let p2 = try runTool(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "--app-id", "1001", "--user", "dave",
                                           "--token", listed, "-f", "lavfi", "-i", "testsrc2=size=160x120", "--duration", "1"])
        XCTAssertEqual(p2.status, 77)
        XCTAssertTrue(p2.err.contains("does not list stream id \"cam\""), p2.err)
        _ = serve.stop()
    }

    /// A refused login ends like every other session end: its room_state disconnected event (with the
    /// error) is written before the exit 77, whatever the command, and the connection closing after the
    /// refusal does not turn it into a "connection lost" (69).
    func testRefusedTokenLoginsWriteTheirDisconnectedEvent() throws {
        let serve = try ServeProcess(["--config", try writeConfig()])
        let alices = try token(["--app-id", "1001", "--secret", Self.secretA, "--user", "alice"])
        let cases: [(String, [String])] = [("garbage", []), (alices, ["--user", "bob"])]
        for _ in 0..<4 {
            for (token, extra) in cases {
                let r = try runTool(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--app-id", "1001", "--token", token,
                                                  "--events", "-"] + extra, timeout: 20)
                XCTAssertEqual(r.status, 77, r.err)
                XCTAssertTrue(r.out.contains(#""state":"disconnected","error_code":1101,"error":"token_invalid""#), r.out)
                let events = temporaryPath("refused-\(UUID().uuidString).jsonl")
                let p = try runTool(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "--app-id", "1001", "--token", token,
                                                  "--events", events, "-f", "lavfi", "-i", "testsrc2=size=160x120", "--duration", "1"] + extra,
                                    timeout: 20)
                XCTAssertEqual(p.status, 77, p.err)
                XCTAssertTrue(p.err.hasSuffix("(token_invalid)\n"), p.err)
                let written = (try? String(contentsOfFile: events, encoding: .utf8)) ?? ""
                XCTAssertTrue(written.contains(#""state":"disconnected","error_code":1101"#), written)
            }
        }
        _ = serve.stop()
    }

    func testTokenCommandOutputOpensInTheIndependentImplementation() throws {
        let t = try token(["--app-id", "77", "--secret", Self.secretA, "--user", "eve", "--room", "r5", "--privilege", "login",
                           "--streams", "x", "--expire", "90"])
        let opened = try runTool("/usr/bin/env", ["python3", fixture, "open", t, Self.secretA])
        XCTAssertEqual(opened.status, 0, opened.err)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(opened.out.utf8)) as? [String: Any])
        XCTAssertEqual(object["app_id"] as? Int, 77)
        XCTAssertEqual(object["user_id"] as? String, "eve")
        XCTAssertEqual((object["expire"] as? Int ?? 0) - (object["ctime"] as? Int ?? 0), 90)
        XCTAssertEqual(object["payload"] as? String, #"{"room_id":"r5","privilege":{"1":1,"2":0},"stream_id_list":["x"]}"#)

        let decoded = try runTool(Tool.rtcbox, ["token", "--decode", t, "--secret", Self.secretA])
        XCTAssertEqual(decoded.status, 0)
        XCTAssertTrue(decoded.out.contains("\"publish\":false") && decoded.out.contains("\"room_id\":\"r5\""), decoded.out)
        let wrong = try runTool(Tool.rtcbox, ["token", "--decode", t, "--secret", Self.secretB])
        XCTAssertEqual(wrong.status, 65)
        XCTAssertEqual(wrong.err, "rtcbox token: the token was not made with this app's server secret\n")
        let missing = try runTool(Tool.rtcbox, ["token", "--app-id", "1", "--user", "u"])
        XCTAssertEqual(missing.status, 64)
    }

    func testMembersExchangeMessagesAndExtraInfoAndOtherRoomsSeeNothing() throws {
        let serve = try ServeProcess(["--config", try writeConfig()])
        func credentials(_ user: String) throws -> [String] {
            ["--server", serve.address, "--app-id", "1001", "--user", user,
             "--token", try token(["--app-id", "1001", "--secret", Self.secretA, "--user", user])]
        }
        let alice = try Child(Tool.rtcbox, ["login", "r1", "--duration", "6", "--user-status"] + credentials("alice"))
        let outsider = try Child(Tool.rtcbox, ["login", "r2", "--duration", "6", "--user-status"] + credentials("zed"))
        let deadline = Date().addingTimeInterval(10)
        while !(alice.outputText.contains("logined") && outsider.outputText.contains("logined")) && Date() < deadline { usleep(20_000) }
        let bob = try runTool(Tool.rtcbox, ["login", "r1", "--once", "--send-message", "hello alice", "--set-extra-info", "topic=standup"]
                              + credentials("bob"), timeout: 20)
        XCTAssertEqual(bob.status, 0, bob.err)
        // A late joiner gets the room's extra info at login.
        let late = try runTool(Tool.rtcbox, ["login", "r1", "--once"] + credentials("late"), timeout: 20)
        XCTAssertTrue(late.out.contains("\"event\":\"room_extra_info_update\"") && late.out.contains("standup"), late.out)
        XCTAssertEqual(alice.wait(timeout: 20), 0)
        XCTAssertEqual(outsider.wait(timeout: 20), 0)
        let events = alice.outputText.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let message = events.first { $0["event"] as? String == "broadcast_message" }
        XCTAssertEqual(message?["message"] as? String, "hello alice")
        XCTAssertEqual((message?["from_user"] as? [String: Any])?["user_id"] as? String, "bob")
        XCTAssertTrue(events.contains { $0["event"] as? String == "room_extra_info_update" }, alice.outputText)
        let outsiderEvents = Set(outsider.outputText.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["event"] as? String
        })
        XCTAssertEqual(outsiderEvents, ["room_state"], outsider.outputText)
        _ = serve.stop()
    }

    func testBadConfigurationsExit78NamingFileAndKey() throws {
        let path = temporaryPath("bad-\(UUID().uuidString).toml")
        try "[[apps]]\napp_id = 5\nserver_secret = \"short\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runTool(Tool.rtcbox, ["serve", "--config", path, "--listen", "127.0.0.1:0"], timeout: 10)
        XCTAssertEqual(r.status, 78)
        XCTAssertEqual(r.err, "rtcbox serve: \(path): apps[0].server_secret must be 32 characters, not 5\n")

        let missing = try runTool(Tool.rtcbox, ["serve", "--config", "/nonexistent.toml"], timeout: 10)
        XCTAssertEqual(missing.status, 78)
        XCTAssertTrue(missing.err.hasPrefix("rtcbox serve: /nonexistent.toml: cannot be read"), missing.err)

        let open = try runTool(Tool.rtcbox, ["serve", "--listen", "0.0.0.0:0"], timeout: 10)
        XCTAssertEqual(open.status, 78)
        XCTAssertTrue(open.err.contains("needs --config with apps"), open.err)
    }

    func testServeSettingsPrecedenceFlagEnvironmentFileDefault() throws {
        let path = temporaryPath("listen-\(UUID().uuidString).toml")
        try "listen = \"127.0.0.1:1\"\nthreads = 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        // The environment beats the file: RTCBOX_LISTEN's port 0 is used, not the file's port 1.
        let serve = try Child(Tool.rtcbox, ["serve", "--config", path], environment: ["RTCBOX_LISTEN": "127.0.0.1:0"])
        let deadline = Date().addingTimeInterval(10)
        while !serve.errorText.contains("listening on") && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(serve.errorText.contains("listening on 127.0.0.1:"), serve.errorText)
        XCTAssertFalse(serve.errorText.contains("listening on 127.0.0.1:1 "), serve.errorText)
        serve.signal(SIGTERM)
        XCTAssertEqual(serve.wait(timeout: 10), 0)
        // A flag beats the environment, and a malformed environment value is a configuration error.
        let bad = try runTool(Tool.rtcbox, ["serve", "--listen", "127.0.0.1:0"], timeout: 10, environment: ["RTCBOX_THREADS": "many"])
        XCTAssertEqual(bad.status, 78)
        XCTAssertEqual(bad.err, "rtcbox serve: RTCBOX_THREADS \"many\" is not a number from 0 to 256\n")
        let flagWins = try Child(Tool.rtcbox, ["serve", "--listen", "127.0.0.1:0", "--threads", "1"], environment: ["RTCBOX_THREADS": "many"])
        let until = Date().addingTimeInterval(10)
        while !flagWins.errorText.contains("listening on") && Date() < until { usleep(20_000) }
        XCTAssertTrue(flagWins.errorText.contains("listening on"), flagWins.errorText)
        flagWins.signal(SIGTERM)
        XCTAssertEqual(flagWins.wait(timeout: 10), 0)
    }
    /// RLIMIT_RTPRIO of this process: the highest real-time priority it may ask for without CAP_SYS_NICE.
    static var realtimePriorityLimit: UInt {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(__RLIMIT_RTPRIO.rawValue), &limit)
        return UInt(limit.rlim_cur)
    }

    /// The loop threads themselves get SCHED_FIFO (read back from /proc), and the rest of the process does not.
    func testRealtimePriorityGivesTheEventLoopsSchedFIFO() throws {
        try XCTSkipUnless(geteuid() == 0 || Self.realtimePriorityLimit >= 7, "needs root or `ulimit -r 7`")
        let path = temporaryPath("rt-\(UUID().uuidString).toml")
        try "realtime_priority = 7\n".write(toFile: path, atomically: true, encoding: .utf8)
        let serve = try ServeProcess(["--config", path, "--threads", "2"])
        XCTAssertTrue(serve.child.errorText.contains("event loops run SCHED_FIFO at priority 7"), serve.child.errorText)
        let pid = serve.child.process.processIdentifier
        var policies: [String: (policy: Int, priority: Int)] = [:]
        for task in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") {
            let stat = try String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8)
            let comm = try String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            // After "(comm)": field 3 is the state; rt_priority and policy are fields 40 and 41.
            let fields = stat[stat.range(of: ")", options: .backwards)!.upperBound...].split(separator: " ")
            policies["\(comm)/\(task)"] = (Int(fields[41 - 3]) ?? -1, Int(fields[40 - 3]) ?? -1)
        }
        let loops = policies.filter { $0.key.hasPrefix("NIO-ELT") }
        XCTAssertEqual(loops.count, 2, "\(policies)")
        XCTAssertTrue(loops.values.allSatisfy { $0.policy == Int(SCHED_FIFO) && $0.priority == 7 }, "\(policies)")
        XCTAssertEqual(policies["rtcbox/\(pid)"]?.policy, Int(SCHED_OTHER), "\(policies)")
        XCTAssertEqual(serve.stop(), 0)
    }

    /// Without the right to real-time scheduling serve does not start half-way: exit 77 and what it needs.
    func testRealtimePriorityWithoutPermissionIsRefused() throws {
        var arguments = ["serve", "--listen", "127.0.0.1:0", "--realtime-priority", "7"]
        var executable = Tool.rtcbox
        if geteuid() == 0 {
            // As nobody, from a copy nobody can run (a test's build directory may not be).
            let dir = temporaryPath("nobody-\(UUID().uuidString)")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: (dir as NSString).deletingLastPathComponent)
            try FileManager.default.copyItem(atPath: Tool.rtcbox, toPath: dir + "/rtcbox")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", dir + "/rtcbox"] + arguments
            executable = Tool.find("setpriv")
            let r = try runTool(executable, arguments, timeout: 20)
            XCTAssertEqual(r.status, 77, r.err)
            XCTAssertEqual(r.err, "rtcbox serve: cannot run the event loops at SCHED_FIFO priority 7: Operation not permitted (needs CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least 7: `ulimit -r 7`, LimitRTPRIO= in a systemd unit)\n")
        } else {
            try XCTSkipIf(Self.realtimePriorityLimit >= 7, "this user may use real-time priority 7")
            let r = try runTool(executable, arguments, timeout: 20)
            XCTAssertEqual(r.status, 77, r.err)
            XCTAssertTrue(r.err.contains("Operation not permitted (needs CAP_SYS_NICE"), r.err)
        }
        let bad = try runTool(Tool.rtcbox, ["serve", "--realtime-priority", "100"], timeout: 10)
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.err.hasPrefix("rtcbox serve: --realtime-priority must be between 1 and 99"), bad.err)
    }
}
