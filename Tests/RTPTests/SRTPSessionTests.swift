import NIOCore
import XCTest
@testable import RTP

final class SRTPSessionTests: XCTestCase {
    /// An RTP packet: V=2, PT 96, the given sequence number, timestamp 0x11223344, SSRC, payload.
    static func rtp(sequence: UInt16, ssrc: UInt32 = 0x1234_5678, payload: [UInt8] = Array(repeating: 0xab, count: 40)) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0x80))
        buffer.writeInteger(UInt8(96))
        buffer.writeInteger(sequence)
        buffer.writeInteger(UInt32(0x1122_3344))
        buffer.writeInteger(ssrc)
        buffer.writeBytes(payload)
        return buffer
    }

    /// An RTCP receiver report with no blocks: V=2 RC=0, PT 201, length 1 (8 octets), sender SSRC.
    static func rtcp(ssrc: UInt32 = 0x1234_5678) -> ByteBuffer {
        ByteBuffer(bytes: [0x80, 201, 0x00, 0x01] + withUnsafeBytes(of: ssrc.bigEndian, Array.init))
    }

    /// Sessions for both sides of a real handshake with `profile`.
    static func sessions(_ profile: SRTPProfile) throws -> (client: SRTPSession, server: SRTPSession) {
        var configuration = DTLSEndpoint.Configuration()
        configuration.srtpProfiles = [profile]
        let pair = try DTLSPair(client: configuration, server: configuration)
        pair.handshake()
        let clientKeys = try XCTUnwrap(pair.clientKeys), serverKeys = try XCTUnwrap(pair.serverKeys)
        return (try SRTPSession(keyingMaterial: clientKeys), try SRTPSession(keyingMaterial: serverKeys))
    }

    func testRTPAndRTCPRoundTripBetweenDerivedSessions() throws {
        for profile in SRTPProfile.allCases {
            let (client, server) = try Self.sessions(profile)
            XCTAssertEqual(client.profile, profile)
            for (sender, receiver) in [(client, server), (server, client)] {
                let packet = Self.rtp(sequence: 7)
                let protected = try sender.protectRTP(packet)
                XCTAssertEqual(protected.readableBytes, packet.readableBytes + profile.rtpOverhead, "\(profile)")
                XCTAssertEqual(protected.bytes.prefix(12), packet.bytes.prefix(12), "the header stays clear")
                XCTAssertNotEqual(protected.bytes.dropFirst(12).prefix(40), packet.bytes.dropFirst(12), "the payload is not")
                XCTAssertEqual(try receiver.unprotectRTP(protected), packet, "\(profile)")

                let report = Self.rtcp()
                let protectedReport = try sender.protectRTCP(report)
                XCTAssertEqual(protectedReport.readableBytes, report.readableBytes + profile.rtcpOverhead, "\(profile)")
                XCTAssertEqual(try receiver.unprotectRTCP(protectedReport), report, "\(profile)")
            }
            // A session does not accept its own output (the directions have different keys).
            XCTAssertThrowsError(try client.unprotectRTP(try client.protectRTP(Self.rtp(sequence: 8))))
        }
    }

    func testTamperedPacketFailsAuthentication() throws {
        for profile in SRTPProfile.allCases {
            let (client, server) = try Self.sessions(profile)
            var protected = try client.protectRTP(Self.rtp(sequence: 1))
            let index = protected.readerIndex + 20
            protected.setInteger(protected.getInteger(at: index, as: UInt8.self)! ^ 0x01, at: index)
            XCTAssertThrowsError(try server.unprotectRTP(protected)) { error in
                XCTAssertEqual(error as? SRTPError, .authenticationFailed, "\(profile)")
            }
            var report = try client.protectRTCP(Self.rtcp())
            report.setInteger(report.getInteger(at: 9, as: UInt8.self)! ^ 0x80, at: 9)
            XCTAssertThrowsError(try server.unprotectRTCP(report)) { error in
                XCTAssertEqual(error as? SRTPError, .authenticationFailed, "\(profile)")
            }
            // The genuine packet still passes after the forgery.
            XCTAssertNoThrow(try server.unprotectRTP(try client.protectRTP(Self.rtp(sequence: 2))))
        }
    }

    func testReplayIsRefused() throws {
        for profile in SRTPProfile.allCases {
            let (client, server) = try Self.sessions(profile)
            let protected = try client.protectRTP(Self.rtp(sequence: 100))
            XCTAssertNoThrow(try server.unprotectRTP(protected))
            XCTAssertThrowsError(try server.unprotectRTP(protected)) { error in
                XCTAssertEqual(error as? SRTPError, .replayed, "\(profile)")
            }
            let report = try client.protectRTCP(Self.rtcp())
            XCTAssertNoThrow(try server.unprotectRTCP(report))
            XCTAssertThrowsError(try server.unprotectRTCP(report)) { error in
                XCTAssertEqual(error as? SRTPError, .replayed, "\(profile)")
            }
            // Protecting the same sequence number twice is refused too (allow_repeat_tx is off).
            XCTAssertThrowsError(try client.protectRTP(Self.rtp(sequence: 100))) { error in
                XCTAssertEqual(error as? SRTPError, .replayed, "\(profile)")
            }
        }
    }

    func testPacketsOlderThanTheReplayWindowAreRefused() throws {
        let (client, server) = try Self.sessions(.aes128CmHmacSha1_80)
        let old = try client.protectRTP(Self.rtp(sequence: 1))
        for sequence in UInt16(2)...1100 {
            _ = try client.protectRTP(Self.rtp(sequence: sequence))
        }
        XCTAssertNoThrow(try server.unprotectRTP(try client.protectRTP(Self.rtp(sequence: 1101))))
        XCTAssertThrowsError(try server.unprotectRTP(old)) { error in
            XCTAssertEqual(error as? SRTPError, .tooOld)
        }
    }

    func testSequenceNumberWrapKeepsDecrypting() throws {
        let (client, server) = try Self.sessions(.aeadAes128Gcm)
        for sequence: UInt16 in [65_533, 65_534, 65_535, 0, 1, 2] {
            let packet = Self.rtp(sequence: sequence)
            XCTAssertEqual(try server.unprotectRTP(try client.protectRTP(packet)), packet, "seq \(sequence)")
        }
    }

    /// libsrtp's own known answer (test/srtp_driver.c, srtp_validate): AES_CM_128_HMAC_SHA1_80 with
    /// master key e1f97a0d..., salt 0ec675ad..., SSRC 0xcafebabe, sequence 0x1234, ROC 0.
    func testKnownAnswerAESCM() throws {
        let key: [UInt8] = [0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39]
        let salt: [UInt8] = [0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6]
        let rtpPlain: [UInt8] = [0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe]
            + [UInt8](repeating: 0xab, count: 16)
        let rtpCipher: [UInt8] = [
            0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x4e, 0x55, 0xdc, 0x4c,
            0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d, 0x24, 0x02, 0xb7, 0x8d, 0x6a, 0xcc,
            0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb,
        ]
        // An RTCP sender report header (PT 200, length 11) with SSRC 0xcafebabe and 16 octets of 0xab.
        let rtcpPlain: [UInt8] = [0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe] + [UInt8](repeating: 0xab, count: 16)
        // Encrypted body, then E=1 with SRTCP index 1 (80 00 00 01), then the 80-bit tag.
        let rtcpCipher: [UInt8] = [
            0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28, 0x03, 0x5b, 0xe4, 0x87, 0xb9, 0xbd,
            0xbe, 0xf8, 0x90, 0x41, 0xf9, 0x77, 0xa5, 0xa8, 0x80, 0x00, 0x00, 0x01, 0x99, 0x3e, 0x08, 0xcd,
            0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98,
        ]
        let sender = try SRTPSession(profile: .aes128CmHmacSha1_80, localKey: key, localSalt: salt, remoteKey: key, remoteSalt: salt)
        let receiver = try SRTPSession(profile: .aes128CmHmacSha1_80, localKey: key, localSalt: salt, remoteKey: key, remoteSalt: salt)
        XCTAssertEqual(try sender.protectRTP(ByteBuffer(bytes: rtpPlain)).bytes, rtpCipher)
        XCTAssertEqual(try receiver.unprotectRTP(ByteBuffer(bytes: rtpCipher)).bytes, rtpPlain)
        XCTAssertEqual(try sender.protectRTCP(ByteBuffer(bytes: rtcpPlain)).bytes, rtcpCipher)
        XCTAssertEqual(try receiver.unprotectRTCP(ByteBuffer(bytes: rtcpCipher)).bytes, rtcpPlain)
    }

    func testShortAndOversizedPacketsAreRefusedBeforeLibsrtp() throws {
        let (client, server) = try Self.sessions(.aeadAes128Gcm)
        XCTAssertThrowsError(try server.unprotectRTP(ByteBuffer(bytes: [0x80, 96, 0, 1]))) { error in
            XCTAssertEqual(error as? SRTPError, .truncated(needed: 12, have: 4))
        }
        XCTAssertThrowsError(try server.unprotectRTCP(ByteBuffer(bytes: [0x80, 201]))) { error in
            XCTAssertEqual(error as? SRTPError, .truncated(needed: 8, have: 2))
        }
        XCTAssertThrowsError(try client.protectRTP(ByteBuffer(repeating: 0x80, count: 70_000))) { error in
            XCTAssertEqual(error as? SRTPError, .tooLarge(70_000))
        }
        // A header that claims more CSRCs than the packet holds (CC = 15, 12 octets).
        XCTAssertThrowsError(try client.protectRTP(ByteBuffer(bytes: [0x8f, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])))
        XCTAssertThrowsError(try server.unprotectRTP(ByteBuffer(bytes: [0x8f, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 16))))
        // A buffer whose reader index is not zero is read from its reader index.
        var offset = ByteBuffer(bytes: [0xff, 0xff, 0xff])
        offset.writeImmutableBuffer(Self.rtp(sequence: 9))
        offset.moveReaderIndex(forwardBy: 3)
        XCTAssertEqual(try server.unprotectRTP(try client.protectRTP(offset)), Self.rtp(sequence: 9))
    }

    func testStreamCountIsBounded() throws {
        let keys = try XCTUnwrap(try DTLSPairKeys.make())
        let sender = try SRTPSession(keyingMaterial: keys.client, maximumStreams: 2)
        let receiver = try SRTPSession(keyingMaterial: keys.server, maximumStreams: 2)
        for ssrc: UInt32 in [1, 2] {
            XCTAssertNoThrow(try receiver.unprotectRTP(try sender.protectRTP(Self.rtp(sequence: 1, ssrc: ssrc))))
        }
        XCTAssertThrowsError(try sender.protectRTP(Self.rtp(sequence: 1, ssrc: 3))) { error in
            XCTAssertEqual(error as? SRTPError, .tooManyStreams(limit: 2))
        }
        // Known SSRCs keep working; a forged packet of a new SSRC does not use up a slot.
        let unlimited = try SRTPSession(keyingMaterial: keys.client)
        XCTAssertThrowsError(try receiver.unprotectRTP(try unlimited.protectRTP(Self.rtp(sequence: 1, ssrc: 3)))) { error in
            XCTAssertEqual(error as? SRTPError, .tooManyStreams(limit: 2))
        }
        XCTAssertNoThrow(try receiver.unprotectRTP(try sender.protectRTP(Self.rtp(sequence: 2, ssrc: 1))))
        let fresh = try SRTPSession(keyingMaterial: keys.server, maximumStreams: 1)
        XCTAssertThrowsError(try fresh.unprotectRTP(Self.rtp(sequence: 1, ssrc: 9, payload: Array(repeating: 0, count: 20))))
        XCTAssertNoThrow(try fresh.unprotectRTP(try unlimited.protectRTP(Self.rtp(sequence: 5, ssrc: 4))))
    }

    func testWrongKeyLengthsAreRefused() {
        XCTAssertThrowsError(try SRTPSession(profile: .aeadAes128Gcm, localKey: Array(repeating: 0, count: 16),
                                             localSalt: Array(repeating: 0, count: 14), remoteKey: Array(repeating: 0, count: 16),
                                             remoteSalt: Array(repeating: 0, count: 12))) { error in
            XCTAssertEqual(error as? SRTPError, .invalidKeyLength(profile: .aeadAes128Gcm, key: 16, salt: 14))
        }
    }

    func testErrorsReadWell() {
        XCTAssertEqual("\(SRTPError.library(status: 13, operation: "srtp_unprotect"))",
                       "srtp_unprotect failed: srtp_err_status_no_ctx (13)")
        XCTAssertEqual("\(SRTPError.replayed)", "SRTP packet replayed (index already received)")
    }
}

/// Keys of one handshake, for tests that need several sessions with the same keys.
enum DTLSPairKeys {
    static func make() throws -> (client: SRTPKeyingMaterial, server: SRTPKeyingMaterial)? {
        let pair = try DTLSPair()
        pair.handshake()
        guard let client = pair.clientKeys, let server = pair.serverKeys else { return nil }
        return (client, server)
    }
}
