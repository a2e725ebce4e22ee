import XCTest
@testable import RTP

final class DTLSFingerprintTests: XCTestCase {
    // RFC 8122 section 5's form; the digest is 00 01 02 ... 1F.
    let text = "sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F"

    func testParsesAndWritesTheSDPForm() throws {
        let fingerprint = try DTLSFingerprint(sdpValue: text)
        XCTAssertEqual(fingerprint.algorithm, .sha256)
        XCTAssertEqual(fingerprint.digest, Array(0..<32))
        XCTAssertEqual(fingerprint.sdpValue, text)
    }

    func testAcceptsUpperCaseNameLowerCaseHexAndSeveralSpaces() throws {
        let fingerprint = try DTLSFingerprint(sdpValue: "SHA-1   de:ad:be:ef:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff")
        XCTAssertEqual(fingerprint.algorithm, .sha1)
        XCTAssertEqual(fingerprint.sdpValue, "sha-1 DE:AD:BE:EF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF")
    }

    func testRefusals() {
        func refusal(_ text: String) -> DTLSFingerprintParseError? {
            do { _ = try DTLSFingerprint(sdpValue: text); return nil } catch { return error }
        }
        XCTAssertEqual(refusal("AB:CD"), .missingHashFunction)
        XCTAssertEqual(refusal(" AB:CD"), .missingHashFunction)
        XCTAssertEqual(refusal("md5 AB:CD"), .unknownHashFunction("md5"))
        XCTAssertEqual(refusal("sha-256 "), .malformedHex(offset: 8))
        XCTAssertEqual(refusal("sha-256 AB:C"), .malformedHex(offset: 11))
        XCTAssertEqual(refusal("sha-256 AB-CD"), .malformedHex(offset: 10))
        XCTAssertEqual(refusal("sha-256 AB:CD:"), .malformedHex(offset: 14))
        XCTAssertEqual(refusal("sha-256 AB:ZZ"), .malformedHex(offset: 11))
        XCTAssertEqual(refusal("sha-256 AB:CD"), .wrongLength(algorithm: .sha256, expected: 32, have: 2))
        XCTAssertEqual(refusal("sha-256 " + String(repeating: "AB:", count: 100) + "AB"), .tooLong(8 + 302))
    }

    func testMatchingComparesAlgorithmAndEveryOctet() throws {
        let a = try DTLSFingerprint(sdpValue: text)
        var b = a
        XCTAssertTrue(a.matches(b))
        b.digest[31] ^= 1
        XCTAssertFalse(a.matches(b))
        XCTAssertFalse(a.matches(DTLSFingerprint(algorithm: .sha384, digest: a.digest)))
        XCTAssertFalse(a.matches(DTLSFingerprint(algorithm: .sha256, digest: Array(a.digest.prefix(31)))))
    }
}
