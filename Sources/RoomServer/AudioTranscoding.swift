import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RoomProtocol
import RTP

/// Turns a stream's AAC audio into Opus for WebRTC players that take no AAC (browsers). The server decodes
/// nothing itself: `serve` hands it this, made of Media's libavcodec transcoder.
public protocol AudioTranscoding: Sendable {
    /// A transcoder for one stream's audio track (AAC, its AudioSpecificConfig in `extradata`).
    func opusTranscoder(for track: TrackInfo) throws -> any AudioFrameTranscoder
}

/// One stream's transcoder; used on one queue at a time.
public protocol AudioFrameTranscoder: AnyObject {
    /// One frame in (pts in µs), the Opus frames it completes out.
    func transcode(_ payload: [UInt8], pts: Int64) throws -> [(payload: [UInt8], pts: Int64)]
}

/// A live stream's AAC → Opus branch, while it has players that need it: frames are transcoded on its own
/// queue (never on an event loop) and handed back to the fan-out as frames of the same handle, marked
/// `isTranscoded`; only those players take them.
final class OpusBranch: @unchecked Sendable {
    private let queue: DispatchQueue
    private let transcoder: any AudioFrameTranscoder
    private let handle: UInt32
    private let logger: Logger
    private var failed = false
    /// Frames handed to the queue and not transcoded yet: a branch that falls behind drops, not queues.
    private var pending = 0
    private let pendingLock = NIOLock()
    static let maxPending = 25

    /// Whether a player whose UDP session sends `sent` gets a stream whose audio is `streamCodec` through a
    /// branch (its answer gave Opus to an AAC stream).
    static func needed(sent: [RTPTrack], streamCodec: String?) -> Bool {
        streamCodec?.lowercased() == "aac" && sent.contains { $0.codec == .opus }
    }

    init(transcoder: any AudioFrameTranscoder, handle: UInt32, streamID: String, logger: Logger) {
        self.transcoder = transcoder
        self.handle = handle
        self.logger = logger
        queue = DispatchQueue(label: "rtcbox-opus-\(streamID)")
    }

    /// Transcodes one AAC frame (its wire bytes) and gives each Opus frame to `out`, on the branch's queue.
    func feed(_ frame: CachedFrame, out: @escaping @Sendable (CachedFrame) -> Void) {
        let admitted = pendingLock.withLock { () -> Bool in
            guard pending < Self.maxPending else { return false }
            pending += 1
            return true
        }
        guard admitted else { return }
        queue.async { [self] in
            defer { pendingLock.withLock { pending -= 1 } }
            guard !failed else { return }
            var body = frame.wire
            body.moveReaderIndex(forwardBy: min(body.readableBytes, 5))   // u32 length, u8 frame type
            guard let header = try? MediaFrameHeader.read(from: &body) else { return }
            let payload = Array(body.readableBytesView)
            do {
                for encoded in try transcoder.transcode(payload, pts: header.pts) {
                    var h = header
                    h.pts = encoded.pts
                    h.dts = encoded.pts
                    h.captureTime = header.captureTime &+ UInt64(bitPattern: encoded.pts &- header.pts)
                    var wire = ByteBuffer()
                    MediaFrame(header: h, payload: ByteBuffer(bytes: encoded.payload)).write(to: &wire)
                    out(CachedFrame(wire: wire, isVideo: false, isKeyframe: true, received: frame.received, isTranscoded: true))
                }
            } catch {
                failed = true
                logger.warning("AAC to Opus stopped: \(error)", metadata: ["handle": "\(handle)"])
            }
        }
    }
}
