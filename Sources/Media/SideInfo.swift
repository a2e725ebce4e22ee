import Foundation
import NIOConcurrencyHelpers
import RoomClient
import RoomProtocol

/// Side info waiting for the next video frame (`publish --sei-stdin`, the `send_sei` command): any thread
/// adds, the pipeline's sink takes.
public final class SideInfoQueue: Sendable {
    private let pending = NIOLockedValueBox<[[UInt8]]>([])
    /// More than this many messages waiting for frames (a publish without video, or a flood) is refused.
    public static let maxPending = 64

    public init() {}

    /// Queues `data` for the next video frame; throws a one-line reason for data that cannot go.
    public func send(_ data: [UInt8]) throws {
        if let problem = SideInfoSEI.problem(with: data) { throw SideInfoError(reason: problem) }
        try pending.withLockedValue { list in
            guard list.count < Self.maxPending else {
                throw SideInfoError(reason: "\(Self.maxPending) side info messages already wait for a video frame")
            }
            list.append(data)
        }
    }

    func take() -> [[UInt8]] {
        pending.withLockedValue { list in
            defer { list.removeAll() }
            return list
        }
    }
}

public struct SideInfoError: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var description: String { reason }
}

/// A sink that puts waiting side info into the next video frame as SEI, before its first slice (encoded
/// and `--copy` frames alike), and passes everything else on.
public struct SideInfoSink: MediaSink {
    public let base: MediaSink
    public let queue: SideInfoQueue

    public init(base: MediaSink, queue: SideInfoQueue) {
        self.base = base
        self.queue = queue
    }

    public func send(track: TrackKind, flags: MediaFrameHeader.Flags, pts: Int64, dts: Int64, captureTime: UInt64,
                     payload: UnsafeRawBufferPointer) -> Bool {
        guard track == .video else { return base.send(track: track, flags: flags, pts: pts, dts: dts, captureTime: captureTime, payload: payload) }
        let messages = queue.take()
        guard !messages.isEmpty else { return base.send(track: track, flags: flags, pts: pts, dts: dts, captureTime: captureTime, payload: payload) }
        let unit = SideInfoSEI.inserting(messages, into: Array(payload.bindMemory(to: UInt8.self)))
        return unit.withUnsafeBytes { base.send(track: track, flags: flags, pts: pts, dts: dts, captureTime: captureTime, payload: $0) }
    }

    public func takeKeyframeRequest() -> Bool { base.takeKeyframeRequest() }
    public var videoBitRate: Int? { base.videoBitRate }
    public var videoLayer: VideoLayer? { base.videoLayer }
    public func updateVideoTrack(_ track: TrackInfo) { base.updateVideoTrack(track) }
    public func noteSoundLevel(_ dBov: UInt8) { base.noteSoundLevel(dBov) }
}
