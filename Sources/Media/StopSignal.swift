import FFmpegKit
import Foundation
import NIOConcurrencyHelpers

/// Asks a pipeline to stop: checked between frames, and raised into libav's blocking reads.
public final class StopSignal: Sendable {
    private let flags = NIOLockedValueBox<[InterruptFlag]>([])
    private let raised = NIOLockedValueBox(false)

    public init() {}

    public var isRaised: Bool { raised.withLockedValue { $0 } }

    public func raise() {
        raised.withLockedValue { $0 = true }
        for f in flags.withLockedValue({ $0 }) { f.raise() }
    }

    /// A flag for one libav input, raised with this signal.
    func makeInterruptFlag() -> InterruptFlag {
        let flag = InterruptFlag()
        flags.withLockedValue { $0.append(flag) }
        if isRaised { flag.raise() }
        return flag
    }

    /// Sleeps up to `micros`, waking early when raised.
    func sleep(micros: Int64) {
        var left = micros
        while left > 0 && !isRaised {
            let step = min(left, 20_000)
            usleep(UInt32(step))
            left -= step
        }
    }
}

/// Runs `body` on a new thread (libav calls block; they never run on an event loop or the cooperative pool)
/// and returns its result.
func runOnThread<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }
}
