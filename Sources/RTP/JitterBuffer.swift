import NIOCore

/// A complete H.264 access unit the jitter buffer released, in decode order.
public struct JitterBufferFrame: Sendable, Hashable {
    public var accessUnit: H264AccessUnit
    /// When the frame's last packet arrived (the one that completed it), monotonic microseconds.
    public var arrivalTime: Int64
    public var firstSequenceNumber: UInt16
    /// The marker packet's.
    public var lastSequenceNumber: UInt16

    public var timestamp: UInt32 { accessUnit.timestamp }
    public var isKeyframe: Bool { accessUnit.isKeyframe }
}

/// The receive buffer of one H.264 video stream (RFC 6184 packetization mode 1): RTP packets in, in any
/// order, complete access units out in decode order (sequence-number order, so B-frames are fine). A
/// frame is released when it is complete and every earlier frame was released or given up. A frame
/// that stays incomplete is waited for at most `maxWait` (clamp(1.5 x rtt, 20 ms, 500 ms): time for
/// NACK + RTX, RFC 4585/4588) after the loss showed (its own first packet when a hole is inside or
/// before it, else the next frame's first packet); then it is given up: a freeze, a keyframe request,
/// and every later frame is dropped until the next IDR (H.264 without SVC: a P-frame depends on all
/// frames since the last IDR). Waiting for a keyframe (at the start too), a complete IDR further on lets
/// the frames before it go at once.
///
/// Pure and bounded: at most `maxPackets` packets, `maxFrames` frames and `maxBytes` payload bytes are
/// held, the oldest frame is given up to make room. Call `poll(now:rtt:)` after inserting and at
/// `nextDeadline`; time is the caller's monotonic microseconds.
public struct JitterBuffer: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var maxPackets: Int
        public var maxFrames: Int
        public var maxBytes: Int
        /// maxWait = clamp(rttFactor x rtt, minWait, maxWaitCap).
        public var rttFactor: Double
        public var minWait: Int64
        public var maxWaitCap: Int64
        public var keyframeRequestInterval: Int64
        public var depacketizerLimits: H264Depacketizer.Limits

        public init(
            maxPackets: Int = 2000, maxFrames: Int = 120, maxBytes: Int = 16 << 20, rttFactor: Double = 1.5,
            minWait: Int64 = 20_000, maxWaitCap: Int64 = 500_000, keyframeRequestInterval: Int64 = 500_000,
            depacketizerLimits: H264Depacketizer.Limits = .init()
        ) {
            self.maxPackets = max(1, maxPackets)
            self.maxFrames = max(1, maxFrames)
            self.maxBytes = max(1, maxBytes)
            self.rttFactor = rttFactor.isFinite ? max(0, rttFactor) : 1.5
            self.minWait = max(0, minWait)
            self.maxWaitCap = max(self.minWait, maxWaitCap)
            self.keyframeRequestInterval = max(0, keyframeRequestInterval)
            self.depacketizerLimits = depacketizerLimits
        }
    }

    public struct Counters: Sendable, Hashable {
        public var framesReleased = 0
        /// Frames (or holes where frames were) given up: waited too long, or pushed out by the bounds.
        public var framesGivenUp = 0
        /// Complete frames dropped while waiting for a keyframe.
        public var framesDropped = 0
        /// Packets of a frame already released or given up.
        public var packetsLate = 0
        public var duplicates = 0
        /// Packets refused: empty, or too far from the rest of their frame, or larger than the bounds.
        public var packetsRejected = 0
        /// Times the picture froze: a give-up while frames were flowing.
        public var freezes = 0
        public var keyframeRequests = 0
    }

    public enum InsertResult: Sendable, Hashable {
        case buffered
        case duplicate
        case late
        case rejected
    }

    public struct Output: Sendable, Hashable {
        public var frames: [JitterBufferFrame] = []
        /// Send a PLI (RFC 4585 section 6.3.1); rate-limited to one per `keyframeRequestInterval`.
        public var requestKeyframe = false
    }

    struct StoredPacket: Sendable {
        var marker: Bool
        var payload: ByteBuffer
    }

    struct Slot: Sendable {
        var timestamp: UInt32
        var packets: [Int64: StoredPacket] = [:]
        var lowest: Int64
        var highest: Int64
        var marker: Int64?
        var firstArrival: Int64
        var lastArrival: Int64
        var bytes = 0
        /// Fed every packet, finding the first by itself (H264Depacketizer's guess).
        var depacketizer: H264Depacketizer
        /// The complete access unit, from `depacketizer` or rebuilt from a known first packet.
        var unit: H264AccessUnit?
        /// The packet count at the last rebuild from a known first packet (so it is tried once).
        var anchoredAttempt: Int?

        var isContiguous: Bool { Int64(packets.count) == highest - lowest + 1 }
    }

    public let configuration: Configuration
    public private(set) var counters = Counters()
    /// Frames by their lowest unwrapped sequence number.
    private var slots: [Slot] = []
    private var unwrapper = RTPSequenceNumberUnwrapper()
    /// The last sequence number (unwrapped) of what was released or given up; nil at the start.
    private var frontier: Int64?
    /// The frontier is a released frame's marker (not a guess after a give-up).
    private var frontierExact = false
    private var needKeyframe = true
    private var keyframePending = false
    private var lastKeyframeRequest: Int64?
    /// Timestamps of the last frames released or given up, for telling late packets.
    private var finishedTimestamps: [UInt32] = []
    private var finishedCursor = 0
    public private(set) var packetCount = 0
    public private(set) var byteCount = 0
    private var lastMaxWait: Int64

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.lastMaxWait = configuration.minWait
    }

    public var frameCount: Int { slots.count }

    /// The wait for a missing packet: clamp(1.5 x rtt, 20 ms, 500 ms) by default.
    public func maxWait(rtt: Int64) -> Int64 {
        let scaled = Double(max(0, rtt)) * configuration.rttFactor
        let wait = scaled < Double(configuration.maxWaitCap) ? Int64(scaled) : configuration.maxWaitCap
        return min(max(wait, configuration.minWait), configuration.maxWaitCap)
    }

    /// Takes one packet of the stream (after SRTP, RTX unwrapped) that arrived at `arrival`.
    public mutating func insert(_ packet: RTPPacket, arrival: Int64) -> InsertResult {
        let size = packet.payload.readableBytes
        guard size > 0, size <= configuration.maxBytes else {
            counters.packetsRejected += 1
            return .rejected
        }
        let index = unwrapper.unwrap(packet.sequenceNumber)
        if isLate(index, packet.timestamp) {
            counters.packetsLate += 1
            return .late
        }
        var position = slots.firstIndex { $0.timestamp == packet.timestamp }
        if let position {
            let slot = slots[position]
            if slot.packets[index] != nil {
                counters.duplicates += 1
                return .duplicate
            }
            let span = max(slot.highest, index) - min(slot.lowest, index)
            guard span < Int64(configuration.depacketizerLimits.maxPacketsPerFrame) else {
                counters.packetsRejected += 1
                return .rejected
            }
        }
        // Room first: the oldest frames go.
        while !slots.isEmpty,
            packetCount + 1 > configuration.maxPackets || byteCount + size > configuration.maxBytes
                || (position == nil && slots.count + 1 > configuration.maxFrames)
        {
            giveUpFirst()
            position = slots.firstIndex { $0.timestamp == packet.timestamp }
        }
        if isLate(index, packet.timestamp) {
            counters.packetsLate += 1
            return .late
        }

        var slot: Slot
        if let position {
            slot = slots.remove(at: position)
        } else {
            slot = Slot(
                timestamp: packet.timestamp, lowest: index, highest: index, firstArrival: arrival, lastArrival: arrival,
                depacketizer: H264Depacketizer(timestamp: packet.timestamp, limits: configuration.depacketizerLimits))
        }
        slot.packets[index] = StoredPacket(marker: packet.marker, payload: packet.payload)
        slot.lowest = min(slot.lowest, index)
        slot.highest = max(slot.highest, index)
        if packet.marker, slot.marker == nil { slot.marker = index }
        slot.firstArrival = min(slot.firstArrival, arrival)
        slot.lastArrival = max(slot.lastArrival, arrival)
        slot.bytes += size
        if case .complete(let unit) = slot.depacketizer.insert(packet) { slot.unit = unit }
        packetCount += 1
        byteCount += size
        let insertAt = slots.firstIndex { $0.lowest > slot.lowest } ?? slots.endIndex
        slots.insert(slot, at: insertAt)
        return .buffered
    }

    /// Releases what can go at `now`, gives up what waited too long for round-trip time `rtt`.
    public mutating func poll(now: Int64, rtt: Int64) -> Output {
        let maxWait = maxWait(rtt: rtt)
        lastMaxWait = maxWait
        var output = Output()
        while !slots.isEmpty {
            if needKeyframe, let keyframe = slots.firstIndex(where: { $0.unit?.isKeyframe == true }), keyframe > 0,
                !isDecodable(0)
            {
                // Nothing before a complete IDR is worth waiting for.
                for _ in 0..<keyframe {
                    let dropped = slots.removeFirst()
                    counters.framesDropped += 1
                    finish(dropped)
                }
                moveFrontier(to: slots[0].lowest - 1, exact: false)
                continue
            }
            if isDecodable(0), let unit = slots[0].unit {
                let slot = slots.removeFirst()
                finish(slot)
                moveFrontier(to: slot.marker ?? slot.highest, exact: true)
                if needKeyframe && !unit.isKeyframe {
                    counters.framesDropped += 1
                    keyframePending = true
                    continue
                }
                if unit.isKeyframe {
                    needKeyframe = false
                    keyframePending = false
                }
                counters.framesReleased += 1
                output.frames.append(JitterBufferFrame(
                    accessUnit: unit, arrivalTime: slot.lastArrival,
                    firstSequenceNumber: UInt16(truncatingIfNeeded: slot.lowest),
                    lastSequenceNumber: UInt16(truncatingIfNeeded: slot.marker ?? slot.highest)))
                continue
            }
            guard let start = waitStart(0), now - start >= maxWait else { break }
            let first = slots[0]
            if let frontier, first.lowest > frontier + 1, first.unit != nil {
                // The hole before a whole frame is given up; the frame is judged next.
                counters.framesGivenUp += 1
                moveFrontier(to: first.lowest - 1, exact: false)
                freeze()
                continue
            }
            giveUpFirst()
        }
        if keyframePending, needKeyframe,
            lastKeyframeRequest.map({ now - $0 >= configuration.keyframeRequestInterval }) ?? true
        {
            keyframePending = false
            lastKeyframeRequest = now
            counters.keyframeRequests += 1
            output.requestKeyframe = true
        }
        return output
    }

    /// When `poll` may next give something up or ask for a keyframe (with the last poll's maxWait).
    public var nextDeadline: Int64? {
        var deadline = waitStart(0).map { $0 + lastMaxWait }
        if keyframePending, needKeyframe {
            let allowed = lastKeyframeRequest.map { $0 + configuration.keyframeRequestInterval } ?? Int64.min
            deadline = min(deadline ?? allowed, allowed)
        }
        return deadline
    }

    // MARK: - Private

    private func isLate(_ index: Int64, _ timestamp: UInt32) -> Bool {
        if let frontier, index <= frontier { return true }
        return finishedTimestamps.contains(timestamp)
    }

    /// The first frame follows what went before and is complete.
    private mutating func isDecodable(_ position: Int) -> Bool {
        guard position < slots.count else { return false }
        guard let frontier else { return slots[position].unit != nil }
        let slot = slots[position]
        guard slot.lowest == frontier + 1 else { return false }
        if slot.unit != nil { return true }
        // The first packet is known: rebuild without the guess (once per packet count).
        guard frontierExact, slot.isContiguous, slot.marker == slot.highest, slot.anchoredAttempt != slot.packets.count
        else { return false }
        slots[position].anchoredAttempt = slot.packets.count
        var anchored = H264Depacketizer(
            timestamp: slot.timestamp, firstSequenceNumber: UInt16(truncatingIfNeeded: slot.lowest),
            limits: configuration.depacketizerLimits)
        for index in slot.lowest...slot.highest {
            guard let stored = slot.packets[index] else { return false }
            if case .complete(let unit) = anchored.insert(
                sequenceNumber: UInt16(truncatingIfNeeded: index), marker: stored.marker, payload: stored.payload)
            {
                slots[position].unit = unit
                return true
            }
        }
        return false
    }

    /// Since when the first frame has been known to be missing something, nil while it may just be
    /// arriving (its packets so far in order, no marker yet, no later frame begun).
    private func waitStart(_ position: Int) -> Int64? {
        guard position < slots.count else { return nil }
        let slot = slots[position]
        var holeBefore = false
        if let frontier {
            holeBefore = slot.lowest != frontier + 1
        } else if let lowest = slot.packets[slot.lowest] {
            holeBefore = !H264Depacketizer.canStartAccessUnit(lowest.payload)
        }
        if holeBefore || !slot.isContiguous || slot.marker != nil { return slot.firstArrival }
        return position + 1 < slots.count ? slots[position + 1].firstArrival : nil
    }

    private mutating func giveUpFirst() {
        guard !slots.isEmpty else { return }
        let slot = slots.removeFirst()
        counters.framesGivenUp += 1
        finish(slot)
        let end = slots.first.map { max($0.lowest - 1, slot.marker ?? slot.highest) } ?? (slot.marker ?? slot.highest)
        moveFrontier(to: end, exact: false)
        freeze()
    }

    private mutating func freeze() {
        if !needKeyframe { counters.freezes += 1 }
        needKeyframe = true
        keyframePending = true
    }

    private mutating func moveFrontier(to index: Int64, exact: Bool) {
        if let frontier, frontier >= index { return }
        frontier = index
        frontierExact = exact
    }

    private mutating func finish(_ slot: Slot) {
        packetCount -= slot.packets.count
        byteCount -= slot.bytes
        if finishedTimestamps.count < 32 {
            finishedTimestamps.append(slot.timestamp)
        } else {
            finishedTimestamps[finishedCursor] = slot.timestamp
            finishedCursor = (finishedCursor + 1) % 32
        }
    }
}
