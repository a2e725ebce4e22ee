/// What transport-cc feedback says of one sent packet: when it left (sender's clock), when it arrived
/// (the feedback sender's clock, whose offset is unknown: only differences mean something), its size.
public struct PacketResult: Sendable, Hashable {
    /// The unwrapped transport-wide sequence number.
    public var sequenceNumber: Int64
    /// Microseconds, the sender's monotonic clock.
    public var sendTime: Int64
    /// Bytes on the wire as the caller counts them (RTP packet, or with IP/UDP/SRTP overhead).
    public var size: Int
    /// Microseconds, the receiver's clock (unwrapped across reference time wraps); nil when lost.
    public var arrivalTime: Int64?

    public init(sequenceNumber: Int64, sendTime: Int64, size: Int, arrivalTime: Int64?) {
        self.sequenceNumber = sequenceNumber
        self.sendTime = sendTime
        self.size = size
        self.arrivalTime = arrivalTime
    }

    public var isLost: Bool { arrivalTime == nil }
}

/// The send side of transport-cc (libwebrtc's TransportFeedbackAdapter): remembers each sent packet's
/// transport-wide sequence number, send time and size, and turns a `TransportFeedback` into one
/// `PacketResult` per packet it names that was sent and not yet reported (a packet first reported lost
/// and later received is reported again, received). Unknown sequence numbers (never sent, or already
/// forgotten) are skipped.
///
/// Bounded: at most `historyLimit` packets, none older than `historyDuration` before the newest send.
public struct TransportFeedbackAdapter: Sendable {
    private enum Report: Sendable { case none, lost, received }

    private struct Sent: Sendable {
        var sendTime: Int64
        var size: Int
        var report: Report
    }

    public let historyLimit: Int
    public let historyDuration: Int64
    private var unwrapper = RTPSequenceNumberUnwrapper()
    private var history: [Int64: Sent] = [:]
    /// Sequence numbers in send order, from `orderHead` on.
    private var order: [Int64] = []
    private var orderHead = 0
    private var newestSendTime: Int64 = .min
    /// Reference time of the previous feedback, unwrapped (64 ms units).
    private var lastReferenceTime: Int64?
    /// Bytes sent and not yet reported (received or lost).
    public private(set) var bytesInFlight = 0

    public init(historyLimit: Int = 10_000, historyDuration: Int64 = 60_000_000) {
        self.historyLimit = max(historyLimit, 1)
        self.historyDuration = max(historyDuration, 0)
    }

    /// Records a packet as it leaves (after the pacer) with the transport-wide sequence number it carries;
    /// returns the unwrapped sequence number.
    @discardableResult
    public mutating func onPacketSent(sequenceNumber: UInt16, size: Int, sendTime: Int64) -> Int64 {
        let sequence = unwrapper.unwrap(sequenceNumber)
        let size = max(size, 0)
        if let previous = history[sequence], previous.report == .none { bytesInFlight -= previous.size }
        if history[sequence] == nil { order.append(sequence) }
        history[sequence] = Sent(sendTime: sendTime, size: size, report: .none)
        bytesInFlight += size
        newestSendTime = max(newestSendTime, sendTime)
        prune()
        return sequence
    }

    /// The results of the packets `feedback` reports, in sequence number order.
    public mutating func onFeedback(_ feedback: TransportFeedback) -> [PacketResult] {
        let referenceTime = unwrapReferenceTime(feedback.referenceTime)
        var arrival = referenceTime * TransportFeedback.referenceTimeUnit
        let base = unwrapper.peek(feedback.baseSequenceNumber)
        var results: [PacketResult] = []
        for (index, status) in feedback.packets.prefix(TransportFeedback.maxPacketCount).enumerated() {
            let sequence = base + Int64(index)
            var arrivalTime: Int64?
            if case .received(let delta) = status {
                arrival += Int64(delta) * TransportFeedback.deltaTick
                arrivalTime = arrival
            }
            guard var sent = history[sequence] else { continue }
            switch (sent.report, arrivalTime) {
            case (.received, _), (.lost, nil):
                continue
            case (.none, nil):
                sent.report = .lost
                bytesInFlight -= sent.size
            case (.none, .some):
                sent.report = .received
                bytesInFlight -= sent.size
            case (.lost, .some):
                sent.report = .received
            }
            history[sequence] = sent
            results.append(
                PacketResult(sequenceNumber: sequence, sendTime: sent.sendTime, size: sent.size, arrivalTime: arrivalTime))
        }
        return results
    }

    /// Places a 24-bit reference time at the shortest distance from the previous one.
    private mutating func unwrapReferenceTime(_ raw: UInt32) -> Int64 {
        let modulus = TransportFeedback.referenceTimeModulus
        let value = Int64(raw & 0xFF_FFFF)
        guard let last = lastReferenceTime else {
            lastReferenceTime = value
            return value
        }
        var difference = (value - last) % modulus
        if difference < 0 { difference += modulus }
        if difference >= modulus / 2 { difference -= modulus }
        let result = last + difference
        lastReferenceTime = result
        return result
    }

    private mutating func prune() {
        while orderHead < order.count {
            let oldest = order[orderHead]
            guard let sent = history[oldest] else {
                orderHead += 1
                continue
            }
            guard history.count > historyLimit || newestSendTime - sent.sendTime > historyDuration else { break }
            if sent.report == .none { bytesInFlight -= sent.size }
            history[oldest] = nil
            orderHead += 1
        }
        if orderHead > 1024, orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }
}
