import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// `serve --web` without a browser: the page's files over HTTP, the room protocol over the WebSocket
/// (Tests/Fixtures/ws_probe.py), the origin allow-list, and the options' mistakes.
final class WebTransportTests: XCTestCase {
    static let probe = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/ws_probe.py").path

    func probe(_ args: [String]) throws -> [String: Any] {
        let r = try runTool(Tool.find("python3"), [Self.probe] + args, timeout: 30)
        XCTAssertEqual(r.status, 0, r.err)
        return try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any] ?? [:]
    }

    func get(_ url: String) throws -> (status: Int, type: String, body: String) {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, String, String) = (0, "", "")
        URLSession.shared.dataTask(with: URL(string: url)!) { data, response, _ in
            let http = response as? HTTPURLResponse
            result = (http?.statusCode ?? 0, http?.value(forHTTPHeaderField: "Content-Type") ?? "",
                      String(decoding: data ?? Data(), as: UTF8.self))
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 10)
        return result
    }

    func testPageFilesAndRoomProtocolOverWebSocket() throws {
        let serve = try ServeProcess(["--web", "127.0.0.1:0"])
        let web = try XCTUnwrap(serve.webPort)
        let base = "http://127.0.0.1:\(web)"
        let page = try get(base + "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.type, "text/html; charset=utf-8")
        XCTAssertTrue(page.body.contains("<script type=\"module\" src=\"app.js\"></script>"), page.body)
        // The page is ES modules, each served as it is; every module one imports is served too.
        var modules = ["app.js"], served: [String: String] = [:]
        while let name = modules.popLast() {
            guard served[name] == nil else { continue }
            let script = try get(base + "/" + name)
            XCTAssertEqual(script.status, 200, name)
            XCTAssertEqual(script.type, "text/javascript; charset=utf-8", name)
            served[name] = script.body
            for line in script.body.split(separator: "\n") where line.hasPrefix("import ") {
                if let from = line.range(of: "from './") {
                    modules.append(String(line[from.upperBound...].prefix { $0 != "'" }))
                }
            }
        }
        XCTAssertEqual(Set(served.keys), ["app.js", "common.js", "connection.js", "h264.js", "player.js", "publisher.js", "room.js", "webrtc.js"])
        XCTAssertTrue(served["player.js"]?.contains("new VideoDecoder") == true)
        XCTAssertEqual(try get(base + "/style.css").type, "text/css; charset=utf-8")
        XCTAssertEqual(try get(base + "/nothing-here").status, 404)
        XCTAssertEqual(try get(base + "/ws").status, 426, "GET /ws without an upgrade")

        // A TCP publisher, a WebSocket player: the media messages are the TCP frames' payloads.
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "s1", "--server", serve.address, "-f", "lavfi", "-i",
                                                "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine", "--duration", "20", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        let played = try probe(["play", "ws://127.0.0.1:\(web)/ws", "r1", "s1", "2"])
        XCTAssertEqual((played["hello"] as? [String: Any])?["type"] as? String, "hello")
        XCTAssertNotNil((played["hello"] as? [String: Any])?["nonce"], "the hello carries the nonce AppSign logins sign")
        let handle = try XCTUnwrap(played["handle"] as? Int, "\(played)")
        XCTAssertEqual(played["handles"] as? [Int], [handle], "every media message names the played stream")
        XCTAssertEqual(played["first_video_key"] as? Bool, true, "a joiner starts at a keyframe")
        XCTAssertEqual(played["annexb"] as? Bool, true)
        XCTAssertEqual(played["pts_increasing"] as? Bool, true)
        XCTAssertGreaterThanOrEqual(played["video"] as? Int ?? 0, 50, "\(played)")
        XCTAssertGreaterThanOrEqual(played["audio"] as? Int ?? 0, 70, "\(played)")

        // Versions are negotiated as on TCP: an error naming both ranges, then the close.
        let old = try probe(["hello", "ws://127.0.0.1:\(web)/ws", "9", "9"])
        let answer = old["answer"] as? [String: Any] ?? [:]
        XCTAssertEqual(answer["name"] as? String, "unsupported_version")
        XCTAssertEqual(old["closed"] as? Bool, true)

        // Origins: none (not a browser) and the page's own are let in; others are refused.
        XCTAssertEqual(try probe(["upgrade", "ws://127.0.0.1:\(web)/ws"])["status"] as? Int, 101)
        XCTAssertEqual(try probe(["upgrade", "ws://127.0.0.1:\(web)/ws", "http://127.0.0.1:\(web)"])["status"] as? Int, 101)
        XCTAssertEqual(try probe(["upgrade", "ws://127.0.0.1:\(web)/ws", "http://evil.example"])["status"] as? Int, 403)
        _ = serve.stop()

        let open = try ServeProcess(["--web", "127.0.0.1:0", "--web-origin", "https://app.example"])
        let openWeb = try XCTUnwrap(open.webPort)
        XCTAssertEqual(try probe(["upgrade", "ws://127.0.0.1:\(openWeb)/ws", "https://app.example"])["status"] as? Int, 101)
        XCTAssertEqual(try probe(["upgrade", "ws://127.0.0.1:\(openWeb)/ws", "https://other.example"])["status"] as? Int, 403)
        _ = open.stop()
    }

    func testWebOptionMistakesAreOneLineAndExitCodes() throws {
        func serve(_ args: [String]) throws -> (Int32, String) {
            let r = try runTool(Tool.rtcbox, ["serve", "--listen", "127.0.0.1:0"] + args, timeout: 20)
            return (r.status, r.err.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let (noKey, noKeyText) = try serve(["--web", "127.0.0.1:0", "--tls-cert", "/nonexistent.pem"])
        XCTAssertEqual(noKey, 64, noKeyText)
        XCTAssertTrue(noKeyText.contains("--tls-cert needs --tls-key"), noKeyText)
        let (missing, missingText) = try serve(["--web", "127.0.0.1:0", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"])
        XCTAssertEqual(missing, 78, missingText)
        XCTAssertTrue(missingText.hasPrefix("rtcbox serve: --tls-cert /nonexistent.pem: cannot read a PEM certificate"), missingText)
        XCTAssertEqual(missingText.split(separator: "\n").count, 1, missingText)
        let (open, openText) = try serve(["--web", "0.0.0.0:0"])
        XCTAssertEqual(open, 78, openText)
        XCTAssertTrue(openText.contains("--web on 0.0.0.0 needs --config with apps"), openText)
        let (bad, badText) = try serve(["--web", "nonsense"])
        XCTAssertEqual(bad, 64, badText)
        XCTAssertTrue(badText.contains("--web \"nonsense\" is not HOST:PORT"), badText)
    }
}
