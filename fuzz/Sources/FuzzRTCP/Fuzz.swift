import NIOCore
import RTP

/// RTCP compound packets from the network: every packet that parses must re-serialize to bytes that
/// parse equal, one by one and as a compound; so must the extended reports among them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    guard let packets = try? RTCPPacket.parseCompound(data) else { return 0 }
    for packet in packets {
        var bytes = ByteBuffer()
        packet.serialize(into: &bytes)
        guard let again = try? RTCPPacket.parse(bytes), again == packet else {
            fatalError("RTCP packet does not survive serialize/parse: \(packet)")
        }
        if case .nack(let nack) = packet {
            // The list view names at most 17 numbers per pair and rebuilds pairs naming the same numbers.
            let lost = nack.lostSequenceNumbers
            precondition(lost.count <= 17 * nack.pairs.count)
            _ = RTCPNack(senderSSRC: nack.senderSSRC, mediaSSRC: nack.mediaSSRC, lostSequenceNumbers: lost)
        }
        // Extended reports (RFC 3611 RRTR/DLRR): what parses re-serializes to what parses equal.
        if let xr = try? RTCPExtendedReport.parse(packet) {
            guard let again = try? RTCPExtendedReport.parse(xr.serialized()), again == xr else {
                fatalError("XR does not survive serialize/parse: \(xr)")
            }
        }
    }
    guard let again = try? RTCPPacket.parseCompound(RTCPPacket.compound(packets)), again == packets else {
        fatalError("RTCP compound does not survive serialize/parse")
    }
    return 0
}
