// rtcbox's UDP media wire, WebRTC's: STUN/ICE-lite, DTLS-SRTP, RTP/RTCP with rtcp-mux and BUNDLE, the
// payload formats (H.264, AAC, Opus), loss repair and congestion control. It knows no room rules: the
// server and the client map its sessions to rooms, streams and plays. Parsers of network bytes here are
// pure, golden-tested and fuzzed (fuzz/); the C glue for OpenSSL and libsrtp2 is the CDTLS target, which
// nothing else imports.
