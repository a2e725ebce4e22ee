/// Loss repair under arbitrary packet sequences: the input drives synthetic H.264 packets into a
/// JitterBuffer, NACKGenerator, AudioJitterBuffer, RTPPacketCache and ReceiveStatistics
/// (JitterBufferFuzzBody.swift, which RTPTests also compiles and runs over the seed corpus).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    fuzzJitterBuffer(Array(UnsafeRawBufferPointer(start: start, count: count)))
    return 0
}
