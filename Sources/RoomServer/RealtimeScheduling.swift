#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// Real-time scheduling for serve's event loops (`--realtime-priority`).
///
/// A fan-out writes one frame to every subscriber of a loop in a row, and each write wakes a subscriber
/// that the kernel likes to run at once on the same core: on a busy machine serve is preempted dozens of
/// times per frame and the last subscriber of a loop waits for all of them (bench/README.md, "Server-added
/// video delay"). Under SCHED_FIFO no ordinary process preempts a loop, so a frame reaches every subscriber
/// in one run of writes. The loops are idle between frames; the kernel's RT throttling
/// (/proc/sys/kernel/sched_rt_runtime_us) still leaves ordinary processes their share if serve ever spins.
enum RealtimeScheduling {
    /// Gives every loop of `group` SCHED_FIFO at `priority`; the first loop that cannot have it throws.
    static func apply(priority: Int, to group: MultiThreadedEventLoopGroup) async throws {
        for loop in group.makeIterator() {
            try await loop.submit { try applyToCurrentThread(priority: priority) }.get()
        }
    }

    static func applyToCurrentThread(priority: Int) throws {
        var parameters = sched_param()
        parameters.sched_priority = Int32(priority)
        let result = pthread_setschedparam(pthread_self(), Int32(SCHED_FIFO), &parameters)
        guard result == 0 else { throw ServerError.realtime(priority: priority, errno: result) }
    }
}
