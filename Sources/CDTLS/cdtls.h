// The C side of the UDP media path: OpenSSL's DTLS (with the use_srtp extension) and libsrtp2.
// Only the RTP module imports this; everything else sees RTP's Swift types.
#ifndef RTCBOX_CDTLS_H
#define RTCBOX_CDTLS_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <srtp2/srtp.h>

// Function forms of OpenSSL macros (most are SSL_ctrl / BIO_ctrl calls) that Swift cannot import.

/// The options of a DTLS-SRTP context: the MTU is set, not probed (memory BIOs have no socket to ask);
/// no session tickets (every association is a fresh handshake); no renegotiation (RFC 5764 keys are
/// exported once, and renegotiation is a classic attack surface).
static inline uint64_t rtcbox_dtls_srtp_options(void) {
    return SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION;
}

static inline int rtcbox_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int rtcbox_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

static inline int rtcbox_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}

/// 1 when OpenSSL took the MTU, 0 when it is below DTLS's minimum (SSL_set_mtu itself returns the MTU).
static inline int rtcbox_SSL_set_mtu(SSL *ssl, long mtu) {
    return SSL_set_mtu(ssl, mtu) > 0 ? 1 : 0;
}

static inline int rtcbox_DTLS_set_link_mtu(SSL *ssl, long mtu) {
    return (int)DTLS_set_link_mtu(ssl, mtu);
}

/// What a read of an empty memory BIO returns: -1 makes it "retry" (no data yet) rather than EOF.
static inline void rtcbox_BIO_set_mem_eof_return(BIO *bio, int value) {
    (void)BIO_set_mem_eof_return(bio, value);
}

/// The bytes held by a memory BIO (not a copy: valid until the BIO is written, read or freed).
static inline long rtcbox_BIO_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

static inline int rtcbox_BIO_reset(BIO *bio) {
    return (int)BIO_reset(bio);
}

/// The time left on the DTLS retransmission timer in microseconds, or -1 when no timer runs.
static inline long long rtcbox_DTLSv1_get_timeout_us(SSL *ssl) {
    struct timeval tv;
    if (DTLSv1_get_timeout(ssl, &tv) != 1) {
        return -1;
    }
    return (long long)tv.tv_sec * 1000000LL + (long long)tv.tv_usec;
}

/// 1 when a flight was retransmitted, 0 when the timer had not expired, -1 on a fatal error (too many
/// retransmissions: OpenSSL gives up after 12).
static inline int rtcbox_DTLSv1_handle_timeout(SSL *ssl) {
    return (int)DTLSv1_handle_timeout(ssl);
}

#endif
