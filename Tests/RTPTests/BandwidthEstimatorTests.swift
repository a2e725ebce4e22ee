import Foundation
import XCTest

@testable import RTP

final class BandwidthEstimatorTests: XCTestCase {
    private func printTrace(_ simulation: LinkSimulation, _ name: String) {
        guard ProcessInfo.processInfo.environment["RTCBOX_BWE_TRACE"] != nil else { return }
        let line = simulation.trace.filter { $0.time % 500_000 == 0 }
            .map { "\($0.time / 100_000)→\($0.target / 1000)" }.joined(separator: " ")
        print("\(name): \(line) dropped \(simulation.droppedPackets)/\(simulation.sentPackets)")
    }

    // MARK: Synthetic links

    func testConvergesUnderAOneMegabitBottleneck() {
        var simulation = LinkSimulation(
            configuration: .init(minBitrate: 50_000, maxBitrate: 5_000_000, startBitrate: 2_000_000), capacity: { _ in 1_000_000 })
        simulation.run(until: 20_000_000)
        printTrace(simulation, "1 Mbit/s")
        let settled = simulation.targets(from: 4_000_000, to: 20_000_000)
        XCTAssertLessThanOrEqual(settled.max() ?? .max, 1_050_000)
        XCTAssertGreaterThanOrEqual(settled.min() ?? 0, 700_000)
        let mean = Double(settled.reduce(0, +)) / Double(settled.count)
        XCTAssertGreaterThan(mean, 800_000)
        XCTAssertLessThan(mean, 1_000_000)
    }

    func testFollowsAStepDownWithinTwoSeconds() {
        var simulation = LinkSimulation(
            configuration: .init(minBitrate: 50_000, maxBitrate: 5_000_000, startBitrate: 1_000_000),
            capacity: { $0 < 10_000_000 ? 1_000_000 : 500_000 })
        simulation.run(until: 20_000_000)
        printTrace(simulation, "1 → 0.5 Mbit/s")
        let after = simulation.targets(from: 12_000_000, to: 20_000_000)
        XCTAssertLessThanOrEqual(after.max() ?? .max, 550_000)
        XCTAssertGreaterThanOrEqual(after.min() ?? 0, 300_000)
        let mean = Double(after.reduce(0, +)) / Double(after.count)
        XCTAssertGreaterThan(mean, 380_000)
    }

    func testRandomLossWithoutCongestionHolds() {
        var simulation = LinkSimulation(
            configuration: .init(minBitrate: 50_000, maxBitrate: 3_000_000, startBitrate: 1_000_000), capacity: { _ in 5_000_000 })
        simulation.lossRate = 0.05
        simulation.run(until: 15_000_000)
        printTrace(simulation, "5 % loss")
        let estimator = simulation.estimator
        // The delay-based part sees no queue: it does not collapse (it climbs to its 1.5 × acknowledged limit).
        XCTAssertGreaterThanOrEqual(estimator.delayBased.bitrate, 1_000_000)
        XCTAssertEqual(estimator.usage, .normal)
        // The loss-based part holds at 2-10 % (some seconds measure under 2 % and step up by 8 %).
        let targets = simulation.targets(from: 0, to: 15_000_000)
        XCTAssertGreaterThanOrEqual(targets.min() ?? 0, 950_000)
        XCTAssertLessThanOrEqual(targets.max() ?? .max, 1_400_000)
    }

    func testRampsUpToTheMaximumOnACleanLink() {
        var simulation = LinkSimulation(
            configuration: .init(minBitrate: 50_000, maxBitrate: 2_500_000, startBitrate: 300_000), capacity: { _ in 5_000_000 })
        simulation.run(until: 40_000_000)
        printTrace(simulation, "clean 5 Mbit/s")
        XCTAssertEqual(simulation.estimator.targetBitrate, 2_500_000)
        XCTAssertEqual(simulation.droppedPackets, 0)
        // 8 % per second from 300 kbit/s: about 28 s to 2.5 Mbit/s.
        let reachedAt = simulation.trace.first { $0.target >= 2_500_000 }?.time ?? .max
        XCTAssertLessThan(reachedAt, 35_000_000)
    }

    func testNeverLeavesTheConfiguredBounds() {
        var simulation = LinkSimulation(
            configuration: .init(minBitrate: 200_000, maxBitrate: 800_000, startBitrate: 500_000),
            capacity: { ($0 / 3_000_000) % 2 == 0 ? 100_000 : 5_000_000 })
        simulation.run(until: 15_000_000)
        printTrace(simulation, "bounds")
        let targets = simulation.targets(from: 0, to: 15_000_000)
        XCTAssertGreaterThanOrEqual(targets.min() ?? 0, 200_000)
        XCTAssertLessThanOrEqual(targets.max() ?? .max, 800_000)
    }

    // MARK: Receiver report loss (no transport-cc)

    func testReceiverReportLoss() {
        var estimator = BandwidthEstimator(configuration: .init(minBitrate: 50_000, maxBitrate: 2_000_000, startBitrate: 1_000_000))
        // Under 2 %: +8 % of the lowest rate of the last second, plus 1 kbit/s, each report a second apart.
        XCTAssertEqual(estimator.onLossReport(fractionLost: 0, now: 1_000_000), 1_081_000)
        XCTAssertEqual(estimator.onLossReport(fractionLost: 0.01, now: 2_000_000), 1_168_480)
        // 2-10 %: hold.
        XCTAssertEqual(estimator.onLossReport(fractionLost: 0.05, now: 3_000_000), 1_168_480)
        // Over 10 %: × (1 - 0.5 × loss), once per report.
        XCTAssertEqual(estimator.onLossReport(fractionLost: 0.2, now: 4_000_000), 1_051_632)
        XCTAssertEqual(estimator.process(now: 4_500_000), 1_051_632)
        // Never under the minimum.
        var now: Int64 = 5_000_000
        for _ in 0..<100 {
            estimator.onLossReport(fractionLost: 1, now: now)
            now += 1_000_000
        }
        XCTAssertEqual(estimator.targetBitrate, 50_000)
        // Never over the maximum.
        for _ in 0..<200 {
            estimator.onLossReport(fractionLost: 0, now: now)
            now += 1_000_000
        }
        XCTAssertEqual(estimator.targetBitrate, 2_000_000)
    }

    func testReceiverReportsAreIgnoredWhileTransportFeedbackFlows() {
        var estimator = BandwidthEstimator(configuration: .init(minBitrate: 50_000, maxBitrate: 2_000_000, startBitrate: 1_000_000))
        let results = (0..<10).map { PacketResult(sequenceNumber: Int64($0), sendTime: Int64($0) * 10_000, size: 1200, arrivalTime: 50_000 + Int64($0) * 10_000) }
        estimator.update(results, now: 200_000)
        XCTAssertEqual(estimator.onLossReport(fractionLost: 0.5, now: 1_000_000), 1_000_000)
        XCTAssertEqual(estimator.lossBased.lastLoss, nil)
    }

    // MARK: Parts

    func testTrendlineDetectsAGrowingQueue() {
        var trendline = TrendlineEstimator()
        var arrival = 0.0
        // Each 10 ms group arrives 2 ms later than it was sent after the previous one: the queue grows.
        for _ in 0..<40 {
            arrival += 12
            trendline.update(receiveDelta: 12, sendDelta: 10, arrivalTime: arrival)
        }
        XCTAssertEqual(trendline.state, .overusing)
        // The queue drains.
        for _ in 0..<40 {
            arrival += 8
            trendline.update(receiveDelta: 8, sendDelta: 10, arrivalTime: arrival)
        }
        XCTAssertEqual(trendline.state, .underusing)
        // Steady.
        for _ in 0..<60 {
            arrival += 10
            trendline.update(receiveDelta: 10, sendDelta: 10, arrivalTime: arrival)
        }
        XCTAssertEqual(trendline.state, .normal)
    }

    func testTrendlineThresholdAdapts() {
        var trendline = TrendlineEstimator()
        var arrival = 0.0
        for _ in 0..<100 {
            arrival += 10
            trendline.update(receiveDelta: 10, sendDelta: 10, arrivalTime: arrival)
        }
        // No gradient: gamma falls toward 0 and stops at its floor of 6 ms.
        XCTAssertEqual(trendline.threshold, 6, accuracy: 0.01)
    }

    func testInterArrivalGroupsBursts() {
        var groups = InterArrivalDelta()
        var deltas: [InterArrivalDelta.Deltas] = []
        // Bursts of three packets 1 ms apart every 20 ms, each burst arriving 25 ms after the previous.
        for burst in 0..<4 {
            for packet in 0..<3 {
                let send = Int64(burst * 20_000 + packet * 1000)
                let arrival = Int64(100_000 + burst * 25_000 + packet * 1000)
                if let d = groups.add(sendTime: send, arrivalTime: arrival, systemTime: arrival, size: 100) { deltas.append(d) }
            }
        }
        XCTAssertEqual(deltas, [
            .init(sendDelta: 20_000, arrivalDelta: 25_000, sizeDelta: 0),
            .init(sendDelta: 20_000, arrivalDelta: 25_000, sizeDelta: 0),
        ])
    }

    func testAIMDDecreasesToBetaTimesAcknowledged() {
        var control = AIMDRateControl(startBitrate: 2_000_000, minBitrate: 10_000, maxBitrate: 5_000_000)
        XCTAssertEqual(control.update(usage: .overusing, acknowledgedBitrate: 1_000_000, now: 1_000_000), 850_000)
        // Hold right after a decrease; normal then increases (additively near the now known capacity).
        XCTAssertEqual(control.update(usage: .normal, acknowledgedBitrate: 1_000_000, now: 1_100_000), 850_000)
        let increased = control.update(usage: .normal, acknowledgedBitrate: 850_000, now: 2_100_000)
        XCTAssertGreaterThan(increased, 850_000)
        XCTAssertLessThan(increased, 900_000)
        // Under-use holds.
        XCTAssertEqual(control.update(usage: .underusing, acknowledgedBitrate: 850_000, now: 3_100_000), increased)
    }

    func testAIMDMultiplicativeIncreaseIsBoundedByThroughput() {
        var control = AIMDRateControl(startBitrate: 1_000_000, minBitrate: 10_000, maxBitrate: 50_000_000)
        control.update(usage: .normal, acknowledgedBitrate: 1_000_000, now: 0)
        XCTAssertEqual(control.update(usage: .normal, acknowledgedBitrate: 1_000_000, now: 1_000_000), 1_081_080, accuracy: 1)
        // 1.5 × 100 kbit/s acknowledged + 10 kbit/s caps any increase; it does not decrease either.
        XCTAssertEqual(control.update(usage: .normal, acknowledgedBitrate: 100_000, now: 2_000_000), 1_081_080, accuracy: 1)
    }

    func testAcknowledgedBitrate() {
        var acknowledged = AcknowledgedBitrateEstimator()
        // 1200 bytes every 4.8 ms = 2 Mbit/s for 2 s.
        let results = (0..<417).map { PacketResult(sequenceNumber: Int64($0), sendTime: 0, size: 1200, arrivalTime: Int64($0) * 4800) }
        acknowledged.update(results)
        XCTAssertEqual(acknowledged.bitrate ?? 0, 2_000_000, accuracy: 100_000)
    }
}
