import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// SIGINT/SIGTERM: the first one asks the command to stop cleanly (files finished, logout sent);
/// a second one exits at once with 130.
final class InterruptHandler: @unchecked Sendable {
    static let shared = InterruptHandler()

    private let state = NIOLockedValueBox(State())
    private struct State {
        var count = 0
        var handlers: [@Sendable () -> Void] = []
        var sources: [DispatchSourceSignal] = []
    }

    var wasInterrupted: Bool { state.withLockedValue { $0.count > 0 } }

    func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in self.fire() }
            source.resume()
            state.withLockedValue { $0.sources.append(source) }
        }
    }

    /// Runs `handler` on the first signal (at once if one already came).
    func onInterrupt(_ handler: @escaping @Sendable () -> Void) {
        let already = state.withLockedValue { s -> Bool in
            s.handlers.append(handler)
            return s.count > 0
        }
        if already { handler() }
    }

    private func fire() {
        let (count, handlers) = state.withLockedValue { s -> (Int, [@Sendable () -> Void]) in
            s.count += 1
            return (s.count, s.handlers)
        }
        if count == 1 {
            printError("rtcbox: stopping (press Ctrl-C again to exit at once)")
            for h in handlers { h() }
        } else {
            _exit(ExitStatus.interrupted.rawValue)
        }
    }
}
