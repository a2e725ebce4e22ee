import Logging
import NIOConcurrencyHelpers

/// A node's life in the cluster: registers, renews its lease every `renewEvery`, sweeps nodes whose lease ran
/// out every `sweepEvery` (any node may: the database decides, `DELETE ... WHERE lease_until < now()`), and
/// says what happened as `Change`s. With a 10 s lease and a 2 s sweep a node killed with -9 is gone from every
/// other node's view within 12 s (its rows with it), inside the 15 s the cluster promises.
public final class ClusterNode: Sendable {
    public struct Timing: Sendable {
        public var leaseSeconds: Int
        public var renewEvery: Duration
        public var sweepEvery: Duration
        public init(leaseSeconds: Int = 10, renewEvery: Duration = .seconds(3), sweepEvery: Duration = .seconds(2)) {
            self.leaseSeconds = leaseSeconds; self.renewEvery = renewEvery; self.sweepEvery = sweepEvery
        }
    }

    public enum Change: Sendable, Equatable {
        /// Registered (again, after a lost lease: everything this node held is gone and must be claimed anew).
        case registered(again: Bool)
        /// Other nodes whose leases ran out: their users left and their streams ended.
        case nodesDied([String])
        /// The database does not answer: this node keeps its media and refuses what it cannot check.
        case databaseUnavailable(String)
        case databaseBack
    }

    public let store: ClusterStore
    public let advertise: String
    public let timing: Timing
    public let changes: AsyncStream<Change>
    private let continuation: AsyncStream<Change>.Continuation
    private let tasks = NIOLockedValueBox<[Task<Void, Never>]>([])
    private let logger: Logger
    /// Whether the database answered the last call of this node's loops.
    private let reachable = NIOLockedValueBox(true)

    public init(store: ClusterStore, advertise: String, timing: Timing = Timing(), logger: Logger) {
        self.store = store
        self.advertise = advertise
        self.timing = timing
        self.logger = logger
        (changes, continuation) = AsyncStream.makeStream(of: Change.self, bufferingPolicy: .unbounded)
    }

    /// Migrates, registers, and starts the lease and sweep loops. Throws when the database cannot be reached.
    public func start() async throws(ClusterError) {
        try await store.migrate()
        try await store.register(advertise: advertise, leaseSeconds: timing.leaseSeconds)
        continuation.yield(.registered(again: false))
        let renew = Task { await self.every(self.timing.renewEvery) { () async throws(ClusterError) in try await self.renew() } }
        let sweep = Task { await self.every(self.timing.sweepEvery) { () async throws(ClusterError) in try await self.sweep() } }
        tasks.withLockedValue { $0 = [renew, sweep] }
    }

    /// Stops the loops; with `deregister` the node leaves at once (a clean shutdown) instead of when its
    /// lease runs out.
    public func stop(deregister: Bool) async {
        let running = tasks.withLockedValue { t in defer { t = [] }; return t }
        for task in running { task.cancel() }
        for task in running { _ = await task.value }
        if deregister { try? await store.deregister() }
        continuation.finish()
    }

    private func renew() async throws(ClusterError) {
        if try await store.renewLease(seconds: timing.leaseSeconds) { return }
        logger.warning("cluster: node \(store.node) lost its lease (taken for dead); registering again")
        try await store.register(advertise: advertise, leaseSeconds: timing.leaseSeconds)
        continuation.yield(.registered(again: true))
    }

    private func sweep() async throws(ClusterError) {
        let dead = try await store.sweepExpiredNodes().filter { $0 != store.node }
        if !dead.isEmpty {
            logger.notice("cluster: nodes gone (lease ran out): \(dead.joined(separator: ", "))")
            continuation.yield(.nodesDied(dead))
        }
    }

    private func every(_ interval: Duration, _ work: @escaping @Sendable () async throws(ClusterError) -> Void) async {
        while !Task.isCancelled {
            do {
                try await work()
                if reachable.withLockedValue({ r in defer { r = true }; return !r }) { continuation.yield(.databaseBack) }
            } catch {
                if Task.isCancelled { break }
                if reachable.withLockedValue({ r in defer { r = false }; return r }) {
                    logger.warning("cluster: \(error)")
                    continuation.yield(.databaseUnavailable("\(error)"))
                }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
