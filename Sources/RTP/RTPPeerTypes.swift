import NIOCore

// The values an `RTPPeer` is configured with and hands out: tracks, codecs, frames, events.


/// What a track carries.
public enum RTPMediaKind: String, Sendable, Hashable { case audio, video }

/// A codec on the wire, as SDP's rtpmap/fmtp name it.
public enum RTPCodec: Sendable, Hashable {
    /// H264/90000, packetization-mode=1 (RFC 6184).
    case h264
    /// opus/48000/2 (RFC 7587).
    case opus
    /// mpeg4-generic/<clockRate>/<channels>, AAC-hbr (RFC 3640); config = AudioSpecificConfig.
    case aac(clockRate: Int, channels: Int, audioSpecificConfig: [UInt8])

    public var kind: RTPMediaKind { if case .h264 = self { return .video }; return .audio }
    public var clockRate: Int {
        switch self { case .h264: return 90_000; case .opus: return 48_000; case .aac(let r, _, _): return r }
    }
}

/// One track a peer sends or receives.
public struct RTPTrack: Sendable, Hashable {
    public var codec: RTPCodec
    public var payloadType: UInt8
    /// The sender's SSRC (a receive track: 0 = take the first packet's with this payload type).
    public var ssrc: UInt32
    /// RTX (RFC 4588): its payload type (apt = payloadType) and SSRC; nil = no retransmission.
    public var rtxPayloadType: UInt8?
    public var rtxSSRC: UInt32?
    /// Audio: the RED payload type (RFC 2198, `red/<clock>/<channels>` with fmtp `<pt>/<pt>`) whose packets
    /// repeat the previous ones of `payloadType`; nil = no redundancy. A receiver takes both payload types;
    /// a sender uses RED only while the remote reports loss (`RTPPeer.Configuration.redundancyAbove`).
    public var redPayloadType: UInt8?
    public init(codec: RTPCodec, payloadType: UInt8, ssrc: UInt32, rtxPayloadType: UInt8? = nil, rtxSSRC: UInt32? = nil,
                redPayloadType: UInt8? = nil) {
        self.codec = codec; self.payloadType = payloadType; self.ssrc = ssrc
        self.rtxPayloadType = rtxPayloadType; self.rtxSSRC = rtxSSRC
        self.redPayloadType = codec.kind == .audio ? redPayloadType : nil
    }
}

/// Header extension ids (SDP a=extmap) the peer writes and reads; nil = not negotiated.
public struct RTPExtensionIDs: Sendable, Hashable {
    /// http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time
    public var absCaptureTime: UInt8?
    /// http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
    public var transportWideSequenceNumber: UInt8?
    /// urn:ietf:params:rtp-hdrext:sdes:mid
    public var mid: UInt8?
    /// urn:rtcbox:frame-timing — rtcbox peers only: the frame's exact pts/dts (µs) and rtcbox flags.
    public var frameTiming: UInt8?
    /// urn:ietf:params:rtp-hdrext:ssrc-audio-level (RFC 6464), on audio: the sound level of each frame.
    public var audioLevel: UInt8?
    /// http://www.webrtc.org/experiments/rtp-hdrext/playout-delay, on video: a browser offers it; rtcbox's own
    /// offers do not (its players keep their own buffers).
    public var playoutDelay: UInt8?
    public init(absCaptureTime: UInt8? = nil, transportWideSequenceNumber: UInt8? = nil, mid: UInt8? = nil, frameTiming: UInt8? = nil,
                audioLevel: UInt8? = nil, playoutDelay: UInt8? = nil) {
        self.absCaptureTime = absCaptureTime; self.transportWideSequenceNumber = transportWideSequenceNumber
        self.mid = mid; self.frameTiming = frameTiming; self.audioLevel = audioLevel; self.playoutDelay = playoutDelay
    }
    /// The ids rtcbox offers: 1 abs-capture-time, 2 transport-wide-cc, 3 mid, 4 frame-timing, 5 audio level.
    public static let rtcbox = RTPExtensionIDs(absCaptureTime: 1, transportWideSequenceNumber: 2, mid: 3, frameTiming: 4, audioLevel: 5)
    public static let frameTimingURI = "urn:rtcbox:frame-timing"
}

/// One media frame as a peer sends it or delivers it.
public struct RTPFrame: Sendable {
    public var kind: RTPMediaKind
    public var isKeyframe: Bool
    /// Presentation and decoding time, µs (the sender's media clock).
    public var pts: Int64
    public var dts: Int64
    /// Wall clock (µs since 1970) of capture; 0 when unknown.
    public var captureTime: Int64
    /// Opaque to RTP: rtcbox's media frame flags, carried by frame-timing.
    public var flags: UInt8
    /// Video: one Annex-B access unit. Audio: one raw AAC or Opus frame.
    public var payload: ByteBuffer
    /// Audio: its sound level, -dBov (RFC 6464's audio level extension, when negotiated).
    public var audioLevel: UInt8?
    public init(kind: RTPMediaKind, isKeyframe: Bool, pts: Int64, dts: Int64, captureTime: Int64, flags: UInt8 = 0, payload: ByteBuffer,
                audioLevel: UInt8? = nil) {
        self.kind = kind; self.isKeyframe = isKeyframe; self.pts = pts; self.dts = dts
        self.captureTime = captureTime; self.flags = flags; self.payload = payload; self.audioLevel = audioLevel
    }
}

/// What both ends agreed on (from the offer/answer).
public struct RTPPeerParameters: Sendable {
    public var role: RTPPeer.Role
    public var localICE: ICECredentials
    public var remoteICE: ICECredentials
    public var remoteFingerprint: DTLSFingerprint
    /// The client's: the server's candidate address (the server learns the client's from ICE).
    public var remoteAddress: TransportAddress?
    public var sendTracks: [RTPTrack]
    public var receiveTracks: [RTPTrack]
    public var extensions: RTPExtensionIDs
    public init(role: RTPPeer.Role, localICE: ICECredentials, remoteICE: ICECredentials, remoteFingerprint: DTLSFingerprint,
                remoteAddress: TransportAddress? = nil, sendTracks: [RTPTrack] = [], receiveTracks: [RTPTrack] = [],
                extensions: RTPExtensionIDs = .rtcbox) {
        self.role = role; self.localICE = localICE; self.remoteICE = remoteICE; self.remoteFingerprint = remoteFingerprint
        self.remoteAddress = remoteAddress; self.sendTracks = sendTracks; self.receiveTracks = receiveTracks; self.extensions = extensions
    }
}

/// A datagram to send.
public struct RTPOutgoingDatagram: Sendable {
    public var data: ByteBuffer
    public var destination: TransportAddress
    public init(data: ByteBuffer, destination: TransportAddress) { self.data = data; self.destination = destination }
}

public enum RTPPeerEvent: Sendable, Hashable {
    /// ICE selected (or moved) the remote address: the server binds it in its UDPSessionRouter.
    case selectedAddress(TransportAddress, previous: TransportAddress?)
    /// DTLS completed and SRTP is keyed: media flows.
    case connected
    /// The remote asked for a keyframe of the video this peer sends (PLI or FIR).
    case keyframeRequested
    /// Congestion control's estimate of what this peer may send, bits per second.
    case targetBitrate(Int64)
    /// The peer is dead (ICE timed out or consent lost, DTLS failed); nothing more will flow.
    case failed(String)
    /// Closed by either end.
    case closed
}

public struct RTPPeerOutput: Sendable {
    public var datagrams: [RTPOutgoingDatagram] = []
    /// Frames received, complete and in order, ready for the player or the fan-out.
    public var frames: [RTPFrame] = []
    public var events: [RTPPeerEvent] = []
    public init() {}
}

