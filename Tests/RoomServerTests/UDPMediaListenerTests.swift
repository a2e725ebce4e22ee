import Foundation
import NIOCore
import NIOPosix
import RoomClient
import RTP
import XCTest

@testable import RoomServer

/// `serve --udp`: the one UDP media port, on 127.0.0.1 with real sockets. Datagrams are sent from a real
/// NIO UDP socket and what the port did with them is read back from `GET /metrics`. (The stub RTPPeer
/// connects nothing; the end-to-end test with the real one comes with it.)
final class UDPMediaListenerTests: XCTestCase {
    func udpServer(_ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> ServerHarness {
        try await ServerHarness {
            $0.udpHost = "127.0.0.1"
            $0.metricsHost = "127.0.0.1"
            configure(&$0)
        }
    }

    func testBindsAndAdvertisesTheBoundAddress() async throws {
        let h = try await udpServer()
        let bound = try XCTUnwrap(h.server.udpAddress)
        let port = try XCTUnwrap(bound.port)
        XCTAssertNotEqual(port, 0)
        XCTAssertEqual(h.server.udpCandidate, TransportAddress("127.0.0.1:\(port)"))
        XCTAssertEqual(h.server.udpMedia?.localFingerprint.algorithm, .sha256)
        await h.stop()
    }

    func testAdvertiseReplacesTheIPAndKeepsTheBoundPort() async throws {
        // A 1:1 NAT: bound to a private address, clients told the public one.
        let h = try await udpServer { $0.udpAdvertise = "203.0.113.5" }
        let port = try XCTUnwrap(h.server.udpAddress?.port)
        XCTAssertEqual(h.server.udpCandidate, TransportAddress("203.0.113.5:\(port)"))
        await h.stop()
    }

    func testTheWildcardNeedsAnAdvertisedAddress() throws {
        XCTAssertThrowsError(try UDPMediaListener.advertisedIP(host: "0.0.0.0", port: 7790, advertise: nil)) { error in
            XCTAssertEqual("\(error)", "--udp 0.0.0.0:7790 binds every address: add --udp-advertise IP, the address clients send media to")
        }
        XCTAssertThrowsError(try UDPMediaListener.advertisedIP(host: "::", port: 7790, advertise: nil))
        XCTAssertEqual(try UDPMediaListener.advertisedIP(host: "0.0.0.0", port: 7790, advertise: "198.51.100.1"), .v4(0xC633_6401))
        XCTAssertEqual(try UDPMediaListener.advertisedIP(host: "::", port: 7790, advertise: "198.51.100.1"), .v4(0xC633_6401),
                       "an IPv6 wildcard socket is dual stack")
        XCTAssertThrowsError(try UDPMediaListener.advertisedIP(host: "0.0.0.0", port: 7790, advertise: "2001:db8::1")) { error in
            XCTAssertEqual("\(error)", "--udp-advertise 2001:db8::1 is IPv6 but --udp 0.0.0.0:7790 is an IPv4 socket")
        }
        for bad in ["example.com", "0.0.0.0", "::", "1.2.3"] {
            XCTAssertThrowsError(try UDPMediaListener.advertisedIP(host: "0.0.0.0", port: 7790, advertise: bad)) { error in
                XCTAssertEqual(error as? UDPMediaListenerError, .badAdvertise(bad))
            }
        }
    }

    func testWhatNoSessionOwnsIsDroppedAndCountedByReason() async throws {
        let h = try await udpServer()
        let target = try XCTUnwrap(h.server.udpAddress)
        let sender = try await UDPSender.open()
        let request = try bindingRequest(username: "nosuch:cliU")
        var broken = request
        broken.moveWriterIndex(to: 24)  // the header announces attributes that are not there
        let response = try STUNMessage(messageClass: .successResponse, transactionID: .random()).serialized(fingerprint: true)
        let datagrams: [(ByteBuffer, String)] = [
            (ByteBuffer(bytes: [0xFF, 0xFE, 0xFD, 0xFC]), "unknown_kind"),
            (ByteBuffer(bytes: [70, 1, 2]), "unknown_kind"),
            (ByteBuffer(bytes: [22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), "unknown_source"),  // DTLS ClientHello record
            (ByteBuffer(bytes: [0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7]), "unknown_source"),     // RTP, PT 96
            (ByteBuffer(bytes: [0x80, 201, 0, 1, 0, 0, 0, 7]), "unknown_source"),                  // RTCP RR
            (broken, "malformed_stun"),
            (response, "stun_without_username"),
            (request, "unknown_ufrag"),
        ]
        for (datagram, _) in datagrams { try await sender.send(datagram, to: target) }
        let bytes = datagrams.reduce(0) { $0 + $1.0.readableBytes }
        let values = try await scrape(h) { $0["rtcbox_udp_datagrams_in_total"] == Double(datagrams.count) }
        XCTAssertEqual(values["rtcbox_udp_bytes_in_total"], Double(bytes))
        for reason in UDPSessionRouter<UInt64>.DropReason.allCases {
            let expected = datagrams.filter { $0.1 == reason.rawValue }.count
            XCTAssertEqual(values["rtcbox_udp_dropped_total{reason=\"\(reason.rawValue)\"}"], Double(expected), reason.rawValue)
        }
        XCTAssertEqual(values["rtcbox_udp_datagrams_out_total"] ?? 0, 0, "nothing answers a stranger")
        try await sender.close()
        await h.stop()
    }

    func testASessionAnswersItsUfragUntilItCloses() async throws {
        let h = try await udpServer()
        let listener = try XCTUnwrap(h.server.udpMedia)
        let target = try XCTUnwrap(h.server.udpAddress)
        let events = Recorder<RTPPeerEvent>()
        let session = try listener.add(serverParameters(), onFrames: { _ in }, onEvent: { events.append($0) })
        let sender = try await UDPSender.open()
        try await sender.send(try bindingRequest(username: "srvU:cliU"), to: target)
        try await sender.send(ByteBuffer(bytes: [0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7]), to: target)
        var values = try await scrape(h) { $0["rtcbox_udp_datagrams_in_total"] == 2 && $0["rtcbox_udp_datagrams_out_total"] == 1 }
        XCTAssertEqual(values["rtcbox_udp_sessions"], 1)
        XCTAssertEqual(values["rtcbox_udp_dropped_total{reason=\"unknown_ufrag\"}"], 0, "the session's ufrag found it")
        // The check was valid and nominated (USE-CANDIDATE): ICE-lite answered it and selected the sender, so
        // the RTP that followed from there reached the session too (which drops it: no DTLS yet).
        XCTAssertEqual(values["rtcbox_udp_dropped_total{reason=\"unknown_source\"}"], 0, "ICE selected the sender")
        XCTAssertEqual(session.statistics.datagramsIn, 2)
        XCTAssertEqual(session.statistics.datagramsOut, 1, "the binding success response")
        let stunBytes = try bindingRequest(username: "srvU:cliU").readableBytes
        XCTAssertEqual(session.statistics.bytesIn, stunBytes + 12)
        let sessions = await listener.sessionCount
        XCTAssertEqual(sessions, 1)
        let selected = events.all.first
        guard case .selectedAddress(_, nil)? = selected else { return XCTFail("first event \(String(describing: selected))") }

        session.close()
        try await waitUntil { events.all.last == .closed }
        let remaining = await listener.sessionCount
        XCTAssertEqual(remaining, 0, "a closed session leaves the router")
        session.close()
        session.send(RTPFrame(kind: .video, isKeyframe: true, pts: 0, dts: 0, captureTime: 0, payload: ByteBuffer(bytes: [0, 0, 0, 1, 0x65])))
        try await sender.send(try bindingRequest(username: "srvU:cliU"), to: target)
        try await sender.send(ByteBuffer(bytes: [0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7]), to: target)
        values = try await scrape(h) { $0["rtcbox_udp_datagrams_in_total"] == 4 }
        XCTAssertEqual(values["rtcbox_udp_dropped_total{reason=\"unknown_ufrag\"}"], 1, "its ufrag routes nowhere now")
        XCTAssertEqual(values["rtcbox_udp_dropped_total{reason=\"unknown_source\"}"], 1, "nor its address")
        XCTAssertEqual(values["rtcbox_udp_sessions"], 0)
        XCTAssertEqual(session.statistics.datagramsIn, 2)
        XCTAssertEqual(events.all.count, 2, "one terminal event, nothing after it: \(events.all)")
        try await sender.close()
        await h.stop()
    }

    func testAUfragInUseFailsTheSecondSession() async throws {
        let h = try await udpServer()
        let listener = try XCTUnwrap(h.server.udpMedia)
        let first = Recorder<RTPPeerEvent>(), second = Recorder<RTPPeerEvent>()
        _ = try listener.add(serverParameters(), onFrames: { _ in }, onEvent: { first.append($0) })
        _ = try listener.add(serverParameters(), onFrames: { _ in }, onEvent: { second.append($0) })
        try await waitUntil { !second.all.isEmpty }
        XCTAssertEqual(second.all, [.failed("the ICE ufrag \"srvU\" is another session's")])
        XCTAssertEqual(first.all, [])
        let sessions = await listener.sessionCount
        XCTAssertEqual(sessions, 1)
        await h.stop()
        XCTAssertEqual(first.all, [.closed], "stopping the server closes its sessions")
    }

    func testAPortInUseIsOneClearError() async throws {
        let h = try await udpServer()
        let port = try XCTUnwrap(h.server.udpAddress?.port)
        var config = ServerConfiguration()
        config.port = 0
        config.threads = 1
        config.udpHost = "127.0.0.1"
        config.udpPort = port
        let second = RoomServer(configuration: config)
        do {
            try await second.start()
            XCTFail("a second server bound the same UDP port")
        } catch let error as ServerError {
            XCTAssertEqual(error.description(describing: { NetworkFailure($0).words }),
                           "cannot listen for UDP media on 127.0.0.1:\(port): address already in use")
        }
        await second.stop()
        await h.stop()
    }

    func testTheClientSocketBindsTheCandidatesFamilyAndCloses() async throws {
        let h = try await udpServer()
        let candidate = try XCTUnwrap(h.server.udpCandidate)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var parameters = serverParameters()
        parameters.remoteAddress = candidate
        let events = Recorder<RTPPeerEvent>()
        let socket = try await UDPMediaSocket.open(parameters: parameters, certificate: try DTLSCertificate(), group: group,
                                                   onFrames: { _ in }, onEvent: { events.append($0) })
        XCTAssertEqual(socket.driver.parameters.role, .client, "the client's end is ICE's controlling side")
        let local = try XCTUnwrap(socket.localAddress)
        XCTAssertEqual(local.protocol, .inet, "the candidate is IPv4, so is the socket")
        XCTAssertNotEqual(local.port, 0)
        try await socket.close().get()
        XCTAssertEqual(events.all, [.closed])
        try await socket.close().get()  // twice: nothing more
        XCTAssertEqual(events.all, [.closed])

        parameters.remoteAddress = nil
        do {
            _ = try await UDPMediaSocket.open(parameters: parameters, certificate: try DTLSCertificate(), group: group,
                                              onFrames: { _ in }, onEvent: { _ in })
            XCTFail("a socket without a candidate to send to")
        } catch {
            XCTAssertEqual(error as? UDPMediaSocketError, .noCandidate)
        }
        try await group.shutdownGracefully()
        await h.stop()
    }

    // MARK: - helpers

    func serverParameters() -> RTPPeerParameters {
        let fingerprint = DTLSFingerprint(algorithm: .sha256, digest: Array(repeating: 0xAB, count: 32))
        return RTPPeerParameters(role: .server, localICE: ICECredentials(ufrag: "srvU", password: "serverpassword0123456789")!,
                                 remoteICE: ICECredentials(ufrag: "cliU", password: "clientpassword0123456789")!,
                                 remoteFingerprint: fingerprint)
    }

    func bindingRequest(username: String) throws -> ByteBuffer {
        let attributes: [STUNAttribute] = [.username(username), .priority(0x6e00_01ff), .iceControlling(tieBreaker: 42), .useCandidate]
        return try STUNMessage(messageClass: .request, transactionID: .random(), attributes: attributes)
            .serialized(integrityKey: Array("serverpassword0123456789".utf8), fingerprint: true)
    }

    /// Scrapes until `done` holds (datagrams are counted on the port's loop, a moment after they are sent).
    func scrape(_ h: ServerHarness, until done: ([String: Double]) -> Bool) async throws -> [String: Double] {
        let port = try XCTUnwrap(h.server.metricsAddress?.port)
        let deadline = Date().addingTimeInterval(5)
        var values: [String: Double] = [:]
        repeat {
            values = MetricsTests.parse(try await MetricsTests.get("http://127.0.0.1:\(port)/metrics").0)
            if done(values) { return values }
            try await Task.sleep(for: .milliseconds(20))
        } while Date() < deadline
        XCTFail("the metrics never showed it: \(values.filter { $0.key.hasPrefix("rtcbox_udp") })")
        return values
    }

    func waitUntil(_ condition: () -> Bool, file: StaticString = #filePath, line: UInt = #line) async throws {
        let deadline = Date().addingTimeInterval(5)
        while !condition() {
            guard Date() < deadline else { return XCTFail("not within 5 s", file: file, line: line) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A plain NIO UDP socket on 127.0.0.1 that sends datagrams.
struct UDPSender {
    let group: MultiThreadedEventLoopGroup
    let channel: Channel

    static func open() async throws -> UDPSender {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        return UDPSender(group: group, channel: channel)
    }

    func send(_ datagram: ByteBuffer, to address: SocketAddress) async throws {
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: datagram)).get()
    }

    func close() async throws {
        try await channel.close().get()
        try await group.shutdownGracefully()
    }
}

/// What callbacks on an event loop saw, for the test's thread.
final class Recorder<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []

    func append(_ item: T) { lock.withLock { items.append(item) } }
    var all: [T] { lock.withLock { items } }
}
