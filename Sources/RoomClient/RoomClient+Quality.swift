import NIOCore
import RoomProtocol

/// publisher_quality and player_quality every `qualityIntervalSeconds`: each stream's figures since the
/// last report, from the running totals its publisher or queue keeps.
extension RoomClient {
    func startQualityReports(on connection: RoomConnection) {
        let interval = configuration.qualityIntervalSeconds
        guard interval > 0 else { return }
        let amount = TimeAmount.milliseconds(Int64(interval * 1000))
        let task = connection.channel.eventLoop.scheduleRepeatedTask(initialDelay: amount, delay: amount) { [weak self] _ in
            self?.qualityTick(connection)
        }
        state.withLockedValue { $0.qualityTask = task }
    }

    /// Reports each stream's figures since the last tick.
    private func qualityTick(_ connection: RoomConnection) {
        let now = NIODeadline.now()
        let reports: [RoomEvent] = state.withLockedValue { s in
            var reports: [RoomEvent] = []
            func report(_ key: String, _ streamID: String, _ counters: StreamCounters, _ make: (QualityReport) -> RoomEvent) {
                let previous = s.lastQuality[key]
                let seconds = previous.map { Double((now - $0.at).nanoseconds) / 1e9 } ?? configuration.qualityIntervalSeconds
                reports.append(make(counters.quality(since: previous?.counters ?? StreamCounters(), seconds: seconds,
                                                     streamID: streamID, rttMs: s.rttMs)))
                s.lastQuality[key] = (counters, now)
            }
            for (id, publisher) in s.publishers.sorted(by: { $0.key < $1.key }) {
                report("pub:" + id, id, publisher.counters) { .publisherQuality($0) }
            }
            for (id, queue) in s.players.sorted(by: { $0.key < $1.key }) where s.playersByHandle.values.contains(where: { $0.streamID == id }) {
                report("play:" + id, id, queue.counters) { .playerQuality($0) }
            }
            return reports
        }
        for r in reports { emit(r) }
    }
}
