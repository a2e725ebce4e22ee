import NIOCore
import RTP

/// RTP packets from the network: RTPPacket.parse, the RFC 8285 header extensions and the typed ones,
/// then the payload into the H.264 and AAC depacketizers (whole, and split in two packets) and as RFC 2198
/// RED. Invariants: a parsed packet re-serializes to one that parses equal; extension elements survive
/// make/parse; an Annex-B stream packetized and depacketized gives its NAL units back; a RED payload that
/// parses serializes back to the same bytes and splits into at most one packet per block.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    h264RoundTrip(data)
    guard let packet = try? RTPPacket.parse(data) else { return 0 }
    guard let again = try? RTPPacket.parse(packet.serialized()), again == packet else {
        fatalError("RTP packet does not survive serialize/parse: \(packet)")
    }

    if let elements = try? packet.headerExtensionElements() {
        for element in elements {
            _ = try? AbsCaptureTime.parse(element.data)
            _ = try? TransportWideSequenceNumber.parse(element.data)
            _ = try? RTPMid.parse(element.data)
            if let timing = try? RTPFrameTiming.parse(element.data) {
                guard let again = try? RTPFrameTiming.parse(timing.data), again == timing else {
                    fatalError("frame timing does not survive serialize/parse: \(timing)")
                }
            }
        }
        if let made = RTPHeaderExtensions.make(elements) {
            guard let reparsed = try? RTPHeaderExtensions.parse(made), reparsed == elements else {
                fatalError("header extension elements do not survive make/parse: \(elements)")
            }
        }
    }

    let payload = packet.payload
    let half = payload.readableBytes / 2
    let first = payload.getSlice(at: payload.readerIndex, length: half) ?? payload
    let second = payload.getSlice(at: payload.readerIndex + half, length: payload.readableBytes - half) ?? payload

    var whole = H264Depacketizer(timestamp: packet.timestamp, limits: .init(maxAccessUnitBytes: 1 << 16, maxPacketsPerFrame: 64))
    _ = whole.insert(packet)
    _ = whole.finish()
    var split = H264Depacketizer(timestamp: packet.timestamp, firstSequenceNumber: packet.sequenceNumber)
    _ = split.insert(sequenceNumber: packet.sequenceNumber &+ 1, marker: true, payload: second)
    _ = split.insert(sequenceNumber: packet.sequenceNumber, marker: false, payload: first)
    _ = split.missingSequenceNumbers
    _ = split.finish()

    var aac = AACDepacketizer()
    _ = try? aac.depacketize(sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, marker: packet.marker, payload: payload)
    _ = try? aac.depacketize(sequenceNumber: packet.sequenceNumber &+ 1, timestamp: packet.timestamp, marker: false, payload: first)
    _ = try? aac.depacketize(sequenceNumber: packet.sequenceNumber &+ 2, timestamp: packet.timestamp, marker: true, payload: second)
    _ = OpusPayload.durationMicros(payload)
    redRoundTrip(packet)
    return 0
}

/// The payload as RED (RFC 2198): what parses writes back byte for byte (lengths, offsets and payload
/// types all fit their fields), and splits into the primary and at most one packet per redundant block.
func redRoundTrip(_ packet: RTPPacket) {
    guard let blocks = try? REDPayload.parse(packet.payload) else { return }
    guard let again = try? REDPayload.serialize(blocks), again == packet.payload else {
        fatalError("RED payload does not survive parse/serialize: \(blocks)")
    }
    let primaryPayloadType = blocks.last?.payloadType ?? 0
    guard let split = try? REDPayload.split(packet, primaryPayloadType: primaryPayloadType), split.primary != nil,
          split.redundant.count < blocks.count
    else { fatalError("RED payload that parses does not split: \(blocks)") }
    var jitter = AudioJitterBuffer()
    if let primary = split.primary { jitter.insert(primary, arrival: 0) }
    for recovered in split.redundant { _ = jitter.insertRecovered(recovered, arrival: 0) }
    _ = jitter.poll(now: 1_000_000, maxWait: 0)
}

/// The input as an Annex-B access unit: packetized at a small budget and depacketized in order, the NAL
/// units (less AUD, filler and unspecified types) come back, as a multiset (parameter sets move first).
func h264RoundTrip(_ data: ByteBuffer) {
    var packetizer = H264Packetizer(maxPayloadSize: 48)
    let chunks = packetizer.packetize(accessUnit: data)
    guard !chunks.isEmpty else { return }
    var depacketizer = H264Depacketizer(timestamp: 0, firstSequenceNumber: 65530)
    var result: H264Depacketizer.Event = .pending
    for (index, chunk) in chunks.enumerated() {
        result = depacketizer.insert(sequenceNumber: 65530 &+ UInt16(truncatingIfNeeded: index), marker: chunk.marker, payload: chunk.payload)
    }
    guard case .complete(let unit) = result else { fatalError("packetized access unit did not reassemble: \(result)") }
    let expected = H264AnnexB.split(data).filter { unit in
        let type = (unit.getInteger(at: unit.readerIndex, as: UInt8.self) ?? 0) & 0x1F
        return (1...23).contains(type) && type != 9 && type != 12
    }.map { Array($0.readableBytesView) }.sorted { $0.lexicographicallyPrecedes($1) }
    let got = H264AnnexB.split(unit.annexB).map { Array($0.readableBytesView) }.sorted { $0.lexicographicallyPrecedes($1) }
    guard got == expected, unit.discardedNALUnits == 0 else { fatalError("H.264 round trip changed the NAL units") }
}
