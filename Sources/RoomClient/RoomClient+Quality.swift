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
        startTrafficControl(on: connection)
    }

    /// Every `trafficIntervalSeconds`: each publisher's link sample goes to its traffic controller (a changed
    /// bit rate is a traffic_control event); every `networkQualityIntervalSeconds` a network_quality event.
    func startTrafficControl(on connection: RoomConnection) {
        let interval = configuration.trafficIntervalSeconds
        guard interval > 0 else { return }
        let amount = TimeAmount.milliseconds(Int64(interval * 1000))
        let channel = connection.channel
        let task = channel.eventLoop.scheduleRepeatedTask(initialDelay: amount, delay: amount) { [weak self] _ in
            // TCP's own round trip and delivery rate (TCP_INFO): they show a queue building on the path, and
            // what the path now delivers, before the socket backs up.
            KernelTCPInfo.read(channel).whenComplete { result in
                self?.trafficTick(tcp: (try? result.get()) ?? nil, channel: ObjectIdentifier(channel))
            }
        }
        state.withLockedValue { $0.trafficTask = task }
    }

    private func trafficTick(tcp: KernelTCPInfo?, channel: ObjectIdentifier) {
        let now = NIODeadline.now().uptimeNanoseconds
        let (publishers, acked) = state.withLockedValue { s -> ([StreamPublisher], Double?) in
            // What the peer acknowledged over the interval, bits/s (the same connection, a counter that grew).
            var rate: Double?
            if let tcp, tcp.bytesAcked > 0 {
                if let last = s.lastAcked, last.channel == channel, tcp.bytesAcked >= last.bytes, now > last.at {
                    rate = Double(tcp.bytesAcked - last.bytes) * 8 / (Double(now - last.at) / 1e9)
                }
                s.lastAcked = (channel, tcp.bytesAcked, now)
            }
            return (Array(s.publishers.values).sorted { $0.streamID < $1.streamID }, rate)
        }
        var events: [RoomEvent] = []
        var ticks: [(String, LinkSample)] = []
        for p in publishers {
            // With one publisher on the connection, what was acknowledged is its link; with several it is shared.
            let (sample, action) = p.controlTick(rttMs: tcp?.rttMs, deliveredRate: publishers.count == 1 ? acked : nil)
            ticks.append((p.streamID, sample))
            if let action {
                // The configured track is the publish request's; the encoder scales it the same way.
                let configured = state.withLockedValue { $0.publishing[p.streamID]?.tracks.first { $0.kind == .video } }
                    ?? p.tracks.first { $0.kind == .video }
                let report = TrafficControlReport(streamID: p.streamID, action: action, sample: sample, configuredVideo: configured)
                logger.info("publish \(p.streamID): \(report.logLine)")
                events.append(.trafficControl(report))
            }
        }
        let every = max(1, Int((configuration.networkQualityIntervalSeconds / configuration.trafficIntervalSeconds).rounded()))
        let report: NetworkQualityReport? = state.withLockedValue { s in
            for (id, sample) in ticks { s.uplinkSamples[id, default: []].append(sample) }
            s.trafficTicks += 1
            // A login that neither publishes nor plays has no link to report on.
            guard configuration.networkQualityIntervalSeconds > 0, s.trafficTicks % every == 0,
                  !publishers.isEmpty || !s.players.isEmpty else { return nil }
            defer { s.uplinkSamples.removeAll() }
            return networkQuality(&s, publishers: publishers)
        }
        for e in events { emit(e) }
        if let report { emit(.networkQuality(report)) }
        layerTick()
    }

    /// The uplink from the publishers' samples, the downlink from the players' latency above the quietest seen.
    private func networkQuality(_ s: inout ClientState, publishers: [StreamPublisher]) -> NetworkQualityReport {
        var report = NetworkQualityReport(uplink: .unknown, downlink: .unknown, rttMs: s.rttMs.map(StreamCounters.round))
        var uplinkKbps = 0.0, target = 0.0, backlog = 0.0
        var levels: [NetworkQualityLevel] = []
        for p in publishers {
            guard let samples = s.uplinkSamples[p.streamID], !samples.isEmpty else { continue }
            let seconds = samples.reduce(0) { $0 + $1.seconds }
            let taken = samples.reduce(0) { $0 + $1.takenBytes }
            let kbps = seconds > 0 ? Double(taken) * 8 / 1000 / seconds : 0
            let last = samples[samples.count - 1]
            let stalled = taken == 0 && last.backlogMs > 1000
            let settings = p.trafficControlSettings
            let rate = Double(p.targetVideoBitRate ?? 0)
            let share = settings.map { rate / Double($0.maxVideoBitRate) } ?? (samples.contains { $0.droppedFrames > 0 } ? 0.5 : 1)
            uplinkKbps += kbps
            target += rate / 1000
            backlog = max(backlog, last.backlogMs)
            levels.append(.uplink(rttMs: s.rttMs, rateShare: share, backlogMs: last.backlogMs, stalled: stalled))
        }
        if let worst = levels.max(by: { $0.severity < $1.severity }) {
            report.uplink = worst
            report.uplinkKbps = StreamCounters.round(uplinkKbps)
            report.targetKbps = target > 0 ? StreamCounters.round(target) : nil
            report.backlogMs = StreamCounters.round(backlog)
        }
        var down: [NetworkQualityLevel] = []
        var queueMax = 0.0
        for (id, queue) in s.players {
            let c = queue.counters
            let key = "nq:" + id
            let previous = s.lastQuality[key]?.counters ?? StreamCounters()
            s.lastQuality[key] = (c, .now())
            let samples = c.latencySamples - previous.latencySamples
            let frames = c.frames - previous.frames
            let dropped = c.framesDropped - previous.framesDropped
            guard samples > 0 || dropped > 0 else {
                if c.frames > 0 { down.append(.die) }
                continue
            }
            let latency = samples > 0 ? Double(c.latencyTotalMicroseconds - previous.latencyTotalMicroseconds) / Double(samples) / 1000 : 0
            let quietest = min(s.quietestLatency[id] ?? latency, latency)
            s.quietestLatency[id] = quietest
            let queued = max(0, latency - quietest)
            queueMax = max(queueMax, queued)
            down.append(.downlink(rttMs: s.rttMs, queueMs: queued, dropRatio: Double(dropped) / Double(max(1, frames + dropped)), stalled: false))
        }
        if let worst = down.max(by: { $0.severity < $1.severity }) {
            report.downlink = worst
            report.downlinkQueueMs = StreamCounters.round(queueMax)
        }
        return report
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
                report("pub:" + id, id, publisher.counters) { q in
                    var q = q
                    q.targetKbps = publisher.targetVideoBitRate.map { Double($0 / 1000) }
                    q.queueMs = StreamCounters.round(publisher.backlogMilliseconds)
                    if let udp = publisher.udpStatistics {
                        q.transport = "udp"
                        q.retransmittedPercent = udp.bytesSent > 0
                            ? StreamCounters.round(Double(udp.retransmittedBytesSent) * 100 / Double(udp.bytesSent)) : 0
                    }
                    return .publisherQuality(q)
                }
            }
            for (id, queue) in s.players.sorted(by: { $0.key < $1.key }) where s.playersByHandle.values.contains(where: { $0.streamID == id }) {
                let quietest = s.quietestLatency[id]
                report("play:" + id, id, queue.counters) { q in
                    var q = q
                    if let latency = q.latencyMs {
                        let floor = min(quietest ?? latency, latency)
                        q.queueMs = StreamCounters.round(max(0, latency - floor))
                    }
                    if let udp = s.udpPlays[id]?.driver.peerStatistics, udp.framesReceived > 0 || udp.packetsReceived > 0 {
                        q.transport = "udp"
                        q.framesGivenUp = udp.videoFramesGivenUp
                        q.freezes = udp.freezes
                        q.audioConcealed = udp.audioFramesConcealed
                        q.audioRecovered = udp.audioRecovered
                        let due = udp.audioFramesReceived + udp.audioFramesConcealed
                        if due > 0 { q.audioConcealedPercent = StreamCounters.round(Double(udp.audioFramesConcealed) * 100 / Double(due)) }
                    }
                    return .playerQuality(q)
                }
            }
            return reports
        }
        for r in reports { emit(r) }
    }
}
