import NIOCore

/// The receive buffer of one audio stream (Opus, AAC): packets in, in any order; out in sequence order
/// as soon as each is next. A missing packet is waited for at most `maxWait` after a later one arrived
/// (time for NACK + RTX when negotiated, else just reordering), then reported as concealed (the decoder
/// conceals it: Opus PLC, silence for AAC) and the stream goes on. A jump of more than `maxPackets`
/// sequence numbers is a discontinuity (a sender restart), not a loss. A packet recovered from a later one's
/// redundancy (RED, RFC 2198) goes in with `insertRecovered`: only into a hole, so a copy of a packet that
/// came, or one already released or concealed, counts nowhere. Pure and bounded.
public struct AudioJitterBuffer: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var maxPackets: Int

        public init(maxPackets: Int = 500) {
            self.maxPackets = max(1, maxPackets)
        }
    }

    public enum Output: Sendable, Hashable {
        case packet(RTPPacket, arrivalTime: Int64)
        /// `count` packets from `firstSequenceNumber` on never came: conceal them.
        case concealed(firstSequenceNumber: UInt16, count: Int)
        /// The stream jumped; what follows starts anew at `sequenceNumber` (reset the decoder's state).
        case discontinuity(sequenceNumber: UInt16)
    }

    public struct Counters: Sendable, Hashable {
        public var packetsReleased = 0
        public var packetsConcealed = 0
        public var packetsLate = 0
        public var duplicates = 0
        public var discontinuities = 0
        /// Holes filled by `insertRecovered` (not concealed: they are released as packets).
        public var packetsRecovered = 0
    }

    public let configuration: Configuration
    public private(set) var counters = Counters()
    private var unwrapper = RTPSequenceNumberUnwrapper()
    private var held: [Int64: (packet: RTPPacket, arrival: Int64)] = [:]
    /// The next sequence number (unwrapped) to release; nil before the first packet.
    private var next: Int64?
    private var pendingDiscontinuity: UInt16?

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public var count: Int { held.count }

    public mutating func insert(_ packet: RTPPacket, arrival: Int64) {
        let index = unwrapper.unwrap(packet.sequenceNumber)
        guard let next else {
            self.next = index
            held[index] = (packet, arrival)
            return
        }
        if index < next {
            counters.packetsLate += 1
            return
        }
        if held[index] != nil {
            counters.duplicates += 1
            return
        }
        if index - next >= Int64(configuration.maxPackets) {
            // Too far ahead to be a loss: the sender restarted; what is held belongs to the old run.
            counters.discontinuities += 1
            held.removeAll()
            self.next = index
            pendingDiscontinuity = packet.sequenceNumber
        }
        held[index] = (packet, arrival)
    }

    /// A packet rebuilt from redundancy: taken only when it fills a hole (after the first packet, not yet
    /// released or concealed, not held, within `maxPackets`), and then counted in `packetsRecovered`.
    /// Returns whether it was taken.
    @discardableResult
    public mutating func insertRecovered(_ packet: RTPPacket, arrival: Int64) -> Bool {
        let index = unwrapper.peek(packet.sequenceNumber)
        guard let next, index >= next, index - next < Int64(configuration.maxPackets), held[index] == nil else { return false }
        _ = unwrapper.unwrap(packet.sequenceNumber)
        held[index] = (packet, arrival)
        counters.packetsRecovered += 1
        return true
    }

    /// Releases the packets that are next in order, and conceals a missing one when a later packet has
    /// waited `maxWait` microseconds for it.
    public mutating func poll(now: Int64, maxWait: Int64) -> [Output] {
        var output: [Output] = []
        if let sequenceNumber = pendingDiscontinuity {
            output.append(.discontinuity(sequenceNumber: sequenceNumber))
            pendingDiscontinuity = nil
        }
        while var position = next, !held.isEmpty {
            if let entry = held.removeValue(forKey: position) {
                output.append(.packet(entry.packet, arrivalTime: entry.arrival))
                counters.packetsReleased += 1
                next = position + 1
                continue
            }
            // A hole: the earliest-arrived packet after it decides whether waiting is over.
            guard let earliest = held.values.map(\.arrival).min(), now - earliest >= maxWait else { break }
            let following = held.keys.min() ?? position
            let count = Int(following - position)
            output.append(.concealed(firstSequenceNumber: UInt16(truncatingIfNeeded: position), count: count))
            counters.packetsConcealed += count
            position = following
            next = position
        }
        return output
    }
}
