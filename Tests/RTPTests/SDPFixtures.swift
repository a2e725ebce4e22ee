/// SDP offers as the browsers write them (from their formats; identifiers and keys made up), LF line
/// ends here (the parser takes CRLF or LF). Copies are the seed corpus of fuzz/corpus/FuzzSDP.
enum SDPFixtures {
    /// Chrome (M120-era) offer: BUNDLE of audio and video, opus 111 with RED 63, VP8 96 + rtx 97,
    /// H.264 102 (packetization-mode=1, profile-level-id=42e01f) + rtx 103, transport-cc, trickle,
    /// host/srflx/tcp candidates, ssrc-group FID.
    static let chromeOffer = """
v=0
o=- 4611731400430051336 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS 5d6ee5ed-9d7e-4ae8-a5d3-77c6f1a1c0b5
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:1467250027 1 udp 2122260223 192.168.1.10 54321 typ host generation 0 network-id 1 network-cost 10
a=candidate:2999745851 1 udp 1686052607 203.0.113.5 54321 typ srflx raddr 192.168.1.10 rport 54321 generation 0 network-id 1 network-cost 10
a=candidate:3765148075 1 tcp 1518280447 192.168.1.10 9 typ host tcptype active generation 0 network-id 1 network-cost 10
a=ice-ufrag:EsAw
a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
a=ice-options:trickle
a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendrecv
a=msid:5d6ee5ed-9d7e-4ae8-a5d3-77c6f1a1c0b5 0d9b4a4b-6a6e-4b5c-9a63-5a8e0e3c8f21
a=rtcp-mux
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:3735928559 cname:x3Dv1rJ4Kz0Q9nGb
a=ssrc:3735928559 msid:5d6ee5ed-9d7e-4ae8-a5d3-77c6f1a1c0b5 0d9b4a4b-6a6e-4b5c-9a63-5a8e0e3c8f21
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:EsAw
a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
a=ice-options:trickle
a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
a=setup:actpass
a=mid:1
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:13 urn:3gpp:video-orientation
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type
a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendrecv
a=msid:5d6ee5ed-9d7e-4ae8-a5d3-77c6f1a1c0b5 7c2b1f0e-2a8d-4a7e-b1d4-3f6a9e8c5b10
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:102 H264/90000
a=rtcp-fb:102 goog-remb
a=rtcp-fb:102 transport-cc
a=rtcp-fb:102 ccm fir
a=rtcp-fb:102 nack
a=rtcp-fb:102 nack pli
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=ssrc-group:FID 2863311530 1431655765
a=ssrc:2863311530 cname:x3Dv1rJ4Kz0Q9nGb
a=ssrc:2863311530 msid:5d6ee5ed-9d7e-4ae8-a5d3-77c6f1a1c0b5 7c2b1f0e-2a8d-4a7e-b1d4-3f6a9e8c5b10
a=ssrc:1431655765 cname:x3Dv1rJ4Kz0Q9nGb
a=ssrc:1431655765 msid:5d6ee5ed-9d7e-4ae8-a5d3-77c6f1a1c0b5 7c2b1f0e-2a8d-4a7e-b1d4-3f6a9e8c5b10
"""

    /// Firefox (120-era) offer: session-level fingerprint and ice-options, msid-semantic WMS *,
    /// extmap directions, mDNS host candidates with upper-case transports, end-of-candidates.
    static let firefoxOffer = """
v=0
o=mozilla...THIS_IS_SDPARTA-99.0 6516378339024520040 0 IN IP4 0.0.0.0
s=-
t=0 0
a=fingerprint:sha-256 5A:1F:9C:0B:44:E2:71:3D:8A:62:C7:15:F0:2E:9B:D4:06:58:AB:33:CE:7F:10:94:E5:2C:6D:B8:49:A1:F3:07
a=group:BUNDLE 0 1
a=ice-options:trickle
a=msid-semantic:WMS *
m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101
c=IN IP4 0.0.0.0
a=candidate:0 1 UDP 2122252543 3f2a3b4c-5d6e-4f70-8192-a3b4c5d6e7f8.local 56789 typ host
a=candidate:1 1 TCP 2105524479 3f2a3b4c-5d6e-4f70-8192-a3b4c5d6e7f8.local 9 typ host tcptype active
a=sendrecv
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1
a=fmtp:101 0-15
a=ice-pwd:6b8f4a3e2d1c0b9a8f7e6d5c4b3a2910
a=ice-ufrag:a1b2c3d4
a=mid:0
a=msid:{8f2c1a4e-3b5d-4e6f-9a7b-1c2d3e4f5a6b} {0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}
a=rtcp-mux
a=rtpmap:109 opus/48000/2
a=rtpmap:9 G722/8000/1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000/1
a=setup:actpass
a=ssrc:1234567890 cname:{5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9}
m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98
c=IN IP4 0.0.0.0
a=sendrecv
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:toffset
a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1
a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1
a=fmtp:120 max-fs=12288;max-fr=60
a=fmtp:124 apt=120
a=fmtp:121 max-fs=12288;max-fr=60
a=fmtp:125 apt=121
a=fmtp:127 apt=126
a=fmtp:98 apt=97
a=ice-pwd:6b8f4a3e2d1c0b9a8f7e6d5c4b3a2910
a=ice-ufrag:a1b2c3d4
a=mid:1
a=msid:{8f2c1a4e-3b5d-4e6f-9a7b-1c2d3e4f5a6b} {7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a}
a=rtcp-fb:120 nack
a=rtcp-fb:120 nack pli
a=rtcp-fb:120 ccm fir
a=rtcp-fb:120 goog-remb
a=rtcp-fb:120 transport-cc
a=rtcp-fb:121 nack
a=rtcp-fb:121 nack pli
a=rtcp-fb:121 ccm fir
a=rtcp-fb:121 goog-remb
a=rtcp-fb:121 transport-cc
a=rtcp-fb:126 nack
a=rtcp-fb:126 nack pli
a=rtcp-fb:126 ccm fir
a=rtcp-fb:126 goog-remb
a=rtcp-fb:126 transport-cc
a=rtcp-fb:97 nack
a=rtcp-fb:97 nack pli
a=rtcp-fb:97 ccm fir
a=rtcp-fb:97 goog-remb
a=rtcp-fb:97 transport-cc
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:120 VP8/90000
a=rtpmap:124 rtx/90000
a=rtpmap:121 VP9/90000
a=rtpmap:125 rtx/90000
a=rtpmap:126 H264/90000
a=rtpmap:127 rtx/90000
a=rtpmap:97 H264/90000
a=rtpmap:98 rtx/90000
a=setup:actpass
a=ssrc:2345678901 cname:{5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9}
a=ssrc:3456789012 cname:{5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9}
a=ssrc-group:FID 2345678901 3456789012
"""
}
