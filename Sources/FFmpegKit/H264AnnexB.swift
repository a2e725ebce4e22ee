/// H.264 Annex-B byte streams: start codes, NAL unit types, parameter sets.
public enum H264AnnexB {
    /// NAL unit types used here.
    public static let idr: UInt8 = 5
    public static let sps: UInt8 = 7
    public static let pps: UInt8 = 8

    /// The NAL units of an Annex-B access unit (payloads without start codes).
    public static func nalUnits(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var units: [ArraySlice<UInt8>] = []
        var i = 0
        var start: Int? = nil
        let n = bytes.count
        while i + 2 < n {
            if bytes[i] == 0 && bytes[i + 1] == 0 && bytes[i + 2] == 1 {
                if let s = start {
                    var end = i
                    while end > s && bytes[end - 1] == 0 { end -= 1 }
                    units.append(bytes[s..<end])
                }
                i += 3
                start = i
            } else {
                i += 1
            }
        }
        if let s = start, s < n { units.append(bytes[s..<n]) }
        return units
    }

    public static func nalType(_ unit: ArraySlice<UInt8>) -> UInt8? {
        unit.first.map { $0 & 0x1f }
    }

    /// SPS and PPS units of an access unit, each behind a 4-byte start code: usable as muxer extradata.
    public static func parameterSets(in accessUnit: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var sawSPS = false, sawPPS = false
        for unit in nalUnits(accessUnit) {
            guard let t = nalType(unit), t == sps || t == pps else { continue }
            if t == sps { sawSPS = true } else { sawPPS = true }
            out += [0, 0, 0, 1]
            out += unit
        }
        return sawSPS && sawPPS ? out : nil
    }

    /// Where the start code of the first NAL unit of `type` begins (4-byte start codes included).
    public static func startCodeOffset(ofFirst type: UInt8, in bytes: [UInt8]) -> Int? {
        guard let unit = nalUnits(bytes).first(where: { nalType($0) == type }) else { return nil }
        var at = unit.startIndex - 3
        if at > 0 && bytes[at - 1] == 0 { at -= 1 }
        return max(0, at)
    }

    /// Removes the SPS/PPS units right before the first IDR slice (those a copy-mode publisher added).
    public static func removingParameterSetsBeforeIDR(_ units: [ArraySlice<UInt8>]) -> [ArraySlice<UInt8>] {
        guard let idrIndex = units.firstIndex(where: { nalType($0) == idr }) else { return units }
        var start = idrIndex
        while start > 0, let t = nalType(units[start - 1]), t == sps || t == pps { start -= 1 }
        return Array(units[..<start]) + Array(units[idrIndex...])
    }

    public static func containsIDR(_ accessUnit: [UInt8]) -> Bool {
        nalUnits(accessUnit).contains { nalType($0) == idr }
    }
}
