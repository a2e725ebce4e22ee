import NIOCore
import RTP

/// STUN (RFC 8489) as the server's UDP port sees it: parse; when it parses, check integrity and
/// fingerprint, write it back and parse again (the same message), and hand it to an ICE-lite agent
/// and a client checker; any answer the agent writes must parse and carry a valid fingerprint.
let key = Array("VOkJxbRl1RmTxUk/WvJxBt".utf8)
let local = ICECredentials(ufrag: "evtj", password: "VOkJxbRl1RmTxUk/WvJxBt")!
let remote = ICECredentials(ufrag: "h6vY", password: "VOkJxbRl1RmTxUk/WvJxBt")!
let source = TransportAddress("192.0.2.1:32853")!

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let datagram = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    guard let received = try? STUNMessage.parse(datagram) else { return 0 }
    _ = received.isIntegrityValid(key: key)
    _ = received.isFingerprintValid
    guard let written = try? received.message.serialized() else { fatalError("a parsed message does not serialize") }
    guard let again = try? STUNMessage.parse(written), again.message == received.message else {
        fatalError("serialize + parse is not the identity")
    }
    var agent = ICELiteAgent(local: local, remoteUfrag: remote.ufrag, now: 0)
    switch agent.handle(request: received, from: source, now: 1) {
    case .respond(let bytes, _), .respondAndSelect(let bytes, _, _):
        guard let answer = try? STUNMessage.parse(bytes), answer.isFingerprintValid,
            answer.message.transactionID == received.message.transactionID
        else { fatalError("the agent wrote an invalid answer") }
    case .ignore, .drop:
        break
    }
    _ = agent.tick(now: 60_000_000)
    var checker = ICEClientChecker(local: remote, remote: local, server: source, tieBreaker: 1, now: 0)
    _ = checker.poll(now: 0)
    _ = checker.handle(response: received, from: source, now: 1)
    return 0
}
