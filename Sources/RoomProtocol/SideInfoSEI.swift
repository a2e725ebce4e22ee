/// Side info carried with the video (the SDK's sendSEI): each message is an H.264 SEI NAL unit of type
/// user_data_unregistered (H.264 7.3.2.3.1 and D.1.7) whose 16-byte UUID is rtcbox's, inside the access
/// unit of the frame it belongs to, before that frame's first slice. Being in the bitstream, it rides every
/// transport, survives recordings and copies, and decoders that do not know it skip it.
///
///     00 00 00 01 | 06 | 05 | size (0xFF…, then the rest) | "rtcbox.side.info" | data | 80
///
/// (the bytes after the NAL header with emulation prevention: 00 00 0x becomes 00 00 03 0x for x <= 3).
public enum SideInfoSEI {
    /// rtcbox's UUID: the 16 ASCII bytes "rtcbox.side.info".
    public static let uuid: [UInt8] = Array("rtcbox.side.info".utf8)
    /// The most data one message carries (what the SDK allows for one SEI).
    public static let maxDataBytes = 4096

    static let nalType: UInt8 = 6
    static let userDataUnregistered = 5

    /// Why `data` cannot be sent as side info, or nil.
    public static func problem(with data: [UInt8]) -> String? {
        if data.isEmpty { return "side info is empty" }
        if data.count > maxDataBytes { return "side info is \(data.count) bytes, more than \(maxDataBytes)" }
        return nil
    }

    /// One SEI NAL unit (without a start code) carrying `data`.
    public static func nalUnit(_ data: [UInt8]) -> [UInt8] {
        var rbsp: [UInt8] = [UInt8(userDataUnregistered)]
        var size = uuid.count + data.count
        while size >= 255 {
            rbsp.append(0xFF)
            size -= 255
        }
        rbsp.append(UInt8(size))
        rbsp += uuid
        rbsp += data
        rbsp.append(0x80)  // rbsp_stop_one_bit and alignment
        var out: [UInt8] = [nalType]
        out.reserveCapacity(rbsp.count + rbsp.count / 64 + 2)
        var zeros = 0
        for b in rbsp {
            if zeros >= 2 && b <= 3 {
                out.append(3)
                zeros = 0
            }
            out.append(b)
            zeros = b == 0 ? zeros + 1 : 0
        }
        return out
    }

    /// An Annex-B access unit with one SEI NAL unit per message inserted before its first slice (or at its
    /// end when it has none).
    public static func inserting(_ messages: [[UInt8]], into accessUnit: [UInt8]) -> [UInt8] {
        guard !messages.isEmpty else { return accessUnit }
        var sei: [UInt8] = []
        for m in messages { sei += [0, 0, 0, 1] + nalUnit(m) }
        let at = firstSliceStartCode(accessUnit) ?? accessUnit.count
        return Array(accessUnit[..<at]) + sei + Array(accessUnit[at...])
    }

    /// Where the start code of the first slice (NAL types 1-5) begins.
    static func firstSliceStartCode(_ bytes: [UInt8]) -> Int? {
        var i = 0
        let n = bytes.count
        while i + 3 < n {
            if bytes[i] == 0 && bytes[i + 1] == 0 && bytes[i + 2] == 1 {
                let type = bytes[i + 3] & 0x1f
                if (1...5).contains(type) { return i > 0 && bytes[i - 1] == 0 ? i - 1 : i }
                i += 3
            } else {
                i += 1
            }
        }
        return nil
    }

    /// The side info messages of an Annex-B access unit, in order; SEI of other kinds or UUIDs, and units
    /// that do not parse, are skipped.
    public static func messages<Bytes: RandomAccessCollection>(in accessUnit: Bytes) -> [[UInt8]] where Bytes.Element == UInt8, Bytes.Index == Int {
        var found: [[UInt8]] = []
        var i = accessUnit.startIndex
        let end = accessUnit.endIndex
        while i + 3 < end {
            guard accessUnit[i] == 0 && accessUnit[i + 1] == 0 && accessUnit[i + 2] == 1 else {
                i += 1
                continue
            }
            let start = i + 3
            // The unit runs to the next start code.
            var j = start
            while j + 2 < end && !(accessUnit[j] == 0 && accessUnit[j + 1] == 0 && accessUnit[j + 2] == 1) { j += 1 }
            let unitEnd = j + 2 < end ? j : end
            if accessUnit[start] & 0x1f == nalType {
                found += parse(unescaped(accessUnit[(start + 1)..<unitEnd]))
            } else if (1...5).contains(accessUnit[start] & 0x1f) {
                break  // SEI comes before the slices
            }
            i = unitEnd
        }
        return found
    }

    /// The RBSP of a NAL unit's payload: emulation prevention bytes removed.
    static func unescaped<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var zeros = 0
        for b in bytes {
            if zeros >= 2 && b == 3 {
                zeros = 0
                continue
            }
            out.append(b)
            zeros = b == 0 ? zeros + 1 : 0
        }
        return out
    }

    /// The side info in one SEI RBSP (several SEI messages may share it).
    static func parse(_ rbsp: [UInt8]) -> [[UInt8]] {
        var found: [[UInt8]] = []
        var i = 0
        func number() -> Int? {
            var value = 0
            while i < rbsp.count {
                let b = rbsp[i]
                i += 1
                value += Int(b)
                if b != 0xFF { return value }
                if value > 1 << 20 { return nil }
            }
            return nil
        }
        // A message needs at least a type and a size byte; what is left at the end is the stop bit.
        while rbsp.count - i >= 2 {
            guard let type = number(), let size = number(), size <= rbsp.count - i else { break }
            let payload = rbsp[i..<(i + size)]
            if type == userDataUnregistered && size >= uuid.count && payload.prefix(uuid.count).elementsEqual(uuid) {
                found.append(Array(payload.dropFirst(uuid.count)))
            }
            i += size
        }
        return found
    }
}
