/// H.264 in the length-prefixed form MP4, Matroska, FLV and NUT carry (AVCC), and its avcC record.
public enum H264AVCC {
    /// Whether codec extradata is an avcC record (version 1) rather than Annex-B parameter sets.
    public static func isAVCC(extradata: [UInt8]) -> Bool {
        extradata.count >= 7 && extradata[0] == 1
    }

    /// The NAL length size an avcC record declares (1, 2 or 4).
    public static func lengthSize(avcC: [UInt8]) -> Int {
        avcC.count >= 5 ? Int(avcC[4] & 0x03) + 1 : 4
    }

    /// The NAL units of an AVCC access unit; nil when the lengths do not add up.
    public static func nalUnits(_ bytes: [UInt8], lengthSize: Int = 4) -> [ArraySlice<UInt8>]? {
        var units: [ArraySlice<UInt8>] = []
        var i = 0
        while i < bytes.count {
            guard i + lengthSize <= bytes.count else { return nil }
            var length = 0
            for k in 0..<lengthSize { length = length << 8 | Int(bytes[i + k]) }
            i += lengthSize
            guard length > 0, i + length <= bytes.count else { return nil }
            units.append(bytes[i..<(i + length)])
            i += length
        }
        return units
    }

    /// Annex-B units → 4-byte length-prefixed AVCC.
    public static func fromUnits(_ units: [ArraySlice<UInt8>]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(units.reduce(0) { $0 + $1.count + 4 })
        for unit in units {
            let n = UInt32(unit.count)
            out += [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
            out += unit
        }
        return out
    }

    /// An avcC record (4-byte lengths) for these SPS and PPS units; nil without an SPS of at least 4 bytes.
    public static func record(sps: [ArraySlice<UInt8>], pps: [ArraySlice<UInt8>]) -> [UInt8]? {
        guard let first = sps.first, first.count >= 4 else { return nil }
        let s = Array(first)
        var out: [UInt8] = [1, s[1], s[2], s[3], 0xFF, 0xE0 | UInt8(min(sps.count, 31))]
        for unit in sps.prefix(31) {
            out += [UInt8(unit.count >> 8 & 0xff), UInt8(unit.count & 0xff)]
            out += unit
        }
        out.append(UInt8(min(pps.count, 255)))
        for unit in pps.prefix(255) {
            out += [UInt8(unit.count >> 8 & 0xff), UInt8(unit.count & 0xff)]
            out += unit
        }
        return out
    }
}
