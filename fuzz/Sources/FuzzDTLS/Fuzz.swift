import NIOCore
import RTP

/// Arbitrary bytes as a datagram to a fresh DTLS server (the certificate is made once), and as SRTP /
/// SRTCP to unprotect. Protecting them too, where libsrtp takes them, must round-trip exactly.
///
/// The SRTP sessions use libsrtp's own test key (its srtp_validate), so that the seeds
/// srtp-aes-cm.bin and srtcp-aes-cm.bin authenticate and reach the decryption path.
let certificate = try? DTLSCertificate()
let peerFingerprint = DTLSFingerprint(algorithm: .sha256, digest: [UInt8](repeating: 0x5a, count: 32))
let testKey: [UInt8] = [0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39]
let testSalt: [UInt8] = [0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let datagram = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))

    if let certificate, let server = try? DTLSEndpoint(role: .server, certificate: certificate, remoteFingerprint: peerFingerprint) {
        let output = server.handle(datagram: datagram, now: 0)
        if let deadline = output.timeout {
            _ = server.handleTimeout(now: deadline)
        }
        // The same datagram again, as a retransmission would bring it.
        _ = server.handle(datagram: datagram, now: 1)
        _ = server.close(now: 2)
    }

    for profile in SRTPProfile.allCases {
        let salt = Array(testSalt.prefix(profile.masterSaltLength))
        func session() -> SRTPSession? {
            try? SRTPSession(profile: profile, localKey: testKey, localSalt: salt, remoteKey: testKey, remoteSalt: salt)
        }
        // One receiver for the bytes as they are; a fresh sender and receiver for the round trip (the
        // first receiver may already have taken this packet index: a replay by design).
        guard let receiver = session(), let sender = session(), let peer = session() else { continue }
        _ = try? receiver.unprotectRTP(datagram)
        _ = try? receiver.unprotectRTCP(datagram)
        if let protected = try? sender.protectRTP(datagram) {
            let plain = try? peer.unprotectRTP(protected)
            precondition(plain == datagram, "SRTP round trip changed the packet (\(profile))")
        }
        if let protected = try? sender.protectRTCP(datagram) {
            let plain = try? peer.unprotectRTCP(protected)
            precondition(plain == datagram, "SRTCP round trip changed the packet (\(profile))")
        }
    }
    return 0
}
