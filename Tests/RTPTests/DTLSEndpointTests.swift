import Foundation
import NIOCore
import XCTest
@testable import RTP

final class DTLSEndpointTests: XCTestCase {
    func testHandshakeDerivesMatchingKeys() throws {
        let pair = try DTLSPair()
        pair.handshake()
        let client = try XCTUnwrap(pair.clientKeys, "client events: \(pair.clientEvents)")
        let server = try XCTUnwrap(pair.serverKeys, "server events: \(pair.serverEvents)")
        XCTAssertEqual(pair.client.state, .connected)
        XCTAssertEqual(pair.server.state, .connected)
        XCTAssertEqual(client.profile, .aeadAes128Gcm)
        XCTAssertEqual(server.profile, .aeadAes128Gcm)
        XCTAssertEqual(client.localMasterKey, server.remoteMasterKey)
        XCTAssertEqual(client.localMasterSalt, server.remoteMasterSalt)
        XCTAssertEqual(client.remoteMasterKey, server.localMasterKey)
        XCTAssertEqual(client.remoteMasterSalt, server.localMasterSalt)
        XCTAssertEqual(client.localMasterKey.count, 16)
        XCTAssertEqual(client.localMasterSalt.count, 12)
        XCTAssertNotEqual(client.localMasterKey, client.remoteMasterKey)
        XCTAssertEqual(pair.client.keyingMaterial, client)
        XCTAssertFalse("\(client)".contains("\(client.localMasterKey)"), "keys stay out of descriptions")
        // Connected, nothing left to retransmit on the client.
        XCTAssertNil(pair.clientTimeout)
    }

    func testEveryDatagramFitsTheMTUAndStartsWithADTLSRecord() throws {
        var small = DTLSEndpoint.Configuration()
        small.mtu = 300
        for configuration in [DTLSEndpoint.Configuration(), small] {
            let pair = try DTLSPair(client: configuration, server: configuration)
            pair.handshake()
            XCTAssertNotNil(pair.clientKeys)
            for datagram in pair.sentByClient + pair.sentByServer {
                XCTAssertLessThanOrEqual(datagram.readableBytes, configuration.mtu)
                // RFC 7983: DTLS is 20...63; handshake (22), change_cipher_spec (20).
                XCTAssertTrue((20...63).contains(datagram.bytes[0]))
            }
            if configuration.mtu == 300 {
                XCTAssertGreaterThan(pair.sentByServer.count, 3, "the server's flight is fragmented")
            }
        }
    }

    func testClientHelloIsDTLS12WithUseSRTP() throws {
        let pair = try DTLSPair()
        pair.handshake()
        let hello = try XCTUnwrap(pair.sentByClient.first).bytes
        XCTAssertEqual(hello[0], 22, "handshake record")
        // OpenSSL sends the first ClientHello in a DTLS 1.0 record (RFC 6347 section 4.1 allows any
        // version there); the client_version is what counts.
        XCTAssertEqual(Array(hello[1...2]), [0xfe, 0xff])
        XCTAssertEqual(hello[13], 1, "client_hello")
        // client_version (after the 13-octet record header and 12-octet handshake header) is DTLS 1.2.
        XCTAssertEqual(Array(hello[25...26]), [0xfe, 0xfd])
        // The use_srtp extension (14) with both profiles, GCM first: 00 0e, length, 00 04 00 07 00 01 00.
        XCTAssertNotNil(Self.find([0x00, 0x0e, 0x00, 0x07, 0x00, 0x04, 0x00, 0x07, 0x00, 0x01, 0x00], in: hello))
        if let directory = ProcessInfo.processInfo.environment["RTCBOX_FUZZ_SEED_DIR"] {
            // Regenerates the FuzzDTLS seed: RTCBOX_FUZZ_SEED_DIR=fuzz/corpus/FuzzDTLS swift test --filter ...
            try Data(hello).write(to: URL(fileURLWithPath: directory).appendingPathComponent("client-hello.bin"))
        }
    }

    func testSelectedProfileFollowsTheServersOrder() throws {
        let gcm = SRTPProfile.aeadAes128Gcm, cm = SRTPProfile.aes128CmHmacSha1_80
        let cases: [(client: [SRTPProfile], server: [SRTPProfile], selected: SRTPProfile)] = [
            ([gcm, cm], [gcm, cm], gcm),
            ([cm, gcm], [gcm, cm], gcm),
            ([gcm, cm], [cm, gcm], cm),
            ([cm], [gcm, cm], cm),
            ([gcm, cm], [cm], cm),
        ]
        for (clientProfiles, serverProfiles, selected) in cases {
            var client = DTLSEndpoint.Configuration(), server = DTLSEndpoint.Configuration()
            client.srtpProfiles = clientProfiles
            server.srtpProfiles = serverProfiles
            let pair = try DTLSPair(client: client, server: server)
            pair.handshake()
            XCTAssertEqual(pair.clientKeys?.profile, selected, "\(clientProfiles) / \(serverProfiles)")
            XCTAssertEqual(pair.serverKeys?.profile, selected, "\(clientProfiles) / \(serverProfiles)")
            XCTAssertEqual(pair.clientKeys?.localMasterSalt.count, selected.masterSaltLength)
        }
    }

    func testNoCommonProfileFails() throws {
        var client = DTLSEndpoint.Configuration(), server = DTLSEndpoint.Configuration()
        client.srtpProfiles = [.aeadAes128Gcm]
        server.srtpProfiles = [.aes128CmHmacSha1_80]
        let pair = try DTLSPair(client: client, server: server)
        pair.handshake()
        XCTAssertEqual(DTLSPair.failure(pair.serverEvents), .noSRTPProfile)
        XCTAssertEqual(pair.server.state, .failed)
        XCTAssertNil(pair.clientKeys)
        XCTAssertNil(pair.serverKeys)
    }

    func testLostFirstFlightIsRetransmittedOnTimeout() throws {
        // OpenSSL's own timer runs on the wall clock, so the test keeps it short and waits it out;
        // the endpoint's deadlines are on the fake clock.
        var configuration = DTLSEndpoint.Configuration()
        configuration.initialRetransmitTimeout = 50_000
        let pair = try DTLSPair(client: configuration, server: configuration)
        pair.drop = { fromClient, index in fromClient && index == 0 }  // the ClientHello is lost
        let start = pair.now
        pair.absorb(pair.server.start(now: pair.now), fromClient: false)
        pair.absorb(pair.client.start(now: pair.now), fromClient: true)
        pair.pump()
        XCTAssertEqual(pair.sentByClient.count, 1)
        XCTAssertTrue(pair.clientEvents.isEmpty && pair.serverEvents.isEmpty)
        let deadline = try XCTUnwrap(pair.clientTimeout)
        XCTAssertGreaterThan(deadline, start + 30_000)
        XCTAssertLessThanOrEqual(deadline, start + 50_000)
        XCTAssertNil(pair.serverTimeout, "a server waiting for a ClientHello runs no timer")

        // Before the deadline: nothing.
        pair.now = deadline - 1
        let early = pair.client.handleTimeout(now: pair.now)
        XCTAssertTrue(early.datagrams.isEmpty)
        XCTAssertEqual(early.timeout, deadline)
        XCTAssertEqual(pair.client.handle(datagram: ByteBuffer(), now: pair.now).timeout, deadline,
                       "an ignored datagram leaves the timer alone")

        Thread.sleep(forTimeInterval: 0.06)
        pair.now = deadline
        let retransmission = pair.client.handleTimeout(now: pair.now)
        XCTAssertEqual(retransmission.datagrams.count, 1)
        XCTAssertEqual(retransmission.datagrams.first?.getInteger(at: 13, as: UInt8.self), 1, "a ClientHello again")
        // The timer doubled (RFC 6347 section 4.2.4.1).
        let next = try XCTUnwrap(retransmission.timeout)
        XCTAssertGreaterThan(next - pair.now, 60_000)
        XCTAssertLessThanOrEqual(next - pair.now, 100_000)
        pair.absorb(retransmission, fromClient: true)
        pair.pump()
        XCTAssertNotNil(pair.clientKeys)
        XCTAssertEqual(pair.clientKeys?.localMasterKey, pair.serverKeys?.remoteMasterKey)
    }

    func testLostFinalFlightIsRecoveredByTheClientsRetransmission() throws {
        var configuration = DTLSEndpoint.Configuration()
        configuration.initialRetransmitTimeout = 50_000
        let pair = try DTLSPair(client: configuration, server: configuration)
        // Drop everything the server sends after its first flight once: its ChangeCipherSpec + Finished.
        var serverFlights = 0
        pair.drop = { fromClient, _ in
            guard !fromClient else { return false }
            serverFlights += 1
            return serverFlights > 1 && serverFlights <= 2
        }
        pair.handshake()
        XCTAssertNotNil(pair.serverKeys, "the server completes on sending its last flight")
        XCTAssertNil(pair.clientKeys)
        let deadline = try XCTUnwrap(pair.clientTimeout)
        Thread.sleep(forTimeInterval: 0.06)
        pair.now = deadline
        pair.absorb(pair.client.handleTimeout(now: pair.now), fromClient: true)
        pair.pump()
        XCTAssertEqual(pair.clientKeys?.localMasterKey, pair.serverKeys?.remoteMasterKey)
    }

    func testWrongFingerprintFailsTheClient() throws {
        let wrong = try TestCertificates.other.get().fingerprint
        let pair = try DTLSPair(clientExpects: wrong)
        pair.handshake()
        let actual = try TestCertificates.server.get().fingerprint
        XCTAssertEqual(DTLSPair.failure(pair.clientEvents), .fingerprintMismatch(expected: wrong, actual: actual))
        XCTAssertEqual(pair.client.state, .failed)
        XCTAssertNil(pair.client.keyingMaterial)
        XCTAssertNil(pair.clientKeys)
        // The client told the server (close_notify).
        XCTAssertEqual(pair.serverEvents.last, .closed)
    }

    func testWrongFingerprintFailsTheServer() throws {
        let wrong = try TestCertificates.other.get().fingerprint
        let pair = try DTLSPair(serverExpects: wrong)
        pair.handshake()
        guard case .fingerprintMismatch(wrong, _) = DTLSPair.failure(pair.serverEvents) else {
            return XCTFail("server events: \(pair.serverEvents)")
        }
        XCTAssertNil(pair.serverKeys)
        XCTAssertNil(pair.server.keyingMaterial)
    }

    func testOtherHashFunctionsAreChecked() throws {
        let pair = try DTLSPair(clientExpects: try TestCertificates.server.get().fingerprint(.sha384),
                                serverExpects: try TestCertificates.client.get().fingerprint(.sha1))
        pair.handshake()
        XCTAssertNotNil(pair.clientKeys)
        XCTAssertNotNil(pair.serverKeys)
    }

    func testCloseNotifyIsReported() throws {
        let pair = try DTLSPair()
        pair.handshake()
        XCTAssertNotNil(pair.serverKeys)
        let close = pair.client.close(now: pair.now)
        XCTAssertEqual(pair.client.state, .closed)
        XCTAssertEqual(close.datagrams.count, 1)
        XCTAssertEqual(close.datagrams.first?.getInteger(at: 0, as: UInt8.self), 21, "an alert record")
        XCTAssertNil(close.timeout)
        pair.absorb(close, fromClient: true)
        pair.pump()
        XCTAssertEqual(pair.serverEvents.last, .closed)
        XCTAssertEqual(pair.server.state, .closed)
        // A closed endpoint ignores everything.
        XCTAssertTrue(pair.server.handle(datagram: close.datagrams[0], now: pair.now).datagrams.isEmpty)
    }

    func testGarbageAndForgedRecordsDoNotDisturbTheHandshake() throws {
        let pair = try DTLSPair()
        pair.absorb(pair.server.start(now: pair.now), fromClient: false)
        for junk in [[0x16], [0x16, 0xfe, 0xfd] + [UInt8](repeating: 0, count: 10) + [0xff, 0xff],
                     [UInt8](repeating: 0x17, count: 100), []] as [[UInt8]] {
            let output = pair.server.handle(datagram: ByteBuffer(bytes: junk), now: pair.now)
            XCTAssertNil(output.event, "junk \(junk.prefix(4)): \(String(describing: output.event))")
        }
        XCTAssertEqual(pair.server.state, .handshaking)
        pair.absorb(pair.client.start(now: pair.now), fromClient: true)
        pair.pump()
        XCTAssertNotNil(pair.clientKeys)
        XCTAssertNotNil(pair.serverKeys)
    }

    func testFatalAlertFromThePeerFailsTheHandshake() throws {
        // A fatal handshake_failure alert (2, 40) in an epoch-0 record, as a peer would send it.
        let pair = try DTLSPair()
        pair.absorb(pair.client.start(now: pair.now), fromClient: true)
        let alert: [UInt8] = [21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 40]
        let output = pair.client.handle(datagram: ByteBuffer(bytes: alert), now: pair.now)
        guard case .failed(.handshakeFailed(let error)) = output.event else {
            return XCTFail("\(String(describing: output.event))")
        }
        XCTAssertEqual(error.operation, "SSL_do_handshake")
        XCTAssertTrue(error.messages.joined().contains("alert handshake failure"), "\(error.messages)")
        XCTAssertNil(output.timeout)
    }

    func testConfigurationIsChecked() throws {
        let certificate = try TestCertificates.client.get()
        var bad = DTLSEndpoint.Configuration()
        bad.srtpProfiles = []
        XCTAssertThrowsError(try DTLSEndpoint(role: .client, certificate: certificate,
                                              remoteFingerprint: certificate.fingerprint, configuration: bad))
        bad = .init()
        bad.mtu = 100
        XCTAssertThrowsError(try DTLSEndpoint(role: .client, certificate: certificate,
                                              remoteFingerprint: certificate.fingerprint, configuration: bad))
        bad = .init()
        bad.initialRetransmitTimeout = 10_000
        XCTAssertThrowsError(try DTLSEndpoint(role: .client, certificate: certificate,
                                              remoteFingerprint: certificate.fingerprint, configuration: bad))
    }

    func testRecordPackerKeepsRecordsWholeWithinTheMTU() {
        // Three records: header (type 22, version fe fd, epoch 0, sequence n, length) + body.
        func record(_ sequence: UInt8, bodyLength: Int) -> [UInt8] {
            [22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, sequence, UInt8(bodyLength >> 8), UInt8(bodyLength & 0xff)]
                + [UInt8](repeating: sequence, count: bodyLength)
        }
        let a = record(1, bodyLength: 87), b = record(2, bodyLength: 87), c = record(3, bodyLength: 187)
        // 100 + 100 fit in 200; 200 (c) goes alone.
        XCTAssertEqual(DTLSRecordPacker.datagrams(records: ArraySlice(a + b + c), mtu: 200), [a + b, c])
        XCTAssertEqual(DTLSRecordPacker.datagrams(records: ArraySlice(a + b + c), mtu: 199), [a, b, c])
        XCTAssertEqual(DTLSRecordPacker.datagrams(records: ArraySlice(a + b + c), mtu: 1200), [a + b + c])
        // A truncated tail goes out as it is (never produced by OpenSSL).
        XCTAssertEqual(DTLSRecordPacker.datagrams(records: ArraySlice(a + [22, 0xfe]), mtu: 100), [a + [22, 0xfe]])
        XCTAssertEqual(DTLSRecordPacker.datagrams(records: [], mtu: 100), [])
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<$0 + needle.count]) == needle }
    }
}
