/// The receive side of transport-cc (draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1, as
/// libwebrtc's RemoteEstimatorProxy in periodic mode): records each packet's transport-wide sequence
/// number and arrival time, and every `interval` emits feedback for the packets since the previous one.
///
/// Bounded: a feedback covers at most `maxPacketsPerFeedback` sequence numbers (older unreported ones are
/// dropped, the sender then sees them neither received nor lost), and the record keeps at most
/// `historySpan` sequence numbers behind the newest (a packet arriving later than that is ignored). A packet
/// arriving after its sequence number was reported moves the next feedback's start back to it, so it is
/// reported once more with its neighbours (the sender's adapter ignores repeats).
/// A pure state machine: the caller passes its monotonic clock in microseconds.
public struct TransportFeedbackBuilder: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var senderSSRC: UInt32
        public var mediaSSRC: UInt32
        /// Microseconds between feedback packets; the draft's receivers use 50-100 ms. At least 1 ms.
        public var interval: Int64
        /// The most sequence numbers one feedback covers.
        public var maxPacketsPerFeedback: Int
        /// How far behind the newest sequence number arrivals are kept.
        public var historySpan: Int

        public init(
            senderSSRC: UInt32, mediaSSRC: UInt32 = 0, interval: Int64 = 50_000, maxPacketsPerFeedback: Int = 1000,
            historySpan: Int = 4000
        ) {
            self.senderSSRC = senderSSRC
            self.mediaSSRC = mediaSSRC
            self.interval = max(interval, 1000)
            self.maxPacketsPerFeedback = min(max(maxPacketsPerFeedback, 1), TransportFeedback.maxPacketCount)
            self.historySpan = max(historySpan, self.maxPacketsPerFeedback)
        }
    }

    public let configuration: Configuration
    /// The media source SSRC the next feedback names: the configuration's until a packet says its own.
    private var mediaSSRC: UInt32
    private var unwrapper = RTPSequenceNumberUnwrapper()
    /// Unwrapped sequence number → arrival time (µs).
    private var arrivals: [Int64: Int64] = [:]
    private var newest: Int64?
    /// The first sequence number the next feedback reports.
    private var windowStart: Int64?
    private var feedbackPacketCount: UInt8 = 0
    /// When the next feedback is due; nil before the first packet.
    public private(set) var nextFeedbackTime: Int64?
    /// Packets dropped from a feedback by `maxPacketsPerFeedback` or arriving too late for the history.
    public private(set) var droppedPackets = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
        mediaSSRC = configuration.mediaSSRC
    }

    /// Records a packet that carried the transport-wide sequence number `sequenceNumber` (RTP header
    /// extension, `TransportWideSequenceNumber`). Repeats keep the first arrival. `ssrc`: the packet's; the
    /// next feedback names the last one as its media source, as libwebrtc's receiver does (libwebrtc's sender
    /// takes transport feedback only for a media source SSRC it sends from: with 0 a browser ignores it).
    public mutating func onPacket(sequenceNumber: UInt16, arrivalTime: Int64, ssrc: UInt32? = nil) {
        if let ssrc { mediaSSRC = ssrc }
        let sequence = unwrapper.unwrap(sequenceNumber)
        if let newest, sequence <= newest - Int64(configuration.historySpan) {
            droppedPackets += 1
            return
        }
        guard arrivals[sequence] == nil else { return }
        arrivals[sequence] = arrivalTime
        newest = max(newest ?? sequence, sequence)
        if windowStart.map({ sequence < $0 }) ?? true { windowStart = sequence }
        if nextFeedbackTime == nil { nextFeedbackTime = arrivalTime + configuration.interval }
        if arrivals.count > 2 * configuration.historySpan { prune() }
    }

    /// The feedback due at `now` (usually one packet; more when deltas overflow 16 bits), empty before its
    /// time or when nothing new arrived.
    public mutating func poll(now: Int64) -> [TransportFeedback] {
        guard let due = nextFeedbackTime, now >= due else { return [] }
        nextFeedbackTime = max(due + configuration.interval, now)
        guard let newest, var start = windowStart, start <= newest else { return [] }
        let oldest = newest - Int64(configuration.maxPacketsPerFeedback) + 1
        if start < oldest {
            droppedPackets += (start..<oldest).reduce(0) { $0 + (arrivals[$1] == nil ? 0 : 1) }
            start = oldest
        }
        windowStart = newest + 1
        prune()
        var feedbacks: [TransportFeedback] = []
        var sequence = start
        while sequence <= newest {
            guard let (feedback, next) = makeFeedback(from: sequence, to: newest) else { break }
            feedbacks.append(feedback)
            sequence = next
        }
        return feedbacks
    }

    /// One feedback from the first received packet at or after `first`, up to `last` or to the packet
    /// whose delta does not fit 16 bits; returns it and where the next one starts.
    private mutating func makeFeedback(from first: Int64, to last: Int64) -> (TransportFeedback, Int64)? {
        var base = first
        while base <= last, arrivals[base] == nil { base += 1 }
        guard base <= last, let baseArrival = arrivals[base] else { return nil }
        let referenceTicks = 256 * Self.floorDivide(Self.ticks(baseArrival), 256)
        var previousTicks = referenceTicks
        var packets: [TransportFeedback.PacketStatus] = []
        var sequence = base
        while sequence <= last {
            if let arrival = arrivals[sequence] {
                let ticks = Self.ticks(arrival)
                let delta = ticks - previousTicks
                guard let delta16 = Int16(exactly: delta) else { break }
                packets.append(.received(delta: delta16))
                previousTicks = ticks
            } else {
                packets.append(.notReceived)
            }
            sequence += 1
        }
        let referenceTime = UInt32(truncatingIfNeeded: Self.floorDivide(referenceTicks, 256) & 0xFF_FFFF)
        let feedback = TransportFeedback(
            senderSSRC: configuration.senderSSRC, mediaSSRC: mediaSSRC,
            baseSequenceNumber: UInt16(truncatingIfNeeded: base), referenceTime: referenceTime,
            feedbackPacketCount: feedbackPacketCount, packets: packets)
        feedbackPacketCount &+= 1
        return (feedback, sequence)
    }

    /// Forgets arrivals older than the history span and than the next feedback's window.
    private mutating func prune() {
        guard let newest else { return }
        let keepFrom = newest - Int64(configuration.historySpan) + 1
        arrivals = arrivals.filter { $0.key >= keepFrom }
    }

    /// Arrival time in 250 µs ticks, rounded to the nearest tick.
    static func ticks(_ micros: Int64) -> Int64 {
        floorDivide(micros + TransportFeedback.deltaTick / 2, TransportFeedback.deltaTick)
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
