/// A leaky-bucket pacer (libwebrtc's PacingController in spirit): queued packets leave at the pacing
/// rate, `pacingFactor` (2.5, libwebrtc's default) × the congestion controller's target, in bursts of at
/// most `burstInterval` (5 ms) worth of bytes, audio first, then retransmissions, then video, each class
/// in arrival order. A packet that waited longer than `maxQueueTime` is dropped and counted; dropping
/// video breaks its frame, so `poll` returns the dropped packets: the caller asks its encoder for a
/// keyframe (or drops the rest of the frame) as it sees fit. The queue is also bounded in packets: past
/// `maxQueuedPackets` the oldest of the lowest class goes.
///
/// A pure state machine: the caller enqueues, polls at `nextWakeup` (or whenever it likes) with its
/// monotonic clock in microseconds, and sends what `poll` returns.
public struct Pacer<Packet: Sendable>: Sendable {
    public enum Kind: Int, Sendable, Hashable, CaseIterable {
        case audio = 0
        case retransmission = 1
        case video = 2
    }

    public typealias Configuration = PacerConfiguration

    /// What leaves now, what was dropped, and when to poll next (nil: nothing queued).
    public struct Output: Sendable {
        public var send: [Packet]
        public var dropped: [(packet: Packet, kind: Kind)]
        public var nextWakeup: Int64?
    }

    struct Queued {
        var packet: Packet
        var size: Int
        var enqueued: Int64
    }

    /// A FIFO with a moving head (amortized O(1) pops).
    struct FIFO {
        var items: [Queued] = []
        var head = 0
        var isEmpty: Bool { head >= items.count }
        var count: Int { items.count - head }
        var first: Queued? { isEmpty ? nil : items[head] }
        mutating func append(_ item: Queued) { items.append(item) }
        mutating func popFirst() -> Queued? {
            guard !isEmpty else { return nil }
            let item = items[head]
            head += 1
            if head > 256, head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return item
        }
    }

    public let configuration: Configuration
    /// Bits per second the queue drains at (the target times the pacing factor).
    public private(set) var pacingRate: Double
    /// The rate it drains at `now`: the pacing rate, or faster when what is queued would otherwise leave
    /// later than `drainTime` after the oldest of it came (libwebrtc's rule: the rest of the queue in the
    /// time left to the oldest packet, at least 1 ms).
    public func effectiveRate(now: Int64) -> Double {
        guard let drainTime = configuration.drainTime, queuedBytes > 0 else { return pacingRate }
        let left = max(1_000, drainTime - queueAge(now: now))
        return max(pacingRate, Double(queuedBytes) * 8 / (Double(left) / 1e6))
    }
    /// Bytes sent beyond what the rate allowed so far; drains at the pacing rate.
    private var debt = 0.0
    private var lastUpdate: Int64?
    private var queues = [FIFO](repeating: FIFO(), count: Kind.allCases.count)
    public private(set) var queuedBytes = 0
    /// Packets and bytes dropped, per kind (`Kind.rawValue` index).
    public private(set) var droppedPackets = [Int](repeating: 0, count: Kind.allCases.count)
    public private(set) var droppedBytes = [Int](repeating: 0, count: Kind.allCases.count)

    public init(configuration: Configuration = Configuration(), targetBitrate: Int64) {
        self.configuration = configuration
        pacingRate = max(Double(targetBitrate), 1000) * configuration.pacingFactor
    }

    public var queuedPackets: Int { queues.reduce(0) { $0 + $1.count } }

    /// How long the oldest queued packet has waited at `now` (µs; 0 when nothing is queued).
    public func queueAge(now: Int64) -> Int64 {
        let oldest = queues.compactMap { $0.first?.enqueued }.min()
        return oldest.map { max(0, now - $0) } ?? 0
    }

    /// Sets the pacing rate from the congestion controller's target (bits/s).
    public mutating func setTargetBitrate(_ bitsPerSecond: Int64, now: Int64) {
        drain(now: now)
        pacingRate = max(Double(bitsPerSecond), 1000) * configuration.pacingFactor
    }

    /// Queues a packet of `size` bytes; returns the packet dropped to make room, if any.
    @discardableResult
    public mutating func enqueue(_ packet: Packet, size: Int, kind: Kind, now: Int64) -> (packet: Packet, kind: Kind)? {
        queues[kind.rawValue].append(Queued(packet: packet, size: max(size, 0), enqueued: now))
        queuedBytes += max(size, 0)
        guard queuedPackets > configuration.maxQueuedPackets else { return nil }
        for victim in Kind.allCases.reversed() {
            if let item = queues[victim.rawValue].popFirst() {
                count(drop: item, kind: victim)
                return (item.packet, victim)
            }
        }
        return nil
    }

    /// Drops what waited too long, then releases packets while the bucket allows.
    public mutating func poll(now: Int64) -> Output {
        drain(now: now)
        var dropped: [(packet: Packet, kind: Kind)] = []
        for kind in Kind.allCases {
            while let first = queues[kind.rawValue].first, now - first.enqueued > configuration.maxQueueTime {
                _ = queues[kind.rawValue].popFirst()
                count(drop: first, kind: kind)
                dropped.append((first.packet, kind))
            }
        }
        let rate = effectiveRate(now: now)
        let burst = rate / 8 * Double(configuration.burstInterval) / 1e6
        var send: [Packet] = []
        while let kind = nextKind(), let head = queues[kind.rawValue].first {
            // Always let one packet out of an empty bucket, even one larger than the burst.
            guard debt == 0 || debt + Double(head.size) <= burst else { break }
            _ = queues[kind.rawValue].popFirst()
            queuedBytes -= head.size
            debt += Double(head.size)
            send.append(head.packet)
        }
        return Output(send: send, dropped: dropped, nextWakeup: nextWakeup(now: now, burst: burst, rate: rate))
    }

    private func nextKind() -> Kind? { Kind.allCases.first { !queues[$0.rawValue].isEmpty } }

    private func nextWakeup(now: Int64, burst: Double, rate: Double) -> Int64? {
        guard let kind = nextKind(), let head = queues[kind.rawValue].first else { return nil }
        // When the debt has drained enough for the head (or to zero), and no later than the next expiry.
        let excess = min(debt, max(debt + Double(head.size) - burst, 0))
        let wait = Int64((excess * 8 / rate * 1e6).rounded(.up))
        var wakeup = now + max(wait, 1)
        for queue in queues {
            if let first = queue.first { wakeup = min(wakeup, first.enqueued + configuration.maxQueueTime + 1) }
        }
        return max(wakeup, now + 1)
    }

    private mutating func drain(now: Int64) {
        if let last = lastUpdate, now > last {
            debt = max(0, debt - effectiveRate(now: now) / 8 * Double(now - last) / 1e6)
        }
        lastUpdate = max(lastUpdate ?? now, now)
    }

    private mutating func count(drop item: Queued, kind: Kind) {
        queuedBytes -= item.size
        droppedPackets[kind.rawValue] += 1
        droppedBytes[kind.rawValue] += item.size
    }
}

/// How a `Pacer` paces (one type for every packet type it queues).
public struct PacerConfiguration: Sendable, Hashable {
    public var pacingFactor: Double
    /// Microseconds of the pacing rate that may leave at once.
    public var burstInterval: Int64
    /// Microseconds a packet may wait before it is dropped.
    public var maxQueueTime: Int64
    public var maxQueuedPackets: Int
    /// Microseconds what is queued may take to leave: when the pacing rate would need longer, the rate rises
    /// so it does not (libwebrtc's queue time limit, there 2 s). Nil: the pacing rate alone.
    public var drainTime: Int64?

    public init(pacingFactor: Double = 2.5, burstInterval: Int64 = 5_000, maxQueueTime: Int64 = 500_000, maxQueuedPackets: Int = 10_000,
                drainTime: Int64? = nil) {
        self.pacingFactor = pacingFactor.isFinite ? max(pacingFactor, 0.1) : 2.5
        self.burstInterval = max(burstInterval, 1)
        self.maxQueueTime = max(maxQueueTime, 0)
        self.maxQueuedPackets = max(maxQueuedPackets, 1)
        self.drainTime = drainTime.map { max($0, 1000) }
    }
}
