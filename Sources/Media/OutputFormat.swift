import FFmpegKit

/// One container rtcbox writes: its libavformat muxer, the names `--format` takes for it, the file name
/// extension `record` gives it, and how H.264 goes into it. The one table behind play's, preview's and
/// record's `--format`, their file-name guesses and their refusals.
public struct ContainerFormat: Sendable, Equatable {
    /// The libavformat muxer.
    public let muxer: String
    /// The names `--format` takes, the first one shown first.
    public let names: [String]
    /// What libavformat guesses from a file name that means this container (mov and ipod are MP4's).
    public let guessedMuxers: [String]
    /// The extension of a recorded file.
    public let fileExtension: String
    /// H.264 length-prefixed (AVCC with an avcC record) rather than Annex-B.
    public let carriesAVCC: Bool

    public static let mpegts = ContainerFormat(muxer: "mpegts", names: ["mpegts", "ts"], guessedMuxers: ["mpegts"], fileExtension: "ts", carriesAVCC: false)
    public static let nut = ContainerFormat(muxer: "nut", names: ["nut"], guessedMuxers: ["nut"], fileExtension: "nut", carriesAVCC: true)
    public static let matroska = ContainerFormat(muxer: "matroska", names: ["matroska", "mkv"], guessedMuxers: ["matroska", "webm"], fileExtension: "mkv", carriesAVCC: true)
    public static let flv = ContainerFormat(muxer: "flv", names: ["flv"], guessedMuxers: ["flv"], fileExtension: "flv", carriesAVCC: true)
    /// Always fragmented (works on pipes, survives a kill).
    public static let mp4 = ContainerFormat(muxer: "mp4", names: ["mp4", "fmp4"], guessedMuxers: ["mp4", "mov", "ipod"], fileExtension: "mp4", carriesAVCC: true)

    /// Everything play, preview and record write.
    public static let all: [ContainerFormat] = [mpegts, nut, matroska, flv, mp4]

    /// The container a `--format` value names (any of its names, any case), or nil.
    public static func named(_ name: String) -> ContainerFormat? {
        let n = name.lowercased()
        return all.first { $0.names.contains(n) }
    }

    /// The container of a libavformat muxer name (what `muxerName` returns), or nil.
    public static func forMuxer(_ muxer: String) -> ContainerFormat? {
        all.first { $0.muxer == muxer }
    }

    /// The list a refusal prints: "mpegts (ts), nut, matroska (mkv), flv, mp4 (fmp4)".
    public static var namesList: String {
        all.map { f in f.names.count > 1 ? "\(f.names[0]) (\(f.names.dropFirst().joined(separator: ", ")))" : f.names[0] }
            .joined(separator: ", ")
    }
}

/// Container choice for play/record outputs, and the muxer options each needs to work live.
public enum OutputFormat {
    /// The libavformat muxer for a `--format` value or, when nil, the output's file name (mpegts on stdout;
    /// FLV to rtmp:// and rtmps://, MPEG-TS to srt://, rist://, udp:// and tcp://).
    public static func muxerName(format: String?, output: String) throws -> String {
        let network = NetworkOutput.scheme(of: output)
        if let format {
            guard let container = ContainerFormat.named(format) else {
                throw FFmpegError(operation: "--format", message: "unknown format \"\(format)\" (\(ContainerFormat.namesList))")
            }
            if let network, let only = network.onlyMuxer, container.muxer != only {
                throw FFmpegError(operation: "output \"\(NetworkOutput.redacted(output))\"", message: "\(network.rawValue):// carries \(only) only, not \(format)")
            }
            return container.muxer
        }
        if let network { return network.muxer }
        if output == "-" { return "mpegts" }
        guard let guessed = OutputMedia.guessFormat(forFileName: output) else {
            throw FFmpegError(operation: "output \"\(output)\"", message: "cannot tell the format from the file name; use --format")
        }
        // The same table as --format: a file name does not open a way round it.
        guard let container = ContainerFormat.all.first(where: { $0.guessedMuxers.contains(guessed) }) else {
            throw FFmpegError(operation: "output \"\(output)\"",
                              message: "\(guessed) is not an output format here (\(ContainerFormat.namesList)); use one of those or --format")
        }
        return container.muxer
    }

    /// Containers whose H.264 is length-prefixed (AVCC with an avcC record) rather than Annex-B.
    public static func carriesAVCC(_ muxer: String) -> Bool {
        ContainerFormat.forMuxer(muxer)?.carriesAVCC ?? false
    }

    /// Muxer options: MP4 is always fragmented (works on pipes, survives a kill). Matroska is written live
    /// (no seeking back) only where it cannot seek: into a file it gets its duration and cues on a clean stop.
    public static func muxerOptions(_ muxer: String, output: String) -> [(String, String)] {
        switch muxer {
        case "mp4": return [("movflags", "frag_keyframe+empty_moov+default_base_moof")]
        case "matroska": return isPipe(output) || NetworkOutput.scheme(of: output) != nil ? [("live", "1")] : []
        case "flv" where NetworkOutput.scheme(of: output) != nil:
            // A live push: no seeking back to write the duration and size.
            return [("flvflags", "no_duration_filesize")]
        default: return []
        }
    }

    /// stdout or a pipe: URL.
    public static func isPipe(_ output: String) -> Bool { output == "-" || output.hasPrefix("pipe:") }
}

/// A played stream pushed to a server (a CDN's ingest): the URL schemes `play -o` and `relay --to` take,
/// and the container each carries.
public enum NetworkOutput: String, Sendable, CaseIterable {
    case rtmp, rtmps, srt, rist, udp, tcp

    /// The scheme of a network output URL, or nil for a file, a pipe or stdout.
    public static func scheme(of output: String) -> NetworkOutput? {
        guard let colon = output.firstIndex(of: ":"), output[colon...].hasPrefix("://") else { return nil }
        return NetworkOutput(rawValue: output[..<colon].lowercased())
    }

    /// The container a push uses without --format.
    public var muxer: String {
        switch self {
        case .rtmp, .rtmps: return "flv"
        case .srt, .rist, .udp, .tcp: return "mpegts"
        }
    }

    /// The one container this scheme can carry, if it allows no other.
    public var onlyMuxer: String? {
        switch self {
        case .rtmp, .rtmps: return "flv"
        default: return nil
        }
    }

    /// The URL for logs and events: RTMP's stream key (the last path part) and any query (SRT's passphrase,
    /// a token) are secrets of the account; they become "***".
    public static func redacted(_ url: String) -> String {
        guard let network = scheme(of: url) else { return url }
        var text = url
        var query = ""
        if let q = text.firstIndex(of: "?") {
            text = String(text[..<q])
            query = "?***"
        }
        let authority = text.index(text.startIndex, offsetBy: network.rawValue.count + 3)
        if network == .rtmp || network == .rtmps, let slash = text[authority...].lastIndex(of: "/"), text.index(after: slash) < text.endIndex,
           text[authority..<slash].contains("/") {
            text = String(text[...slash]) + "***"   // rtmp://host/app/KEY; rtmp://host/app alone has no key
        }
        return text + query
    }
}
