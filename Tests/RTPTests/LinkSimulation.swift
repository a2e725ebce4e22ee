import NIOCore

@testable import RTP

/// A sender, a bottleneck and a receiver on one simulated clock, for the congestion controller's tests:
/// the sender paces 1200-byte packets at its rate, each with a transport-wide sequence number recorded in
/// a `TransportFeedbackAdapter`; the link is a FIFO queue with a service rate (departure = max(send,
/// previous departure) + size / rate), a drop-tail bound in queueing delay, optional random loss, and a
/// base one-way delay; the receiver's `TransportFeedbackBuilder` feedback goes back serialized, parsed,
/// after the same base delay, to the adapter and the `BandwidthEstimator`. Steps of 1 ms.
struct LinkSimulation {
    /// Bits per second at time t (µs).
    var capacity: (Int64) -> Double
    var baseDelay: Int64 = 20_000
    var maxQueueDelay: Int64 = 300_000
    var lossRate = 0.0
    /// The sender's rate given the target: by default it sends at the target.
    var senderRate: (Int64) -> Double = { Double($0) }
    var packetSize = 1200

    private(set) var estimator: BandwidthEstimator
    private var adapter = TransportFeedbackAdapter()
    private var builder = TransportFeedbackBuilder(configuration: .init(senderSSRC: 1, mediaSSRC: 2))
    private var rng = SplitMix64(seed: 7)
    private var linkFreeAt: Int64 = 0
    private var inFlight: [(arrival: Int64, sequence: UInt16)] = []
    private var inFlightHead = 0
    private var feedbackInFlight: [(deliverAt: Int64, bytes: ByteBuffer)] = []
    private var nextSend: Int64 = 0
    private var sequence: UInt16 = 0
    private(set) var now: Int64 = 0
    /// (time µs, target bits/s) every 100 ms.
    private(set) var trace: [(time: Int64, target: Int64)] = []
    private(set) var sentPackets = 0
    private(set) var droppedPackets = 0

    init(configuration: BandwidthEstimator.Configuration, capacity: @escaping (Int64) -> Double) {
        estimator = BandwidthEstimator(configuration: configuration)
        self.capacity = capacity
    }

    mutating func run(until end: Int64) {
        while now < end {
            step()
            now += 1000
        }
    }

    private mutating func step() {
        while nextSend <= now {
            let sendTime = nextSend
            adapter.onPacketSent(sequenceNumber: sequence, size: packetSize, sendTime: sendTime)
            sentPackets += 1
            let service = Int64(Double(packetSize * 8) / capacity(sendTime) * 1e6)
            let departure = max(sendTime, linkFreeAt) + service
            if departure - sendTime - service > maxQueueDelay {
                droppedPackets += 1  // drop-tail: the queue is full
            } else {
                linkFreeAt = departure
                if lossRate == 0 || Double(rng.next() % 1_000_000) / 1e6 >= lossRate {
                    inFlight.append((departure + baseDelay, sequence))
                }
            }
            sequence &+= 1
            let rate = max(senderRate(estimator.targetBitrate), 10_000)
            nextSend += Int64(Double(packetSize * 8) / rate * 1e6)
        }
        while inFlightHead < inFlight.count, inFlight[inFlightHead].arrival <= now {
            builder.onPacket(sequenceNumber: inFlight[inFlightHead].sequence, arrivalTime: inFlight[inFlightHead].arrival)
            inFlightHead += 1
        }
        if inFlightHead > 4096 {
            inFlight.removeFirst(inFlightHead)
            inFlightHead = 0
        }
        for feedback in builder.poll(now: now) {
            feedbackInFlight.append((now + baseDelay, feedback.serialized()))
        }
        while let first = feedbackInFlight.first, first.deliverAt <= now {
            feedbackInFlight.removeFirst()
            guard let feedback = try? TransportFeedback.parse(first.bytes) else { continue }
            estimator.update(adapter.onFeedback(feedback), now: now)
        }
        if now % 100_000 == 0 { trace.append((now, estimator.targetBitrate)) }
    }

    /// Targets between `from` and `to` (µs).
    func targets(from: Int64, to: Int64) -> [Int64] {
        trace.filter { $0.time >= from && $0.time <= to }.map(\.target)
    }
}
