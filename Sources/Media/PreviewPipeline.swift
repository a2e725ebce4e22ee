import FFmpegKit
import Foundation
import NIOCore
import RoomClient
import RoomProtocol

/// `rtcbox preview`: the capture and encode half of publish, with no server. What the encoders make goes
/// through a MediaQueue into a play pipeline: a file or stdout, or a window.
public final class PreviewPipeline: Sendable {
    public let publish: PublishSettings
    public let play: PlaySettings
    public let stop: StopSignal

    public init(publish: PublishSettings, play: PlaySettings, stop: StopSignal = StopSignal()) {
        self.publish = publish
        self.play = play
        self.stop = stop
    }

    public func validate() throws {
        try PlayPipeline(settings: play, stop: stop).validate()
    }

    /// Runs until the inputs end, the duration is reached or a stop is asked.
    public func run() async throws -> (PublishSummary, PlaySummary) {
        let queue = MediaQueue(capacity: 4096)
        let player = PlayPipeline(settings: play, stop: stop)
        try player.checkWindow()  // before the inputs open
        let publisher = PublishPipeline(settings: publish, stop: stop)
        async let played = player.run(queue: queue)
        let published: PublishSummary
        do {
            published = try await publisher.run { tracks in
                queue.push(.started(StreamInfo(streamID: "preview", user: UserInfo(userID: "local", userName: "local"), tracks: tracks)))
                return QueueSink(queue: queue)
            }
        } catch {
            queue.push(.closed(nil))
            stop.raise()
            _ = try? await played
            throw error
        }
        queue.push(.stopped(reason: "the input ended"))
        return (published, try await played)
    }
}

/// Hands encoded frames to a local player's queue, as a room would deliver them.
struct QueueSink: MediaSink {
    let queue: MediaQueue

    func send(track: TrackKind, flags: MediaFrameHeader.Flags, pts: Int64, dts: Int64, captureTime: UInt64,
              payload: UnsafeRawBufferPointer) -> Bool {
        let header = MediaFrameHeader(streamHandle: 0, track: track, flags: flags, pts: pts, dts: dts, captureTime: captureTime)
        queue.push(.frame(MediaFrame(header: header, payload: ByteBuffer(bytes: payload))))
        return true
    }

    func takeKeyframeRequest() -> Bool { false }
}
