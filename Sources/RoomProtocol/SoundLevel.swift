import Foundation

/// Sound levels: how loud what a publisher captures is. On the wire -dBov as RFC 6464's audio level has it
/// (0 the loudest, a full-scale sine; 127 digital silence), one byte with each audio frame; to users 0-100,
/// as the SDK's sound level: 100 at 0 dBov, falling 100/60 a dB to 0 at 60 dB below full scale and quieter.
public enum SoundLevel {
    /// The -dBov of digital silence (RFC 6464's lowest level).
    public static let silence: UInt8 = 127
    /// The range the 0-100 scale spans, in dB.
    public static let percentRangeDB = 60.0

    /// -dBov of samples whose mean square (of samples in -1...1) is `meanSquare`. A full-scale sine has mean
    /// square 1/2 and is 0 dBov (ITU-T G.100.1's overload point, AES17's 0 dBFS); silence is 127.
    public static func dBov(meanSquare: Double) -> UInt8 {
        guard meanSquare.isFinite, meanSquare > 0 else { return silence }
        let db = -10 * log10(meanSquare * 2)
        guard db.isFinite else { return silence }
        return UInt8(max(0, min(Double(silence), db.rounded())))
    }

    /// The 0-100 level of a -dBov value (one decimal).
    public static func percent(dBov: UInt8) -> Double {
        let p = 100 * (1 - Double(dBov) / percentRangeDB)
        return (max(0, min(100, p)) * 10).rounded() / 10
    }
}

/// room_sound_level_update: the sound levels of streams of the room, 0-100 (`SoundLevel.percent`), to logins
/// that asked (`sound_levels`): when a stream's level changes (the publisher measures every 100 ms by default),
/// and for every stream that has one, right after such a login's answer. Never to the stream's publisher.
public struct RoomSoundLevelUpdate: Codable, Sendable, Equatable {
    public struct Level: Codable, Sendable, Equatable {
        public var streamID: String
        public var level: Double

        public init(streamID: String, level: Double) {
            self.streamID = streamID
            self.level = level
        }

        enum CodingKeys: String, CodingKey {
            case level
            case streamID = "stream_id"
        }
    }

    public var roomID: String
    public var levels: [Level]

    public init(roomID: String, levels: [Level]) {
        self.roomID = roomID
        self.levels = levels
    }

    enum CodingKeys: String, CodingKey {
        case levels
        case roomID = "room_id"
    }
}
