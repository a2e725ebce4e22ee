import NIOCore

// RTPPeer: RTP in (the receive streams) and out (transport-wide sequence numbers, the pacer, duplicate retransmissions).
extension RTPPeer {
    // MARK: RTP

    func handleRTP(_ packet: RTPPacket, now: Int64, _ out: inout RTPPeerOutput) {
        let ids = parameters.extensions
        if let id = ids.transportWideSequenceNumber, feedbackBuilder != nil,
           let data = (try? packet.headerExtensionElement(id: id)) ?? nil,
           let sequence = try? TransportWideSequenceNumber.parse(data)
        {
            feedbackBuilder?.onPacket(sequenceNumber: sequence.value, arrivalTime: now, ssrc: packet.ssrc)
        }
        for i in receiveStreams.indices {
            if receiveStreams[i].isRetransmission(ssrc: packet.ssrc, payloadType: packet.payloadType) {
                guard let ssrc = receiveStreams[i].ssrc,
                      let original = try? RTXPacket.original(from: packet, originalSSRC: ssrc, originalPayloadType: receiveStreams[i].track.payloadType),
                      original.payload.readableBytes > 0   // padding-only RTX
                else { return }
                statistics.retransmissionsReceived += 1
                receiveStreams[i].insert(original, extensions: ids, retransmission: true, arrival: now)
                return
            }
            if receiveStreams[i].accepts(ssrc: packet.ssrc, payloadType: packet.payloadType) {
                guard receiveStreams[i].isMedia(payloadType: packet.payloadType) else { break }
                receiveStreams[i].insert(packet, extensions: ids, retransmission: false, arrival: now)
                return
            }
        }
        statistics.datagramsDropped += 1
    }

    func pollReceivers(now: Int64, _ out: inout RTPPeerOutput) {
        guard state == .connected else { return }
        var feedback: [RTCPPacket] = []
        for i in receiveStreams.indices {
            let result = receiveStreams[i].poll(now: now, rtt: rtt)
            out.frames.append(contentsOf: result.frames)
            statistics.framesReceived += result.frames.count
            guard let ssrc = receiveStreams[i].ssrc else { continue }
            if !result.nack.isEmpty {
                statistics.nacksSent += 1
                feedback.append(.nack(RTCPNack(senderSSRC: localSSRC, mediaSSRC: ssrc, lostSequenceNumbers: result.nack)))
            }
            if result.requestKeyframe {
                statistics.keyframeRequestsSent += 1
                feedback.append(.pictureLossIndication(RTCPPictureLossIndication(senderSSRC: localSSRC, mediaSSRC: ssrc)))
            }
        }
        statistics.videoFramesGivenUp = receiveStreams.reduce(0) { $0 + ($1.videoCounters?.framesGivenUp ?? 0) }
        statistics.freezes = receiveStreams.reduce(0) { $0 + ($1.videoCounters?.freezes ?? 0) }
        statistics.audioFramesConcealed = receiveStreams.reduce(0) { $0 + $1.audioFramesConcealed }
        statistics.audioFramesReceived = receiveStreams.reduce(0) { $0 + ($1.track.codec.kind == .audio ? $1.framesReceived : 0) }
        statistics.audioRecovered = receiveStreams.reduce(0) { $0 + $1.audioPacketsRecoveredByRED }
        if !feedback.isEmpty { sendRTCP(feedback, &out) }
    }

    /// Numbers, encrypts and sends one packet (a retransmission gets a new transport-wide number).
    func transmit(_ packet: RTPPacket, retransmission: Bool, now: Int64, _ out: inout RTPPeerOutput) {
        guard let srtp, let remoteAddress else { return }
        var packet = packet
        if let id = parameters.extensions.transportWideSequenceNumber {
            var elements = (try? packet.headerExtensionElements()) ?? []
            elements.removeAll { $0.id == id }
            elements.append(RTPHeaderExtensionElement(id: id, data: TransportWideSequenceNumber(transportSequence).data))
            packet.setHeaderExtensionElements(elements)
        }
        guard let protected = try? srtp.protectRTP(packet.serialized()) else {
            statistics.datagramsDropped += 1
            return
        }
        if parameters.extensions.transportWideSequenceNumber != nil {
            _ = feedbackAdapter.onPacketSent(sequenceNumber: transportSequence, size: protected.readableBytes, sendTime: now)
            statistics.transportBytesSent += Int64(protected.readableBytes)
            bytesAfterSequence[Int(transportSequence & 4095)] = statistics.transportBytesSent
            transportSequence &+= 1
        }
        statistics.packetsSent += 1
        statistics.bytesSent += protected.readableBytes
        let datagram = RTPOutgoingDatagram(data: protected, destination: remoteAddress)
        if retransmission {
            statistics.retransmissionsSent += 1
            statistics.retransmittedBytesSent += protected.readableBytes
            // A copy only for loss that is no queue's: with a queue on the path it would add to it.
            if remoteLossRate > configuration.duplicateRetransmissionsAbove, statistics.queueDelay < 20_000, duplicates.count < 1000 {
                duplicates.append((now + configuration.duplicateDelay, datagram))
            }
        }
        out.datagrams.append(datagram)
    }


    // MARK: Pacing

    func enqueue(_ packet: PacedPacket, size: Int, kind: Pacer<PacedPacket>.Kind, now: Int64) {
        if pacer.enqueue(packet, size: size, kind: kind, now: now) != nil { statistics.pacerDropped += 1 }
    }

    /// Sends what the pacer lets out now, at 2.5x the larger of the estimate and the media rate: the pacer
    /// smooths bursts; holding back a stream the estimate says does not fit is the caller's drop policy's
    /// (it sees `pacerQueueDelay` and `queueDelay`), not a queue growing here.
    func releasePaced(now: Int64, _ out: inout RTPPeerOutput) {
        rollRetransmitWindow(now: now)
        let mediaRate = Int64(max(retransmitWindow.media, retransmitWindow.lastMedia)) * 8
        pacer.setTargetBitrate(max(estimator.targetBitrate, mediaRate), now: now)
        let output = pacer.poll(now: now)
        statistics.pacerDropped += output.dropped.count
        for paced in output.send { transmit(paced.packet, retransmission: paced.retransmission, now: now, &out) }
        pacerWakeup = output.nextWakeup
        statistics.pacerQueueDelay = pacer.queueAge(now: now)
    }

    func sendDuplicates(now: Int64, _ out: inout RTPPeerOutput) {
        var sent = 0
        while sent < duplicates.count, duplicates[sent].at <= now {
            out.datagrams.append(duplicates[sent].datagram)
            statistics.duplicateRetransmissionsSent += 1
            statistics.packetsSent += 1
            statistics.bytesSent += duplicates[sent].datagram.data.readableBytes
            statistics.retransmittedBytesSent += duplicates[sent].datagram.data.readableBytes
            sent += 1
        }
        if sent > 0 { duplicates.removeFirst(sent) }
    }
}
