import CFFmpeg

/// Builds an AVDictionary for one libav call and reports the entries the call did not consume.
struct OptionDictionary {
    var pointer: OpaquePointer?

    init(_ options: [(String, String)]) {
        for (k, v) in options {
            av_dict_set(&pointer, k, v, 0)
        }
    }

    /// Keys left in the dictionary after a libav call: options it did not recognise.
    var remainingKeys: [String] {
        var keys: [String] = []
        var entry: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while let e = av_dict_get(pointer, "", entry, AV_DICT_IGNORE_SUFFIX) {
            keys.append(String(cString: e.pointee.key))
            entry = e
        }
        return keys
    }

    mutating func free() { av_dict_free(&pointer) }
}
