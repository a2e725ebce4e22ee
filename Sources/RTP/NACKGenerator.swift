/// What a receiver sends now for one media SSRC: a generic NACK for `sequenceNumbers` (RFC 4585
/// section 6.2.1, `RTCPNack(senderSSRC:mediaSSRC:lostSequenceNumbers:)`) and/or a PLI (section 6.3.1).
public struct NACKAction: Sendable, Hashable {
    /// Oldest first.
    public var sequenceNumbers: [UInt16]
    public var requestKeyframe: Bool

    public init(sequenceNumbers: [UInt16] = [], requestKeyframe: Bool = false) {
        self.sequenceNumbers = sequenceNumbers
        self.requestKeyframe = requestKeyframe
    }

    public var isEmpty: Bool { sequenceNumbers.isEmpty && !requestKeyframe }
}

/// The receiver's NACK schedule for one media SSRC (RFC 4585 sections 3.2 and 6.2.1), after libwebrtc's
/// `NackRequester`: every received sequence number goes in; a gap becomes missing entries; `poll` says
/// which to NACK now. A missing packet is first NACKed after a reorder wait (max(`minReorderWait`,
/// `reorderWaitRTTFraction` x rtt)), then again every max(rtt, `minRetryInterval`), at most `maxRetries`
/// times and no longer than `giveUpAfter` after the gap was seen. A late or retransmitted arrival
/// removes its entry. The list is bounded (`maxMissing`): a larger gap, or a list that overflows, is
/// given up and a keyframe is asked for, as is a packet that could not be recovered; keyframe requests
/// are at most one per `keyframeRequestInterval`. Pure: the caller passes monotonic microseconds.
public struct NACKGenerator: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var maxMissing: Int
        public var maxRetries: Int
        public var minReorderWait: Int64
        public var reorderWaitRTTFraction: Double
        public var minRetryInterval: Int64
        /// How long after its loss was seen a packet is still worth asking for; set it to the jitter
        /// buffer's give-up time (`JitterBuffer.maxWait(rtt:)`).
        public var giveUpAfter: Int64
        public var keyframeRequestInterval: Int64
        /// Whether a packet given up (retries or `giveUpAfter` spent) asks for a keyframe. A caller whose
        /// jitter buffer asks itself when it gives a frame up may turn it off.
        public var requestKeyframeOnUnrecovered: Bool

        public init(
            maxMissing: Int = 1000, maxRetries: Int = 10, minReorderWait: Int64 = 5_000,
            reorderWaitRTTFraction: Double = 0.1, minRetryInterval: Int64 = 20_000, giveUpAfter: Int64 = 500_000,
            keyframeRequestInterval: Int64 = 500_000, requestKeyframeOnUnrecovered: Bool = true
        ) {
            self.maxMissing = max(1, maxMissing)
            self.maxRetries = max(1, maxRetries)
            self.minReorderWait = max(0, minReorderWait)
            self.reorderWaitRTTFraction = reorderWaitRTTFraction.isFinite ? max(0, reorderWaitRTTFraction) : 0
            self.minRetryInterval = max(1, minRetryInterval)
            self.giveUpAfter = max(0, giveUpAfter)
            self.keyframeRequestInterval = max(0, keyframeRequestInterval)
            self.requestKeyframeOnUnrecovered = requestKeyframeOnUnrecovered
        }
    }

    public struct Counters: Sendable, Hashable {
        /// NACK entries sent (each retry counts).
        public var nacksSent = 0
        /// Missing packets that arrived late (not as retransmissions) or as retransmissions.
        public var recoveredLate = 0
        public var recoveredByRetransmission = 0
        /// Missing packets given up: retries or time spent, or dropped from an overflowing list.
        public var givenUp = 0
        public var keyframeRequests = 0
    }

    struct Entry: Sendable, Hashable {
        var index: Int64
        var detectedAt: Int64
        var sentAt: Int64?
        var retries: Int
    }

    public var configuration: Configuration
    public private(set) var counters = Counters()
    /// Missing packets, ascending by unwrapped sequence number.
    private var missing: [Entry] = []
    private var unwrapper = RTPSequenceNumberUnwrapper()
    private var newest: Int64?
    private var keyframePending = false
    private var lastKeyframeRequest: Int64?

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The sequence numbers now missing, oldest first.
    public var missingSequenceNumbers: [UInt16] { missing.map { UInt16(truncatingIfNeeded: $0.index) } }
    public var missingCount: Int { missing.count }

    /// Notes a received packet (media, or the original inside RTX with `isRetransmission`).
    public mutating func received(sequenceNumber: UInt16, isRetransmission: Bool = false, now: Int64) {
        let index = unwrapper.peek(sequenceNumber)
        guard let newest else {
            self.newest = index
            _ = unwrapper.unwrap(sequenceNumber)
            return
        }
        if index <= newest {
            if let position = position(of: index) {
                missing.remove(at: position)
                if isRetransmission {
                    counters.recoveredByRetransmission += 1
                } else {
                    counters.recoveredLate += 1
                }
            }
            return
        }
        _ = unwrapper.unwrap(sequenceNumber)
        self.newest = index
        let gap = index - newest - 1
        guard gap > 0 else { return }
        if gap > Int64(configuration.maxMissing) {
            // Too much is gone to ask for: what was missing is dropped with it.
            counters.givenUp += missing.count + Int(min(gap, Int64(Int32.max)))
            missing.removeAll()
            keyframePending = true
            return
        }
        missing.reserveCapacity(missing.count + Int(gap))
        for lost in (newest + 1)..<index {
            missing.append(Entry(index: lost, detectedAt: now, sentAt: nil, retries: 0))
        }
        if missing.count > configuration.maxMissing {
            let overflow = missing.count - configuration.maxMissing
            missing.removeFirst(overflow)
            counters.givenUp += overflow
            keyframePending = true
        }
    }

    /// What to send at `now` with round-trip time `rtt` (microseconds): the missing packets due for a
    /// (re)NACK, and a keyframe request when one is pending and allowed.
    public mutating func poll(now: Int64, rtt: Int64) -> NACKAction {
        let reorderWait = reorderWait(rtt: rtt)
        let retryInterval = retryInterval(rtt: rtt)
        var due: [UInt16] = []
        var kept: [Entry] = []
        kept.reserveCapacity(missing.count)
        for var entry in missing {
            let next = entry.sentAt.map { $0 + retryInterval } ?? entry.detectedAt + reorderWait
            let expired = now - entry.detectedAt > configuration.giveUpAfter
            if expired || (entry.retries >= configuration.maxRetries && now >= next) {
                counters.givenUp += 1
                if configuration.requestKeyframeOnUnrecovered { keyframePending = true }
                continue
            }
            if now >= next {
                entry.sentAt = now
                entry.retries += 1
                due.append(UInt16(truncatingIfNeeded: entry.index))
            }
            kept.append(entry)
        }
        missing = kept
        counters.nacksSent += due.count
        var action = NACKAction(sequenceNumbers: due)
        if keyframePending,
            lastKeyframeRequest.map({ now - $0 >= configuration.keyframeRequestInterval }) ?? true
        {
            keyframePending = false
            lastKeyframeRequest = now
            counters.keyframeRequests += 1
            action.requestKeyframe = true
        }
        return action
    }

    /// When `poll` next has something to do (a NACK or retry due, an entry to give up, a keyframe
    /// request allowed), nil when nothing is pending: for the caller's timer.
    public func nextDeadline(rtt: Int64) -> Int64? {
        let reorderWait = reorderWait(rtt: rtt)
        let retryInterval = retryInterval(rtt: rtt)
        var earliest: Int64?
        for entry in missing {
            let next = entry.sentAt.map { $0 + retryInterval } ?? entry.detectedAt + reorderWait
            let deadline = min(next, entry.detectedAt + configuration.giveUpAfter + 1)
            earliest = min(earliest ?? deadline, deadline)
        }
        if keyframePending {
            let allowed = lastKeyframeRequest.map { $0 + configuration.keyframeRequestInterval } ?? Int64.min
            earliest = min(earliest ?? allowed, allowed)
        }
        return earliest
    }

    /// Asks for a keyframe at the next allowed `poll` (for example when the jitter buffer gave a frame up).
    public mutating func requestKeyframe() { keyframePending = true }

    /// A keyframe arrived: a pending request is no longer needed.
    public mutating func keyframeReceived() { keyframePending = false }

    /// Forgets everything but the counters (an SSRC change).
    public mutating func reset() {
        missing.removeAll()
        unwrapper.reset()
        newest = nil
        keyframePending = false
    }

    func reorderWait(rtt: Int64) -> Int64 {
        let fraction = Double(max(0, rtt)) * configuration.reorderWaitRTTFraction
        return max(configuration.minReorderWait, fraction < 1e15 ? Int64(fraction) : Int64(1e15))
    }

    func retryInterval(rtt: Int64) -> Int64 { max(configuration.minRetryInterval, rtt) }

    private func position(of index: Int64) -> Int? {
        var low = 0
        var high = missing.count
        while low < high {
            let middle = (low + high) / 2
            if missing[middle].index < index { low = middle + 1 } else { high = middle }
        }
        return low < missing.count && missing[low].index == index ? low : nil
    }
}
