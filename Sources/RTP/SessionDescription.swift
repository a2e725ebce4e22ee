/// An SDP offer or answer (RFC 8866) in the subset WebRTC uses (JSEP, RFC 8829): the session lines,
/// BUNDLE groups (RFC 8843), msid-semantic, session-level ICE and DTLS attributes (ice-lite,
/// ice-ufrag/pwd, ice-options, fingerprint, setup, extmap), and the media sections. Attributes
/// and lines it does not interpret are kept.
///
/// `parse` is tolerant of CRLF or LF line ends and of line order, bounded by `SDPParseLimits`, and
/// strict about the values of attributes it knows. `serialized` writes CRLF lines in RFC 8866
/// order; parsing what it writes gives back an equal value.
public struct SessionDescription: Hashable, Sendable {
    public var origin: SDPOrigin
    public var sessionName = "-"
    /// t= start and stop (`0 0` in WebRTC).
    public var timing: (start: UInt64, stop: UInt64) {
        get { (timingStart, timingStop) }
        set { (timingStart, timingStop) = newValue }
    }
    private var timingStart: UInt64 = 0
    private var timingStop: UInt64 = 0
    public var connection: SDPConnection?
    public var bandwidths: [SDPBandwidth] = []
    public var groups: [SDPGroup] = []
    public var msidSemantic: SDPMsidSemantic?
    /// a=ice-lite (RFC 8839 section 5.3): this side is a lite agent.
    public var iceLite = false
    public var iceUfrag: String?
    public var icePassword: String?
    public var iceOptions: [String] = []
    public var fingerprints: [SDPFingerprint] = []
    public var setup: SDPSetup?
    public var extensionMaps: [SDPExtMap] = []
    public var otherAttributes: [SDPAttribute] = []
    public var otherLines: [SDPLine] = []
    public var media: [MediaDescription] = []

    public init(origin: SDPOrigin, sessionName: String = "-", media: [MediaDescription] = []) {
        self.origin = origin
        self.sessionName = sessionName
        self.media = media
    }

    /// The mids of the first BUNDLE group (RFC 8843), if any.
    public var bundleMids: [String]? {
        groups.first { $0.semantics == "BUNDLE" }?.mids
    }

    /// ICE credentials of a media section, falling back to the session level (RFC 8839 section 5.4).
    public func iceCredentials(media index: Int) -> (ufrag: String, password: String)? {
        guard media.indices.contains(index) else { return nil }
        let m = media[index]
        guard let u = m.iceUfrag ?? iceUfrag, let p = m.icePassword ?? icePassword else { return nil }
        return (u, p)
    }

    /// The DTLS fingerprints of a media section, falling back to the session level (RFC 8122 section 5).
    public func fingerprints(media index: Int) -> [SDPFingerprint] {
        guard media.indices.contains(index) else { return [] }
        return media[index].fingerprints.isEmpty ? fingerprints : media[index].fingerprints
    }

    // MARK: Parsing

    public static func parse(_ text: String, limits: SDPParseLimits = .init()) throws -> SessionDescription {
        guard text.utf8.count <= limits.maximumBytes else {
            throw SDPParseError.tooLong(bytes: text.utf8.count, limit: limits.maximumBytes)
        }
        var version: Substring?
        var origin: SDPOrigin?
        var sessionName: Substring?
        var timing: (UInt64, UInt64)?
        var session = SessionDescription(origin: SDPOrigin(sessionID: "0", sessionVersion: 0))
        var current: MediaDescription?
        var media: [MediaDescription] = []
        var lineNumber = 0
        // Split on LF at the UTF-8 level (a String's "\r\n" is one Character), then drop one CR.
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            guard lineNumber <= limits.maximumLines else { throw SDPParseError.tooManyLines(limit: limits.maximumLines) }
            guard rawLine.count <= limits.maximumLineLength else {
                throw SDPParseError.lineTooLong(line: lineNumber, limit: limits.maximumLineLength)
            }
            let bytes = rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine
            let line = Substring(bytes)
            if line.isEmpty { continue }
            let scalars = line.unicodeScalars
            guard let type = scalars.first, scalars.count >= 2,
                scalars[scalars.index(after: scalars.startIndex)] == "="
            else { throw SDPParseError.malformedLine(line: lineNumber) }
            let value = Substring(scalars.dropFirst(2))
            func field<T>(_ name: String, _ make: () throws -> T) throws -> T {
                do { return try make() } catch { throw SDPParseError.malformedField(line: lineNumber, field: name) }
            }
            if type == "m" {
                if let current { media.append(current) }
                guard media.count < limits.maximumMediaSections else {
                    throw SDPParseError.tooManyMediaSections(limit: limits.maximumMediaSections)
                }
                current = try field("m") { try MediaDescription(mLine: value) }
                continue
            }
            if current != nil {
                switch type {
                case "c" where current?.connection == nil:
                    current?.connection = try field("c") { try SDPConnection(sdpValue: value) }
                case "b":
                    current?.bandwidths.append(try field("b") { try SDPBandwidth(sdpValue: value) })
                case "a":
                    let (name, attributeValue) = value.sdpSplitFirst(":")
                    do {
                        try current?.add(attribute: name, value: attributeValue)
                    } catch let e as SDPValueError {
                        throw SDPParseError.malformedAttribute(line: lineNumber, name: String(name.prefix(64)), reason: e.reason)
                    }
                default:
                    current?.otherLines.append(SDPLine(type: type, value: String(value)))
                }
                continue
            }
            switch type {
            case "v" where version == nil: version = value
            case "o" where origin == nil: origin = try field("o") { try SDPOrigin(sdpValue: value) }
            case "s" where sessionName == nil: sessionName = value
            case "t" where timing == nil:
                timing = try field("t") {
                    let t = value.sdpTokens()
                    guard t.count == 2 else { throw SDPValueError("2 fields") }
                    return (try sdpNumber(t[0], "start"), try sdpNumber(t[1], "stop"))
                }
            case "c" where session.connection == nil:
                session.connection = try field("c") { try SDPConnection(sdpValue: value) }
            case "b":
                session.bandwidths.append(try field("b") { try SDPBandwidth(sdpValue: value) })
            case "a":
                let (name, attributeValue) = value.sdpSplitFirst(":")
                do {
                    try session.add(attribute: name, value: attributeValue)
                } catch let e as SDPValueError {
                    throw SDPParseError.malformedAttribute(line: lineNumber, name: String(name.prefix(64)), reason: e.reason)
                }
            default:
                session.otherLines.append(SDPLine(type: type, value: String(value)))
            }
        }
        if let current { media.append(current) }
        guard let version else { throw SDPParseError.missingLine("v") }
        guard version == "0" else { throw SDPParseError.unsupportedVersion(String(version.prefix(16))) }
        guard let origin else { throw SDPParseError.missingLine("o") }
        session.origin = origin
        if let sessionName { session.sessionName = String(sessionName) }
        if let timing { session.timing = timing }
        // Keep unknown lines in the order `serialized` writes them (see there), so a round trip is exact.
        session.otherLines = session.otherLines.filter { Self.beforeConnection.contains($0.type) }
            + session.otherLines.filter { !Self.beforeConnection.contains($0.type) }
        for i in media.indices {
            media[i].otherLines = media[i].otherLines.filter { $0.type == "i" } + media[i].otherLines.filter { $0.type != "i" }
        }
        session.media = media
        return session
    }

    /// Session-level line types that come between s= and c= (RFC 8866 section 5).
    static let beforeConnection: Set<Unicode.Scalar> = ["i", "u", "e", "p"]

    private mutating func add(attribute name: Substring, value: Substring?) throws {
        switch (name, value) {
        case ("group", let v?): groups.append(try SDPGroup(sdpValue: v))
        case ("msid-semantic", let v?) where msidSemantic == nil: msidSemantic = try SDPMsidSemantic(sdpValue: v)
        case ("ice-lite", nil) where !iceLite: iceLite = true
        case ("ice-ufrag", let v?) where iceUfrag == nil: iceUfrag = String(v)
        case ("ice-pwd", let v?) where icePassword == nil: icePassword = String(v)
        case ("ice-options", let v?): iceOptions += v.sdpTokens().map(String.init)
        case ("fingerprint", let v?): fingerprints.append(try SDPFingerprint(sdpValue: v))
        case ("setup", let v?) where setup == nil:
            guard let s = SDPSetup(rawValue: String(v)) else { throw SDPValueError("setup \"\(v.prefix(16))\"") }
            setup = s
        case ("extmap", let v?): extensionMaps.append(try SDPExtMap(sdpValue: v))
        default: otherAttributes.append(SDPAttribute(name: String(name), value: value.map(String.init)))
        }
    }

    // MARK: Writing

    /// The SDP text: CRLF lines, v o s (i u e p) c b t (others) a, then the media sections.
    public func serialized() -> String {
        var out = ""
        func line(_ text: String) { out += text + "\r\n" }
        line("v=0")
        line("o=" + origin.sdpValue)
        line("s=" + sessionName)
        for l in otherLines where Self.beforeConnection.contains(l.type) { line("\(Character(l.type))=\(l.value)") }
        if let connection { line("c=" + connection.sdpValue) }
        for b in bandwidths { line("b=" + b.sdpValue) }
        line("t=\(timingStart) \(timingStop)")
        for l in otherLines where !Self.beforeConnection.contains(l.type) { line("\(Character(l.type))=\(l.value)") }
        if iceLite { line("a=ice-lite") }
        if let iceUfrag { line("a=ice-ufrag:" + iceUfrag) }
        if let icePassword { line("a=ice-pwd:" + icePassword) }
        if !iceOptions.isEmpty { line("a=ice-options:" + iceOptions.joined(separator: " ")) }
        for f in fingerprints { line("a=fingerprint:" + f.sdpValue) }
        if let setup { line("a=setup:" + setup.rawValue) }
        for g in groups { line("a=group:" + g.sdpValue) }
        for e in extensionMaps { line("a=extmap:" + e.sdpValue) }
        if let msidSemantic { line("a=msid-semantic:" + msidSemantic.sdpValue) }
        for a in otherAttributes { line(a.line) }
        for m in media { m.write(into: &out) }
        return out
    }
}
