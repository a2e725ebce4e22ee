import RoomProtocol

/// Side info (SEI) in a received video frame: any bytes as an access unit; what is found, put back into a
/// frame, must be found again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let found = SideInfoSEI.messages(in: bytes)
    let messages = found.filter { SideInfoSEI.problem(with: $0) == nil }
    if !messages.isEmpty {
        let again = SideInfoSEI.messages(in: SideInfoSEI.inserting(messages, into: [0, 0, 0, 1, 0x65, 0x88]))
        if again != messages { fatalError("side info did not survive a round trip") }
    }
    return 0
}
