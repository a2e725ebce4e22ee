// The C side of the UDP media path: OpenSSL's DTLS (with the use_srtp extension) and libsrtp2.
// Only the RTP module imports this; everything else sees RTP's Swift types.
#ifndef RTCBOX_CDTLS_H
#define RTCBOX_CDTLS_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/bio.h>
#include <openssl/rand.h>
#include <srtp2/srtp.h>
#endif
