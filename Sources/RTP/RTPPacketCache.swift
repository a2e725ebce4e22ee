/// The sender's (or the server's) history of one media SSRC's packets for answering NACKs with RTX
/// (RFC 4585 section 6.2.1, RFC 4588 section 4), as libwebrtc's `RtpPacketHistory`: the last `capacity`
/// packets by sequence number (wrap-aware), none older than `maxAge`. A packet is retransmitted at most
/// once per round trip: a second NACK for it within `rtt` is the same loss seen again, not a new one.
/// Pure and bounded: a ring of `capacity` slots; the caller passes `now` (monotonic microseconds).
public struct RTPPacketCache: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// How many packets are kept (at least 1).
        public var capacity: Int
        /// How long a packet is kept and may be retransmitted, in microseconds.
        public var maxAge: Int64

        public init(capacity: Int = 1000, maxAge: Int64 = 1_000_000) {
            self.capacity = max(1, min(capacity, 1 << 15))
            self.maxAge = max(0, maxAge)
        }
    }

    /// What the cache did with NACKed sequence numbers, for statistics.
    public struct Counters: Sendable, Hashable {
        /// RTX (or plain) retransmissions returned by `answer`.
        public var retransmitted = 0
        /// NACKed packets that were not (or no longer) in the cache.
        public var notFound = 0
        /// NACKed packets already retransmitted within the round trip.
        public var suppressed = 0
    }

    struct Slot: Sendable {
        var index: Int64
        var packet: RTPPacket
        var storedAt: Int64
        var retransmittedAt: Int64?
    }

    public let configuration: Configuration
    public let ssrc: UInt32
    /// Wraps retransmissions; nil retransmits the original packet itself (no RTX negotiated).
    public var rtx: RTXSender?
    public private(set) var counters = Counters()
    private var slots: [Slot?]
    private var unwrapper = RTPSequenceNumberUnwrapper()
    /// The highest unwrapped sequence number stored.
    private var newest: Int64?
    /// No slot below this unwrapped sequence number is held (ages are checked from here up).
    private var oldest: Int64 = 0

    public init(ssrc: UInt32, rtx: RTXSender?, configuration: Configuration = Configuration()) {
        self.ssrc = ssrc
        self.rtx = rtx
        self.configuration = configuration
        self.slots = Array(repeating: nil, count: configuration.capacity)
    }

    /// How many packets are held.
    public var count: Int { slots.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    /// Keeps `packet` (of this cache's SSRC; others are ignored) as sent at `now`. A packet older than
    /// the window of `capacity` sequence numbers is ignored; packets past `maxAge` are dropped.
    public mutating func store(_ packet: RTPPacket, now: Int64) {
        guard packet.ssrc == ssrc else { return }
        let index = unwrapper.peek(packet.sequenceNumber)
        let capacity = Int64(configuration.capacity)
        if let newest {
            if index <= newest - capacity { return }
            if index > newest {
                // Slots the window moves past are freed (all of them on a jump over the capacity).
                var stale = newest + 1
                if index - stale >= capacity { stale = index - capacity + 1 }
                while stale < index {
                    slots[slot(stale)] = nil
                    stale += 1
                }
                self.newest = index
            }
        } else {
            newest = index
            oldest = index
        }
        oldest = max(oldest, index - capacity + 1)
        if index < oldest { oldest = index }
        if index == newest { _ = unwrapper.unwrap(packet.sequenceNumber) }
        slots[slot(index)] = Slot(index: index, packet: packet, storedAt: now, retransmittedAt: nil)
        expire(now: now)
    }

    /// The stored packet with `sequenceNumber`, if it is still held.
    public func lookup(sequenceNumber: UInt16) -> RTPPacket? {
        find(sequenceNumber).map { slots[$0]?.packet } ?? nil
    }

    /// The packets to send for `nack` at `now`: each NACKed packet still held and younger than `maxAge`
    /// and not retransmitted in the last `rtt` microseconds, as RTX packets (or as themselves when `rtx`
    /// is nil or has no payload type for it), in the NACK's order. A NACK for another SSRC gets none.
    public mutating func answer(nack: RTCPNack, now: Int64, rtt: Int64) -> [RTPPacket] {
        guard nack.mediaSSRC == ssrc else { return [] }
        var packets: [RTPPacket] = []
        for sequenceNumber in nack.lostSequenceNumbers {
            guard let position = find(sequenceNumber), let held = slots[position], now - held.storedAt <= configuration.maxAge
            else {
                counters.notFound += 1
                continue
            }
            if let sentAt = held.retransmittedAt, sentAt == now || now - sentAt < rtt {
                counters.suppressed += 1
                continue
            }
            slots[position]?.retransmittedAt = now
            counters.retransmitted += 1
            if rtx != nil, let wrapped = rtx?.wrap(held.packet) {
                packets.append(wrapped)
            } else {
                packets.append(held.packet)
            }
        }
        return packets
    }

    /// Drops the packets stored more than `maxAge` before `now`, oldest sequence number first up to the
    /// first one still young (packets are stored in about sequence order, so this is amortized O(1)).
    public mutating func expire(now: Int64) {
        guard let newest else { return }
        while oldest <= newest {
            let position = slot(oldest)
            if let held = slots[position], held.index == oldest, now - held.storedAt <= configuration.maxAge { break }
            if slots[position]?.index == oldest { slots[position] = nil }
            oldest += 1
        }
    }

    private func find(_ sequenceNumber: UInt16) -> Int? {
        guard let newest else { return nil }
        let index = unwrapper.peek(sequenceNumber)
        guard index <= newest, index > newest - Int64(configuration.capacity) else { return nil }
        let position = slot(index)
        return slots[position]?.index == index ? position : nil
    }

    private func slot(_ index: Int64) -> Int {
        let capacity = Int64(configuration.capacity)
        return Int(((index % capacity) + capacity) % capacity)
    }
}
