import FFmpegKit
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import RoomClient
import RoomProtocol
import XCTest

@testable import Media

/// Collects what a publish pipeline sends, as a room would receive it.
final class CollectingSink: MediaSink, @unchecked Sendable {
    let frames = NIOLockedValueBox<[MediaFrame]>([])

    func send(track: TrackKind, flags: MediaFrameHeader.Flags, pts: Int64, dts: Int64, captureTime: UInt64,
              payload: UnsafeRawBufferPointer) -> Bool {
        let f = MediaFrame(header: MediaFrameHeader(streamHandle: 1, track: track, flags: flags, pts: pts, dts: dts,
                                                    captureTime: captureTime), payload: ByteBuffer(bytes: payload))
        frames.withLockedValue { $0.append(f) }
        return true
    }

    func takeKeyframeRequest() -> Bool { false }
}

final class PipelineTests: XCTestCase {
    private func publish(seconds: Double) async throws -> ([TrackInfo], [MediaFrame]) {
        var settings = PublishSettings(inputs: [
            InputSpec(url: "testsrc2=size=320x240:rate=30", format: "lavfi"),
            InputSpec(url: "sine=frequency=440:sample_rate=44100", format: "lavfi"),
        ])
        settings.duration = seconds
        settings.realtime = false
        settings.gopSeconds = 1
        let sink = CollectingSink()
        let tracksBox = NIOLockedValueBox<[TrackInfo]>([])
        _ = try await PublishPipeline(settings: settings).run { tracks in
            tracksBox.withLockedValue { $0 = tracks }
            return sink
        }
        return (tracksBox.withLockedValue { $0 }, sink.frames.withLockedValue { $0 })
    }

    func testPublishPipelineEncodesH264AndAACWithSaneTimestamps() async throws {
        let (tracks, frames) = try await publish(seconds: 2)
        XCTAssertEqual(tracks.map(\.kind), [.video, .audio])
        XCTAssertEqual(tracks[0].width, 320)
        XCTAssertEqual(tracks[1].sampleRate, 48000, "resampled from 44.1 kHz")
        XCTAssertNotNil(tracks[1].extradata, "AAC AudioSpecificConfig travels in the track")
        let video = frames.filter { $0.header.track == .video }
        let audio = frames.filter { $0.header.track == .audio }
        XCTAssertEqual(video.count, 60, "2 s at 30 fps")
        XCTAssertEqual(video.filter(\.header.isKeyframe).count, 2, "GOP of 1 s")
        XCTAssertTrue(video[0].header.isKeyframe)
        XCTAssertTrue(zip(video, video.dropFirst()).allSatisfy { $0.header.dts < $1.header.dts })
        XCTAssertTrue(zip(audio, audio.dropFirst()).allSatisfy { $0.header.dts < $1.header.dts })
        // 2 s of 48 kHz in 1024-sample frames: 93.75, plus the encoder's priming frame and the padded tail.
        XCTAssertGreaterThanOrEqual(audio.count, 93)
        XCTAssertLessThanOrEqual(audio.count, 97)
        XCTAssertLessThan(abs(video[0].header.pts - max(0, audio[0].header.pts)), 100_000, "A/V start within 100 ms")
    }

    func testPlayPipelineMuxesReceivedFramesIntoAReadableFile() async throws {
        let (tracks, frames) = try await publish(seconds: 2)
        let queue = MediaQueue(capacity: 4096)
        queue.push(.started(StreamInfo(streamID: "s", user: UserInfo(userID: "u", userName: "u"), tracks: tracks)))
        // Start mid-GOP, just after the first video keyframe: the player must skip to the second one.
        // (Video and audio come from two threads, so their interleaving varies from run to run.)
        let firstVideo = try XCTUnwrap(frames.firstIndex { $0.header.track == .video })
        for f in frames[(firstVideo + 1)...] { queue.push(.frame(f)) }
        queue.push(.stopped(reason: "publisher stopped"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rtcbox-media-\(getpid()).mkv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let summary = try await PlayPipeline(settings: PlaySettings(output: path)).run(queue: queue)
        XCTAssertEqual(summary.ending, .streamEnded)
        XCTAssertEqual(summary.videoFrames, 30, "frames from the second keyframe on")
        let input = try InputMedia(url: path, format: nil, interrupt: InterruptFlag())
        XCTAssertEqual(input.streamCount, 2)
        XCTAssertEqual(input.formatName, "matroska,webm")
    }

    func testUnknownPlayFormatIsRefusedUpFront() {
        XCTAssertThrowsError(try PlayPipeline(settings: PlaySettings(output: "-", format: "avi2")).validate())
        XCTAssertThrowsError(try PlayPipeline(settings: PlaySettings(output: "noextension")).validate())
        XCTAssertNoThrow(try PlayPipeline(settings: PlaySettings(output: "x.mp4")).validate())
    }

    /// One table: every name of a container picks its muxer, a file name picks the same ones, and every
    /// muxer of the table is one libavformat has.
    func testOneTableOfContainerNames() throws {
        for container in ContainerFormat.all {
            for name in container.names + container.names.map({ $0.uppercased() }) {
                XCTAssertEqual(try OutputFormat.muxerName(format: name, output: "-"), container.muxer, name)
            }
            XCTAssertEqual(try OutputFormat.muxerName(format: nil, output: "a.\(container.fileExtension)"), container.muxer,
                           "record's extension \(container.fileExtension) reads back as the same container")
            XCTAssertNotNil(OutputMedia.guessFormat(forFileName: "a.\(container.fileExtension)"), container.muxer)
        }
        XCTAssertEqual(ContainerFormat.namesList, "mpegts (ts), nut, matroska (mkv), flv, mp4 (fmp4)")
        XCTAssertEqual(try OutputFormat.muxerName(format: nil, output: "a.webm"), "matroska")
        XCTAssertEqual(try OutputFormat.muxerName(format: nil, output: "a.mov"), "mp4")
        XCTAssertThrowsError(try OutputFormat.muxerName(format: nil, output: "a.avi")) { error in
            XCTAssertTrue("\(error)".contains("avi is not an output format here (mpegts (ts), nut, matroska (mkv), flv, mp4 (fmp4))"), "\(error)")
        }
        XCTAssertFalse(OutputFormat.carriesAVCC("mpegts"))
        XCTAssertTrue(OutputFormat.carriesAVCC("mp4"))
    }

    /// A push to a server: its scheme picks the container (RTMP takes FLV only), and logs show the URL without
    /// its secrets.
    func testNetworkOutputsPickTheirContainerAndHideTheirSecrets() throws {
        XCTAssertEqual(try OutputFormat.muxerName(format: nil, output: "rtmp://cdn.example/live/KEY"), "flv")
        XCTAssertEqual(try OutputFormat.muxerName(format: nil, output: "RTMPS://cdn.example/live/KEY"), "flv")
        XCTAssertEqual(try OutputFormat.muxerName(format: nil, output: "srt://h:9000?streamid=x"), "mpegts")
        XCTAssertEqual(try OutputFormat.muxerName(format: nil, output: "rist://h:9000"), "mpegts")
        XCTAssertEqual(try OutputFormat.muxerName(format: "mkv", output: "srt://h:9000"), "matroska", "SRT carries any container")
        XCTAssertThrowsError(try OutputFormat.muxerName(format: "mp4", output: "rtmp://h/live/KEY")) { error in
            XCTAssertEqual("\(error)", "output \"rtmp://h/live/***\": rtmp:// carries flv only, not mp4")
        }
        XCTAssertNil(NetworkOutput.scheme(of: "out.flv"))
        XCTAssertNil(NetworkOutput.scheme(of: "-"))
        XCTAssertNil(NetworkOutput.scheme(of: "http://h/x.ts"), "not a push this table knows")
        XCTAssertEqual(OutputFormat.muxerOptions("flv", output: "rtmp://h/live/k").map(\.0), ["flvflags"])
        XCTAssertEqual(OutputFormat.muxerOptions("flv", output: "a.flv").count, 0)
        for (url, shown) in [("rtmp://h/live/KEY", "rtmp://h/live/***"), ("rtmp://h:1935/app/sub/KEY?auth=1", "rtmp://h:1935/app/sub/***?***"),
                             ("rtmp://h/live", "rtmp://h/live"), ("rtmp://h/live/", "rtmp://h/live/"), ("rtmp://", "rtmp://"),
                             ("srt://h:9000?passphrase=secret123", "srt://h:9000?***"), ("udp://239.0.0.1:1234", "udp://239.0.0.1:1234"),
                             ("file.flv", "file.flv")] {
            XCTAssertEqual(NetworkOutput.redacted(url), shown, url)
        }
    }
}

/// A sink that asks for a keyframe once, after `after` video frames.
final class KeyframeAskingSink: MediaSink, @unchecked Sendable {
    let inner = CollectingSink()
    private let lock = NSLock()
    private var videoFrames = 0
    private var asked = false
    let after: Int

    init(after: Int) { self.after = after }

    func send(track: TrackKind, flags: MediaFrameHeader.Flags, pts: Int64, dts: Int64, captureTime: UInt64,
              payload: UnsafeRawBufferPointer) -> Bool {
        if track == .video { lock.withLock { videoFrames += 1 } }
        return inner.send(track: track, flags: flags, pts: pts, dts: dts, captureTime: captureTime, payload: payload)
    }

    func takeKeyframeRequest() -> Bool {
        lock.withLock {
            guard !asked, videoFrames >= after else { return false }
            asked = true
            return true
        }
    }
}

final class KeyframeOnRequestTests: XCTestCase {
    func testARequestMakesTheNextFrameAnIDR() async throws {
        var settings = PublishSettings(inputs: [InputSpec(url: "testsrc2=size=320x240:rate=30", format: "lavfi")])
        settings.duration = 3
        settings.realtime = false
        settings.gopSeconds = 10  // no scheduled keyframe after the first within these 3 s
        let sink = KeyframeAskingSink(after: 40)
        _ = try await PublishPipeline(settings: settings).run { _ in sink }
        let video = sink.inner.frames.withLockedValue { $0 }.filter { $0.header.track == .video }
        let keyframes = video.enumerated().filter { $0.element.header.isKeyframe }.map(\.offset)
        XCTAssertEqual(keyframes.first, 0)
        XCTAssertEqual(keyframes.count, 2, "keyframes at \(keyframes)")
        // x264 has no lookahead here (zerolatency): the requested IDR comes within a frame or two.
        XCTAssertTrue((40...42).contains(keyframes.last ?? -1), "keyframes at \(keyframes)")
        let idr = video[keyframes.last ?? 0]
        XCTAssertTrue(H264AnnexB.containsIDR(Array(idr.payload.readableBytesView)))
        XCTAssertNotNil(H264AnnexB.parameterSets(in: Array(idr.payload.readableBytesView)), "SPS/PPS ride with every IDR")
    }
}
