import CDTLS
import NIOCore

/// SRTP and SRTCP protection (RFC 3711; AEAD_AES_128_GCM per RFC 7714) of one DTLS-SRTP association,
/// through libsrtp2: outgoing packets are protected with the local master key, incoming ones checked
/// and decrypted with the remote one, for any SSRC in either direction (BUNDLE puts every stream on one
/// association). The replay window is 1024 packets; retransmission of a packet with the same sequence
/// number is refused (RTX uses its own SSRC and sequence numbers, RFC 4588).
///
/// Memory is bounded: libsrtp keeps one stream state per SSRC it has seen, so at most
/// `maximumStreams` distinct SSRCs are taken in each direction (only authenticated packets count).
///
/// Threading: a libsrtp session is not thread-safe, so this is a non-Sendable class owned by one event
/// loop, like the `DTLSEndpoint` it comes from.
public final class SRTPSession {
    public let profile: SRTPProfile
    /// The most SSRCs accepted in each direction.
    public let maximumStreams: Int

    /// srtp_t for what we send (the local key) and for what we receive (the remote key).
    private let outbound: OpaquePointer
    private let inbound: OpaquePointer
    private var inboundSSRCs: Set<UInt32> = []
    private var outboundSSRCs: Set<UInt32> = []
    private let allocator = ByteBufferAllocator()

    /// The largest packet taken (UDP's limit).
    static let maximumPacketSize = 65_535
    /// Room libsrtp may write after an RTP packet (tag and MKI), and after an RTCP one (plus the
    /// 4-octet SRTCP index).
    static let rtpTrailerRoom = Int(SRTP_MAX_TRAILER_LEN)
    static let rtcpTrailerRoom = Int(SRTP_MAX_TRAILER_LEN) + 4

    /// A session for the keys a DTLS-SRTP handshake produced.
    public convenience init(keyingMaterial: SRTPKeyingMaterial, maximumStreams: Int = 64) throws(SRTPError) {
        try self.init(profile: keyingMaterial.profile,
                      localKey: keyingMaterial.localMasterKey, localSalt: keyingMaterial.localMasterSalt,
                      remoteKey: keyingMaterial.remoteMasterKey, remoteSalt: keyingMaterial.remoteMasterSalt,
                      maximumStreams: maximumStreams)
    }

    /// A session from explicit master keys and salts (lengths per `profile`).
    public init(profile: SRTPProfile, localKey: [UInt8], localSalt: [UInt8], remoteKey: [UInt8],
                remoteSalt: [UInt8], maximumStreams: Int = 64) throws(SRTPError) {
        for (key, salt) in [(localKey, localSalt), (remoteKey, remoteSalt)] {
            guard key.count == profile.masterKeyLength, salt.count == profile.masterSaltLength else {
                throw .invalidKeyLength(profile: profile, key: key.count, salt: salt.count)
            }
        }
        try libsrtpReady.get()
        self.profile = profile
        self.maximumStreams = max(1, maximumStreams)

        // libsrtp takes one wildcard-SSRC policy per srtp_t, so each direction has its own.
        let outbound = try Self.create(profile: profile, direction: ssrc_any_outbound, key: localKey + localSalt)
        do {
            inbound = try Self.create(profile: profile, direction: ssrc_any_inbound, key: remoteKey + remoteSalt)
        } catch {
            srtp_dealloc(outbound)
            throw error
        }
        self.outbound = outbound
    }

    deinit {
        srtp_dealloc(outbound)
        srtp_dealloc(inbound)
    }

    /// Encrypts and authenticates an RTP packet (RFC 3711 section 3.3; RFC 7714 section 8).
    public func protectRTP(_ packet: ByteBuffer) throws(SRTPError) -> ByteBuffer {
        try process(packet, minimum: 12, ssrcOffset: 8, room: Self.rtpTrailerRoom, outbound: true, operation: "srtp_protect") {
            srtp_protect(outbound, $0, $1)
        }
    }

    /// Authenticates, replay-checks and decrypts an SRTP packet (RFC 3711 section 3.3).
    public func unprotectRTP(_ packet: ByteBuffer) throws(SRTPError) -> ByteBuffer {
        try process(packet, minimum: 12, ssrcOffset: 8, room: 0, outbound: false, operation: "srtp_unprotect") {
            srtp_unprotect(inbound, $0, $1)
        }
    }

    /// Encrypts and authenticates a (compound) RTCP packet, adding the SRTCP index (RFC 3711 section 3.4).
    public func protectRTCP(_ packet: ByteBuffer) throws(SRTPError) -> ByteBuffer {
        try process(packet, minimum: 8, ssrcOffset: 4, room: Self.rtcpTrailerRoom, outbound: true, operation: "srtp_protect_rtcp") {
            srtp_protect_rtcp(outbound, $0, $1)
        }
    }

    /// Authenticates, replay-checks and decrypts an SRTCP packet (RFC 3711 section 3.4).
    public func unprotectRTCP(_ packet: ByteBuffer) throws(SRTPError) -> ByteBuffer {
        try process(packet, minimum: 8, ssrcOffset: 4, room: 0, outbound: false, operation: "srtp_unprotect_rtcp") {
            srtp_unprotect_rtcp(inbound, $0, $1)
        }
    }

    /// Copies `packet` into a buffer with `room` octets to spare, runs libsrtp in place and returns the
    /// result. The SSRC (RTP: octets 8-11; RTCP: the sender's, octets 4-7) is counted against the limit.
    private func process(_ packet: ByteBuffer, minimum: Int, ssrcOffset: Int, room: Int, outbound: Bool,
                         operation: String,
                         _ call: (UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> srtp_err_status_t) throws(SRTPError) -> ByteBuffer {
        let length = packet.readableBytes
        guard length >= minimum else { throw .truncated(needed: minimum, have: length) }
        guard length <= Self.maximumPacketSize else { throw .tooLarge(length) }
        guard let ssrc = packet.getInteger(at: packet.readerIndex + ssrcOffset, as: UInt32.self) else {
            throw .truncated(needed: ssrcOffset + 4, have: length)
        }
        let known = outbound ? outboundSSRCs.contains(ssrc) : inboundSSRCs.contains(ssrc)
        let count = outbound ? outboundSSRCs.count : inboundSSRCs.count
        guard known || count < maximumStreams else { throw .tooManyStreams(limit: maximumStreams) }

        var buffer = allocator.buffer(capacity: length + room)
        buffer.writeImmutableBuffer(packet)
        buffer.writeRepeatingByte(0, count: room)
        var outLength = Int32(length)
        let status = buffer.withUnsafeMutableReadableBytes { raw -> srtp_err_status_t in
            guard let base = raw.baseAddress else { return srtp_err_status_bad_param }
            return call(base, &outLength)
        }
        guard status == srtp_err_status_ok else { throw SRTPError(status: status, operation: operation) }
        // libsrtp reports a length within what it was given; anything else is a bug worth refusing.
        guard outLength >= 0, Int(outLength) <= length + room else { throw .library(status: -1, operation: operation) }
        buffer.moveWriterIndex(to: buffer.readerIndex + Int(outLength))
        if !known {
            if outbound { outboundSSRCs.insert(ssrc) } else { inboundSSRCs.insert(ssrc) }
        }
        return buffer
    }

    /// An srtp_t with one policy; libsrtp copies the key during srtp_create.
    private static func create(profile: SRTPProfile, direction: srtp_ssrc_type_t, key: [UInt8]) throws(SRTPError) -> OpaquePointer {
        var key = key
        var created: OpaquePointer?
        let status = key.withUnsafeMutableBufferPointer { keyPointer in
            var policy = Self.policy(profile: profile, direction: direction, key: keyPointer.baseAddress)
            return srtp_create(&created, &policy)
        }
        guard status == srtp_err_status_ok, let created else {
            throw .library(status: Int32(bitPattern: status.rawValue), operation: "srtp_create")
        }
        return created
    }

    private static func policy(profile: SRTPProfile, direction: srtp_ssrc_type_t,
                               key: UnsafeMutablePointer<UInt8>?) -> srtp_policy_t {
        var policy = srtp_policy_t()
        switch profile {
        case .aes128CmHmacSha1_80:
            srtp_crypto_policy_set_rtp_default(&policy.rtp)  // = AES_CM_128_HMAC_SHA1_80
            srtp_crypto_policy_set_rtcp_default(&policy.rtcp)
        case .aeadAes128Gcm:
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp)
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp)
        }
        policy.ssrc.type = direction
        policy.ssrc.value = 0
        policy.key = key
        policy.window_size = 1024
        policy.allow_repeat_tx = 0
        policy.next = nil
        return policy
    }
}

/// An SRTPSession is bound to one event loop (a libsrtp session is not thread-safe).
@available(*, unavailable)
extension SRTPSession: Sendable {}

/// libsrtp's one-time initialisation, run on first use by Swift's thread-safe lazy global init.
private let libsrtpReady: Result<Void, SRTPError> = {
    let status = srtp_init()
    return status == srtp_err_status_ok ? .success(()) : .failure(SRTPError(status: status, operation: "srtp_init"))
}()

/// Why an SRTP or SRTCP packet could not be protected or unprotected.
public enum SRTPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The authentication tag did not verify: tampered, wrong key, or not SRTP.
    case authenticationFailed
    /// This packet index was already received (a replay or a duplicate; RFC 3711 section 3.3.2).
    case replayed
    /// The packet index is older than the replay window (1024 packets).
    case tooOld
    /// Shorter than an RTP (12) or RTCP (8) header, or than its own header claims.
    case truncated(needed: Int, have: Int)
    /// Larger than a UDP datagram.
    case tooLarge(Int)
    /// A new SSRC beyond the session's limit.
    case tooManyStreams(limit: Int)
    /// Key or salt of the wrong length for the profile.
    case invalidKeyLength(profile: SRTPProfile, key: Int, salt: Int)
    /// libsrtp refused the packet as malformed (`srtp_err_status_parse_err`, `bad_param`).
    case malformed(operation: String)
    /// Any other libsrtp status (its `srtp_err_status_t` value).
    case library(status: Int32, operation: String)

    init(status: srtp_err_status_t, operation: String) {
        switch status {
        case srtp_err_status_auth_fail: self = .authenticationFailed
        case srtp_err_status_replay_fail: self = .replayed
        case srtp_err_status_replay_old: self = .tooOld
        case srtp_err_status_parse_err, srtp_err_status_bad_param: self = .malformed(operation: operation)
        default: self = .library(status: Int32(bitPattern: status.rawValue), operation: operation)
        }
    }

    public var description: String {
        switch self {
        case .authenticationFailed: "SRTP authentication failed"
        case .replayed: "SRTP packet replayed (index already received)"
        case .tooOld: "SRTP packet older than the replay window"
        case .truncated(let needed, let have): "SRTP packet truncated: needed \(needed) octets, have \(have)"
        case .tooLarge(let size): "SRTP packet of \(size) octets is larger than a datagram"
        case .tooManyStreams(let limit): "SRTP session already has \(limit) SSRCs"
        case .invalidKeyLength(let profile, let key, let salt):
            "SRTP \(profile) needs a \(profile.masterKeyLength)-octet key and \(profile.masterSaltLength)-octet salt, got \(key) and \(salt)"
        case .malformed(let operation): "\(operation): malformed packet"
        case .library(let status, let operation): "\(operation) failed: \(SRTPError.statusName(status))"
        }
    }

    static func statusName(_ status: Int32) -> String {
        let names = ["ok", "fail", "bad_param", "alloc_fail", "dealloc_fail", "init_fail", "terminus",
                     "auth_fail", "cipher_fail", "replay_fail", "replay_old", "algo_fail", "no_such_op",
                     "no_ctx", "cant_check", "key_expired", "socket_err", "signal_err", "nonce_bad",
                     "read_fail", "write_fail", "parse_err", "encode_err", "semaphore_err", "pfkey_err",
                     "bad_mki", "pkt_idx_old", "pkt_idx_adv"]
        return names.indices.contains(Int(status)) ? "srtp_err_status_\(names[Int(status)]) (\(status))" : "status \(status)"
    }
}
