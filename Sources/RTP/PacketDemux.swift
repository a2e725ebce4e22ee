import NIOCore

/// What a datagram on the shared UDP port is, from its first bytes: RFC 7983 section 7 (STUN 0-3, DTLS
/// 20-63, RTP/RTCP 128-191) and RFC 5761 section 4 (with rtcp-mux, RTCP when the second byte, marker and
/// payload type together, is 192-223: SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR...).
public enum DatagramKind: Sendable, Hashable {
    case stun
    case dtls
    case rtp
    case rtcp
    /// ZRTP (16-19), TURN channels (64-79) and anything else: dropped and counted by the caller.
    case unknown
}

/// Classifies datagrams for the BUNDLE/rtcp-mux port (see `DatagramKind`). Pure: it looks at two bytes.
public enum PacketDemux {
    public static func classify(_ datagram: ByteBuffer) -> DatagramKind {
        guard let first = datagram.getInteger(at: datagram.readerIndex, as: UInt8.self) else { return .unknown }
        return classify(firstByte: first, secondByte: datagram.getInteger(at: datagram.readerIndex + 1, as: UInt8.self))
    }

    public static func classify(firstByte: UInt8, secondByte: UInt8?) -> DatagramKind {
        switch firstByte {
        case 0...3: return .stun
        case 20...63: return .dtls
        case 128...191:
            guard let secondByte else { return .unknown }
            return (192...223).contains(secondByte) ? .rtcp : .rtp
        default: return .unknown
        }
    }
}
