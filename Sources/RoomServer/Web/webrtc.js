// WebRTC sessions: one RTCPeerConnection, its SDP offer sent, the answer applied. With a WHIP or WHEP server
// (RFC 9725 and its WHEP sibling) the offer is POSTed to the endpoint and DELETE on the resource (the Location
// the server gave) ends it; the room page instead passes `signal`, which sends the offer as the `sdp` of its
// room-protocol publish or play and returns the result's. No trickle: rtcbox answers ICE-lite with its
// candidate and learns the browser's address from its checks.

/** H.264 with packetization-mode 1 first (what rtcbox and most servers take), its RTX, then nothing else. */
export function preferH264(transceiver) {
  const capabilities = RTCRtpSender.getCapabilities('video');
  const codecs = capabilities ? capabilities.codecs : [];
  const h264 = codecs.filter((c) => c.mimeType.toLowerCase() === 'video/h264');
  if (h264.length === 0) throw new Error('this browser cannot send H.264 over WebRTC');
  const mode1 = h264.filter((c) => /packetization-mode=1/.test(c.sdpFmtpLine || ''));
  const baseline = mode1.filter((c) => /profile-level-id=42e01f/i.test(c.sdpFmtpLine || ''));
  const rest = codecs.filter((c) => ['video/rtx', 'video/red', 'video/ulpfec'].includes(c.mimeType.toLowerCase()));
  transceiver.setCodecPreferences([...baseline, ...mode1.filter((c) => !baseline.includes(c)), ...rest]);
}

const ABS_CAPTURE_TIME = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';

/**
 * Offers abs-capture-time (off in Chromium by default), which rtcbox sends and reads: a played frame then
 * carries its publisher's capture time (requestVideoFrameCallback's captureTime), and a published one its own.
 */
export function offerCaptureTime(transceiver) {
  if (typeof transceiver.getHeaderExtensionsToNegotiate !== 'function') return;
  const extensions = transceiver.getHeaderExtensionsToNegotiate();
  for (const e of extensions) if (e.uri === ABS_CAPTURE_TIME) e.direction = 'sendrecv';
  try { transceiver.setHeaderExtensionsToNegotiate(extensions); } catch (e) { /* offered without it */ }
}

export class WebRTCSession {
  /**
   * @param {string} endpoint  a WHIP (publish) or WHEP (play) URL, e.g. http://host:8080/whip/ROOM/STREAM
   * @param {{token?: string, onState?: (state: string, detail?: string) => void,
   *          signal?: (offer: string) => Promise<string>}} options  signal: the answer to an offer, another way
   */
  constructor(endpoint, { token, onState, signal } = {}) {
    this.endpoint = endpoint;
    this.token = token;
    this.signal = signal || null;
    this.onState = onState || (() => {});
    this.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.resource = null;
    this.pc.addEventListener('connectionstatechange', () => this.onState(this.pc.connectionState));
  }

  /** Publishes a MediaStream's tracks (WHIP): video as H.264, audio as Opus. */
  async publish(stream) {
    for (const track of stream.getTracks()) {
      const transceiver = this.pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      if (track.kind === 'video') preferH264(transceiver);
      offerCaptureTime(transceiver);
    }
    await this.negotiate();
  }

  /** Plays (WHEP): a recvonly video and audio transceiver; `onTrack` gets the remote MediaStream. */
  async play(onTrack) {
    const video = this.pc.addTransceiver('video', { direction: 'recvonly' });
    preferH264(video);
    offerCaptureTime(video);
    offerCaptureTime(this.pc.addTransceiver('audio', { direction: 'recvonly' }));
    const remote = new MediaStream();
    this.pc.addEventListener('track', (e) => {
      remote.addTrack(e.track);
      if (onTrack) onTrack(remote);
    });
    await this.negotiate();
    return remote;
  }

  async negotiate() {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    if (this.signal) {
      this.onState('offering');
      const answer = await this.signal(this.pc.localDescription.sdp);
      await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
      this.onState('answered');
      return;
    }
    const headers = { 'Content-Type': 'application/sdp' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    this.onState('offering');
    const response = await fetch(this.endpoint, { method: 'POST', headers, body: this.pc.localDescription.sdp });
    const body = await response.text();
    if (response.status !== 201) throw new Error(`${this.endpoint}: ${response.status} ${body.trim()}`);
    const location = response.headers.get('Location');
    if (location) this.resource = new URL(location, this.endpoint).href;
    await this.pc.setRemoteDescription({ type: 'answer', sdp: body });
    this.onState('answered');
  }

  /** What getStats says, summed over the outbound (publish) or inbound (play) RTP streams, by kind. */
  async stats() {
    const report = await this.pc.getStats();
    const out = { video: {}, audio: {}, rttMs: null };
    const codecs = {};
    report.forEach((s) => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
    report.forEach((s) => {
      if ((s.type === 'outbound-rtp' || s.type === 'inbound-rtp') && out[s.kind]) {
        const o = out[s.kind];
        for (const key of ['packetsSent', 'bytesSent', 'framesEncoded', 'framesSent', 'packetsReceived', 'bytesReceived',
                           'packetsLost', 'framesDecoded', 'framesReceived', 'nackCount', 'pliCount', 'retransmittedPacketsSent',
                           'totalSamplesReceived', 'concealedSamples']) {
          if (typeof s[key] === 'number') o[key] = (o[key] || 0) + s[key];
        }
        if (s.frameWidth) { o.width = s.frameWidth; o.height = s.frameHeight; }
        if (typeof s.audioLevel === 'number') o.audioLevel = Math.max(o.audioLevel || 0, s.audioLevel);
        if (s.framesPerSecond) o.fps = s.framesPerSecond;
        if (s.qualityLimitationReason) o.limitedBy = s.qualityLimitationReason;
        if (s.codecId && codecs[s.codecId]) o.codec = codecs[s.codecId];
        if (typeof s.targetBitrate === 'number') o.targetKbps = s.targetBitrate / 1000;
      }
      if (s.type === 'remote-inbound-rtp' && out[s.kind]) {
        // What the far end's receiver reports say: loss, and the RTCP round trip.
        out[s.kind].remoteLost = s.packetsLost;
        if (typeof s.roundTripTime === 'number') out[s.kind].rttMs = s.roundTripTime * 1000;
      }
      if (s.type === 'candidate-pair' && s.nominated && typeof s.availableOutgoingBitrate === 'number') {
        out.availableOutgoingKbps = s.availableOutgoingBitrate / 1000;
      }
      if (s.type === 'candidate-pair' && s.nominated && typeof s.currentRoundTripTime === 'number') {
        out.rttMs = s.currentRoundTripTime * 1000;
      }
    });
    return out;
  }

  /** Ends the session: DELETE on the resource (keepalive: it goes out while the page unloads), then the peer
   *  connection closes. */
  async close() {
    const resource = this.resource;
    this.resource = null;
    if (resource) {
      const headers = this.token ? { Authorization: `Bearer ${this.token}` } : {};
      try { await fetch(resource, { method: 'DELETE', headers, keepalive: true }); } catch (e) { /* the server may be gone */ }
    }
    this.pc.close();
    this.onState('closed');
  }
}
