import RoomAuth

/// token04 parsing (what a login carries): the input is the token text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    _ = try? Token04.open(text, secret: "0123456789abcdef0123456789abcdef")
    _ = try? TokenPayload(jsonText: text)
    return 0
}
