import NIOCore

/// Transport-cc feedback from the network (see TransportFeedbackCheck.swift).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    checkTransportFeedback(ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count)))
    return 0
}
