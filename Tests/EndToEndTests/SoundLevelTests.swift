import Foundation
import XCTest

/// Sound levels (the SDK's onCapturedSoundLevelUpdate / onRemoteSoundLevelUpdate): publishers measure what
/// they capture and send it with their audio frames; a login that asks gets every stream's level without
/// playing or decoding anything.
final class SoundLevelTests: XCTestCase {
    private func events(_ text: String, _ name: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["event"] as? String == name }
    }

    private func levels(_ text: String, stream: String) -> [Double] {
        events(text, "remote_sound_level_update").filter { $0["stream_id"] as? String == stream }.compactMap { $0["level"] as? Double }
    }

    func testLevelsOfAFullScaleToneAQuietToneAndSilenceReachLoginsThatAsk() throws {
        let serve = try ServeProcess([])
        let watcher = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--user", "watcher", "--sound-levels", "--duration", "9", "-q"])
        let deaf = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--user", "deaf", "--duration", "9", "-q"])
        usleep(500_000)
        let commands = Pipe()
        // Stereo sines at full scale (0 dBov) and at a tenth of it (-20 dBov), and digital silence.
        let loud = try Child(Tool.rtcbox, ["publish", "r1", "loud", "--server", serve.address, "-f", "lavfi",
                                           "-i", "aevalsrc=sin(2*PI*440*t)|sin(2*PI*440*t):s=48000", "--no-video",
                                           "--stdin-commands", "--events", "-", "--duration", "7", "-q"], stdin: commands)
        let soft = try Child(Tool.rtcbox, ["publish", "r1", "soft", "--server", serve.address, "-f", "lavfi",
                                           "-i", "aevalsrc=0.1*sin(2*PI*440*t)|0.1*sin(2*PI*440*t):s=48000", "--no-video",
                                           "--sound-level-interval", "500", "--events", "-", "--duration", "7", "-q"])
        let quiet = try Child(Tool.rtcbox, ["publish", "r1", "quiet", "--server", serve.address, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
                                            "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "--preset", "ultrafast", "--duration", "7", "-q"])
        defer { [loud, soft, quiet].forEach { $0.signal(SIGINT); $0.wait() } }
        usleep(3_000_000)
        // A login that comes later has every level at once, changed or not since.
        let late = try runTool(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--user", "late", "--sound-levels", "--duration", "1", "-q"], timeout: 30)
        commands.fileHandleForWriting.write(Data((#"{"action":"mute_audio"}"# + "\n").utf8))
        usleep(1_500_000)
        XCTAssertEqual(watcher.wait(timeout: 30), 0, watcher.errorText)
        XCTAssertEqual(deaf.wait(timeout: 30), 0, deaf.errorText)
        XCTAssertEqual(late.status, 0, late.err)

        let loudLevels = levels(watcher.outputText, stream: "loud")
        XCTAssertGreaterThanOrEqual(loudLevels.first ?? -1, 98, "a 0 dBov tone reads near 100: \(loudLevels)")
        XCTAssertEqual(loudLevels.last, 0, "a muted microphone reads 0: \(loudLevels)")
        let softLevels = levels(watcher.outputText, stream: "soft")
        XCTAssertFalse(softLevels.isEmpty, watcher.outputText)
        for level in softLevels { XCTAssertEqual(level, 66.7, accuracy: 2, "-20 dBov is two thirds of the 60 dB scale") }
        XCTAssertEqual(levels(watcher.outputText, stream: "quiet"), [0], "silence reads 0, and is told once while it stays so")
        XCTAssertTrue(events(deaf.outputText, "remote_sound_level_update").isEmpty, "only logins that asked get levels")

        XCTAssertGreaterThanOrEqual(levels(late.out, stream: "loud").first ?? -1, 98, late.out)
        XCTAssertEqual(levels(late.out, stream: "soft").first ?? -1, 66.7, accuracy: 2, late.out)
        XCTAssertEqual(levels(late.out, stream: "quiet"), [0], late.out)

        // The publishers' own measure, every interval: 100 ms by default, 500 ms when asked.
        loud.signal(SIGINT); soft.signal(SIGINT)
        loud.wait(); soft.wait()
        let loudCaptured = events(loud.outputText, "captured_sound_level_update")
        let softCaptured = events(soft.outputText, "captured_sound_level_update")
        XCTAssertGreaterThan(loudCaptured.count, 35, "about ten a second for about 5 s")
        XCTAssertLessThan(softCaptured.count, 16, "about two a second")
        XCTAssertGreaterThan(softCaptured.count, 6)
        XCTAssertGreaterThanOrEqual(loudCaptured.compactMap { $0["level"] as? Double }.min() ?? 0, 98)
    }

    /// Over UDP the level rides in RTP's audio level extension (RFC 6464), both to the server and from it to
    /// a UDP player, whose recording is the same as one over TCP.
    func testLevelsOfAPublisherOverUDP() throws {
        let serve = try ServeProcess(["--udp", "127.0.0.1:0"])
        let watcher = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--sound-levels", "--duration", "5", "-q"])
        usleep(300_000)
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "tone", "--server", serve.address, "--transport", "udp", "-f", "lavfi",
                                                "-i", "aevalsrc=0.1*sin(2*PI*440*t)|0.1*sin(2*PI*440*t):s=48000", "--no-video",
                                                "--events", "-", "--duration", "5", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        XCTAssertEqual(watcher.wait(timeout: 30), 0, watcher.errorText)
        XCTAssertEqual(publisher.wait(timeout: 30), 0, publisher.errorText)
        XCTAssertTrue(events(publisher.outputText, "media_transport").contains { $0["transport"] as? String == "udp" }, publisher.outputText)
        let got = levels(watcher.outputText, stream: "tone")
        XCTAssertFalse(got.isEmpty, watcher.outputText)
        for level in got { XCTAssertEqual(level, 66.7, accuracy: 2) }
    }

    func testSoundLevelIntervalIsChecked() throws {
        let r = try runTool(Tool.rtcbox, ["publish", "r1", "s", "-f", "lavfi", "-i", "anullsrc", "--sound-level-interval", "50"])
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.err.contains("--sound-level-interval must be 0 (off) or 100 to 3000 ms"), r.err)
    }
}
