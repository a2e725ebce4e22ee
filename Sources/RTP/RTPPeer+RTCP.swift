import NIOCore

// RTPPeer: RTCP in and out: reports, round trips, feedback into the estimator, the retransmission budget.
extension RTPPeer {
    // MARK: RTCP

    func handleRTCP(_ packets: [RTCPPacket], now: Int64, _ out: inout RTPPeerOutput) {
        var keyframeRequested = false
        for packet in packets {
            switch packet {
            case .senderReport(let report):
                if let i = receiveStreams.firstIndex(where: { $0.ssrc == report.ssrc }) {
                    receiveStreams[i].noteSenderReport(report, arrival: now)
                }
                handleReportBlocks(report.reportBlocks, now: now)
            case .receiverReport(let report):
                handleReportBlocks(report.reportBlocks, now: now)
            case .nack(let nack):
                statistics.nacksReceived += 1
                guard let i = sendStreams.firstIndex(where: { $0.track.ssrc == nack.mediaSSRC }) else { continue }
                for retransmission in sendStreams[i].answer(nack, now: now, rtt: rtt) {
                    guard retransmissionAllowed(retransmission.serializedSize, now: now) else {
                        statistics.retransmissionsSuppressed += 1
                        continue
                    }
                    enqueue(PacedPacket(packet: retransmission, retransmission: true), size: retransmission.serializedSize,
                            kind: .retransmission, now: now)
                }
                releasePaced(now: now, &out)
            case .pictureLossIndication, .fullIntraRequest:
                statistics.keyframeRequestsReceived += 1
                keyframeRequested = true
            case .unknown(let type, let format, _):
                if type == RTCPPacket.transportFeedbackType, format == TransportFeedback.format,
                   let feedback = try? TransportFeedback.parse(packet)
                {
                    let results = feedbackAdapter.onFeedback(feedback)
                    noteQueueDelay(results, now: now)
                    estimator.update(results, now: now)
                    reportTarget(&out)
                } else if let xr = try? RTCPExtendedReport.parse(packet) {
                    if let reference = xr.receiverReferenceTime { lastReceiverReference = (xr.ssrc, reference.middle32, now) }
                    for block in xr.dlrr where block.ssrc == localSSRC {
                        measureRTT(reference: block.lastReceiverReport, delay: block.delaySinceLastReceiverReport, now: now)
                    }
                }
            case .sourceDescription, .bye, .receiverEstimatedMaxBitrate:
                break
            }
        }
        if keyframeRequested { out.events.append(.keyframeRequested) }
    }

    func handleReportBlocks(_ blocks: [RTCPReportBlock], now: Int64) {
        for block in blocks where sendStreams.contains(where: { $0.track.ssrc == block.ssrc }) {
            measureRTT(reference: block.lastSenderReport, delay: block.delaySinceLastSenderReport, now: now)
            statistics.remoteLost = max(statistics.remoteLost, Int64(block.cumulativeLost))
            let fraction = Double(block.fractionLost) / 256
            remoteLossRate = remoteLossRate == 0 ? fraction : remoteLossRate * 0.5 + fraction * 0.5
            estimator.onLossReport(fractionLost: fraction, now: now)
        }
    }

    /// RFC 3550 section 6.4.1 (and RFC 3611 section 4.5): rtt = arrival - the report's send time - the
    /// remote's hold time; the send time is looked up by the NTP middle 32 bits the remote echoed.
    func measureRTT(reference: UInt32, delay: UInt32, now: Int64) {
        guard reference != 0, let sent = reportsSent.last(where: { $0.ntp == reference }) else { return }
        let measured = now - sent.at - NTPTimestamp.micros(compactDuration: delay)
        guard measured >= 0, measured < 10_000_000 else { return }
        let sample = max(measured, 500)
        rtt = statistics.roundTripTime == 0 ? sample : (rtt * 7 + sample) / 8
        statistics.roundTripTime = rtt
        estimator.onRoundTripTime(rtt)
    }

    func noteQueueDelay(_ results: [PacketResult], now: Int64) {
        let delays = results.compactMap { r in r.arrivalTime.map { $0 - r.sendTime } }.sorted()
        guard !delays.isEmpty else { return }
        if now - delayFloor.since > 30_000_000 { delayFloor = (nil, delayFloor.current, now) }
        delayFloor.current = min(delayFloor.current ?? delays[0], delays[0])
        let floor = [delayFloor.current, delayFloor.previous].compactMap { $0 }.min() ?? delays[0]
        statistics.queueDelay = max(0, delays[delays.count / 2] - floor)
        statistics.queueDelayMeasuredAt = now
        // The arrival rate: every byte but the first arrival's, over the span of the arrivals.
        let arrivals = results.compactMap { r in r.arrivalTime.map { (at: $0, size: r.size) } }.sorted { $0.at < $1.at }
        if arrivals.count >= 4, let first = arrivals.first, let last = arrivals.last, last.at - first.at >= 2_000 {
            let bytes = arrivals.dropFirst().reduce(0) { $0 + $1.size }
            statistics.arrivalRate = Int64(Double(bytes) * 8 / Double(last.at - first.at) * 1e6)
        }
        if let newest = results.last(where: { $0.arrivalTime != nil }), let arrival = newest.arrivalTime {
            statistics.queueReference = newest.sendTime + max(0, arrival - newest.sendTime - floor)
            statistics.bytesSentAtQueueReference = bytesAfterSequence[Int(newest.sequenceNumber & 4095)]
        }
        statistics.acknowledgedBitrate = estimator.acknowledgedBitrate ?? statistics.acknowledgedBitrate
    }

    func reportTarget(_ out: inout RTPPeerOutput) {
        let target = estimator.targetBitrate
        statistics.targetBitrate = target
        // Reported when it moved by 5 % or more: the encoder need not hear of every small step.
        guard lastReportedTarget == 0 || abs(target - lastReportedTarget) * 20 >= lastReportedTarget else { return }
        lastReportedTarget = target
        out.events.append(.targetBitrate(target))
    }

    /// The periodic compound: SR per sent stream (else an RR) with a block per received stream, SDES CNAME,
    /// and XR (RRTR when we receive, DLRR answering the remote's RRTR).
    func sendReports(now: Int64, _ out: inout RTPPeerOutput) {
        let interval = configuration.rtcpInterval
        nextRTCP = now + interval / 2 + Int64.random(in: 0...max(1, interval))
        let wall = configuration.wallClock()
        let ntp = NTPTimestamp(wallClockMicros: wall)
        var blocks: [RTCPReportBlock] = []
        for i in receiveStreams.indices { if let b = receiveStreams[i].reportBlock(now: now) { blocks.append(b) } }
        var packets: [RTCPPacket] = []
        var first = true
        for stream in sendStreams {
            guard let report = stream.senderReport(now: now, ntp: ntp, reportBlocks: first ? blocks : []) else { continue }
            packets.append(.senderReport(report))
            first = false
        }
        if packets.isEmpty { packets.append(.receiverReport(RTCPReceiverReport(ssrc: localSSRC, reportBlocks: blocks))) }
        if packets.contains(where: { if case .senderReport = $0 { return true }; return false }) || !receiveStreams.isEmpty {
            remember(ntp.middle32, at: now)
        }
        packets.append(.sourceDescription(RTCPSourceDescription(chunks: [
            .init(ssrc: localSSRC, items: [.init(type: RTCPSourceDescription.ItemType.cname, text: parameters.localICE.ufrag)])
        ])))
        var xr = RTCPExtendedReport(ssrc: localSSRC)
        if !receiveStreams.isEmpty { xr.receiverReferenceTime = ntp }
        if let reference = lastReceiverReference {
            xr.dlrr = [.init(ssrc: reference.ssrc, lastReceiverReport: reference.ntp,
                             delaySinceLastReceiverReport: NTPTimestamp.compactDuration(micros: now - reference.at))]
        }
        if xr.receiverReferenceTime != nil || !xr.dlrr.isEmpty { packets.append(xr.rtcpPacket) }
        estimator.process(now: now)
        if !sendStreams.isEmpty { reportTarget(&out) }
        sendRTCP(packets, &out)
    }

    /// Retransmissions may take at most half as many bytes as the media of the last second: past that a
    /// link loses because it is full, and every retransmission makes it fuller.
    func retransmissionAllowed(_ size: Int, now: Int64) -> Bool {
        rollRetransmitWindow(now: now)
        let media = max(retransmitWindow.media, retransmitWindow.lastMedia)
        guard retransmitWindow.resent + size <= max(media / 2, 20_000) else { return false }
        retransmitWindow.resent += size
        return true
    }

    func rollRetransmitWindow(now: Int64) {
        if now - retransmitWindow.start >= 1_000_000 {
            retransmitWindow = (now, 0, 0, retransmitWindow.media)
        }
    }


    func remember(_ ntp: UInt32, at now: Int64) {
        reportsSent.append((ntp, now))
        if reportsSent.count > 8 { reportsSent.removeFirst() }
    }

    func sendRTCP(_ packets: [RTCPPacket], _ out: inout RTPPeerOutput) {
        guard let srtp, let remoteAddress, !packets.isEmpty else { return }
        guard let protected = try? srtp.protectRTCP(RTCPPacket.compound(packets)) else {
            statistics.datagramsDropped += 1
            return
        }
        statistics.packetsSent += 1
        statistics.bytesSent += protected.readableBytes
        out.datagrams.append(RTPOutgoingDatagram(data: protected, destination: remoteAddress))
    }
}
