import NIOCore

/// Media written to one connection that the kernel has not taken yet, measured in time: the age of the oldest
/// byte still waiting. Both ends bound what they queue with it (the publisher toward the server, the server
/// toward each player), so a link slower than the stream costs dropped frames, not seconds of delay.
///
/// A pure value: the owner tells it what it wrote (bytes, when) and how far the kernel has taken the stream
/// of bytes (a cumulative offset); it answers how old the backlog is. Clocks are monotonic nanoseconds.
public struct SendBacklog: Sendable {
    /// Bytes written so far (the end offset of the newest entry).
    public private(set) var written: UInt64 = 0
    /// Bytes the kernel has taken so far.
    public private(set) var taken: UInt64 = 0
    private var ends: [UInt64] = []
    private var times: [UInt64] = []
    private var head = 0

    public init() {}

    /// `bytes` were written at `now`.
    public mutating func wrote(_ bytes: Int, at now: UInt64) {
        guard bytes > 0 else { return }
        written &+= UInt64(bytes)
        ends.append(written)
        times.append(now)
    }

    /// Bytes not counted as media (control messages) that share the connection: they move the offset only.
    public mutating func wroteUntimed(_ bytes: Int) {
        guard bytes > 0 else { return }
        written &+= UInt64(bytes)
    }

    /// The kernel has taken every byte before `offset` (cumulative, as `written` counts).
    public mutating func took(upTo offset: UInt64) {
        let offset = min(offset, written)
        guard offset > taken else { return }
        taken = offset
        while head < ends.count && ends[head] <= offset { head += 1 }
        if head > 64 && head * 2 > ends.count {
            ends.removeFirst(head)
            times.removeFirst(head)
            head = 0
        }
    }

    /// The kernel has taken all but `pending` of the bytes written (what the channel still buffers).
    public mutating func pending(_ pending: Int) {
        let p = UInt64(max(0, pending))
        took(upTo: written > p ? written - p : 0)
    }

    /// How long the oldest waiting media has waited, in nanoseconds (0 when nothing waits).
    public func age(at now: UInt64) -> UInt64 {
        guard head < times.count else { return 0 }
        return now > times[head] ? now - times[head] : 0
    }

    public var isEmpty: Bool { head >= ends.count }

    /// Bytes written and not taken.
    public var unsentBytes: UInt64 { written - taken }
}

/// What a sender does with a media frame, given how old its backlog is: video stops at `videoLimit` and
/// resumes at a keyframe once the backlog is younger than that again; audio (small, and what a listener
/// notices first) goes on until `audioLimit`.
public struct MediaDropPolicy: Sendable, Equatable {
    public var videoLimitNanoseconds: UInt64
    public var audioLimitNanoseconds: UInt64

    public init(videoLimitMilliseconds: Int = 150, audioLimitMilliseconds: Int = 250) {
        videoLimitNanoseconds = UInt64(max(1, videoLimitMilliseconds)) * 1_000_000
        audioLimitNanoseconds = UInt64(max(1, audioLimitMilliseconds)) * 1_000_000
    }

    public enum Decision: Equatable, Sendable {
        case send
        /// Dropped; `startsWaiting`: video now waits for a keyframe (ask the encoder for one).
        case drop(startsWaiting: Bool)
    }

    /// `waitingForKeyframe` is the sender's state for this stream's video; the caller sets it from the answer
    /// (true after a video drop, false once a keyframe is sent).
    public func decide(video: Bool, keyframe: Bool, waitingForKeyframe: Bool, backlogAge: UInt64) -> Decision {
        if video {
            if backlogAge > videoLimitNanoseconds { return .drop(startsWaiting: !waitingForKeyframe) }
            if waitingForKeyframe && !keyframe { return .drop(startsWaiting: false) }
            return .send
        }
        return backlogAge > audioLimitNanoseconds ? .drop(startsWaiting: false) : .send
    }
}

extension NIOBSDSocket.Option {
    /// TCP_NOTSENT_LOWAT (Glibc does not export it): the socket is writable, and takes more, only while less
    /// than this many bytes sit unsent in it. Both ends set it on every room connection.
    public static var tcp_notsent_lowat: NIOBSDSocket.Option {
        #if os(Linux)
        return NIOBSDSocket.Option(rawValue: 25)
        #else
        return NIOBSDSocket.Option(rawValue: 0x201)
        #endif
    }
}
