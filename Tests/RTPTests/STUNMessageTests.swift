import NIOCore
import XCTest

@testable import RTP

/// Bytes from hex as RFCs print it (spaces and line breaks ignored).
func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.filter(\.isHexDigit))
    return stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(digits[$0...$0 + 1]), radix: 16) }
}

/// RFC 5769 test vectors (section 2), copied from the RFC text.
enum RFC5769 {
    static let password = "VOkJxbRl1RmTxUk/WvJxBt"
    static let transactionID = STUNTransactionID(bytes: hexBytes("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"))!

    /// 2.1 Sample Request: SOFTWARE "STUN test client", PRIORITY 0x6e0001ff, ICE-CONTROLLED
    /// 0x932ff9b151263b36, USERNAME "evtj:h6vY" (padded with 0x20), MESSAGE-INTEGRITY, FINGERPRINT.
    static let request = hexBytes("""
        00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
        00 24 00 04 6e 00 01 ff
        80 29 00 08 93 2f f9 b1 51 26 3b 36
        00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
        00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
        80 28 00 04 e5 7a 3b cf
        """)

    /// 2.2 Sample IPv4 Response: SOFTWARE "test vector" (padded with 0x20), XOR-MAPPED-ADDRESS
    /// 192.0.2.1:32853, MESSAGE-INTEGRITY, FINGERPRINT.
    static let ipv4Response = hexBytes("""
        01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 08 00 01 a1 47 e1 12 a6 43
        00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
        80 28 00 04 c0 7d 4c 96
        """)

    /// 2.3 Sample IPv6 Response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853.
    static let ipv6Response = hexBytes("""
        01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
        00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
        80 28 00 04 c8 fb 0b 4c
        """)

    /// 2.4 Sample Request with Long-Term Authentication: USERNAME "マトリックス", NONCE, REALM
    /// "example.org", MESSAGE-INTEGRITY keyed by MD5("マトリックス:example.org:TheMatrIX"), no FINGERPRINT.
    static let longTermRequest = hexBytes("""
        00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
        00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
        00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
        00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
        00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66
        """)
}

final class STUNMessageTests: XCTestCase {
    let key = Array(RFC5769.password.utf8)

    func parse(_ bytes: [UInt8]) throws -> ReceivedSTUNMessage {
        try STUNMessage.parse(ByteBuffer(bytes: bytes))
    }

    func testSampleRequestParses() throws {
        let received = try parse(RFC5769.request)
        let m = received.message
        XCTAssertEqual(m.method, .binding)
        XCTAssertEqual(m.messageClass, .request)
        XCTAssertEqual(m.transactionID, RFC5769.transactionID)
        XCTAssertEqual(
            m.attributes.dropLast(2),
            [.software("STUN test client"), .priority(0x6e00_01ff), .iceControlled(tieBreaker: 0x932f_f9b1_5126_3b36),
             .username("evtj:h6vY")])
        XCTAssertEqual(m.username, "evtj:h6vY")
        XCTAssertTrue(received.isIntegrityValid(key: key))
        XCTAssertFalse(received.isIntegrityValid(key: Array("VOkJxbRl1RmTxUk/WvJxBT".utf8)))
        XCTAssertTrue(received.isFingerprintValid)
        XCTAssertEqual(received.unknownComprehensionRequired, [])
    }

    func testSampleRequestSerializesToTheSameBytes() throws {
        let m = STUNMessage(
            messageClass: .request, transactionID: RFC5769.transactionID,
            attributes: [.software("STUN test client"), .priority(0x6e00_01ff),
                         .iceControlled(tieBreaker: 0x932f_f9b1_5126_3b36), .username("evtj:h6vY")])
        let bytes = try m.serialized(integrityKey: key, fingerprint: true, padding: 0x20)
        XCTAssertEqual(Array(bytes.readableBytesView), RFC5769.request)
        // A parsed message written as it is (integrity and fingerprint values kept) is the same too.
        let again = try parse(RFC5769.request).message.serialized(padding: 0x20)
        XCTAssertEqual(Array(again.readableBytesView), RFC5769.request)
    }

    func testIPv4Response() throws {
        let received = try parse(RFC5769.ipv4Response)
        XCTAssertEqual(received.message.messageClass, .successResponse)
        XCTAssertEqual(received.message.xorMappedAddress, TransportAddress("192.0.2.1:32853"))
        XCTAssertTrue(received.isIntegrityValid(key: key))
        XCTAssertTrue(received.isFingerprintValid)
        let m = STUNMessage(
            messageClass: .successResponse, transactionID: RFC5769.transactionID,
            attributes: [.software("test vector"), .xorMappedAddress(TransportAddress("192.0.2.1:32853")!)])
        let bytes = try m.serialized(integrityKey: key, fingerprint: true, padding: 0x20)
        XCTAssertEqual(Array(bytes.readableBytesView), RFC5769.ipv4Response)
    }

    func testIPv6Response() throws {
        let received = try parse(RFC5769.ipv6Response)
        let address = TransportAddress("[2001:db8:1234:5678:11:2233:4455:6677]:32853")!
        XCTAssertEqual(received.message.xorMappedAddress, address)
        XCTAssertTrue(received.isIntegrityValid(key: key))
        XCTAssertTrue(received.isFingerprintValid)
        let m = STUNMessage(
            messageClass: .successResponse, transactionID: RFC5769.transactionID,
            attributes: [.software("test vector"), .xorMappedAddress(address)])
        let bytes = try m.serialized(integrityKey: key, fingerprint: true, padding: 0x20)
        XCTAssertEqual(Array(bytes.readableBytesView), RFC5769.ipv6Response)
    }

    func testLongTermCredentialRequest() throws {
        let received = try parse(RFC5769.longTermRequest)
        let m = received.message
        XCTAssertEqual(m.username, "マトリックス")
        XCTAssertEqual(m.attributes.dropLast(), [.username("マトリックス"), .nonce("f//499k954d6OL34oL9FSTvy64sA"), .realm("example.org")])
        let key = STUNIntegrity.longTermKey(username: "マトリックス", realm: "example.org", password: "TheMatrIX")
        XCTAssertTrue(received.isIntegrityValid(key: key))
        XCTAssertFalse(received.hasFingerprint)
        let bytes = try STUNMessage(messageClass: .request, transactionID: m.transactionID, attributes: Array(m.attributes.dropLast()))
            .serialized(integrityKey: key)
        XCTAssertEqual(Array(bytes.readableBytesView), RFC5769.longTermRequest)
    }

    func testMessageTypeBits() {
        // Binding success response is 0x0101, error 0x0111, indication 0x0011; method 0xFFF request 0x3EEF.
        XCTAssertEqual(STUNMessage(messageClass: .successResponse, transactionID: RFC5769.transactionID).messageType, 0x0101)
        XCTAssertEqual(STUNMessage(messageClass: .errorResponse, transactionID: RFC5769.transactionID).messageType, 0x0111)
        XCTAssertEqual(STUNMessage(messageClass: .indication, transactionID: RFC5769.transactionID).messageType, 0x0011)
        let m = STUNMessage(method: STUNMethod(rawValue: 0xFFF), messageClass: .request, transactionID: RFC5769.transactionID)
        XCTAssertEqual(m.messageType, 0x3EEF)
        let (method, cls) = STUNMessage.split(messageType: 0x3FFF)
        XCTAssertEqual(method.rawValue, 0xFFF)
        XCTAssertEqual(cls, .errorResponse)
    }

    func testCRC32() {
        XCTAssertEqual(STUNIntegrity.crc32(Array("123456789".utf8)), 0xCBF4_3926)  // the standard check value
    }

    func testErrorCodeAndUnknownAttributesGolden() throws {
        // 420 with UNKNOWN-ATTRIBUTES 0x0003: ERROR-CODE value = 0000 | class 4 | number 20 | "Unknown Attribute"
        let m = STUNMessage(
            messageClass: .errorResponse, transactionID: RFC5769.transactionID,
            attributes: [.errorCode(STUNErrorCode(code: 420, reason: "Unknown Attribute")), .unknownAttributes([0x0003])])
        let bytes = Array(try m.serialized().readableBytesView)
        let expected = hexBytes("""
            01 11 00 24 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
            00 09 00 15 00 00 04 14 55 6e 6b 6e 6f 77 6e 20 41 74 74 72 69 62 75 74 65 00 00 00
            00 0a 00 02 00 03 00 00
            """)
        XCTAssertEqual(bytes, expected)
        XCTAssertEqual(try parse(expected).message, m)
    }

    func testUnknownAttributes() throws {
        // A request with comprehension-required 0x0003 (CHANGE-REQUEST) and optional 0x8055.
        var m = STUNMessage(
            messageClass: .request, transactionID: RFC5769.transactionID,
            attributes: [.other(type: STUNAttributeType(rawValue: 0x0003), value: [0, 0, 0, 4]),
                         .other(type: STUNAttributeType(rawValue: 0x8055), value: [1, 2, 3])])
        let received = try STUNMessage.parse(try m.serialized())
        XCTAssertEqual(received.message, m)
        XCTAssertEqual(received.unknownComprehensionRequired, [STUNAttributeType(rawValue: 0x0003)])
        m.attributes.removeFirst()
        XCTAssertEqual(try STUNMessage.parse(try m.serialized()).unknownComprehensionRequired, [])
    }

    func testAttributesAfterIntegrityAreIgnored() throws {
        var bytes = Array(try STUNMessage(messageClass: .request, transactionID: RFC5769.transactionID, attributes: [.username("a:b")])
            .serialized(integrityKey: key).readableBytesView)
        bytes += [0x80, 0x22, 0x00, 0x04, 0x61, 0x62, 0x63, 0x64]  // SOFTWARE "abcd" after MI
        bytes[3] += 8
        let received = try parse(bytes)
        XCTAssertEqual(received.message.attributes.count, 2)
        XCTAssertTrue(received.isIntegrityValid(key: key))
    }

    func testHostileInput() {
        func fails(_ bytes: [UInt8], _ expected: STUNParseError, line: UInt = #line) {
            XCTAssertThrowsError(try parse(bytes), line: line) { XCTAssertEqual($0 as? STUNParseError, expected, line: line) }
        }
        var r = RFC5769.request
        fails(Array(r.prefix(19)), .truncated(needed: 20, have: 19))
        fails(Array(r.prefix(50)), .truncated(needed: 108, have: 50))
        r[0] = 0x80
        fails(r, .notSTUN(firstByte: 0x80))
        r = RFC5769.request
        r[4] = 0
        fails(r, .badMagicCookie(0x0012_a442))
        r = RFC5769.request
        r[3] = 0x57
        fails(r, .badLength(0x57))
        r = RFC5769.request
        r[23] = 0x60  // SOFTWARE claims 96 bytes
        fails(r, .attributeOverrun(type: .software, length: 0x60, remaining: 0x54))
        r = RFC5769.request
        r[43] = 0x05  // PRIORITY of 5 bytes
        fails(r, .badAttributeLength(type: .priority, length: 5))
        // Bad address family in XOR-MAPPED-ADDRESS.
        var v4 = RFC5769.ipv4Response
        v4[41] = 3
        fails(v4, .malformedAttribute(type: .xorMappedAddress, reason: "address family 3"))
        // Every prefix and every single-byte corruption of the vectors is handled without a trap.
        for vector in [RFC5769.request, RFC5769.ipv4Response, RFC5769.ipv6Response, RFC5769.longTermRequest] {
            for n in 0..<vector.count { _ = try? parse(Array(vector.prefix(n))) }
            for i in vector.indices {
                var v = vector
                v[i] ^= 0xFF
                if let m = try? parse(v) {
                    _ = m.isIntegrityValid(key: key)
                    _ = m.isFingerprintValid
                }
            }
        }
    }

    func testFingerprintDetectsCorruption() throws {
        var r = RFC5769.request
        r[25] ^= 1  // inside SOFTWARE
        let received = try parse(r)
        XCTAssertFalse(received.isFingerprintValid)
        XCTAssertFalse(received.isIntegrityValid(key: key))
    }

    func testLooksLikeSTUN() {
        XCTAssertTrue(STUNMessage.looksLikeSTUN(ByteBuffer(bytes: RFC5769.request)))
        XCTAssertFalse(STUNMessage.looksLikeSTUN(ByteBuffer(bytes: [0x80] + Array(RFC5769.request.dropFirst()))))
        XCTAssertFalse(STUNMessage.looksLikeSTUN(ByteBuffer(bytes: [0x16, 0xfe, 0xfd])))
    }
}

final class TransportAddressTests: XCTestCase {
    func testText() {
        XCTAssertEqual(TransportAddress("192.0.2.1:32853")?.description, "192.0.2.1:32853")
        XCTAssertEqual(TransportAddress("[2001:DB8:0:0:1:0:0:1]:9")?.description, "[2001:db8::1:0:0:1]:9")
        XCTAssertEqual(TransportAddress("[::1]:1")?.ip, .v6(high: 0, low: 1))
        XCTAssertEqual(TransportAddress("[::]:1")?.description, "[::]:1")
        XCTAssertEqual(TransportAddress("[::ffff:192.0.2.9]:5")?.ip.bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 9])
        XCTAssertEqual(TransportAddress("[1:0:2:0:3:0:4:0]:5")?.description, "[1:0:2:0:3:0:4:0]:5")
        for bad in ["1.2.3:4", "1.2.3.256:4", "1.2.3.4", "1.2.3.4:65536", "::1:5", "[1:::2]:3", "[1:2:3:4:5:6:7:8:9]:1",
                    "[12345::]:1", "[::1]", "[::1]x", "", ":", "[1::2::3]:4", "01.2.3.4444:1"] {
            XCTAssertNil(TransportAddress(bad), bad)
        }
    }

    func testSocketAddress() throws {
        let a = TransportAddress("[2001:db8::7]:3478")!
        XCTAssertEqual(TransportAddress(try a.socketAddress()), a)
        let b = TransportAddress("10.0.0.1:5000")!
        XCTAssertEqual(TransportAddress(try b.socketAddress()), b)
    }
}
