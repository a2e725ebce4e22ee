import Foundation
import XCTest

/// `rtcbox record`: every stream of a room into crash-safe files with sidecars.
final class RecordTests: XCTestCase {
    func files(_ dir: String, ext: String) -> [String] {
        let all = (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String]) ?? []
        return all.filter { $0.hasSuffix("." + ext) }.sorted().map { (dir as NSString).appendingPathComponent($0) }
    }

    func duration(_ path: String) throws -> Double {
        let r = try runTool(Tool.find("ffprobe"), ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path])
        XCTAssertEqual(r.status, 0, r.err)
        return Double(r.out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    func testAKilledRecorderLeavesPlayableFiles() throws {
        let serve = try ServeProcess()
        let cam = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + testSource + ["--duration", "30", "-q"])
        let screen = try Child(Tool.rtcbox, ["publish", "r1", "screen", "--server", serve.address, "--user", "bob", "-f", "lavfi",
                                             "-i", "testsrc=size=320x240:rate=15", "--duration", "30", "-q"])
        defer { for p in [cam, screen] { p.signal(SIGINT); p.wait() } }
        usleep(700_000)
        let dir = temporaryPath("rec-\(UUID().uuidString)")
        let recorder = try Child(Tool.rtcbox, ["record", "r1", "--server", serve.address, "--dir", dir])
        usleep(10_000_000)
        recorder.signal(SIGKILL)
        recorder.wait()
        let mp4s = files(dir, ext: "mp4")
        XCTAssertEqual(mp4s.map { ($0 as NSString).deletingLastPathComponent.hasSuffix("r1/cam") || ($0 as NSString).deletingLastPathComponent.hasSuffix("r1/screen") },
                       [true, true], "\(mp4s)")
        for file in mp4s {
            XCTAssertGreaterThanOrEqual(try duration(file), 9, file)
            XCTAssertEqual(try Probe.decodeErrors(path: file), "", file)
            let sidecar = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file + ".json"))) as? [String: Any])
            XCTAssertNotNil(sidecar["start"] as? String)
            XCTAssertNotNil(sidecar["tracks"] as? [[String: Any]])
        }
        _ = serve.stop()
    }

    func testSegmentsRestartsAndAStreamFilter() throws {
        let serve = try ServeProcess()
        let dir = temporaryPath("rec-\(UUID().uuidString)")
        let recorder = try Child(Tool.rtcbox, ["record", "r1", "--server", serve.address, "--dir", dir, "--streams", "cam",
                                               "--format", "mkv", "--segment", "2s", "--duration", "9"])
        usleep(500_000)
        // Not in --streams: never recorded.
        let other = try Child(Tool.rtcbox, ["publish", "r1", "other", "--server", serve.address, "--user", "o", "-f", "lavfi",
                                            "-i", "testsrc=size=160x120:rate=15", "--duration", "8", "-q"])
        // cam publishes 5 s with a 1 s GOP (segments of 2 s start at keyframes), stops, and publishes again.
        let first = try runTool(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + testSource + ["--gop", "1", "--duration", "5", "-q"])
        XCTAssertEqual(first.status, 0, first.err)
        let second = try runTool(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + testSource + ["--gop", "1", "--duration", "2", "-q"])
        XCTAssertEqual(second.status, 0, second.err)
        XCTAssertEqual(recorder.wait(timeout: 20), 0, recorder.errorText)
        other.wait()
        let mkvs = files(dir, ext: "mkv")
        XCTAssertTrue(mkvs.allSatisfy { $0.contains("/r1/cam/") }, "\(mkvs)")
        // At least two 2-second segments of the 5 s publish (cut at keyframes), then a new file for the restart.
        XCTAssertGreaterThanOrEqual(mkvs.count, 3, "\(mkvs)")
        let listed = recorder.outputText.split(separator: "\n").map(String.init)
        XCTAssertEqual(Set(listed), Set(mkvs), "stdout lists each finished file")
        var total = 0.0
        for file in mkvs {
            total += try duration(file)
            XCTAssertEqual(try Probe.decodeErrors(path: file), "", file)
            let sidecar = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file + ".json"))) as? [String: Any])
            XCTAssertEqual(sidecar["stream_id"] as? String, "cam")
            XCTAssertNotNil(sidecar["end"] as? String, "a closed file's sidecar has its end")
        }
        XCTAssertGreaterThan(total, 6)
        _ = serve.stop()
    }

    func testServerShutdownLetsTheRecorderFinishItsFiles() throws {
        let serve = try ServeProcess()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + testSource + ["--duration", "30", "-q"])
        usleep(500_000)
        let dir = temporaryPath("rec-\(UUID().uuidString)")
        let recorder = try Child(Tool.rtcbox, ["record", "r1", "--server", serve.address, "--dir", dir, "--format", "mkv"])
        usleep(3_000_000)
        let start = Date()
        XCTAssertEqual(serve.stop(), 0, "SIGTERM: serve exits 0")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(recorder.wait(timeout: 10), 69, recorder.errorText)
        XCTAssertTrue(recorder.errorText.contains("(server_shutdown)"), recorder.errorText)
        XCTAssertEqual(publisher.wait(timeout: 10), 69)
        let mkvs = files(dir, ext: "mkv")
        XCTAssertEqual(mkvs.count, 1)
        for file in mkvs {
            XCTAssertGreaterThan(try duration(file), 2)
            XCTAssertEqual(try Probe.decodeErrors(path: file), "")
            let sidecar = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file + ".json"))) as? [String: Any])
            XCTAssertNotNil(sidecar["end"] as? String, "the recorder closed its file")
        }
    }

    /// The summary counts what was recorded: --streams cam,screen with only cam live is one file from one stream.
    func testSummaryCountsOnlyStreamsThatWereRecorded() throws {
        let serve = try ServeProcess()
        let cam = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi",
                                          "-i", "testsrc=size=160x120:rate=15", "--duration", "10", "-q"])
        defer { cam.signal(SIGINT); cam.wait() }
        usleep(700_000)
        let dir = temporaryPath("rec-\(UUID().uuidString)")
        let r = try runTool(Tool.rtcbox, ["record", "r1", "--server", serve.address, "--dir", dir, "--streams", "cam,screen",
                                          "--duration", "3"], timeout: 20)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(files(dir, ext: "mp4").count, 1)
        XCTAssertTrue(r.err.hasSuffix("rtcbox record: 1 file from 1 stream (screen was never live)\n"), r.err)
        // play's names for the containers work here too.
        let mkvDir = temporaryPath("rec-\(UUID().uuidString)")
        let m = try runTool(Tool.rtcbox, ["record", "r1", "--server", serve.address, "--dir", mkvDir, "--format", "matroska",
                                          "--duration", "2"], timeout: 20)
        XCTAssertEqual(m.status, 0, m.err)
        XCTAssertEqual(files(mkvDir, ext: "mkv").count, 1, m.err)
        let bad = try runTool(Tool.rtcbox, ["record", "r1", "--server", serve.address, "--dir", mkvDir, "--format", "avi"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.err.contains("--format \"avi\" is not one of mpegts (ts), nut, matroska (mkv), flv, mp4 (fmp4)"), bad.err)
        // Every container of play's table records, named by its extension.
        let flvDir = temporaryPath("rec-\(UUID().uuidString)")
        let f = try runTool(Tool.rtcbox, ["record", "r1", "--server", serve.address, "--dir", flvDir, "--format", "flv",
                                          "--duration", "2"], timeout: 20)
        XCTAssertEqual(f.status, 0, f.err)
        let flvs = files(flvDir, ext: "flv")
        XCTAssertEqual(flvs.count, 1, f.err)
        for file in flvs {
            let probe = try runTool(Tool.find("ffprobe"), ["-v", "error", "-show_entries", "format=format_name:stream=codec_name",
                                                           "-of", "csv=p=0", file])
            XCTAssertTrue(probe.out.contains("flv") && probe.out.contains("h264"), probe.out)
        }
        _ = serve.stop()
    }
}
