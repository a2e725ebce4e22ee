import NIOCore
import RoomProtocol

/// The frame layer: any bytes, cut into frames with a small bound, each decoded as a room frame.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var buffer = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    while true {
        guard let raw = try? RoomFrameDecoder.nextFrame(from: &buffer, maximumFrameLength: 64 * 1024) else { break }
        _ = try? RoomFrame(raw)
    }
    return 0
}
