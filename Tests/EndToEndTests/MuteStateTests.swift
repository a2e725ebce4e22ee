import Foundation
import XCTest

/// Camera and microphone state (the SDK's mutePublishStreamVideo/Audio and onRemoteCamera/MicStateUpdate):
/// a publisher mutes and unmutes over --stdin-commands, its frames stop and resume, members see each change,
/// a late login sees the state in force, and a player's recording stays one valid file with true timestamps.
final class MuteStateTests: XCTestCase {
    private func events(_ text: String, _ name: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["event"] as? String == name }
    }

    private func states(_ text: String, _ name: String, stream: String) -> [String] {
        events(text, name).filter { $0["stream_id"] as? String == stream }.compactMap { $0["state"] as? String }
    }

    /// (pts seconds, keyframe) of each packet of one kind of stream ("v" or "a"), from ffprobe.
    private func packets(_ path: String, _ kind: String) throws -> [(Double, Bool)] {
        let r = try runTool(Tool.find("ffprobe"), ["-v", "error", "-select_streams", kind, "-show_entries", "packet=pts_time,flags",
                                                   "-of", "csv=p=0", path], timeout: 60)
        return r.out.split(separator: "\n").compactMap { row in
            let f = row.split(separator: ",").map(String.init)
            guard let t = f.first.flatMap(Double.init) else { return nil }
            return (t, f.count > 1 && f[1].contains("K"))
        }
    }

    private func largestGap(_ times: [Double]) -> (gap: Double, after: Int) {
        var best = (0.0, 0)
        for i in 1..<max(times.count, 1) where times[i] - times[i - 1] > best.0 { best = (times[i] - times[i - 1], i) }
        return best
    }

    func testMuteAndUnmuteReachMembersLateLoginsAndKeepTheRecordingValid() throws {
        let serve = try ServeProcess([])
        let watcher = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--user", "watcher", "--duration", "14", "-q"])
        let commands = Pipe()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "--user", "alice", "-f", "lavfi",
                                                "-i", "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "--preset", "ultrafast",
                                                "--gop", "10", "--stdin-commands", "--events", "-", "--duration", "12", "-q"], stdin: commands)
        let screen = try Child(Tool.rtcbox, ["publish", "r1", "screen", "--server", serve.address, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10",
                                             "--no-audio", "--stdin-commands", "--events", "-", "--duration", "12", "-q"], stdin: Pipe())
        defer { publisher.signal(SIGINT); screen.signal(SIGINT); publisher.wait(); screen.wait() }
        usleep(1_500_000)
        let recording = temporaryPath("mute-\(UUID().uuidString).mkv")
        let recorder = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", recording, "--duration", "8", "-q"])
        usleep(1_500_000)
        func send(_ line: String) { commands.fileHandleForWriting.write(Data((line + "\n").utf8)) }
        send(#"{"action":"mute_video","id":1}"#)
        let videoMuted = Date()
        usleep(1_000_000)
        send(#"{"action":"mute_audio","id":2}"#)
        let audioMuted = Date()
        usleep(1_000_000)
        // A login while both are muted: its snapshot says so.
        let late = try runTool(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--user", "late", "--duration", "1", "-q"], timeout: 30)
        send(#"{"action":"unmute_video","id":3}"#)
        send(#"{"action":"unmute_audio","id":4}"#)
        let unmuted = Date()
        send(#"{"action":"mute_audio","stream_id":"nope","id":5}"#)
        usleep(3_000_000)

        XCTAssertEqual(recorder.wait(timeout: 30), 0, recorder.errorText)
        XCTAssertEqual(watcher.wait(timeout: 30), 0, watcher.errorText)
        XCTAssertEqual(late.status, 0, late.err)

        let results = events(publisher.outputText, "command_result")
        XCTAssertEqual(results.filter { $0["ok"] as? Bool == true }.compactMap { $0["id"] as? Int }, [1, 2, 3, 4], publisher.outputText)
        XCTAssertEqual(results.first { $0["id"] as? Int == 5 }?["error"] as? String, "stream_not_found", publisher.outputText)

        // The member that was there all along: open at the stream's add, then each change in order.
        XCTAssertEqual(states(watcher.outputText, "remote_camera_state_update", stream: "cam"), ["open", "mute", "open"], watcher.outputText)
        XCTAssertEqual(states(watcher.outputText, "remote_mic_state_update", stream: "cam"), ["open", "mute", "open"], watcher.outputText)
        XCTAssertEqual(states(watcher.outputText, "remote_camera_state_update", stream: "screen"), ["open"])
        XCTAssertEqual(states(watcher.outputText, "remote_mic_state_update", stream: "screen"), ["disable"], "a stream without audio has its microphone disabled")
        XCTAssertEqual(events(watcher.outputText, "remote_camera_state_update").first { $0["stream_id"] as? String == "cam" }?["user_id"] as? String,
                       "alice", "the event names the publisher's user")
        // The late login: the state in force when it came.
        XCTAssertEqual(states(late.out, "remote_camera_state_update", stream: "cam"), ["mute"], late.out)
        XCTAssertEqual(states(late.out, "remote_mic_state_update", stream: "cam"), ["mute"], late.out)
        XCTAssertEqual(states(late.out, "remote_mic_state_update", stream: "screen"), ["disable"], late.out)

        // The recording: one valid file; each track stops for as long as it was muted (video resumes at a
        // keyframe), with timestamps that kept the wall clock's pace across the hole.
        XCTAssertEqual(try Probe.decodeErrors(path: recording), "")
        let video = try packets(recording, "v"), audio = try packets(recording, "a")
        XCTAssertGreaterThan(video.count, 60)
        XCTAssertGreaterThan(audio.count, 100)
        let v = largestGap(video.map(\.0)), a = largestGap(audio.map(\.0))
        XCTAssertEqual(v.gap, unmuted.timeIntervalSince(videoMuted), accuracy: 0.4, "the video's hole is as long as its mute")
        XCTAssertEqual(a.gap, unmuted.timeIntervalSince(audioMuted), accuracy: 0.4, "the audio's hole is as long as its mute")
        if v.after < video.count { XCTAssertTrue(video[v.after].1, "video resumes at a keyframe") }
        XCTAssertEqual(video.map(\.0), video.map(\.0).sorted(), "video pts never go back")
        let secondLargest = video.map(\.0).indices.dropFirst().filter { $0 != v.after }.map { video[$0].0 - video[$0 - 1].0 }.max() ?? 0
        XCTAssertLessThan(secondLargest, 0.3, "no other hole in the video")
    }

    func testMuteIsRefusedForATrackTheStreamDoesNotHaveAndOutsideAPublish() throws {
        let serve = try ServeProcess([])
        let commands = Pipe()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10",
                                                "--no-audio", "--stdin-commands", "--events", "-", "--duration", "6", "-q"], stdin: commands)
        defer { publisher.signal(SIGINT); publisher.wait() }
        usleep(1_500_000)
        commands.fileHandleForWriting.write(Data((#"{"action":"mute_audio","id":1}"# + "\n").utf8))
        let login = Pipe()
        let member = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--stdin-commands", "-q"], stdin: login)
        login.fileHandleForWriting.write(Data((#"{"action":"mute_video","id":2}"# + "\n").utf8))
        login.fileHandleForWriting.closeFile()
        XCTAssertEqual(member.wait(timeout: 20), 0, member.errorText)
        usleep(500_000)
        let refused = events(publisher.outputText, "command_result").first { $0["id"] as? Int == 1 }
        XCTAssertEqual(refused?["ok"] as? Bool, false, publisher.outputText)
        XCTAssertEqual(refused?["error"] as? String, "bad_request")
        XCTAssertTrue((refused?["reason"] as? String ?? "").contains("no audio track"), "\(refused ?? [:])")
        let outside = events(member.outputText, "command_result").first { $0["id"] as? Int == 2 }
        XCTAssertEqual(outside?["ok"] as? Bool, false, member.outputText)
        XCTAssertTrue((outside?["reason"] as? String ?? "").contains("rtcbox publish --stdin-commands"), "\(outside ?? [:])")
    }
}
