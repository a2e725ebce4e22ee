/// The current group of pictures of one stream (from its last video keyframe on, with the audio in
/// between), kept as the wire frames the publisher sent so a joining player gets them without re-encoding.
struct GOPCache {
    let limitBytes: Int
    private(set) var frames: [CachedFrame] = []
    private(set) var bytes = 0
    /// False after an overflow until the next keyframe: a partial GOP is useless to a joiner.
    private var collecting = false
    /// Audio-only streams keep this many recent frames (every audio frame is a join point).
    static let audioOnlyWindow = 50

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    mutating func append(_ frame: CachedFrame, hasVideoTrack: Bool) {
        // The big layer's keyframe starts a group; the small layer's, at the same time, follows it and is kept.
        if frame.isVideo && frame.isKeyframe && !frame.isSmallLayer {
            frames.removeAll(keepingCapacity: true)
            bytes = 0
            collecting = true
        } else if !hasVideoTrack {
            collecting = true
            if frames.count >= Self.audioOnlyWindow {
                bytes -= frames.removeFirst().wire.readableBytes
            }
        }
        guard collecting else { return }
        let size = frame.wire.readableBytes
        if bytes + size > limitBytes {
            clear()
            return
        }
        frames.append(frame)
        bytes += size
    }

    mutating func clear() {
        frames.removeAll()
        bytes = 0
        collecting = false
    }
}
