import RTP

/// SDP offers and answers (RFC 8866, the WebRTC subset): parse the bytes as UTF-8; when they parse,
/// serialize and parse again, which must give an equal description. The re-parse has looser limits:
/// serializing may merge lines (ice-options) and adds CR to every LF. Then rtcbox's offer/answer over it.
let roomy: SDPParseLimits = {
    var l = SDPParseLimits()
    l.maximumBytes *= 4
    l.maximumLineLength = .max
    l.maximumLines *= 2
    return l
}()

let serverICE = ICECredentials(ufrag: "fuzz", password: "fuzzpassword0123456789ab")!

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    guard let sdp = try? SessionDescription.parse(text) else { return 0 }
    let written = sdp.serialized()
    guard let again = try? SessionDescription.parse(written, limits: roomy) else {
        fatalError("serialized SDP does not parse")
    }
    guard again == sdp else { fatalError("serialize + parse is not the identity") }
    for m in sdp.media {
        for c in m.candidates { _ = c.transportAddress }
        for f in m.formatParameters { _ = f.parameterList }
    }
    // rtcbox's view of an offer (what publish/play's sdp becomes): what it reads it writes back and reads
    // equal; answering it and agreeing on peer parameters never traps.
    if let offer = try? RTPMediaOffer(sdp) {
        guard let back = try? RTPMediaOffer(offer.sessionDescription()), back == offer else {
            fatalError("RTPMediaOffer does not survive write/read: \(offer)")
        }
        if let answer = try? RTPMediaOffer.answer(
            to: offer, sessionID: "1", iceCredentials: serverICE, iceLite: true, fingerprint: offer.fingerprint,
            candidates: [], cname: "x", sending: [], receiving: [.audio, .video])
        {
            _ = try? RTPMediaOffer.peerParameters(role: .server, local: answer, remote: offer)
        }
    }
    return 0
}
