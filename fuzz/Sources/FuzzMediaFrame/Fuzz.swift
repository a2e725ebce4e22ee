import NIOCore
import RoomProtocol

/// The media frame header.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var payload = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    if let header = try? MediaFrameHeader.read(from: &payload) {
        var out = ByteBuffer()
        header.write(to: &out)
    }
    return 0
}
