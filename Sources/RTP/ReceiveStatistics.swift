/// What a receiver reports about one source (RFC 3550 section 6.4.1): the extended highest sequence
/// number and the lost counts of appendix A.1/A.3, the interarrival jitter of A.8, and the LSR/DLSR of
/// the last sender report, made into an `RTCPReportBlock`. Sequence tracking follows A.1's
/// `update_seq` (a jump of more than `maxDropout` is believed only when the next packet follows it,
/// then the counts restart) without its probation: SRTP already authenticates the source. Pure: the
/// caller passes arrival times in monotonic microseconds and keeps one per SSRC.
public struct ReceiveStatistics: Sendable {
    public static let maxDropout: UInt16 = 3000
    public static let maxMisorder: UInt16 = 100

    public let ssrc: UInt32
    /// The RTP clock rate in Hz (90000 for video, 48000 for Opus), 1 ... 10 MHz.
    public let clockRate: Int64

    private var started = false
    private var maxSequence: UInt16 = 0
    /// Wraps of the sequence number, times 65536.
    private var cycles: UInt32 = 0
    private var baseSequence: UInt32 = 0
    private var badSequence: UInt32 = 0x1_0000  // RTP_SEQ_MOD + 1: none
    public private(set) var received: UInt32 = 0
    private var expectedPrior: UInt32 = 0
    private var receivedPrior: UInt32 = 0
    /// Jitter in timestamp units, times 16 (A.8's integer form).
    private var jitterQ4: Int64 = 0
    private var lastTransit: (arrival: Int64, timestamp: UInt32)?
    private var lastSenderReport: (middle32: UInt32, arrival: Int64)?

    public init(ssrc: UInt32, clockRate: Int64) {
        self.ssrc = ssrc
        self.clockRate = max(1, min(clockRate, 10_000_000))
    }

    /// `cycles + max_seq` (A.3).
    public var extendedHighestSequenceNumber: UInt32 { cycles &+ UInt32(maxSequence) }

    /// `expected - received` (A.3), which duplicates can make negative, clamped to the 24 bits of the
    /// report block.
    public var cumulativeLost: Int32 {
        guard started else { return 0 }
        let expected = Int64(extendedHighestSequenceNumber) - Int64(baseSequence) + 1
        let lost = expected - Int64(received)
        return Int32(max(min(lost, 0x7F_FFFF), -0x80_0000))
    }

    /// Interarrival jitter in timestamp units (A.8).
    public var jitter: UInt32 { UInt32(truncatingIfNeeded: max(0, jitterQ4 >> 4)) }

    /// Notes a packet of the source. A retransmission counts as received but not in the jitter (its
    /// transit says nothing about the path's variation).
    public mutating func received(sequenceNumber: UInt16, timestamp: UInt32, arrival: Int64, isRetransmission: Bool = false) {
        guard started else {
            started = true
            initSequence(sequenceNumber)
            received = 1
            if !isRetransmission { lastTransit = (arrival, timestamp) }
            return
        }
        let delta = sequenceNumber &- maxSequence
        if delta < Self.maxDropout {
            // In order, with permissible gap.
            if sequenceNumber < maxSequence { cycles &+= 0x1_0000 }
            maxSequence = sequenceNumber
        } else if delta <= UInt16.max - Self.maxMisorder {
            // A very large jump: believed only when the next packet follows it.
            if UInt32(sequenceNumber) == badSequence {
                initSequence(sequenceNumber)
                lastTransit = nil
                jitterQ4 = 0
            } else {
                badSequence = (UInt32(sequenceNumber) + 1) & 0xFFFF
                return
            }
        }
        // else: a duplicate or reordered packet.
        received &+= 1
        if !isRetransmission { updateJitter(timestamp: timestamp, arrival: arrival) }
    }

    /// Notes a sender report of the source received at `arrival`, for LSR/DLSR.
    public mutating func senderReportReceived(ntpTimestamp: NTPTimestamp, arrival: Int64) {
        lastSenderReport = (ntpTimestamp.middle32, arrival)
    }

    /// The report block at `now`, nil before any packet. Starts the next reporting interval (fraction
    /// lost is since the previous call, A.3).
    public mutating func makeReportBlock(now: Int64) -> RTCPReportBlock? {
        guard started else { return nil }
        let expected = extendedHighestSequenceNumber &- baseSequence &+ 1
        let expectedInterval = Int64(expected) - Int64(expectedPrior)
        let receivedInterval = Int64(received) - Int64(receivedPrior)
        expectedPrior = expected
        receivedPrior = received
        let lostInterval = expectedInterval - receivedInterval
        let fraction: UInt8 =
            expectedInterval <= 0 || lostInterval <= 0 ? 0 : UInt8(min(255, (lostInterval << 8) / expectedInterval))
        return RTCPReportBlock(
            ssrc: ssrc, fractionLost: fraction, cumulativeLost: cumulativeLost,
            extendedHighestSequenceNumber: extendedHighestSequenceNumber, jitter: jitter,
            lastSenderReport: lastSenderReport?.middle32 ?? 0,
            delaySinceLastSenderReport: lastSenderReport.map { NTPTimestamp.compactDuration(micros: now - $0.arrival) } ?? 0)
    }

    private mutating func initSequence(_ sequenceNumber: UInt16) {
        baseSequence = UInt32(sequenceNumber)
        maxSequence = sequenceNumber
        badSequence = 0x1_0000
        cycles = 0
        received = 0
        expectedPrior = 0
        receivedPrior = 0
    }

    /// A.8: D = (Rj - Ri) - (Sj - Si) in timestamp units; J += (|D| - J) / 16. Computed from the
    /// differences so large clocks cannot overflow; the timestamp difference is wrap-aware.
    private mutating func updateJitter(timestamp: UInt32, arrival: Int64) {
        defer { lastTransit = (arrival, timestamp) }
        guard let last = lastTransit else { return }
        let arrivalMicros = arrival - last.arrival
        // Over an hour apart says nothing about jitter (and keeps the product small).
        guard abs(arrivalMicros) < 3_600_000_000 else { return }
        let arrivalUnits = arrivalMicros * clockRate / 1_000_000
        let difference = abs(arrivalUnits - RTPSequence.difference(timestamp, last.timestamp))
        jitterQ4 += difference - ((jitterQ4 + 8) >> 4)
    }
}
