/// A 64-bit NTP timestamp (RFC 5905 section 6, UQ32.32 seconds since 1900-01-01), as RTCP sender reports
/// (RFC 3550 section 6.4.1) and abs-capture-time carry it, with conversions to and from wall-clock
/// microseconds since the Unix epoch. Seconds wrap in 2036; reading follows RFC 4330 section 3: a value
/// with the top bit clear is in era 1 (2036-2104), so the round trip holds from 1968 to 2104.
public struct NTPTimestamp: Sendable, Hashable {
    /// Seconds between 1900-01-01 and 1970-01-01.
    public static let unixEpochOffsetSeconds: Int64 = 2_208_988_800

    /// The 64-bit value: seconds in the high 32 bits, the fraction in the low 32 bits.
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(seconds: UInt32, fraction: UInt32) {
        rawValue = UInt64(seconds) << 32 | UInt64(fraction)
    }

    /// The NTP time of `wallClockMicros` (microseconds since 1970-01-01 UTC), rounded to the nearest
    /// fraction unit.
    public init(wallClockMicros: Int64) {
        let ntpMicros = wallClockMicros &+ Self.unixEpochOffsetSeconds &* 1_000_000
        var seconds = ntpMicros / 1_000_000
        var remainder = ntpMicros % 1_000_000
        if remainder < 0 {
            seconds -= 1
            remainder += 1_000_000
        }
        let fraction = (UInt64(remainder) << 32 + 500_000) / 1_000_000
        self.init(seconds: UInt32(truncatingIfNeeded: seconds), fraction: UInt32(truncatingIfNeeded: fraction))
    }

    public var seconds: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }
    public var fraction: UInt32 { UInt32(truncatingIfNeeded: rawValue) }

    /// Microseconds since 1970-01-01 UTC (era rule above), rounded to the nearest microsecond.
    public var wallClockMicros: Int64 {
        var seconds = Int64(self.seconds)
        if seconds & 0x8000_0000 == 0 { seconds += 1 << 32 }
        let micros = (UInt64(fraction) * 1_000_000 + (1 << 31)) >> 32
        return (seconds - Self.unixEpochOffsetSeconds) * 1_000_000 + Int64(micros)
    }

    /// The middle 32 bits (16.16 seconds), the "compact" NTP time of RTCP's LSR field (RFC 3550 6.4.1).
    public var middle32: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 16) }

    /// A duration in compact NTP units (1/65536 s), as DLSR (RFC 3550 6.4.1); negative is 0, too long
    /// saturates.
    public static func compactDuration(micros: Int64) -> UInt32 {
        guard micros > 0 else { return 0 }
        let longest = Int64(UInt32.max) * 1_000_000 / 65536
        guard micros < longest else { return .max }
        return UInt32((micros * 65536 + 500_000) / 1_000_000)
    }

    /// Microseconds in a compact NTP duration (1/65536 s), for round trips: now.middle32 - LSR - DLSR.
    public static func micros(compactDuration: UInt32) -> Int64 {
        (Int64(compactDuration) * 1_000_000 + 32768) >> 16
    }
}
