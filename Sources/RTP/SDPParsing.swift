/// Why text is not an SDP this module accepts (RFC 8866 section 5 and the attribute RFCs).
public enum SDPParseError: Error, Hashable, Sendable {
    case tooLong(bytes: Int, limit: Int)
    case lineTooLong(line: Int, limit: Int)
    case tooManyLines(limit: Int)
    case tooManyMediaSections(limit: Int)
    /// Not `<type>=<value>`.
    case malformedLine(line: Int)
    case missingLine(String)
    case unsupportedVersion(String)
    /// An o=, t=, c=, b= or m= line whose fields do not parse.
    case malformedField(line: Int, field: String)
    /// A known attribute whose value does not parse (its name and what was wrong).
    case malformedAttribute(line: Int, name: String, reason: String)
}

/// Bounds on hostile input: SDP arrives from browsers and WHIP clients over HTTP and signaling.
public struct SDPParseLimits: Hashable, Sendable {
    public var maximumBytes = 256 * 1024
    public var maximumLineLength = 4096
    public var maximumLines = 4096
    public var maximumMediaSections = 64
    public init() {}
}

/// A value error inside one attribute, turned into `SDPParseError.malformedAttribute` with the line.
struct SDPValueError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

// MARK: Scalar-level text helpers (grapheme clusters would glue a space to a combining mark)

extension Substring {
    /// Splits at U+0020, dropping empty fields.
    func sdpTokens() -> [Substring] {
        unicodeScalars.split(separator: " ").map(Substring.init)
    }

    /// Splits at the first `separator`; the second part is nil when there is none.
    func sdpSplitFirst(_ separator: Unicode.Scalar) -> (Substring, Substring?) {
        guard let i = unicodeScalars.firstIndex(of: separator) else { return (self, nil) }
        return (Substring(unicodeScalars[..<i]), Substring(unicodeScalars[unicodeScalars.index(after: i)...]))
    }

    /// The part after the first run of spaces following the first token (free-form remainder).
    func sdpSplitFirstToken() -> (Substring, Substring?) {
        let (head, rest) = sdpSplitFirst(" ")
        guard let rest else { return (head, nil) }
        return (head, Substring(rest.unicodeScalars.drop(while: { $0 == " " })))
    }
}

func sdpNumber<T: FixedWidthInteger>(_ text: Substring, _ what: String) throws -> T {
    guard !text.isEmpty, text.unicodeScalars.allSatisfy({ $0.value >= 0x30 && $0.value <= 0x39 }),
        let value = T(text)
    else { throw SDPValueError("\(what) \"\(text.prefix(32))\"") }
    return value
}
