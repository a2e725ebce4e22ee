import FFmpegKit
import Foundation
import RoomClient
import RoomProtocol

/// When a player stops.
public struct PlaySettings: Sendable {
    public var output: String
    public var format: String?
    /// Stop after this much output media (seconds).
    public var duration: Double?
    /// Stop after this many video frames (audio frames for audio-only streams).
    public var frames: Int?
    /// Stop when the publisher stops (otherwise wait for it to come back).
    public var untilStreamEnds = true
    /// The tracks written (--video-only / --audio-only).
    public var kinds: Set<TrackKind> = [.video, .audio]
    /// Decode and write raw media (yuv4mpegpipe video, or PCM audio with kinds == [.audio]).
    public var decode = false
    /// Show the video in a window with this libavdevice output device (sdl2, xv); `output` is the title.
    public var window: String?
    /// "aac": transcode other audio codecs (Opus) to AAC; nil keeps them where the container allows it.
    public var audioCodec: String?
    /// Gets the one line saying that the audio is transcoded.
    public var onNote: (@Sendable (String) -> Void)?
    /// A push to a server (`output` an rtmp://, srt://, rist://... URL): each change of its connection.
    public var onRelayState: (@Sendable (RelayState) -> Void)?
    /// A push whose first connection fails tries again (with backoff) instead of failing.
    public var relayRetriesFirstConnection = false
    /// Side info (SEI) found in each video frame: the frame's pts (µs) and the data.
    public var onSideInfo: (@Sendable (Int64, [UInt8]) -> Void)?
    /// Write no media: only look at the frames (with `onSideInfo`, `play --sei-only`).
    public var discardMedia = false
    /// How long a push's server may keep a connect or a write waiting before it counts as dropped (seconds).
    public var pushTimeout = 10.0

    public init(output: String, format: String? = nil) {
        self.output = output
        self.format = format
    }
}

public struct PlaySummary: Sendable, Equatable {
    public enum Ending: Sendable, Equatable {
        case durationReached, framesReached, streamEnded, stopped, outputClosed

        /// How the summary line says it.
        public var words: String {
            switch self {
            case .durationReached: return "duration reached"
            case .framesReached: return "frame count reached"
            case .streamEnded: return "the stream ended"
            case .stopped: return "stopped"
            case .outputClosed: return "the output was closed"
            }
        }
    }
    public var ending: Ending = .stopped
    public var videoFrames = 0
    public var audioFrames = 0
    public var framesDropped = 0
    public var mediaSeconds = 0.0
    public init() {}
}

/// No window can be opened for --window (no display).
public struct WindowUnavailable: Error, CustomStringConvertible {
    public var description: String
}

/// Receives a stream from a MediaQueue and muxes it to a file or stdout, on its own thread.
public final class PlayPipeline: Sendable {
    public let settings: PlaySettings
    public let stop: StopSignal

    public init(settings: PlaySettings, stop: StopSignal = StopSignal()) {
        self.settings = settings
        self.stop = stop
    }

    /// Checks the output settings before anything connects (bad format → error now, not after login).
    public func validate() throws {
        if settings.discardMedia { return }
        if let window = settings.window {
            guard DecodedWriter.windowDevices.contains(window) else {
                throw FFmpegError(operation: "--window", message: "unknown window device \"\(window)\" (sdl2, xv)")
            }
        } else if settings.decode {
            _ = try DecodedWriter.muxerName(format: settings.format, output: settings.output, audio: settings.kinds == [.audio])
        } else {
            _ = try OutputFormat.muxerName(format: settings.format, output: settings.output)
        }
    }

    /// With --window: throws `WindowUnavailable` when no window can be opened (no display), before anything connects.
    public func checkWindow(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let window = settings.window,
              let problem = DecodedWriter.windowProblem(device: window, environment: environment) else { return }
        throw WindowUnavailable(description: problem)
    }

    public func run(queue: MediaQueue) async throws -> PlaySummary {
        let settings = self.settings
        let stop = self.stop
        return try await runOnThread(name: "rtcbox-play") {
            try Self.loop(queue: queue, settings: settings, stop: stop)
        }
    }

    private static func loop(queue: MediaQueue, settings: PlaySettings, stop: StopSignal) throws -> PlaySummary {
        let muxer: PlayOutput
        if settings.discardMedia {
            muxer = DiscardingOutput()
        } else if let window = settings.window {
            muxer = try DecodedWriter(output: settings.output, format: window, kind: .video)
        } else if settings.decode {
            muxer = try DecodedWriter(output: settings.output, format: settings.format, kind: settings.kinds == [.audio] ? .audio : .video)
        } else if NetworkOutput.scheme(of: settings.output) != nil {
            muxer = try RelayOutput(url: settings.output, format: settings.format, kinds: settings.kinds, audioCodec: settings.audioCodec,
                                    retriesFirstConnection: settings.relayRetriesFirstConnection,
                                    ioTimeoutMicros: Int64(settings.pushTimeout * 1_000_000), onNote: { settings.onNote?($0) }, onState: { settings.onRelayState?($0) })
        } else {
            muxer = try StreamMuxer(output: settings.output, format: settings.format, kinds: settings.kinds,
                                    audioCodec: settings.audioCodec, onNote: { settings.onNote?($0) })
        }
        var summary = PlaySummary()
        let durationLimit = settings.duration.map { Int64($0 * 1_000_000) }
        func finish(_ ending: PlaySummary.Ending) throws -> PlaySummary {
            summary.ending = ending
            summary.videoFrames = muxer.videoFramesWritten
            summary.audioFrames = muxer.audioFramesWritten
            summary.framesDropped = muxer.framesDropped + queue.droppedFrames
            summary.mediaSeconds = Double(muxer.mediaMicros) / 1_000_000
            if ending == .outputClosed { try? muxer.finish() } else { try muxer.finish() }
            return summary
        }
        while true {
            if stop.isRaised { return try finish(.stopped) }
            guard let item = queue.pop(until: Date().addingTimeInterval(0.1)) else {
                // Nothing to write (a stream not live, a reconnect): a reader that went away is noticed anyway.
                if settings.output == "-" && Self.stdoutReaderGone() { return try finish(.outputClosed) }
                continue
            }
            switch item {
            case .started(let info):
                muxer.streamStarted(info)
            case .tracksChanged:
                // One output goes on: the keyframe carries the new SPS/PPS (kept in band, also in AVCC), and
                // decoded output is scaled to the size it started with.
                break
            case .frame(let frame):
                if let onSideInfo = settings.onSideInfo, frame.header.track == .video {
                    for message in SideInfoSEI.messages(in: frame.payload.readableBytesView) { onSideInfo(frame.header.pts, message) }
                }
                do {
                    guard try muxer.write(frame) else { continue }
                } catch let e as FFmpegError where e.code == -EPIPE {
                    return try finish(.outputClosed)
                }
                if let durationLimit, muxer.mediaMicros >= durationLimit { return try finish(.durationReached) }
                if let n = settings.frames {
                    let count = muxer.hasVideo ? muxer.videoFramesWritten : muxer.audioFramesWritten
                    if count >= n { return try finish(.framesReached) }
                }
            case .stopped:
                if settings.untilStreamEnds { return try finish(.streamEnded) }
            case .closed(let error):
                if let error {
                    _ = try? finish(.stopped)
                    throw error
                }
                return try finish(.stopped)
            }
        }
    }

    /// True when stdout is a pipe or socket whose reader closed it (poll says POLLERR/POLLHUP without a write).
    static func stdoutReaderGone() -> Bool {
        var p = pollfd(fd: 1, events: Int16(POLLOUT), revents: 0)
        guard poll(&p, 1, 0) == 1 else { return false }
        return p.revents & Int16(POLLERR | POLLHUP) != 0
    }
}
