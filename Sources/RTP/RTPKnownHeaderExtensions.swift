import NIOCore

/// The `a=extmap` URIs of the header extensions rtcbox reads and writes (RFC 8285 section 5).
public enum RTPHeaderExtensionURI {
    /// Capture time of the first sample, end to end: http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time
    public static let absCaptureTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"
    /// The 16-bit transport-wide sequence number of transport-cc (draft-holmer-rmcat-transport-wide-cc-extensions-01).
    public static let transportWideSequenceNumber =
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
    /// The BUNDLE media identification (RFC 8843 section 15.1).
    public static let sdesMid = "urn:ietf:params:rtp-hdrext:sdes:mid"
    /// The client-to-mixer audio level (RFC 6464): audio m-lines only.
    public static let audioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
    /// The sender's bounds on the receiver's playout delay: http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
    public static let playoutDelay = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
}

/// The playout-delay extension (WebRTC's experiments/rtp-hdrext/playout-delay): 12 bits of minimum and 12 of
/// maximum delay, in 10 ms units, that the receiver's jitter buffer and renderer should keep to. A maximum of 0
/// asks for frames to be shown as soon as they are decoded (Chromium then skips its render smoothing).
public struct PlayoutDelayExtension: Sendable, Hashable {
    /// In 10 ms units, 0...4095.
    public var minimum: UInt16
    public var maximum: UInt16

    public init(minimumMs: Int, maximumMs: Int) {
        minimum = UInt16(clamping: min(4095, max(0, minimumMs / 10)))
        maximum = max(minimum, UInt16(clamping: min(4095, max(0, maximumMs / 10))))
    }

    public static func parse(_ data: ByteBuffer) throws(RTPParseError) -> PlayoutDelayExtension {
        guard data.readableBytes >= 3, let bytes = data.getBytes(at: data.readerIndex, length: 3) else {
            throw .invalidExtensionLength(uri: RTPHeaderExtensionURI.playoutDelay, length: data.readableBytes)
        }
        let minimum = UInt16(bytes[0]) << 4 | UInt16(bytes[1]) >> 4
        let maximum = UInt16(bytes[1] & 0x0F) << 8 | UInt16(bytes[2])
        return PlayoutDelayExtension(minimumMs: Int(minimum) * 10, maximumMs: Int(maximum) * 10)
    }

    public var data: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeBytes([UInt8(minimum >> 4), UInt8((minimum & 0x0F) << 4 | maximum >> 8), UInt8(maximum & 0xFF)])
        return buffer
    }
}

/// The client-to-mixer audio level (RFC 6464 section 3): one byte, the voice activity bit and the level of the
/// packet's audio in -dBov (0 loudest, 127 silence). rtcbox's media frames carry the same level.
public struct AudioLevelExtension: Sendable, Hashable {
    public var voiceActivity: Bool
    public var level: UInt8

    public init(voiceActivity: Bool = false, level: UInt8) {
        self.voiceActivity = voiceActivity
        self.level = min(level, 127)
    }

    /// One byte (RFC 6464 allows padding in the two-byte form: the first byte counts).
    public static func parse(_ data: ByteBuffer) throws(RTPParseError) -> AudioLevelExtension {
        guard let byte = data.getInteger(at: data.readerIndex, as: UInt8.self) else {
            throw .invalidExtensionLength(uri: RTPHeaderExtensionURI.audioLevel, length: data.readableBytes)
        }
        return AudioLevelExtension(voiceActivity: byte & 0x80 != 0, level: byte & 0x7F)
    }

    public var data: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger((voiceActivity ? 0x80 : 0) | level)
        return buffer
    }
}

/// The abs-capture-time extension (WebRTC's experiments/rtp-hdrext/abs-capture-time): the NTP time
/// (UQ32.32) when the first sample of the frame was captured, on the capturer's clock, and optionally the
/// capturer's estimated offset to the sender's clock (Q32.32 signed seconds). 8 or 16 bytes.
public struct AbsCaptureTime: Sendable, Hashable {
    public var captureTimestamp: NTPTimestamp
    /// Q32.32 signed seconds, the sender's estimate of (sender clock - capturer clock).
    public var estimatedCaptureClockOffset: Int64?

    public init(captureTimestamp: NTPTimestamp, estimatedCaptureClockOffset: Int64? = nil) {
        self.captureTimestamp = captureTimestamp
        self.estimatedCaptureClockOffset = estimatedCaptureClockOffset
    }

    /// Capture at `wallClockMicros` (microseconds since 1970), offset in microseconds.
    public init(wallClockMicros: Int64, estimatedCaptureClockOffsetMicros: Int64? = nil) {
        self.init(
            captureTimestamp: NTPTimestamp(wallClockMicros: wallClockMicros),
            estimatedCaptureClockOffset: estimatedCaptureClockOffsetMicros.map(Self.q32(micros:)))
    }

    /// The capture time in microseconds since 1970.
    public var wallClockMicros: Int64 { captureTimestamp.wallClockMicros }

    /// The clock offset in microseconds.
    public var estimatedCaptureClockOffsetMicros: Int64? { estimatedCaptureClockOffset.map(Self.micros(q32:)) }

    public static func parse(_ data: ByteBuffer) throws(RTPParseError) -> AbsCaptureTime {
        let base = data.readerIndex
        guard data.readableBytes == 8 || data.readableBytes == 16,
            let timestamp = data.getInteger(at: base, as: UInt64.self)
        else { throw .invalidExtensionLength(uri: RTPHeaderExtensionURI.absCaptureTime, length: data.readableBytes) }
        return AbsCaptureTime(
            captureTimestamp: NTPTimestamp(rawValue: timestamp),
            estimatedCaptureClockOffset: data.getInteger(at: base + 8, as: Int64.self))
    }

    /// The element's bytes: 8, or 16 with the offset.
    public var data: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(captureTimestamp.rawValue)
        if let estimatedCaptureClockOffset { buffer.writeInteger(estimatedCaptureClockOffset) }
        return buffer
    }

    static func q32(micros: Int64) -> Int64 {
        let clamped = max(min(micros, Int64(Int32.max) * 1_000_000), Int64(Int32.min) * 1_000_000)
        let seconds = clamped / 1_000_000
        var remainder = clamped % 1_000_000
        var whole = seconds
        if remainder < 0 {
            whole -= 1
            remainder += 1_000_000
        }
        return whole << 32 + (remainder << 32 + 500_000) / 1_000_000
    }

    static func micros(q32: Int64) -> Int64 {
        let seconds = q32 >> 32
        let fraction = q32 & 0xFFFF_FFFF
        return seconds * 1_000_000 + (fraction * 1_000_000 + (1 << 31)) >> 32
    }
}

/// The transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 section 2):
/// 16 bits, big-endian, counting every packet of the transport that carries it.
public struct TransportWideSequenceNumber: Sendable, Hashable {
    public var value: UInt16

    public init(_ value: UInt16) { self.value = value }

    public static func parse(_ data: ByteBuffer) throws(RTPParseError) -> TransportWideSequenceNumber {
        guard data.readableBytes == 2, let value = data.getInteger(at: data.readerIndex, as: UInt16.self) else {
            throw .invalidExtensionLength(
                uri: RTPHeaderExtensionURI.transportWideSequenceNumber, length: data.readableBytes)
        }
        return TransportWideSequenceNumber(value)
    }

    public var data: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(value)
        return buffer
    }
}

/// The SDES MID header extension (RFC 8843 section 15.1, RFC 7941): the media identification of BUNDLE as
/// text, 1 to 255 bytes (1 to 16 in the one-byte form).
public struct RTPMid: Sendable, Hashable {
    public var value: String

    public init(_ value: String) { self.value = value }

    public static func parse(_ data: ByteBuffer) throws(RTPParseError) -> RTPMid {
        guard data.readableBytes >= 1 else {
            throw .invalidExtensionLength(uri: RTPHeaderExtensionURI.sdesMid, length: 0)
        }
        return RTPMid(String(decoding: data.readableBytesView, as: UTF8.self))
    }

    /// The UTF-8 bytes, cut at 255.
    public var data: ByteBuffer { ByteBuffer(bytes: value.utf8.prefix(255)) }
}
