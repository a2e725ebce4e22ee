import Foundation
import NIOCore

/// Puts one `RTPPeer` on an event loop and a datagram channel: feeds it what arrives, performs what it
/// returns (datagrams written, frames and events handed on), and calls `tick` at its `nextDeadline` with
/// one timer. The thin NIO half of a peer; the logic is `RTPPeer`'s. The server's listener (one socket,
/// many drivers) and the client's socket (one socket, one driver) both use it.
///
/// Threads: `received(...)` and `start()` are called on `eventLoop` (the channel's); `send`,
/// `requestKeyframe` and `close` from anywhere (they hop to the loop). The callbacks run on the loop.
/// After `.failed` or `.closed` the driver stops its timer and ignores every further call; `onEvent`
/// sees exactly one of the two, last (a peer that ends without saying so gets one made from its state).
///
/// `@unchecked Sendable`: `peer`, `timer`, `timerDeadline`, `finished` and `lastDestination` belong to
/// `eventLoop` and are touched only on it; `counters` is under `lock`; the rest is immutable.
public final class RTPPeerDriver: @unchecked Sendable {
    /// What went through the driver, both ways (datagrams as the socket saw them).
    public struct Statistics: Sendable, Hashable {
        public var datagramsIn = 0
        public var bytesIn = 0
        public var datagramsOut = 0
        public var bytesOut = 0
        /// Datagrams the peer asked for to an address the socket cannot send to (not an IP address).
        public var unsendable = 0
        public init() {}
    }

    public let eventLoop: EventLoop
    private let channel: Channel
    private let onFrames: @Sendable ([RTPFrame]) -> Void
    private let onEvent: @Sendable (RTPPeerEvent) -> Void

    // The loop's.
    private let peer: RTPPeer
    private var timer: Scheduled<Void>?
    private var timerDeadline: Int64?
    private var finished = false
    /// The last destination and its socket address: media goes to one address, converted once.
    private var lastDestination: (TransportAddress, SocketAddress)?

    private let lock = NSLock()
    private var counters = Statistics()
    private var peerCounters = RTPPeer.Statistics()

    /// Creates the peer (on any thread; it is the loop's from here on). Nothing is sent before `start()`.
    public init(parameters: RTPPeerParameters, certificate: DTLSCertificate, configuration: RTPPeer.Configuration = .init(),
                channel: Channel, onFrames: @escaping @Sendable ([RTPFrame]) -> Void,
                onEvent: @escaping @Sendable (RTPPeerEvent) -> Void) throws {
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.onFrames = onFrames
        self.onEvent = onEvent
        var configuration = configuration
        configuration.applyExperiments(ProcessInfo.processInfo.environment)
        self.peer = try RTPPeer(parameters: parameters, certificate: certificate, configuration: configuration, now: Self.now())
    }

    /// Monotonic µs, the clock every call into the peer is given.
    public static func now() -> Int64 { Int64(NIODeadline.now().uptimeNanoseconds / 1000) }

    public var parameters: RTPPeerParameters { peer.parameters }

    public var statistics: Statistics { lock.withLock { counters } }

    /// The peer's own figures (retransmissions, losses repaired or given up, round trip), as of its last call.
    public var peerStatistics: RTPPeer.Statistics { lock.withLock { peerCounters } }

    /// Client: sends the first connectivity check. Server: arms the never-connected timeout. On the loop.
    public func start() {
        eventLoop.assertInEventLoop()
        guard !finished else { return }
        perform(peer.start(now: Self.now()))
    }

    /// A datagram for this peer (DTLS, SRTP, SRTCP; on the client also STUN responses). On the loop.
    public func received(datagram: ByteBuffer, from source: TransportAddress) {
        eventLoop.assertInEventLoop()
        countIn(datagram.readableBytes)
        guard !finished else { return }
        perform(peer.handle(datagram: datagram, from: source, now: Self.now()))
    }

    /// A STUN request the server's router parsed and found this peer's ufrag in. On the loop.
    public func received(stun: ReceivedSTUNMessage, from source: TransportAddress) {
        eventLoop.assertInEventLoop()
        countIn(stun.raw.readableBytes)
        guard !finished else { return }
        perform(peer.handle(stun: stun, from: source, now: Self.now()))
    }

    /// Sends one frame (the peer drops it before `.connected`). Any thread.
    public func send(_ frame: RTPFrame) {
        onLoop { $0.perform($0.peer.send(frame, now: Self.now())) }
    }

    /// Asks the remote for a keyframe of the video it sends. Any thread.
    public func requestKeyframe() {
        onLoop { $0.perform($0.peer.requestKeyframe(now: Self.now())) }
    }

    /// Sends DTLS close_notify and an RTCP BYE, then ends: `.closed` (unless the peer had failed). Any thread.
    public func close() {
        onLoop { driver in
            driver.perform(driver.peer.close(now: Self.now()))
            driver.finish(.closed)
        }
    }

    /// Ends with `.failed(reason)` without telling the remote (the driver's owner gave up on it, e.g. the
    /// server's port could not take the session). Any thread.
    public func abort(_ reason: String) {
        onLoop { $0.finish(.failed(reason)) }
    }

    private func onLoop(_ body: @escaping @Sendable (RTPPeerDriver) -> Void) {
        if eventLoop.inEventLoop {
            guard !finished else { return }
            body(self)
        } else {
            eventLoop.execute { [self] in
                guard !self.finished else { return }
                body(self)
            }
        }
    }

    private func countIn(_ bytes: Int) {
        lock.withLock {
            counters.datagramsIn += 1
            counters.bytesIn += bytes
        }
    }

    /// Does what one call into the peer returned, then re-arms the timer (or ends).
    private func perform(_ output: RTPPeerOutput) {
        let snapshot = peer.statistics
        lock.withLock { peerCounters = snapshot }
        if !output.datagrams.isEmpty { write(output.datagrams) }
        if !output.frames.isEmpty { onFrames(output.frames) }
        for event in output.events {
            switch event {
            case .failed, .closed:
                finish(event)
                return
            default:
                onEvent(event)
            }
        }
        switch peer.state {
        case .failed(let why): finish(.failed(why))
        case .closed: finish(.closed)
        default: rearm()
        }
    }

    private func write(_ datagrams: [RTPOutgoingDatagram]) {
        var packets = 0, bytes = 0, unsendable = 0
        for datagram in datagrams {
            guard let address = socketAddress(datagram.destination) else {
                unsendable += 1
                continue
            }
            packets += 1
            bytes += datagram.data.readableBytes
            channel.write(AddressedEnvelope(remoteAddress: address, data: datagram.data), promise: nil)
        }
        if packets > 0 { channel.flush() }
        lock.withLock {
            counters.datagramsOut += packets
            counters.bytesOut += bytes
            counters.unsendable += unsendable
        }
    }

    private func socketAddress(_ destination: TransportAddress) -> SocketAddress? {
        if let (last, address) = lastDestination, last == destination { return address }
        guard let address = try? destination.socketAddress() else { return nil }
        lastDestination = (destination, address)
        return address
    }

    /// One timer, at the peer's next deadline: kept when the deadline did not move, replaced when it did.
    private func rearm() {
        let deadline = peer.nextDeadline
        guard deadline != timerDeadline else { return }
        timer?.cancel()
        timer = nil
        timerDeadline = deadline
        guard let deadline else { return }
        let at = NIODeadline.uptimeNanoseconds(UInt64(max(0, deadline)) * 1000)
        timer = eventLoop.scheduleTask(deadline: at) { [weak self] in
            guard let self, !self.finished else { return }
            self.timer = nil
            self.timerDeadline = nil
            self.perform(self.peer.tick(now: Self.now()))
        }
    }

    /// The end: no timer, no more input, one terminal event.
    private func finish(_ event: RTPPeerEvent) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        onEvent(event)
    }
}
