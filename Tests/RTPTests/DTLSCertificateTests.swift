import NIOCore
import XCTest
@testable import RTP

final class DTLSCertificateTests: XCTestCase {
    func testGeneratedCertificateHasASHA256Fingerprint() throws {
        let certificate = try TestCertificates.client.get()
        let fingerprint = certificate.fingerprint
        XCTAssertEqual(fingerprint.algorithm, .sha256)
        XCTAssertEqual(fingerprint.digest.count, 32)
        // "sha-256 " then 32 hex pairs joined by 31 colons.
        XCTAssertEqual(fingerprint.sdpValue.count, 8 + 32 * 2 + 31)
        XCTAssertTrue(fingerprint.sdpValue.hasPrefix("sha-256 "))
        XCTAssertEqual(try DTLSFingerprint(sdpValue: fingerprint.sdpValue), fingerprint)
        XCTAssertEqual(certificate.fingerprint(.sha512)?.digest.count, 64)
    }

    func testEachCertificateIsNew() throws {
        XCTAssertNotEqual(try TestCertificates.client.get().fingerprint, try TestCertificates.server.get().fingerprint)
    }

    func testPEMRoundTripKeepsTheFingerprint() throws {
        let certificate = try TestCertificates.server.get()
        let pem = try certificate.pem
        XCTAssertTrue(pem.contains("-----BEGIN PRIVATE KEY-----"))
        XCTAssertTrue(pem.contains("-----BEGIN CERTIFICATE-----"))
        let loaded = try DTLSCertificate(pem: pem)
        XCTAssertEqual(loaded.fingerprint, certificate.fingerprint)
        // Certificate first, then key, works as well.
        let parts = pem.components(separatedBy: "-----BEGIN CERTIFICATE-----")
        let swapped = "-----BEGIN CERTIFICATE-----" + parts[1] + parts[0]
        XCTAssertEqual(try DTLSCertificate(pem: swapped).fingerprint, certificate.fingerprint)
    }

    func testLoadedCertificateCompletesAHandshake() throws {
        let loaded = try DTLSCertificate(pem: try TestCertificates.server.get().pem)
        let client = try TestCertificates.client.get()
        let serverEndpoint = try DTLSEndpoint(role: .server, certificate: loaded, remoteFingerprint: client.fingerprint)
        let clientEndpoint = try DTLSEndpoint(role: .client, certificate: client, remoteFingerprint: loaded.fingerprint)
        var toServer = clientEndpoint.start(now: 0).datagrams
        for _ in 0..<10 where clientEndpoint.state != .connected {
            var toClient: [ByteBuffer] = []
            for datagram in toServer { toClient += serverEndpoint.handle(datagram: datagram, now: 0).datagrams }
            toServer = []
            for datagram in toClient { toServer += clientEndpoint.handle(datagram: datagram, now: 0).datagrams }
        }
        XCTAssertEqual(clientEndpoint.state, .connected)
        XCTAssertEqual(serverEndpoint.state, .connected)
    }

    func testRefusesBadPEM() throws {
        XCTAssertThrowsError(try DTLSCertificate(pem: "")) { error in
            guard case .invalidPEM(let openSSL) = error as? DTLSCertificateError else { return XCTFail("\(error)") }
            XCTAssertEqual(openSSL.operation, "PEM_read_bio_PrivateKey")
            XCTAssertFalse(openSSL.messages.isEmpty, "OpenSSL's reason is carried")
        }
        let pem = try TestCertificates.server.get().pem
        let keyOnly = pem.components(separatedBy: "-----BEGIN CERTIFICATE-----")[0]
        XCTAssertThrowsError(try DTLSCertificate(pem: keyOnly)) { error in
            guard case .invalidPEM(let openSSL) = error as? DTLSCertificateError else { return XCTFail("\(error)") }
            XCTAssertEqual(openSSL.operation, "PEM_read_bio_X509")
        }
    }

    func testRefusesAKeyOfAnotherCertificate() throws {
        let key = try TestCertificates.server.get().pem.components(separatedBy: "-----BEGIN CERTIFICATE-----")[0]
        let otherCertificate = "-----BEGIN CERTIFICATE-----"
            + (try TestCertificates.other.get().pem.components(separatedBy: "-----BEGIN CERTIFICATE-----")[1])
        XCTAssertThrowsError(try DTLSCertificate(pem: key + otherCertificate)) { error in
            guard case .keyMismatch = error as? DTLSCertificateError else { return XCTFail("\(error)") }
        }
    }
}
