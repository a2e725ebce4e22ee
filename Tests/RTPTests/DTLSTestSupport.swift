import Foundation
import NIOCore
import XCTest
@testable import RTP

/// Certificates made once for the whole test run (key generation is the slow part).
enum TestCertificates {
    static let client = Result { try DTLSCertificate() }
    static let server = Result { try DTLSCertificate() }
    static let other = Result { try DTLSCertificate() }
}

/// Two DTLSEndpoints joined in memory: datagrams are shuttled between them, optionally dropped, on a
/// fake clock.
final class DTLSPair {
    let client: DTLSEndpoint
    let server: DTLSEndpoint
    var now: Int64 = 1_000_000
    private(set) var clientEvents: [DTLSEvent] = []
    private(set) var serverEvents: [DTLSEvent] = []
    private(set) var clientTimeout: Int64?
    private(set) var serverTimeout: Int64?
    /// Every datagram each side sent, in order (for MTU checks and the fuzz seed).
    private(set) var sentByClient: [ByteBuffer] = []
    private(set) var sentByServer: [ByteBuffer] = []
    private var toServer: [ByteBuffer] = []
    private var toClient: [ByteBuffer] = []
    /// Drops datagrams for which this returns true (fromClient, index among that side's datagrams).
    var drop: (Bool, Int) -> Bool = { _, _ in false }

    init(client: DTLSEndpoint.Configuration = .init(), server: DTLSEndpoint.Configuration = .init(),
         clientExpects: DTLSFingerprint? = nil, serverExpects: DTLSFingerprint? = nil) throws {
        let clientCertificate = try TestCertificates.client.get()
        let serverCertificate = try TestCertificates.server.get()
        self.client = try DTLSEndpoint(role: .client, certificate: clientCertificate,
                                       remoteFingerprint: clientExpects ?? serverCertificate.fingerprint,
                                       configuration: client)
        self.server = try DTLSEndpoint(role: .server, certificate: serverCertificate,
                                       remoteFingerprint: serverExpects ?? clientCertificate.fingerprint,
                                       configuration: server)
    }

    func absorb(_ output: DTLSOutput, fromClient: Bool) {
        for datagram in output.datagrams {
            let index = fromClient ? sentByClient.count : sentByServer.count
            if fromClient { sentByClient.append(datagram) } else { sentByServer.append(datagram) }
            if drop(fromClient, index) { continue }
            if fromClient { toServer.append(datagram) } else { toClient.append(datagram) }
        }
        if fromClient { clientTimeout = output.timeout } else { serverTimeout = output.timeout }
        if let event = output.event {
            if fromClient { clientEvents.append(event) } else { serverEvents.append(event) }
        }
    }

    /// Delivers queued datagrams until none are left (bounded).
    func pump() {
        for _ in 0..<200 {
            if !toServer.isEmpty {
                let datagram = toServer.removeFirst()
                absorb(server.handle(datagram: datagram, now: now), fromClient: false)
            } else if !toClient.isEmpty {
                let datagram = toClient.removeFirst()
                absorb(client.handle(datagram: datagram, now: now), fromClient: true)
            } else {
                return
            }
        }
        XCTFail("datagrams still flowing after 200 deliveries")
    }

    func handshake() {
        absorb(server.start(now: now), fromClient: false)
        absorb(client.start(now: now), fromClient: true)
        pump()
    }

    var clientKeys: SRTPKeyingMaterial? { keys(clientEvents) }
    var serverKeys: SRTPKeyingMaterial? { keys(serverEvents) }

    private func keys(_ events: [DTLSEvent]) -> SRTPKeyingMaterial? {
        for case .connected(let keys) in events { return keys }
        return nil
    }

    static func failure(_ events: [DTLSEvent]) -> DTLSError? {
        for case .failed(let error) in events { return error }
        return nil
    }
}

extension ByteBuffer {
    var bytes: [UInt8] { getBytes(at: readerIndex, length: readableBytes) ?? [] }
}
