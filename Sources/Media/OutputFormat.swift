import FFmpegKit

/// Container choice for play/record outputs, and the muxer options each needs to work live.
public enum OutputFormat {
    /// The libavformat muxer for a `--format` value or, when nil, the output's file name (mpegts on stdout).
    public static func muxerName(format: String?, output: String) throws -> String {
        if let format {
            switch format.lowercased() {
            case "mpegts", "ts": return "mpegts"
            case "nut": return "nut"
            case "matroska", "mkv": return "matroska"
            case "flv": return "flv"
            case "mp4", "fmp4": return "mp4"
            default:
                throw FFmpegError(operation: "--format", message: "unknown format \"\(format)\" (mpegts, nut, matroska, flv, mp4)")
            }
        }
        if output == "-" { return "mpegts" }
        guard let guessed = OutputMedia.guessFormat(forFileName: output) else {
            throw FFmpegError(operation: "output \"\(output)\"", message: "cannot tell the format from the file name; use --format")
        }
        switch guessed {
        case "mp4", "mov", "ipod": return "mp4"
        case "matroska", "webm": return "matroska"
        case "mpegts", "nut", "flv": return guessed
        default:
            // The same list as --format: a file name does not open a way round it.
            throw FFmpegError(operation: "output \"\(output)\"",
                              message: "\(guessed) is not an output format here (mpegts, nut, matroska, flv, mp4); use one of those or --format")
        }
    }

    /// Containers whose H.264 is length-prefixed (AVCC with an avcC record) rather than Annex-B.
    public static func carriesAVCC(_ muxer: String) -> Bool {
        ["mp4", "matroska", "nut", "flv"].contains(muxer)
    }

    /// Muxer options: MP4 is always fragmented (works on pipes, survives a kill). Matroska is written live
    /// (no seeking back) only where it cannot seek: into a file it gets its duration and cues on a clean stop.
    public static func muxerOptions(_ muxer: String, output: String) -> [(String, String)] {
        switch muxer {
        case "mp4": return [("movflags", "frag_keyframe+empty_moov+default_base_moof")]
        case "matroska": return isPipe(output) ? [("live", "1")] : []
        default: return []
        }
    }

    /// stdout or a pipe: URL.
    public static func isPipe(_ output: String) -> Bool { output == "-" || output.hasPrefix("pipe:") }
}
