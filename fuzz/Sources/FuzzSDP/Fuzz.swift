import RTP

/// SDP offers and answers (RFC 8866, the WebRTC subset): parse the bytes as UTF-8; when they parse,
/// serialize and parse again, which must give an equal description. The re-parse has looser limits:
/// serializing may merge lines (ice-options) and adds CR to every LF.
let roomy: SDPParseLimits = {
    var l = SDPParseLimits()
    l.maximumBytes *= 4
    l.maximumLineLength = .max
    l.maximumLines *= 2
    return l
}()

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
    return 0
}
