import NIOCore
import RoomProtocol

/// The hello decoder and the version negotiation.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let payload = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    if let peer = try? Hello.decode(payload: payload) {
        _ = try? Hello(details: .init(software: "fuzz")).negotiate(with: peer)
    }
    return 0
}
