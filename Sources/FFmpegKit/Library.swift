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

    /// Whether `name` is one of a libav format's names: libav gives some formats a comma-separated list
    /// ("video4linux2,v4l2", "mov,mp4,m4a,3gp,3g2,mj2"), and `-f` takes any one of them (or the whole list).
    public static func formatName(_ formatName: String, answers name: String) -> Bool {
        formatName == name || formatName.split(separator: ",").contains { $0 == name }
    }

    /// Whether an encoder with this name exists in the linked libavcodec.
    public static func hasEncoder(_ name: String) -> Bool { avcodec_find_encoder_by_name(name) != nil }
}
