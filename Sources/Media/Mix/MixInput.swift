import FFmpegKit
import Foundation
import RoomClient
import RoomProtocol

/// What one input of a mix is doing, as `mix_input_state` events say it.
public enum MixInputState: String, Sendable, Equatable {
    /// Asked for (or joined) and no picture or sound decoded yet.
    case waiting
    /// Its media arrives and is mixed.
    case mixing
    /// Live, but nothing arrived for a second: its last picture stays, then the background.
    case stalled
    /// The stream ended: its last picture stays for the hold, then the region is free.
    case left
}

/// One change of an input, for events.
public struct MixInputReport: Sendable, Equatable {
    public var streamID: String
    public var state: MixInputState
    /// Where its picture is (nil: no region, e.g. audio only or no free region).
    public var region: MixRect?
}

/// One played stream of a mix, on the mixer's thread: its decoders, its newest picture and its sound
/// waiting to be mixed.
final class MixInput {
    let streamID: String
    let queue: MediaQueue
    private(set) var videoTrack: TrackInfo?
    private(set) var audioTrack: TrackInfo?
    private var videoDecoder: Decoder?
    private var audioDecoder: Decoder?
    private let decoded: Frame
    /// The newest decoded picture (valid while `hasPicture`).
    let picture: Frame
    private(set) var hasPicture = false
    private(set) var pictureCapture: UInt64 = 0
    /// Monotonic µs of the last picture, of the last media of any kind, and of the stream's end.
    private(set) var lastPictureAt: Int64 = 0
    private(set) var lastMediaAt: Int64 = 0
    private(set) var leftAt: Int64?
    private var waitingForKeyframe = true
    let sound: AudioSampleQueue
    /// Sound is taken once enough is queued to ride out jitter, and again after a queue that ran dry.
    var soundPrimed = false
    private(set) var live = false
    private(set) var closed = false
    private(set) var framesDecoded = 0
    private(set) var framesDamaged = 0
    var reported: MixInputReport?

    init(streamID: String, queue: MediaQueue, sampleRate: Int, channels: Int) throws {
        self.streamID = streamID
        self.queue = queue
        decoded = try Frame()
        picture = try Frame()
        sound = try AudioSampleQueue(sampleRate: sampleRate, channels: channels)
    }

    var hasVideo: Bool { live && videoTrack != nil }
    var hasAudio: Bool { live && audioTrack != nil }

    /// Takes what the player queue holds (at most `limit` items), decoding as it goes.
    func drain(now: Int64, limit: Int = 64) {
        var n = 0
        while n < limit, let item = queue.tryPop() {
            n += 1
            switch item {
            case .started(let info):
                videoTrack = info.tracks.first { $0.kind == .video }
                audioTrack = info.tracks.first { $0.kind == .audio }
                videoDecoder = nil
                audioDecoder = nil
                waitingForKeyframe = true
                soundPrimed = false
                live = true
                leftAt = nil
                lastMediaAt = 0  // waiting again until its media comes
            case .tracksChanged:
                break  // the keyframe carries the new SPS/PPS; the decoder follows
            case .frame(let frame):
                decode(frame, now: now)
            case .stopped:
                live = false
                leftAt = now
            case .closed:
                live = false
                closed = true
                leftAt = leftAt ?? now
            }
        }
    }

    private func decode(_ frame: MediaFrame, now: Int64) {
        let h = frame.header
        do {
            switch h.track {
            case .video:
                guard let track = videoTrack else { return }
                if waitingForKeyframe {
                    guard h.isKeyframe else { return }
                    waitingForKeyframe = false
                }
                if videoDecoder == nil { videoDecoder = try Decoder(codecName: track.codec, extradata: []) }
                guard let decoder = videoDecoder else { return }
                try decoder.send(try packet(frame))
                while try decoder.receive(into: decoded) == .produced {
                    picture.take(from: decoded)
                    hasPicture = true
                    pictureCapture = h.captureTime
                    lastPictureAt = now
                    framesDecoded += 1
                }
            case .audio:
                guard let track = audioTrack else { return }
                if audioDecoder == nil { audioDecoder = try Decoder(codecName: track.codec, extradata: TrackExtradata.bytes(track)) }
                guard let decoder = audioDecoder else { return }
                try decoder.send(try packet(frame))
                while try decoder.receive(into: decoded) == .produced {
                    try sound.append(decoded)
                    decoded.unref()
                }
            }
            lastMediaAt = now
        } catch {
            // A damaged frame (or one the decoder refuses): skip it; video resyncs at the next keyframe.
            framesDamaged += 1
            if h.track == .video { waitingForKeyframe = true }
        }
    }

    private func packet(_ frame: MediaFrame) throws -> Packet {
        let p = try Packet(copying: frame.payload.readableBytesView)
        p.pts = frame.header.pts
        p.dts = frame.header.dts
        p.isKeyframe = frame.header.isKeyframe
        return p
    }

    /// Forgets the picture (its hold is over: the region shows the background).
    func dropPicture() {
        picture.unref()
        hasPicture = false
    }

    /// The state events report, given how long a gap counts as a stall.
    func state(now: Int64, stallMicros: Int64) -> MixInputState {
        if !live { return lastMediaAt == 0 && leftAt == nil ? .waiting : .left }
        if lastMediaAt == 0 { return .waiting }
        return now - lastMediaAt > stallMicros ? .stalled : .mixing
    }
}
