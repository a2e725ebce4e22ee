import NIOCore

/// The binary header of a media frame:
/// `u32 stream handle | u8 track | u8 flags | i64 pts µs | i64 dts µs | u64 capture wall clock µs`, then,
/// when the `soundLevel` flag is set, `u8 sound level` (-dBov, RFC 6464's audio level: 0 loudest, 127 silence).
public struct MediaFrameHeader: Sendable, Equatable {
    /// The fixed part; `encodedSize` is the whole header.
    public static let size = 30

    public struct Flags: OptionSet, Sendable, Equatable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let keyframe = Flags(rawValue: 1 << 0)
        /// The publisher restarted or dropped frames before this one: timestamps may jump.
        public static let discontinuity = Flags(rawValue: 1 << 1)
        /// Copy mode: the publisher put the leading SPS/PPS in front of this keyframe (the source packet did
        /// not have them, its container kept them aside). Removing them gives the source's bytes back.
        public static let parameterSetsAdded = Flags(rawValue: 1 << 2)
        /// One more byte follows the fixed header: the sound level of the captured audio (`soundLevel`).
        /// Set and cleared by `write` and `read` from `soundLevel`, never by hand.
        public static let soundLevel = Flags(rawValue: 1 << 3)
        /// Video of the stream's small layer (`TrackInfo.layers`); the big layer's frames have it clear.
        public static let smallLayer = Flags(rawValue: 1 << 4)
    }

    public var streamHandle: UInt32
    public var track: TrackKind
    public var flags: Flags
    public var pts: Int64
    public var dts: Int64
    /// Wall clock (µs since 1970) when the publisher captured the frame: players compute latency from it.
    public var captureTime: UInt64
    /// The publisher's measure of what it captures, -dBov (0 loudest ... 127 silence; `SoundLevel`), on audio
    /// frames of publishers that measure it: what `login --sound-levels` reports without decoding anything.
    public var soundLevel: UInt8?

    public init(streamHandle: UInt32, track: TrackKind, flags: Flags, pts: Int64, dts: Int64, captureTime: UInt64,
                soundLevel: UInt8? = nil) {
        self.streamHandle = streamHandle
        self.track = track
        self.flags = flags.subtracting(.soundLevel)
        self.pts = pts
        self.dts = dts
        self.captureTime = captureTime
        self.soundLevel = soundLevel.map { min($0, SoundLevel.silence) }
    }

    public var isKeyframe: Bool { flags.contains(.keyframe) }

    /// The bytes `write` writes: the fixed part, and the sound level when there is one.
    public var encodedSize: Int { Self.size + (soundLevel == nil ? 0 : 1) }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(streamHandle)
        buffer.writeInteger(track.rawValue)
        buffer.writeInteger(flags.union(soundLevel == nil ? [] : .soundLevel).rawValue)
        buffer.writeInteger(pts)
        buffer.writeInteger(dts)
        buffer.writeInteger(captureTime)
        if let soundLevel { buffer.writeInteger(min(soundLevel, SoundLevel.silence)) }
    }

    /// Reads the header off the front of a media frame payload, leaving the codec payload readable.
    public static func read(from buffer: inout ByteBuffer) throws -> MediaFrameHeader {
        guard buffer.readableBytes >= size else {
            throw RoomProtocolError.malformedMedia("\(buffer.readableBytes) bytes, shorter than the \(size)-byte header")
        }
        // The length check above makes each read succeed; the fallbacks are never taken.
        let handle = buffer.readInteger(as: UInt32.self) ?? 0
        let trackByte = buffer.readInteger(as: UInt8.self) ?? 0
        let flags = buffer.readInteger(as: UInt8.self) ?? 0
        let pts = buffer.readInteger(as: Int64.self) ?? 0
        let dts = buffer.readInteger(as: Int64.self) ?? 0
        let capture = buffer.readInteger(as: UInt64.self) ?? 0
        guard let track = TrackKind(rawValue: trackByte) else {
            throw RoomProtocolError.malformedMedia("unknown track \(trackByte)")
        }
        var level: UInt8?
        if Flags(rawValue: flags).contains(.soundLevel) {
            guard let byte = buffer.readInteger(as: UInt8.self) else {
                throw RoomProtocolError.malformedMedia("the sound level flag is set and the frame ends before its byte")
            }
            guard byte <= SoundLevel.silence else {
                throw RoomProtocolError.malformedMedia("sound level \(byte) is above \(SoundLevel.silence) (-dBov)")
            }
            level = byte
        }
        return MediaFrameHeader(streamHandle: handle, track: track, flags: Flags(rawValue: flags),
                                pts: pts, dts: dts, captureTime: capture, soundLevel: level)
    }

    /// Reads the stream handle of a media frame payload without consuming it.
    public static func peekStreamHandle(_ payload: ByteBuffer) -> UInt32? {
        payload.getInteger(at: payload.readerIndex, as: UInt32.self)
    }
}

/// A whole media frame: header plus codec payload.
public struct MediaFrame: Sendable, Equatable {
    public var header: MediaFrameHeader
    public var payload: ByteBuffer

    public init(header: MediaFrameHeader, payload: ByteBuffer) {
        self.header = header
        self.payload = payload
    }

    /// Writes the frame (length, type, header, payload) to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeFrame(.media) { body in
            header.write(to: &body)
            var copy = payload
            body.writeBuffer(&copy)
        }
    }

    public static func decode(payload: ByteBuffer) throws -> MediaFrame {
        var p = payload
        let header = try MediaFrameHeader.read(from: &p)
        return MediaFrame(header: header, payload: p)
    }
}
