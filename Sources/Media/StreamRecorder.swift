import FFmpegKit
import Foundation
import RoomClient
import RoomProtocol

/// How `rtcbox record` writes files.
public struct RecordSettings: Sendable {
    public var directory: String
    public var roomID: String
    /// Any container of the shared table (ContainerFormat.all); MP4 by default (fragmented, 1 s fragments).
    public var format = ContainerFormat.mp4
    /// Start a new file at the first keyframe after this long (nil: one file per publish).
    public var segmentSeconds: Double?
    /// "aac": transcode other audio codecs (Opus) to AAC; nil keeps them (mp4, mkv and ts all carry Opus).
    public var audioCodec: String?
    /// Gets the one line saying that a stream's audio is transcoded.
    public var onNote: (@Sendable (String) -> Void)?

    public init(directory: String, roomID: String) {
        self.directory = directory
        self.roomID = roomID
    }

    /// Muxer options: MP4 fragments end at keyframes and after 1 s at most, so a killed recorder loses
    /// about a second; Matroska clusters are kept short for the same reason.
    var muxerOptions: [(String, String)] {
        switch format.muxer {
        case "mp4": return [("frag_duration", "1000000")]
        // Not live: the trailer writes the duration and cues (a killed recorder's file still plays).
        case "matroska": return [("cluster_time_limit", "1000"), ("live", "0")]
        default: return []
        }
    }
}

/// One file being written: where, since when, and what the sidecar says about it.
public struct RecordedFile: Sendable, Equatable {
    public var path: String
    public var streamID: String
    public var userID: String
    public var start: Date
    public var end: Date?
}

/// Records one stream of a room: a file per publish (and per segment), named
/// DIR/ROOM/STREAM/START-UTC.EXT, each with a JSON sidecar (FILE.json) written when the file opens and
/// again, with its end, when it closes. Runs on its own thread, fed by the stream's MediaQueue.
public final class StreamRecorder: Sendable {
    public let settings: RecordSettings
    public let streamID: String
    private let stop: StopSignal

    public init(settings: RecordSettings, streamID: String, stop: StopSignal) {
        self.settings = settings
        self.streamID = streamID
        self.stop = stop
    }

    /// Runs until the queue closes or a stop is asked; returns the files written.
    public func run(queue: MediaQueue, onFile: @escaping @Sendable (RecordedFile) -> Void = { _ in }) async throws -> [RecordedFile] {
        let settings = self.settings, streamID = self.streamID, stop = self.stop
        return try await runOnThread(name: "rtcbox-record-\(streamID)") {
            try Self.loop(queue: queue, settings: settings, streamID: streamID, stop: stop, onFile: onFile)
        }
    }

    private static func loop(queue: MediaQueue, settings: RecordSettings, streamID: String, stop: StopSignal,
                             onFile: @escaping (RecordedFile) -> Void) throws -> [RecordedFile] {
        var files: [RecordedFile] = []
        var current: (muxer: StreamMuxer, file: RecordedFile, info: StreamInfo)?
        var info: StreamInfo?
        // The tracks were described anew (another size): a new file from the next keyframe, whose header says so.
        var splitAtKeyframe = false

        func close() throws {
            guard var c = current else { return }
            current = nil
            c.file.end = Date()
            try c.muxer.finish()
            try writeSidecar(c.file, info: c.info, tracks: c.muxer.writtenTracks)
            files.append(c.file)
            onFile(c.file)
        }

        func open(_ info: StreamInfo) throws {
            let start = Date()
            let dir = (settings.directory as NSString).appendingPathComponent("\(settings.roomID)/\(streamID)")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var path = (dir as NSString).appendingPathComponent("\(utcStamp(start)).\(settings.format.fileExtension)")
            var n = 1
            while FileManager.default.fileExists(atPath: path) {
                path = (dir as NSString).appendingPathComponent("\(utcStamp(start))-\(n).\(settings.format.fileExtension)")
                n += 1
            }
            let muxer = try StreamMuxer(output: path, format: settings.format.muxer,
                                        options: settings.muxerOptions, audioCodec: settings.audioCodec,
                                        onNote: { [streamID] in settings.onNote?("\(streamID): \($0)") })
            muxer.streamStarted(info)
            let file = RecordedFile(path: path, streamID: streamID, userID: info.user.userID, start: start)
            current = (muxer, file, info)
            try writeSidecar(file, info: info, tracks: info.tracks)
        }

        defer { try? close() }
        while !stop.isRaised {
            guard let item = queue.pop(until: Date().addingTimeInterval(0.1)) else { continue }
            switch item {
            case .started(let started):
                try close()
                info = started
                try open(started)
            case .frame(let frame):
                guard let c = current, let info else { continue }
                let keyframe = frame.header.track == .video && frame.header.isKeyframe
                let segmentDone = settings.segmentSeconds.map { Date().timeIntervalSince(c.file.start) >= $0 } ?? false
                if keyframe, c.muxer.videoFramesWritten > 0, segmentDone || splitAtKeyframe {
                    splitAtKeyframe = false
                    try close()
                    try open(info)
                }
                _ = try current?.muxer.write(frame)
            case .tracksChanged(let changed):
                info = changed
                splitAtKeyframe = true
            case .stopped:
                try close()
            case .closed(let error):
                try close()
                if let error { throw error }
                return files
            }
        }
        try close()
        return files
    }

    static func utcStamp(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        return f.string(from: date)
    }

    static func iso(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }

    /// FILE.json: stream, user, room, start and (once closed) end, and the codec parameters.
    static func writeSidecar(_ file: RecordedFile, info: StreamInfo, tracks: [TrackInfo]) throws {
        var object: [String: Any] = [
            "file": (file.path as NSString).lastPathComponent, "stream_id": file.streamID, "user_id": file.userID,
            "extra_info": info.extraInfo, "start": iso(file.start),
            "tracks": (try? JSONSerialization.jsonObject(with: Data(ControlCoding.encodeJSON(tracks)))) ?? [],
        ]
        if let end = file.end {
            object["end"] = iso(end)
            object["duration_seconds"] = (end.timeIntervalSince(file.start) * 1000).rounded() / 1000
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        try data.write(to: URL(fileURLWithPath: file.path + ".json"), options: .atomic)
    }
}
