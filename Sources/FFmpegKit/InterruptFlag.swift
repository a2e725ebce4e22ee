import CFFmpeg

/// A flag another thread raises to make libav's blocking I/O (av_read_frame on stdin, a socket, a device)
/// return AVERROR_EXIT. The only FFmpegKit type shared across threads: it holds one atomic int.
public final class InterruptFlag: @unchecked Sendable {
    let storage: UnsafeMutablePointer<Int32>

    public init() {
        storage = .allocate(capacity: 1)
        storage.initialize(to: 0)
    }

    deinit { storage.deallocate() }

    public func raise() { cff_set_flag(storage, 1) }
    public var isRaised: Bool { cff_get_flag(storage) != 0 }
}
