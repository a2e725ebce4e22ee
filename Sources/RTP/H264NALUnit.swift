import NIOCore

/// H.264 NAL unit types (ITU-T H.264 table 7-1) and the RTP aggregation/fragmentation types of
/// RFC 6184 section 5.4 that packetization mode 1 uses.
public enum H264NALUnitType {
    public static let nonIDRSlice: UInt8 = 1
    public static let idrSlice: UInt8 = 5
    public static let sei: UInt8 = 6
    public static let sps: UInt8 = 7
    public static let pps: UInt8 = 8
    public static let accessUnitDelimiter: UInt8 = 9
    public static let filler: UInt8 = 12
    /// Single-time aggregation packet A (RFC 6184 5.7.1).
    public static let stapA: UInt8 = 24
    /// Fragmentation unit A (RFC 6184 5.8).
    public static let fuA: UInt8 = 28

    /// The type in a NAL unit's (or RTP payload's) first byte.
    @inlinable
    public static func of(_ headerByte: UInt8) -> UInt8 { headerByte & 0x1F }
}

/// The Annex-B byte stream (ITU-T H.264 Annex B): NAL units behind 3- or 4-byte start codes, as
/// rtcbox's encoder writes an access unit.
public enum H264AnnexB {
    public static let startCode: [UInt8] = [0, 0, 0, 1]

    /// The NAL units of `stream`, as slices (no copy): split at every 00 00 01, with the zero bytes before
    /// a start code (the 4-byte form's first byte, trailing_zero_8bits) removed. Bytes before the first
    /// start code and empty units are skipped.
    public static func split(_ stream: ByteBuffer) -> [ByteBuffer] {
        var starts: [Int] = []
        stream.withUnsafeReadableBytes { bytes in
            var index = 0
            while index + 2 < bytes.count {
                if bytes[index + 2] > 1 {
                    index += 3
                } else if bytes[index] == 0, bytes[index + 1] == 0, bytes[index + 2] == 1 {
                    starts.append(index + 3)
                    index += 3
                } else {
                    index += 1
                }
            }
        }
        var units: [ByteBuffer] = []
        units.reserveCapacity(starts.count)
        for (position, start) in starts.enumerated() {
            var end = position + 1 < starts.count ? starts[position + 1] - 3 : stream.readableBytes
            while end > start, stream.getInteger(at: stream.readerIndex + end - 1, as: UInt8.self) == 0 { end -= 1 }
            if end > start, let unit = stream.getSlice(at: stream.readerIndex + start, length: end - start) {
                units.append(unit)
            }
        }
        return units
    }

    /// Appends `units`, each behind a 4-byte start code.
    public static func write(_ units: [ByteBuffer], into buffer: inout ByteBuffer) {
        for unit in units {
            buffer.writeBytes(startCode)
            buffer.writeImmutableBuffer(unit)
        }
    }
}
