import NIOCore
import XCTest

@testable import RTP

final class ICELiteAgentTests: XCTestCase {
    let server = ICECredentials(ufrag: "srvU", password: "serverpassword0123456789")!
    let client = ICECredentials(ufrag: "cliU", password: "clientpassword0123456789")!
    let peer = TransportAddress("198.51.100.7:50000")!
    let rebound = TransportAddress("198.51.100.7:50123")!
    let second: Int64 = 1_000_000

    func agent(_ configuration: ICELiteAgent.Configuration = .init()) -> ICELiteAgent {
        ICELiteAgent(local: server, remoteUfrag: client.ufrag, configuration: configuration, now: 0)
    }

    /// A Binding request as a full controlling peer sends it.
    func request(
        username: String? = "srvU:cliU", key: String? = "serverpassword0123456789", useCandidate: Bool = false,
        extra: [STUNAttribute] = [.iceControlling(tieBreaker: 42)], fingerprint: Bool = true,
        id: STUNTransactionID = .random()
    ) -> ReceivedSTUNMessage {
        var attributes: [STUNAttribute] = []
        if let username { attributes.append(.username(username)) }
        attributes.append(.priority(0x6e00_01ff))
        attributes += extra
        if useCandidate { attributes.append(.useCandidate) }
        let m = STUNMessage(messageClass: .request, transactionID: id, attributes: attributes)
        let bytes = try! m.serialized(integrityKey: key.map { Array($0.utf8) }, fingerprint: fingerprint)
        return try! STUNMessage.parse(bytes)
    }

    func response(_ action: ICEAction) throws -> ReceivedSTUNMessage {
        switch action {
        case .respond(let b, _), .respondAndSelect(let b, _, _): return try STUNMessage.parse(b)
        default: throw XCTSkip("no response in \(action)")
        }
    }

    func testSuccessResponseAndNomination() throws {
        var a = agent()
        let check = request()
        let first = a.handle(request: check, from: peer, now: 1)
        XCTAssertEqual(a.state, .checking)
        let r = try response(first)
        XCTAssertEqual(r.message.messageClass, .successResponse)
        XCTAssertEqual(r.message.transactionID, check.message.transactionID)
        XCTAssertEqual(r.message.xorMappedAddress, peer)
        XCTAssertTrue(r.isIntegrityValid(key: Array(server.password.utf8)))
        XCTAssertTrue(r.isFingerprintValid)
        XCTAssertEqual(r.message.attributes.map(\.type), [.xorMappedAddress, .messageIntegrity, .fingerprint])

        guard case .respondAndSelect(_, let to, let previous) = a.handle(request: request(useCandidate: true), from: peer, now: 2) else {
            return XCTFail("nomination selects")
        }
        XCTAssertEqual(to, peer)
        XCTAssertNil(previous)
        XCTAssertEqual(a.state, .connected)
        XCTAssertEqual(a.selectedAddress, peer)
        // A further nominated check from the same address only refreshes consent.
        guard case .respond = a.handle(request: request(useCandidate: true), from: peer, now: 3) else { return XCTFail() }
        XCTAssertEqual(a.stats.validChecks, 3)
        XCTAssertEqual(a.stats.nominations, 2)
    }

    func testNATRebindingMovesTheSelectedPair() {
        var a = agent()
        _ = a.handle(request: request(useCandidate: true), from: peer, now: 0)
        // A check without USE-CANDIDATE from a new source is answered but does not move the pair.
        guard case .respond = a.handle(request: request(), from: rebound, now: 1) else { return XCTFail() }
        XCTAssertEqual(a.selectedAddress, peer)
        guard case .respondAndSelect(_, let to, let previous) = a.handle(request: request(useCandidate: true), from: rebound, now: 2) else {
            return XCTFail("moves")
        }
        XCTAssertEqual(to, rebound)
        XCTAssertEqual(previous, peer)
        XCTAssertEqual(a.stats.selectedAddressChanges, 1)
    }

    func testConsentExpiresAfterTheTimeout() {
        var a = agent(.init(consentTimeout: 30 * second))
        _ = a.handle(request: request(useCandidate: true), from: peer, now: 0)
        _ = a.handle(request: request(), from: peer, now: 20 * second)  // consent refresh on the selected pair
        _ = a.handle(request: request(), from: rebound, now: 40 * second)  // another address: no refresh
        XCTAssertNil(a.tick(now: 49 * second))
        XCTAssertEqual(a.nextDeadline, 50 * second)
        XCTAssertEqual(a.tick(now: 50 * second), .consentExpired(lastConsent: 20 * second))
        XCTAssertEqual(a.state, .disconnected)
        XCTAssertNil(a.tick(now: 60 * second))
        // A nominated check brings it back.
        guard case .respondAndSelect = a.handle(request: request(useCandidate: true), from: peer, now: 61 * second) else { return XCTFail() }
        XCTAssertEqual(a.state, .connected)
    }

    func testNeverConnectedTimesOut() {
        var a = agent(.init(consentTimeout: 5 * second))
        XCTAssertNil(a.tick(now: 4 * second))
        XCTAssertEqual(a.tick(now: 5 * second), .neverConnected)
        XCTAssertEqual(a.state, .disconnected)
    }

    func testErrorResponses() throws {
        var a = agent()
        func errorCode(_ action: ICEAction) throws -> (Int, Bool, ReceivedSTUNMessage) {
            let r = try response(action)
            XCTAssertEqual(r.message.messageClass, .errorResponse)
            XCTAssertTrue(r.isFingerprintValid)
            return (r.message.errorCode?.code ?? 0, r.hasIntegrity, r)
        }
        // 400 without USERNAME or without MESSAGE-INTEGRITY; no integrity on the answer.
        var (code, signed, _) = try errorCode(a.handle(request: request(username: nil), from: peer, now: 0))
        XCTAssertEqual(code, 400)
        XCTAssertFalse(signed)
        (code, signed, _) = try errorCode(a.handle(request: request(key: nil), from: peer, now: 0))
        XCTAssertEqual(code, 400)
        // 401 for the wrong username (e.g. reversed) or password.
        (code, signed, _) = try errorCode(a.handle(request: request(username: "cliU:srvU"), from: peer, now: 0))
        XCTAssertEqual(code, 401)
        XCTAssertFalse(signed)
        (code, signed, _) = try errorCode(a.handle(request: request(key: "serverpassword012345678X"), from: peer, now: 0))
        XCTAssertEqual(code, 401)
        // 420 with UNKNOWN-ATTRIBUTES, signed (the request was authentic).
        let unknown = STUNAttribute.other(type: STUNAttributeType(rawValue: 0x0003), value: [0, 0, 0, 0])
        var r: ReceivedSTUNMessage
        (code, signed, r) = try errorCode(a.handle(request: request(extra: [unknown]), from: peer, now: 0))
        XCTAssertEqual(code, 420)
        XCTAssertTrue(signed)
        XCTAssertTrue(r.isIntegrityValid(key: Array(server.password.utf8)))
        XCTAssertTrue(r.message.attributes.contains(.unknownAttributes([0x0003])))
        // An unknown comprehension-optional attribute is fine.
        let optional = STUNAttribute.other(type: STUNAttributeType(rawValue: 0xC057), value: [0, 1, 0, 0])
        XCTAssertEqual(try response(a.handle(request: request(extra: [optional]), from: peer, now: 0)).message.messageClass, .successResponse)
        // 487 when the peer claims controlled too; 400 with both roles.
        (code, signed, _) = try errorCode(a.handle(request: request(extra: [.iceControlled(tieBreaker: 1)]), from: peer, now: 0))
        XCTAssertEqual(code, 487)
        XCTAssertTrue(signed)
        (code, _, _) = try errorCode(
            a.handle(request: request(extra: [.iceControlled(tieBreaker: 1), .iceControlling(tieBreaker: 2)]), from: peer, now: 0))
        XCTAssertEqual(code, 400)
        // None of that changed the state, and each was counted.
        XCTAssertEqual(a.state, .checking)  // the one valid check with the optional attribute
        XCTAssertEqual(a.stats.count(.missingCredentials), 2)
        XCTAssertEqual(a.stats.count(.wrongUsername), 1)
        XCTAssertEqual(a.stats.count(.badIntegrity), 1)
        XCTAssertEqual(a.stats.count(.unknownAttributes), 1)
        XCTAssertEqual(a.stats.count(.roleConflict), 1)
        XCTAssertEqual(a.stats.count(.conflictingRoleAttributes), 1)
    }

    func testInvalidNominationsDoNotSelect() {
        var a = agent()
        XCTAssertEqual(a.handle(request: request(useCandidate: true, fingerprint: false), from: peer, now: 0), .drop(.missingFingerprint))
        _ = a.handle(request: request(key: "wrongwrongwrongwrongwrong", useCandidate: true), from: peer, now: 0)
        _ = a.handle(request: request(useCandidate: true, extra: [.iceControlled(tieBreaker: 9)]), from: peer, now: 0)
        XCTAssertEqual(a.state, .new)
        XCTAssertNil(a.selectedAddress)
        // Corrupted fingerprint: dropped silently.
        var bytes = try! request(useCandidate: true).message.serialized()
        bytes.setInteger(UInt8(0), at: bytes.writerIndex - 1)
        XCTAssertEqual(a.handle(datagram: bytes, from: peer, now: 0), .drop(.badFingerprint))
        XCTAssertEqual(a.handle(datagram: ByteBuffer(bytes: [0x80, 0, 0, 0]), from: peer, now: 0), .drop(.malformed))
        XCTAssertEqual(a.stats.invalidTotal, 5)
        XCTAssertEqual(a.state, .new)
    }

    func testResponsesAndIndicationsAreNotAnswered() throws {
        var a = agent()
        let indication = try STUNMessage.parse(
            STUNMessage(messageClass: .indication, transactionID: .random()).serialized(fingerprint: true))
        XCTAssertEqual(a.handle(request: indication, from: peer, now: 0), .ignore)
        let response = try STUNMessage.parse(
            STUNMessage(messageClass: .successResponse, transactionID: .random()).serialized(fingerprint: true))
        XCTAssertEqual(a.handle(request: response, from: peer, now: 0), .drop(.unexpectedMessage))
        XCTAssertEqual(a.stats.indications, 1)
    }

    func testCredentials() {
        let c = ICECredentials.random()
        XCTAssertEqual(c.ufrag.count, 8)
        XCTAssertEqual(c.password.count, 24)
        XCTAssertNotNil(ICECredentials(ufrag: c.ufrag, password: c.password))
        XCTAssertNil(ICECredentials(ufrag: "abc", password: c.password))
        XCTAssertNil(ICECredentials(ufrag: "ab:c", password: c.password))
        XCTAssertNil(ICECredentials(ufrag: "abcd", password: "short"))
        XCTAssertNotEqual(ICECredentials.random(), ICECredentials.random())
    }
}

final class ICEClientCheckerTests: XCTestCase {
    let server = ICECredentials(ufrag: "srvU", password: "serverpassword0123456789")!
    let client = ICECredentials(ufrag: "cliU", password: "clientpassword0123456789")!
    let serverAddress = TransportAddress("203.0.113.1:3478")!
    let clientAddress = TransportAddress("198.51.100.7:50000")!
    let ms: Int64 = 1000

    func checker() -> ICEClientChecker {
        ICEClientChecker(local: client, remote: server, server: serverAddress, tieBreaker: 7, now: 0)
    }

    func testConnectsToALiteAgent() throws {
        var c = checker()
        var a = ICELiteAgent(local: server, remoteUfrag: client.ufrag, now: 0)
        guard case .send(let bytes, let to, let next) = c.poll(now: 0) else { return XCTFail() }
        XCTAssertEqual(to, serverAddress)
        XCTAssertEqual(next, 100 * ms)
        let sent = try STUNMessage.parse(bytes)
        XCTAssertEqual(sent.message.username, "srvU:cliU")
        XCTAssertTrue(sent.message.useCandidate)
        XCTAssertEqual(sent.message.iceControlling, 7)
        XCTAssertNotNil(sent.message.priority)
        guard case .respondAndSelect(let answer, _, _) = a.handle(request: sent, from: clientAddress, now: 10 * ms) else {
            return XCTFail()
        }
        XCTAssertEqual(c.handle(response: try STUNMessage.parse(answer), from: serverAddress, now: 20 * ms),
                       .connected(mapped: clientAddress))
        XCTAssertTrue(c.isConnected)
        // Consent: a check every 5 s, answered; lost 30 s after the last answer.
        XCTAssertEqual(c.poll(now: 1000 * ms), .wait(until: 5020 * ms))
        guard case .send(let consent, _, _) = c.poll(now: 5020 * ms) else { return XCTFail() }
        let answer2 = try response(a.handle(request: STUNMessage.parse(consent), from: clientAddress, now: 5030 * ms))
        XCTAssertEqual(c.handle(response: answer2, from: serverAddress, now: 5040 * ms), .consentRefreshed(mapped: clientAddress))
        // Duplicate answer to the same consent check: no longer outstanding.
        XCTAssertEqual(c.handle(response: answer2, from: serverAddress, now: 5041 * ms), .ignored)
        var now = 5040 * ms
        while case .send = c.poll(now: now) { now += 5000 * ms }
        XCTAssertEqual(c.poll(now: 35_040 * ms), .failed(.consentLost))
    }

    func response(_ action: ICEAction) throws -> ReceivedSTUNMessage {
        switch action {
        case .respond(let b, _), .respondAndSelect(let b, _, _): return try STUNMessage.parse(b)
        default: throw XCTSkip("no response")
        }
    }

    func testRetransmitsThenTimesOutAtTheDeadline() {
        var c = checker()
        var sends: [Int64] = []
        var ids = Set<STUNTransactionID>()
        var now: Int64 = 0
        while true {
            switch c.poll(now: now) {
            case .send(let b, _, let next):
                sends.append(now)
                if let m = try? STUNMessage.parse(b) { ids.insert(m.message.transactionID) }
                now = next
            case .wait(let until):
                now = until
            case .failed(let f):
                XCTAssertEqual(f, .timeout)
                XCTAssertEqual(sends, [0, 100, 300, 700, 1500].map { $0 * ms })  // RTO 100 ms doubling
                XCTAssertEqual(ids.count, 1)  // retransmissions keep the transaction id
                XCTAssertEqual(now, 2000 * ms)
                return
            }
        }
    }

    func testGivesUpAfterMaximumTransmissions() {
        var configuration = ICEClientChecker.Configuration()
        configuration.maximumTransmissions = 2
        configuration.initialRTO = 50 * ms
        var c = ICEClientChecker(local: client, remote: server, server: serverAddress, configuration: configuration, now: 0)
        guard case .send = c.poll(now: 0), case .send = c.poll(now: 50 * ms) else { return XCTFail() }
        XCTAssertEqual(c.poll(now: 100 * ms), .wait(until: 150 * ms))
        XCTAssertEqual(c.poll(now: 150 * ms), .failed(.timeout))
        XCTAssertEqual(c.failure, .timeout)
    }

    func testRejectsForgedAndStrayResponses() throws {
        var c = checker()
        guard case .send(let bytes, _, _) = c.poll(now: 0) else { return XCTFail() }
        let id = try STUNMessage.parse(bytes).message.transactionID
        let good = STUNMessage(messageClass: .successResponse, transactionID: id, attributes: [.xorMappedAddress(clientAddress)])
        func parsed(_ m: STUNMessage, key: String?) throws -> ReceivedSTUNMessage {
            try STUNMessage.parse(m.serialized(integrityKey: key.map { Array($0.utf8) }, fingerprint: true))
        }
        // Wrong key, no integrity, wrong source, unknown transaction: ignored.
        XCTAssertEqual(c.handle(response: try parsed(good, key: "notthepasswordnotthepass"), from: serverAddress, now: 1), .ignored)
        XCTAssertEqual(c.handle(response: try parsed(good, key: nil), from: serverAddress, now: 1), .ignored)
        XCTAssertEqual(c.handle(response: try parsed(good, key: server.password), from: clientAddress, now: 1), .ignored)
        var other = good
        other.transactionID = .random()
        XCTAssertEqual(c.handle(response: try parsed(other, key: server.password), from: serverAddress, now: 1), .ignored)
        XCTAssertEqual(c.ignoredResponses, 4)
        XCTAssertFalse(c.isConnected)
        // An authentic 401 fails the check.
        let refused = STUNMessage(messageClass: .errorResponse, transactionID: id,
                                  attributes: [.errorCode(STUNErrorCode(code: 401, reason: "Unauthorized"))])
        XCTAssertEqual(c.handle(response: try parsed(refused, key: nil), from: serverAddress, now: 1), .failed(.errorResponse(code: 401)))
        XCTAssertEqual(c.poll(now: 2), .failed(.errorResponse(code: 401)))
    }

    func testRoleConflictSwitchesRoleAndRetries() throws {
        var c = checker()
        guard case .send(let bytes, _, _) = c.poll(now: 0) else { return XCTFail() }
        let id = try STUNMessage.parse(bytes).message.transactionID
        let conflict = STUNMessage(messageClass: .errorResponse, transactionID: id,
                                   attributes: [.errorCode(STUNErrorCode(code: 487, reason: "Role Conflict"))])
        let r = try STUNMessage.parse(conflict.serialized(integrityKey: Array(server.password.utf8), fingerprint: true))
        XCTAssertEqual(c.handle(response: r, from: serverAddress, now: 10 * ms), .ignored)
        XCTAssertFalse(c.isControlling)
        guard case .send(let retry, _, _) = c.poll(now: 10 * ms) else { return XCTFail("retries at once") }
        let m = try STUNMessage.parse(retry).message
        XCTAssertNotEqual(m.transactionID, id)
        XCTAssertEqual(m.iceControlled, 7)
        XCTAssertFalse(m.useCandidate)
    }
}
