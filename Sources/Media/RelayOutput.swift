import FFmpegKit
import Foundation
import RoomProtocol

/// What a push to a server is doing (the SDK's CDN relay states), for events and logs.
public enum RelayState: Sendable, Equatable {
    /// Opening the connection (the first, or again after a drop).
    case connecting
    /// The header went out: the far end takes the stream.
    case relaying
    /// The far end dropped or could not be reached: frames are dropped until the next try.
    case retrying(afterSeconds: Double, reason: String)

    public var name: String {
        switch self {
        case .connecting: return "connecting"
        case .relaying: return "relaying"
        case .retrying: return "retrying"
        }
    }
}

/// A played stream pushed to a server (`play -o rtmp://…`, `srt://`, `rist://`): a `StreamMuxer` per
/// connection, without re-encoding. When the far end drops (a write fails) the connection is closed and
/// opened again at the next video keyframe after a backoff (1 s, doubling to 10 s, back to 1 s once a
/// connection lasted 10 s); the frames in between are dropped and counted. Each connection is a new
/// container from time 0, as a publisher's reconnect is to an RTMP server. The first connection failing is
/// an error (a wrong URL, a refused key or no server fails `play` at once) unless `retriesFirstConnection`
/// (`relay`, which keeps a room's streams pushed for as long as it runs). Errors and states name the URL
/// with its secrets (an RTMP key, a query) redacted. A connect, header or write that the server keeps
/// waiting longer than `ioTimeoutMicros` (a host that never answers, a server that stopped reading) fails as
/// timed out, and counts as a drop.
final class RelayOutput: PlayOutput {
    private let url: String
    private let shownURL: String
    private let make: () throws -> StreamMuxer
    private let onState: (RelayState) -> Void
    private let retriesFirstConnection: Bool
    private var current: StreamMuxer?
    private var info: StreamInfo?
    private var retryAt: Date?
    private var backoff = RelayOutput.firstBackoff
    private var relayingSince: Date?
    private var everRelayed = false
    /// What the connections before this one wrote.
    private var earlier = (video: 0, audio: 0, dropped: 0, micros: Int64(0))
    private var droppedBetween = 0

    static let firstBackoff = 1.0
    static let maxBackoff = 10.0
    /// A connection this long resets the backoff.
    static let steadySeconds = 10.0

    init(url: String, format: String?, kinds: Set<TrackKind>, audioCodec: String?, retriesFirstConnection: Bool = false,
         ioTimeoutMicros: Int64 = 10_000_000, onNote: @escaping (String) -> Void, onState: @escaping (RelayState) -> Void) throws {
        self.url = url
        self.retriesFirstConnection = retriesFirstConnection
        shownURL = NetworkOutput.redacted(url)
        self.onState = onState
        make = { try StreamMuxer(output: url, format: format, kinds: kinds, audioCodec: audioCodec, ioTimeoutMicros: ioTimeoutMicros, onNote: onNote) }
        onState(.connecting)
        current = try Self.redacting(shownURL, url) { try make() }
    }

    /// The error with the URL as shown (libav's messages name what they opened).
    private static func redacting<T>(_ shown: String, _ url: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as FFmpegError {
            throw FFmpegError(operation: e.operation.replacingOccurrences(of: url, with: shown), message: e.message, code: e.code)
        }
    }

    func streamStarted(_ info: StreamInfo) {
        self.info = info
        current?.streamStarted(info)
    }

    var hasVideo: Bool {
        current?.hasVideo ?? (info?.tracks.contains { $0.kind == .video } ?? true)
    }

    func write(_ frame: MediaFrame) throws -> Bool {
        if current == nil {
            // Between connections: wait out the backoff, then try again at a join point.
            let join = hasVideo ? (frame.header.track == .video && frame.header.isKeyframe) : true
            guard let retryAt, Date() >= retryAt, join else {
                droppedBetween += 1
                return false
            }
            onState(.connecting)
            do {
                let muxer = try make()
                if let info { muxer.streamStarted(info) }
                current = muxer
            } catch {
                droppedBetween += 1
                dropped(error)
                return false
            }
        }
        guard let muxer = current else { return false }
        let wasOpen = muxer.isOpen
        do {
            let written = try Self.redacting(shownURL, url) { try muxer.write(frame) }
            if !wasOpen && muxer.isOpen {
                relayingSince = Date()
                everRelayed = true
                onState(.relaying)
            }
            if let since = relayingSince, Date().timeIntervalSince(since) >= Self.steadySeconds { backoff = Self.firstBackoff }
            return written
        } catch {
            guard everRelayed || retriesFirstConnection else { throw error }   // the first connection: play fails with it
            dropped(error)
            return false
        }
    }

    /// The far end dropped: the connection's totals are kept, the next try is scheduled.
    private func dropped(_ error: Error) {
        if let muxer = current {
            try? muxer.finish()
            earlier.video += muxer.videoFramesWritten
            earlier.audio += muxer.audioFramesWritten
            earlier.dropped += muxer.framesDropped
            earlier.micros += muxer.mediaMicros
        }
        current = nil
        relayingSince = nil
        let wait = backoff
        backoff = min(Self.maxBackoff, backoff * 2)
        retryAt = Date().addingTimeInterval(wait)
        let reason = "\(error)".replacingOccurrences(of: url, with: shownURL)
        onState(.retrying(afterSeconds: wait, reason: reason))
    }

    func finish() throws {
        try current.map { muxer in try Self.redacting(shownURL, url) { try muxer.finish() } }
    }

    var videoFramesWritten: Int { earlier.video + (current?.videoFramesWritten ?? 0) }
    var audioFramesWritten: Int { earlier.audio + (current?.audioFramesWritten ?? 0) }
    var framesDropped: Int { earlier.dropped + droppedBetween + (current?.framesDropped ?? 0) }
    /// The media pushed, over every connection.
    var mediaMicros: Int64 { earlier.micros + (current?.mediaMicros ?? 0) }
}
