import NIOCore
import RoomProtocol

/// Every control message decoder, through the one entry point that picks them by "type"; a decoded
/// message must encode again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let payload = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    if let message = try? ControlMessage.decode(payload: payload) {
        _ = message.encodeJSON()
    }
    return 0
}
