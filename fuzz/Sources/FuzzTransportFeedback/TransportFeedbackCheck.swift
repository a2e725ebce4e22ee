import NIOCore
import RTP

// The body of FuzzTransportFeedback. Tests/RTPTests/TransportFeedbackCheck.swift is a symbolic link to
// this file, so the unit tests compile it and run it over the seed corpus.

/// Transport-cc feedback (RTPFB FMT 15) from the network: what parses must serialize to bytes that parse
/// equal; its results, for packets "sent" 1 ms apart, go through a fresh TransportFeedbackAdapter into a
/// fresh BandwidthEstimator, whose target must stay within its bounds (also after a repeat of the
/// feedback, a receiver report and a later process); its arrivals fed to a TransportFeedbackBuilder must
/// come out as feedback that parses.
func checkTransportFeedback(_ data: ByteBuffer) {
    guard let feedback = try? TransportFeedback.parse(data) else { return }
    let bytes = feedback.serialized()
    guard let again = try? TransportFeedback.parse(bytes), again == feedback else {
        fatalError("transport feedback does not survive serialize/parse: \(feedback)")
    }
    let arrivals = feedback.arrivals
    precondition(arrivals.count == min(feedback.packets.count, TransportFeedback.maxPacketCount))

    let configuration = BandwidthEstimator.Configuration(minBitrate: 50_000, maxBitrate: 2_000_000, startBitrate: 300_000)
    func checkBounds(_ target: Int64) {
        precondition(target >= configuration.minBitrate && target <= configuration.maxBitrate, "target \(target) out of bounds")
    }
    var adapter = TransportFeedbackAdapter()
    var estimator = BandwidthEstimator(configuration: configuration)
    let count = arrivals.count
    for index in 0..<count {
        let sequenceNumber = feedback.baseSequenceNumber &+ UInt16(truncatingIfNeeded: index)
        adapter.onPacketSent(sequenceNumber: sequenceNumber, size: 200 + index % 1000, sendTime: Int64(index) * 1000)
    }
    let now = Int64(count) * 1000 + 50_000
    let results = adapter.onFeedback(feedback)
    precondition(results.count <= count)
    checkBounds(estimator.update(results, now: now))
    var repeated = feedback
    repeated.feedbackPacketCount &+= 1
    precondition(adapter.onFeedback(repeated).isEmpty, "a repeated feedback reports nothing new")
    checkBounds(estimator.onLossReport(fractionLost: Double(feedback.feedbackPacketCount) / 256, now: now + 1_000_000))
    checkBounds(estimator.process(now: now + 10_000_000))
    precondition(adapter.bytesInFlight >= 0)

    var builder = TransportFeedbackBuilder(configuration: .init(senderSSRC: feedback.senderSSRC))
    for arrival in arrivals {
        guard let time = arrival.arrivalTime else { continue }
        builder.onPacket(sequenceNumber: arrival.sequenceNumber, arrivalTime: time)
    }
    for rebuilt in builder.poll(now: .max / 2) {
        guard (try? TransportFeedback.parse(rebuilt.serialized())) == rebuilt else {
            fatalError("built feedback does not survive serialize/parse: \(rebuilt)")
        }
    }
}
