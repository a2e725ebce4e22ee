import Foundation
import XCTest

@testable import RoomAuth

/// token04 against an independent implementation (Tests/Fixtures/token04.py, PyCryptodome), both ways.
final class Token04Tests: XCTestCase {
    let secret = "0123456789abcdef0123456789abcdef"

    func testRoundTripKeepsEveryField() throws {
        let payload = TokenPayload(roomID: "r1", canLogin: true, canPublish: false, streamIDs: ["a", "b"])
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let token = try Token04.generate(appID: 42, userID: "alice", secret: secret, seconds: 3600, payload: payload, now: now)
        XCTAssertTrue(token.hasPrefix("04"))
        let contents = try Token04.open(token, secret: secret)
        XCTAssertEqual(contents.appID, 42)
        XCTAssertEqual(contents.userID, "alice")
        XCTAssertEqual(contents.createdAt, 1_800_000_000)
        XCTAssertEqual(contents.expiresAt, 1_800_003_600)
        XCTAssertEqual(contents.payload, payload)
        XCTAssertEqual(contents.payloadText, #"{"room_id":"r1","privilege":{"1":1,"2":0},"stream_id_list":["a","b"]}"#)
    }

    func testLayoutIsTheDocumentedOne() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let token = try Token04.generate(appID: 1, userID: "u", secret: secret, seconds: 60, now: now)
        let bytes = try XCTUnwrap(Data(base64Encoded: String(token.dropFirst(2))))
        var reader = ByteReader(Array(bytes))
        XCTAssertEqual(reader.readUInt64(), 1_800_000_060)
        XCTAssertEqual(reader.readUInt16(), 12)
        let nonce = try XCTUnwrap(reader.read(12))
        XCTAssertTrue(nonce.allSatisfy { $0 < 0x80 && Character(Unicode.Scalar($0)).isLetter || Character(Unicode.Scalar($0)).isNumber })
        let length = Int(try XCTUnwrap(reader.readUInt16()))
        XCTAssertNotNil(reader.read(length))
        XCTAssertEqual(reader.read(1), [1])
        XCTAssertTrue(reader.isAtEnd)
    }

    func testOurTokensOpenInTheIndependentImplementation() throws {
        let payload = TokenPayload(roomID: "r9", canLogin: true, canPublish: true, streamIDs: nil)
        let token = try Token04.generate(appID: 7, userID: "bob", secret: secret, seconds: 600, payload: payload)
        let output = try python(["open", token, secret])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        XCTAssertEqual(object["app_id"] as? Int, 7)
        XCTAssertEqual(object["user_id"] as? String, "bob")
        let expire = try XCTUnwrap(object["expire"] as? Int)
        let ctime = try XCTUnwrap(object["ctime"] as? Int)
        XCTAssertEqual(expire - ctime, 600)
        XCTAssertEqual(object["payload"] as? String, payload.jsonText)
    }

    func testIndependentTokensOpenHere() throws {
        let token = try python(["generate", "7", "carol", secret, "120", #"{"room_id":"r2","privilege":{"1":1,"2":0},"stream_id_list":null}"#])
        let contents = try TokenVerifier(secret: secret).verifyLogin(token, appID: 7, userID: "carol", roomID: "r2")
        XCTAssertEqual(contents.payload.roomID, "r2")
        XCTAssertFalse(contents.payload.canPublish)
        XCTAssertNil(contents.payload.streamIDs)
        XCTAssertThrowsError(try TokenVerifier.checkPublish(contents.payload, streamID: "s")) {
            XCTAssertEqual($0 as? TokenError, .noPrivilege("denies the publish privilege"))
        }

        let basic = try python(["generate", "7", "carol", secret, "120"])
        let opened = try Token04.open(basic, secret: secret)
        XCTAssertTrue(opened.payload.isBasic)
        XCTAssertNoThrow(try TokenVerifier.checkPublish(opened.payload, streamID: "anything"))
    }

    func testVerifierRefusals() throws {
        let verifier = TokenVerifier(secret: secret)
        let token = try Token04.generate(appID: 7, userID: "dave", secret: secret, seconds: 60,
                                         payload: TokenPayload(roomID: "r1", streamIDs: ["cam"]))
        XCTAssertThrowsError(try TokenVerifier(secret: String(repeating: "x", count: 32)).verifyLogin(token, appID: 7, userID: "dave", roomID: "r1")) {
            XCTAssertEqual($0 as? TokenError, .wrongSecret)
        }
        XCTAssertThrowsError(try verifier.verifyLogin(token, appID: 8, userID: "dave", roomID: "r1")) {
            guard case .mismatch = $0 as? TokenError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try verifier.verifyLogin(token, appID: 7, userID: "eve", roomID: "r1")) {
            guard case .mismatch = $0 as? TokenError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try verifier.verifyLogin(token, appID: 7, userID: "dave", roomID: "r2")) {
            guard case .noPrivilege = $0 as? TokenError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try verifier.verifyLogin(token, appID: 7, userID: "dave", roomID: "r1", now: Date().addingTimeInterval(120))) {
            guard case .expired = $0 as? TokenError else { return XCTFail("\($0)") }
        }
        let contents = try verifier.verifyLogin(token, appID: 7, userID: "dave", roomID: "r1")
        XCTAssertNoThrow(try TokenVerifier.checkPublish(contents.payload, streamID: "cam"))
        XCTAssertThrowsError(try TokenVerifier.checkPublish(contents.payload, streamID: "screen"))
    }

    func testMalformedTokensNameTheProblem() throws {
        let good = try Token04.generate(appID: 1, userID: "u", secret: secret, seconds: 60)
        var bytes = Array(try XCTUnwrap(Data(base64Encoded: String(good.dropFirst(2)))))
        let cases: [(String, String)] = [
            ("", "it does not start with \"04\""),
            ("03" + good.dropFirst(2), "it does not start with \"04\""),
            ("04!!!", "it is not base64 after \"04\""),
            ("04" + Data(bytes.prefix(9)).base64EncodedString(), "it is too short"),
            ("04" + Data(bytes.dropLast(5)).base64EncodedString(), "it is truncated"),
            ("04" + Data(bytes + [0]).base64EncodedString(), "it has 1 bytes after its end"),
        ]
        for (token, why) in cases {
            XCTAssertThrowsError(try Token04.open(token, secret: secret), why) {
                XCTAssertEqual($0 as? TokenError, .malformed(why))
            }
        }
        bytes[bytes.count - 3] ^= 0x01  // flip a tag bit
        XCTAssertThrowsError(try Token04.open("04" + Data(bytes).base64EncodedString(), secret: secret)) {
            XCTAssertEqual($0 as? TokenError, .wrongSecret)
        }
        XCTAssertThrowsError(try Token04.open(good, secret: "short")) {
            guard case .invalidSecret = $0 as? TokenError else { return XCTFail("\($0)") }
        }
    }

    func testRandomBytesNeverCrashTheParser() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            XCTAssertThrowsError(try Token04.open("04" + Data(bytes).base64EncodedString(), secret: secret))
        }
    }

    func testAppSignSignature() throws {
        let sign = try AppSign(hex: String(repeating: "ab", count: 32))
        let s = sign.signature(nonce: "n1", appID: 5, userID: "u", roomID: "r")
        XCTAssertEqual(s.count, 64)
        XCTAssertTrue(sign.verify(s, nonce: "n1", appID: 5, userID: "u", roomID: "r"))
        XCTAssertTrue(sign.verify(s.uppercased(), nonce: "n1", appID: 5, userID: "u", roomID: "r"))
        XCTAssertFalse(sign.verify(s, nonce: "n2", appID: 5, userID: "u", roomID: "r"))
        XCTAssertFalse(sign.verify(s, nonce: "n1", appID: 5, userID: "v", roomID: "r"))
        XCTAssertFalse(sign.verify(String(s.dropLast()), nonce: "n1", appID: 5, userID: "u", roomID: "r"))
        // The HMAC itself, checked against Python's hmac module.
        let expected = try pythonCode("""
            import hmac, hashlib
            print(hmac.new(bytes.fromhex("ab" * 32), b"rtcbox-login-v1\\nn1\\n5\\nu\\nr", hashlib.sha256).hexdigest())
            """)
        XCTAssertEqual(s, expected)
        XCTAssertThrowsError(try AppSign(hex: "abc"))
        XCTAssertThrowsError(try AppSign(hex: String(repeating: "zz", count: 32)))
    }

    // MARK: helpers

    private var fixture: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/token04.py").path
    }

    private func python(_ arguments: [String]) throws -> String {
        try run(["python3", fixture] + arguments)
    }

    private func pythonCode(_ code: String) throws -> String {
        try run(["python3", "-c", code])
    }

    private func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "python", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: String(decoding: errors, as: UTF8.self)])
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
