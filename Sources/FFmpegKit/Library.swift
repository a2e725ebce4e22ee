import CFFmpeg

/// Process-wide libav set-up.
public enum FFmpegLibrary {
    /// Registers libavdevice's inputs and outputs. Idempotent.
    public static func registerDevices() { avdevice_register_all() }

    public enum LogLevel: Int32, Sendable {
        case quiet = -8, error = 16, warning = 24, info = 32, verbose = 40, debug = 48
    }

    /// libav's own log level (it writes to stderr).
    public static func setLogLevel(_ level: LogLevel) { av_log_set_level(level.rawValue) }

    /// Wall clock in µs since 1970.
    public static func wallClockMicros() -> Int64 { av_gettime() }

    /// Monotonic clock in µs.
    public static func monotonicMicros() -> Int64 { av_gettime_relative() }

    public static var versionSummary: String {
        let v = avformat_version()
        return "libavformat \(v >> 16).\((v >> 8) & 0xff).\(v & 0xff)"
    }

    /// Whether an encoder with this name exists in the linked libavcodec.
    public static func hasEncoder(_ name: String) -> Bool { avcodec_find_encoder_by_name(name) != nil }
}
