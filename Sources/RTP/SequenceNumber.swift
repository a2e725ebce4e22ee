/// Wrap-aware comparison of RTP's modular counters: 16-bit sequence numbers (RFC 3550 section 5.1) and
/// 32-bit timestamps. "Newer" means ahead by less than half the range; at exactly half the range the
/// larger raw value counts as newer, as libwebrtc's `AheadOf` does, so the relation is antisymmetric.
public enum RTPSequence {
    /// `a` is ahead of `b` (wrap-aware).
    @inlinable
    public static func isNewer<T: FixedWidthInteger & UnsignedInteger>(_ a: T, than b: T) -> Bool {
        let half = T(1) << (T.bitWidth - 1)
        let forward = a &- b
        if forward == half { return a > b }
        return forward != 0 && forward < half
    }

    /// The shortest signed distance from `b` to `a` (positive when `a` is newer), in
    /// `-2^(n-1) ... 2^(n-1)`; at exactly half the range the sign follows `isNewer`.
    @inlinable
    public static func difference<T: FixedWidthInteger & UnsignedInteger>(_ a: T, _ b: T) -> Int64 {
        let half = T(1) << (T.bitWidth - 1)
        if isNewer(a, than: b) {
            return Int64(a &- b)
        } else {
            let backward = b &- a
            return backward == half ? -Int64(half) : -Int64(backward)
        }
    }
}

/// Turns a wrapping 16- or 32-bit counter (RTP sequence numbers, RTP timestamps) into a monotonic `Int64`,
/// as libwebrtc's `SeqNumUnwrapper`: each value is placed at the shortest wrap-aware distance from the
/// previous one, so reordering within half the range unwraps correctly and going back is allowed (the
/// result may be below the first value, even negative). A pure value type: the caller owns one per stream.
public struct RTPUnwrapper<Counter: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable, Hashable {
    /// The last unwrapped value, nil before the first `unwrap`.
    public private(set) var last: Int64?

    public init() {}

    /// What `unwrap` would return, without moving the reference point.
    public func peek(_ value: Counter) -> Int64 {
        guard let last else { return Int64(value) }
        let lastRaw = Counter(truncatingIfNeeded: last)
        return last &+ RTPSequence.difference(value, lastRaw)
    }

    /// Unwraps `value` and makes it the reference point for the next one.
    public mutating func unwrap(_ value: Counter) -> Int64 {
        let result = peek(value)
        last = result
        return result
    }

    /// Forgets the reference point (for example on an SSRC change).
    public mutating func reset() { last = nil }
}

/// Unwraps 16-bit RTP sequence numbers.
public typealias RTPSequenceNumberUnwrapper = RTPUnwrapper<UInt16>
/// Unwraps 32-bit RTP timestamps.
public typealias RTPTimestampUnwrapper = RTPUnwrapper<UInt32>
