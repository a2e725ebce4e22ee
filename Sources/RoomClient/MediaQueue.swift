import Foundation
import RoomProtocol

/// What a player receives, in order: a stream starting (with its tracks), its frames, its end.
public enum PlayerItem: Sendable {
    case started(StreamInfo)
    /// The stream's tracks were described anew (a smaller size, a lower frame rate); frames from its next
    /// keyframe on are the new ones. Never dropped.
    case tracksChanged(StreamInfo)
    case frame(MediaFrame)
    case stopped(reason: String)
    /// The session ended or the connection was lost; nothing more will come.
    case closed(RoomClientError?)
}

/// A bounded queue between the network (producer) and a media pipeline thread (consumer) with an explicit
/// drop policy: when full, new video is dropped up to the next keyframe and audio is dropped; stream
/// boundaries are never dropped.
public final class MediaQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [PlayerItem] = []
    private var head = 0
    private let capacity: Int
    private var waitingForKeyframe = false
    private var isClosed = false
    private var totals = StreamCounters()
    /// What the server said it dropped of this play (play_frames_dropped), counted into `framesDropped`.
    private var upstreamDropped = 0

    public init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
    }

    public func push(_ item: PlayerItem) {
        condition.lock()
        defer { condition.unlock() }
        guard !isClosed else { return }
        if case .frame(let f) = item {
            let video = f.header.track == .video
            if items.count - head >= capacity {
                totals.framesDropped += 1
                if video { waitingForKeyframe = true }
                return
            }
            if video && waitingForKeyframe {
                guard f.header.isKeyframe else {
                    totals.framesDropped += 1
                    return
                }
                waitingForKeyframe = false
            }
            totals.record(track: f.header.track, bytes: f.payload.readableBytes, captureTime: f.header.captureTime)
        } else if case .closed = item {
            isClosed = true
        } else if case .started = item {
            upstreamDropped = 0   // a new play: the server counts from zero
        }
        items.append(item)
        condition.signal()
    }

    /// Frames received and dropped here since the queue was made; latency is capture to arrival.
    public var counters: StreamCounters {
        condition.lock()
        defer { condition.unlock() }
        return totals
    }

    public var droppedFrames: Int { counters.framesDropped }

    /// The server dropped `total` frames of the current play so far (its downlink was too slow): they count
    /// as this player's drops.
    public func noteUpstreamDrops(total: Int) {
        condition.lock()
        defer { condition.unlock() }
        guard total > upstreamDropped else { return }
        totals.framesDropped += total - upstreamDropped
        totals.framesDroppedUpstream += total - upstreamDropped
        upstreamDropped = total
    }

    /// Waits for the next item until `deadline` (nil: forever). Returns nil on timeout.
    public func pop(until deadline: Date? = nil) -> PlayerItem? {
        condition.lock()
        defer { condition.unlock() }
        while head >= items.count {
            if let deadline {
                if !condition.wait(until: deadline) { return nil }
            } else {
                condition.wait()
            }
        }
        return takeHead()
    }

    /// The next item if one is queued, without waiting (no clock read, no condition wait: for a thread
    /// that polls many queues).
    public func tryPop() -> PlayerItem? {
        condition.lock()
        defer { condition.unlock() }
        return head < items.count ? takeHead() : nil
    }

    /// Call with the lock held and an item queued.
    private func takeHead() -> PlayerItem {
        let item = items[head]
        head += 1
        if head > 256 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }
}
