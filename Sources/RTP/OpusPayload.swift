import NIOCore

/// The TOC byte that starts every Opus packet (RFC 6716 section 3.1): configuration (mode, bandwidth,
/// frame duration), stereo flag, and the frame count code.
public struct OpusTOC: Sendable, Hashable {
    public enum Mode: Sendable, Hashable { case silk, hybrid, celt }

    public var byte: UInt8

    public init(_ byte: UInt8) { self.byte = byte }

    /// 0-31, table 2 of RFC 6716.
    public var configuration: UInt8 { byte >> 3 }
    public var isStereo: Bool { byte & 0x04 != 0 }
    /// 0: one frame, 1: two equal frames, 2: two frames of different sizes, 3: a count byte follows.
    public var frameCountCode: UInt8 { byte & 0x03 }

    public var mode: Mode {
        switch configuration {
        case 0...11: .silk
        case 12...15: .hybrid
        default: .celt
        }
    }

    /// The duration of each frame: 10/20/40/60 ms for SILK, 10/20 ms hybrid, 2.5/5/10/20 ms CELT.
    public var frameDurationMicros: Int {
        let configuration = Int(self.configuration)
        switch configuration {
        case 0...11: return [10_000, 20_000, 40_000, 60_000][configuration % 4]
        case 12...15: return [10_000, 20_000][configuration % 2]
        default: return [2_500, 5_000, 10_000, 20_000][configuration % 4]
        }
    }
}

/// RFC 7587: an RTP payload is exactly one Opus packet; the RTP clock is always 48 kHz whatever the
/// encoder's internal rate (section 4.1), the timestamp advancing by the packet's duration in 48 kHz
/// samples; `a=rtpmap:<pt> opus/48000/2` (section 7).
public enum OpusPayload {
    public static let clockRate: UInt32 = 48000

    /// RTP timestamp units in a duration: 48 per millisecond (a 20 ms packet is 960).
    public static func timestampIncrement(micros: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: max(0, micros) * 48 / 1000)
    }

    /// The frames in a packet (RFC 6716 3.2), nil when malformed: empty, a code 3 packet without its
    /// count byte or with a count of 0, or more than 120 ms of audio (R5).
    public static func frameCount(_ packet: ByteBuffer) -> Int? {
        guard let toc = packet.getInteger(at: packet.readerIndex, as: UInt8.self) else { return nil }
        let count: Int
        switch OpusTOC(toc).frameCountCode {
        case 0: count = 1
        case 1, 2: count = 2
        default:
            guard let countByte = packet.getInteger(at: packet.readerIndex + 1, as: UInt8.self) else { return nil }
            count = Int(countByte & 0x3F)
        }
        guard count > 0, count * OpusTOC(toc).frameDurationMicros <= 120_000 else { return nil }
        return count
    }

    /// The packet's duration in microseconds (what a receiver uses to tell 10/20/40/60 ms packets).
    public static func durationMicros(_ packet: ByteBuffer) -> Int? {
        guard let count = frameCount(packet), let toc = packet.getInteger(at: packet.readerIndex, as: UInt8.self)
        else { return nil }
        return count * OpusTOC(toc).frameDurationMicros
    }

    /// The packet's duration in 48 kHz samples: the RTP timestamp step to the next packet.
    public static func samples(_ packet: ByteBuffer) -> Int? {
        durationMicros(packet).map { $0 * 48 / 1000 }
    }
}
