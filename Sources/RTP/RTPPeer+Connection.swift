import NIOCore

// RTPPeer: ICE (the lite agent or the checker) and DTLS, up to the SRTP keys.
extension RTPPeer {
    // MARK: ICE

    func handleSTUN(_ received: ReceivedSTUNMessage, from source: TransportAddress, now: Int64, _ out: inout RTPPeerOutput) {
        if var agent = lite {
            let action = agent.handle(request: received, from: source, now: now)
            lite = agent
            switch action {
            case .respond(let response, let to):
                out.datagrams.append(RTPOutgoingDatagram(data: response, destination: to))
            case .respondAndSelect(let response, let to, let previous):
                out.datagrams.append(RTPOutgoingDatagram(data: response, destination: to))
                remoteAddress = to
                out.events.append(.selectedAddress(to, previous: previous))
                if state == .checking || state == .new { state = .connecting }
            case .ignore:
                break
            case .drop:
                statistics.datagramsDropped += 1
            }
        } else if var checker {
            let event = checker.handle(response: received, from: source, now: now)
            self.checker = checker
            switch event {
            case .connected:
                if let server = parameters.remoteAddress { out.events.append(.selectedAddress(server, previous: nil)) }
                state = .connecting
                apply(dtls.start(now: now), &out)
                pollChecker(now: now, &out)
            case .failed(let failure):
                fail("ICE: \(failure)", &out)
            case .consentRefreshed, .ignored:
                break
            }
        } else {
            statistics.datagramsDropped += 1
        }
    }

    func pollChecker(now: Int64, _ out: inout RTPPeerOutput) {
        guard var checker else { return }
        let action = checker.poll(now: now)
        self.checker = checker
        switch action {
        case .send(let request, let to, let next):
            out.datagrams.append(RTPOutgoingDatagram(data: request, destination: to))
            checkerDeadline = next
        case .wait(let until):
            checkerDeadline = until
        case .failed(let failure):
            checkerDeadline = nil
            switch failure {
            case .timeout: fail("no answer to ICE checks (UDP blocked?)", &out)
            case .errorResponse(let code): fail("the server refused the ICE check (STUN error \(code))", &out)
            case .consentLost: fail("ICE consent lost: the server stopped answering", &out)
            }
        }
    }

    // MARK: DTLS

    func apply(_ output: DTLSOutput, _ out: inout RTPPeerOutput) {
        for d in output.datagrams { emit(d, &out) }
        dtlsTimeout = output.timeout
        switch output.event {
        case .connected(let keys)?:
            do {
                srtp = try SRTPSession(keyingMaterial: keys)
                state = .connected
                out.events.append(.connected)
            } catch {
                fail("SRTP: \(error)", &out)
            }
        case .closed?:
            state = .closed
            out.events.append(.closed)
        case .failed(let error)?:
            fail("DTLS: \(error)", &out)
        case nil:
            break
        }
    }
}
