import NIOCore
import XCTest

@testable import RTP

/// The one UDP port's router: STUN finds its session by ufrag, everything else only from an address ICE
/// selected; the rest is dropped and counted without growing any state.
final class UDPSessionRouterTests: XCTestCase {
    let server = ICECredentials(ufrag: "srvU", password: "serverpassword0123456789")!
    let client = ICECredentials(ufrag: "cliU", password: "clientpassword0123456789")!
    let peer = TransportAddress("198.51.100.7:50000")!
    let stranger = TransportAddress("203.0.113.9:4000")!

    func bindingRequest(username: String, useCandidate: Bool = true) throws -> ByteBuffer {
        var attributes: [STUNAttribute] = [.username(username), .priority(0x6e00_01ff), .iceControlling(tieBreaker: 42)]
        if useCandidate { attributes.append(.useCandidate) }
        let m = STUNMessage(messageClass: .request, transactionID: .random(), attributes: attributes)
        return try m.serialized(integrityKey: Array(server.password.utf8), fingerprint: true)
    }

    /// First bytes of an RTP packet (version 2, PT 96), a DTLS ClientHello record, an RTCP RR.
    let rtp = ByteBuffer(bytes: [0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7])
    let dtls = ByteBuffer(bytes: [22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    let rtcp = ByteBuffer(bytes: [0x80, 201, 0, 1, 0, 0, 0, 7])

    func testICESelectsTheAddressThatMediaIsThenRoutedFrom() throws {
        var router = UDPSessionRouter<Int>()
        try router.register(1, localUfrag: server.ufrag)
        var agent = ICELiteAgent(local: server, remoteUfrag: client.ufrag, now: 0)
        XCTAssertEqual(router.route(dtls, from: peer), .drop(.unknownSource), "no DTLS before ICE selected the address")

        guard case .stun(let session, let request) = router.route(try bindingRequest(username: "srvU:cliU"), from: peer) else {
            return XCTFail("the binding request found no session")
        }
        XCTAssertEqual(session, 1)
        guard case .respondAndSelect(_, let to, _) = agent.handle(request: request, from: peer, now: 1000) else {
            return XCTFail("the agent did not select the pair")
        }
        router.bind(session, to: to)
        XCTAssertEqual(router.route(dtls, from: peer), .dtls(1))
        XCTAssertEqual(router.route(rtp, from: peer), .rtp(1))
        XCTAssertEqual(router.route(rtcp, from: peer), .rtcp(1))
        XCTAssertEqual(router.route(rtp, from: stranger), .drop(.unknownSource), "a spoofed or stray source")
        XCTAssertEqual(router.routed, 4)
        XCTAssertEqual(router.drops[.unknownSource], 2)

        router.remove(1)
        XCTAssertEqual(router.route(rtp, from: peer), .drop(.unknownSource), "an ended session routes nothing")
        XCTAssertEqual(router.route(try bindingRequest(username: "srvU:cliU"), from: peer), .drop(.unknownUfrag))
        XCTAssertEqual(router.sessionCount, 0)
    }

    func testSTUNWithoutASessionsUfragIsDropped() throws {
        var router = UDPSessionRouter<Int>()
        try router.register(1, localUfrag: "srvU")
        XCTAssertEqual(router.route(try bindingRequest(username: "nope:cliU"), from: peer), .drop(.unknownUfrag))
        XCTAssertEqual(router.route(try bindingRequest(username: ":cliU"), from: peer), .drop(.stunWithoutUsername))
        let indication = try STUNMessage(messageClass: .indication, transactionID: .random()).serialized(fingerprint: true)
        XCTAssertEqual(router.route(indication, from: peer), .drop(.stunWithoutUsername))
        var broken = try bindingRequest(username: "srvU:cliU")
        broken.moveWriterIndex(to: 24)   // the header says more attributes follow than there are
        XCTAssertEqual(router.route(broken, from: peer), .drop(.malformedSTUN))
        XCTAssertEqual(router.route(ByteBuffer(bytes: [70, 1, 2]), from: peer), .drop(.unknownKind))
        XCTAssertEqual(router.route(ByteBuffer(), from: peer), .drop(.unknownKind))
    }

    func testSessionsAndAddressesAreBounded() throws {
        var router = UDPSessionRouter<Int>(limits: .init(maxSessions: 2, maxAddressesPerSession: 2))
        try router.register(1, localUfrag: "a")
        try router.register(2, localUfrag: "b")
        XCTAssertThrowsError(try router.register(3, localUfrag: "c")) { XCTAssertEqual($0 as? UDPSessionRouter<Int>.RegistrationError, .full(limit: 2)) }
        XCTAssertThrowsError(try router.register(2, localUfrag: "a")) { XCTAssertEqual($0 as? UDPSessionRouter<Int>.RegistrationError, .ufragInUse("a")) }
        let addresses = (1...3).map { TransportAddress("192.0.2.1:\(5000 + $0)")! }
        for a in addresses { router.bind(1, to: a) }
        XCTAssertEqual(router.addresses(of: 1), Array(addresses.suffix(2)), "the address bound longest ago is let go")
        XCTAssertEqual(router.route(rtp, from: addresses[0]), .drop(.unknownSource))
        // A NAT gave session 1's address to session 2's peer: it moves.
        router.bind(2, to: addresses[2])
        XCTAssertEqual(router.route(rtp, from: addresses[2]), .rtp(2))
        XCTAssertEqual(router.addresses(of: 1), [addresses[1]])
        router.bind(99, to: stranger)   // no such session: nothing bound
        XCTAssertEqual(router.route(rtp, from: stranger), .drop(.unknownSource))
    }

    /// A flood of datagrams of every kind from random sources: all dropped and counted, no state grows.
    func testAFloodOfUnknownDatagramsLeavesNoState() throws {
        var router = UDPSessionRouter<Int>()
        try router.register(1, localUfrag: "srvU")
        var rng = SystemRandomNumberGenerator()
        for i in 0..<20_000 {
            let length = Int.random(in: 0...64, using: &rng)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if i % 4 == 0, !bytes.isEmpty { bytes[0] = 0x80 }   // looks like RTP
            let source = TransportAddress(ip: .v4(UInt32.random(in: 0...UInt32.max, using: &rng)), port: UInt16.random(in: 1...65535, using: &rng))
            if case .stun = router.route(ByteBuffer(bytes: bytes), from: source) { XCTFail("random bytes reached a session") }
        }
        XCTAssertEqual(router.routed, 0)
        XCTAssertEqual(router.drops.values.reduce(0, +), 20_000)
        XCTAssertEqual(router.sessionCount, 1)
        XCTAssertEqual(router.addresses(of: 1), [])
    }
}
