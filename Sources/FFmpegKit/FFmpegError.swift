import CFFmpeg

/// A negative libav* return value, with the operation that failed and libav's own message.
public struct FFmpegError: Error, CustomStringConvertible, Sendable, Equatable {
    public let code: Int32
    public let operation: String
    public let message: String

    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
        self.message = FFmpegError.text(for: code)
    }

    /// An error that is not a libav return code (missing stream, unsupported codec...), with our own text.
    public init(operation: String, message: String, code: Int32 = cff_averror(EINVAL)) {
        self.code = code
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(operation): \(message)" }

    /// AVERROR_INVALIDDATA (a macro Swift cannot import): input that is not what it should be.
    public static let invalidDataCode: Int32 = -0x4144_4E49  // -MKTAG('I','N','D','A')
    public var isInvalidData: Bool { code == Self.invalidDataCode }

    public var isEOF: Bool { code == cff_averror_eof() }
    public var isAgain: Bool { code == cff_averror(EAGAIN) }
    public var isExit: Bool { code == cff_averror_exit() }
    /// A server that refused, dropped or could not be reached (a push to rtmp://, srt://...).
    public var isUnreachable: Bool {
        [ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, EPIPE].contains { code == cff_averror($0) }
    }
    /// No such file or device.
    public var isNotFound: Bool { code == cff_averror(ENOENT) || code == cff_averror(ENODEV) || code == cff_averror(ENXIO) }

    public static func text(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(AV_ERROR_MAX_STRING_SIZE))
        av_strerror(code, &buffer, buffer.count)
        return buffer.withUnsafeBufferPointer { ptr in
            ptr.baseAddress.map { String(cString: $0) } ?? "error \(code)"
        }
    }

    /// Returns `ret` when it is not negative, else throws.
    @discardableResult
    public static func check(_ ret: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
        if ret < 0 { throw FFmpegError(code: ret, operation: operation()) }
        return ret
    }
}
