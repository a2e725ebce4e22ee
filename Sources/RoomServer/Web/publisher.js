// Publishing the camera and microphone: with WebCodecs over the WebSocket (VideoEncoder H.264 in Annex-B,
// AudioEncoder Opus, media frames on the room connection), or over WebRTC (the browser's own encoders and
// RTCPeerConnection, the offer in the publish's sdp, media to the server's UDP port).

import { TRACK_VIDEO, TRACK_AUDIO, FLAG_KEYFRAME, KEYFRAME_INTERVAL_FRAMES, $, params, wallMicros, log } from './common.js';
import { WebRTCSession } from './webrtc.js';

/** The camera size asked for: `?camera=WxH` (e.g. 640x360 for a slow machine), else 1280x720. */
function cameraSize() {
  const m = /^(\d{2,4})x(\d{2,4})$/.exec(params.get('camera') || '');
  return m ? { width: Number(m[1]), height: Number(m[2]) } : { width: 1280, height: 720 };
}

/** The camera and microphone both publishers send, shown in the preview. */
async function captureCameraAndMicrophone() {
  const size = cameraSize();
  const media = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: size.width }, height: { ideal: size.height }, frameRate: { ideal: 30 } },
    audio: { echoCancellation: true, noiseSuppression: true },
  });
  $('preview').srcObject = media;
  return media;
}

export class Publisher {
  constructor(room, streamID) {
    this.room = room;
    this.streamID = streamID;
    this.handle = null;
    this.running = false;
    this.wantKeyframe = true;
    this.frameCount = 0;
    this.startWall = null;
    this.bases = new Map();           // track -> { ts, wall }: media clock to wall clock
    this.counts = { videoSent: 0, audioSent: 0, videoDropped: 0, bytes: 0, errors: 0 };
  }

  async start() {
    const media = await captureCameraAndMicrophone();
    this.media = media;
    const videoTrack = media.getVideoTracks()[0];
    const audioTrack = media.getAudioTracks()[0];
    const tracks = [];
    if (videoTrack) {
      const s = videoTrack.getSettings();
      this.width = s.width || 640;
      this.height = s.height || 480;
      this.frameRate = Math.round(s.frameRate || 30);
      this.videoEncoder = new VideoEncoder({
        output: (chunk) => this.sendChunk(TRACK_VIDEO, chunk),
        error: (e) => { this.counts.errors++; log(`publish: video encoder: ${e.message}`, true); },
      });
      this.videoEncoder.configure(await this.videoConfig());
      tracks.push({ kind: 'video', codec: 'h264', width: this.width, height: this.height, frame_rate: this.frameRate,
                    bit_rate: this.videoBitRate });
    }
    if (audioTrack) {
      const s = audioTrack.getSettings();
      this.sampleRate = 48000;
      this.channels = Math.min(2, s.channelCount || 1);
      this.audioEncoder = new AudioEncoder({
        output: (chunk) => this.sendChunk(TRACK_AUDIO, chunk),
        error: (e) => { this.counts.errors++; log(`publish: audio encoder: ${e.message}`, true); },
      });
      tracks.push({ kind: 'audio', codec: 'opus', sample_rate: this.sampleRate, channels: this.channels, bit_rate: 64000 });
    }
    this.tracks = tracks;
    const result = await this.room.socket.request('publish', { stream_id: this.streamID, tracks });
    this.handle = result.stream_handle;
    this.running = true;
    this.startWall = wallMicros();
    log(`publishing ${this.streamID} (${tracks.map((t) => t.codec).join(' + ')}, ${this.width}x${this.height})`);
    if (videoTrack) this.pump(videoTrack, (frame) => this.encodeVideo(frame));
    if (audioTrack) this.pump(audioTrack, (data) => this.encodeAudio(data));
    this.timer = setInterval(() => this.showStats(), 1000);
  }

  async videoConfig() {
    this.videoBitRate = this.width * this.height >= 1280 * 720 ? 2_000_000 : 1_000_000;
    for (const codec of ['avc1.42E028', 'avc1.42E01F', 'avc1.42001F']) {
      const config = { codec, width: this.width, height: this.height, bitrate: this.videoBitRate, framerate: this.frameRate,
                       latencyMode: 'realtime', avc: { format: 'annexb' } };
      const support = await VideoEncoder.isConfigSupported(config);
      if (support.supported) return config;
    }
    throw new Error(`this browser cannot encode H.264 at ${this.width}x${this.height}`);
  }

  // Reads a track's frames (MediaStreamTrackProcessor) until stopped.
  async pump(track, encode) {
    const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    this.readers = (this.readers || []).concat(reader);
    while (this.running) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!this.running) { value.close(); break; }
      try { encode(value); } catch (e) { this.counts.errors++; log(`publish: ${e.message}`, true); }
      value.close();
    }
  }

  encodeVideo(frame) {
    this.note(TRACK_VIDEO, frame.timestamp);
    if (this.videoEncoder.encodeQueueSize > 2) { this.counts.videoDropped++; this.wantKeyframe = true; return; }
    const keyFrame = this.wantKeyframe || this.frameCount % KEYFRAME_INTERVAL_FRAMES === 0;
    this.wantKeyframe = false;
    this.frameCount = keyFrame ? 1 : this.frameCount + 1;
    this.videoEncoder.encode(frame, { keyFrame });
  }

  encodeAudio(data) {
    this.note(TRACK_AUDIO, data.timestamp);
    if (this.audioEncoder.state === 'unconfigured') {
      this.sampleRate = data.sampleRate;
      this.audioEncoder.configure({ codec: 'opus', sampleRate: data.sampleRate, numberOfChannels: this.channels, bitrate: 64000 });
    }
    if (data.numberOfChannels !== this.channels) {
      // The encoder was told the track's channel count; a device that changes it mid-way is dropped, not mangled.
      return;
    }
    this.audioEncoder.encode(data);
  }

  // The first media timestamp of each track, against the wall clock: pts = wall time since the publish began.
  note(track, ts) {
    if (!this.bases.has(track)) this.bases.set(track, { ts, wall: wallMicros() });
  }

  sendChunk(track, chunk) {
    const base = this.bases.get(track);
    if (!base || this.handle === null) return;
    const pts = Math.max(0, base.wall - this.startWall + (chunk.timestamp - base.ts));
    const capture = this.startWall + pts;
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    const flags = chunk.type === 'key' ? FLAG_KEYFRAME : 0;
    if (this.room.socket && this.room.socket.sendMedia(this.handle, track, flags, pts, pts, capture, data)) {
      this.counts.bytes += data.byteLength;
      if (track === TRACK_VIDEO) this.counts.videoSent++; else this.counts.audioSent++;
    } else if (track === TRACK_VIDEO) {
      this.counts.videoDropped++;
      this.wantKeyframe = true;
    }
  }

  showStats() {
    const c = this.counts;
    $('publish-stats').textContent = `${this.streamID}: ${c.videoSent} video, ${c.audioSent} audio frames sent, ` +
      `${Math.round(c.bytes / 1024)} KiB, ${c.videoDropped} dropped`;
  }

  // After a reconnect: the same stream again (a resumed session keeps its handle), from a keyframe.
  async republish() {
    const result = await this.room.socket.request('publish', { stream_id: this.streamID, tracks: this.tracks });
    this.handle = result.stream_handle;
    this.wantKeyframe = true;
  }

  summary() { return { streamID: this.streamID, handle: this.handle, width: this.width, height: this.height, ...this.counts }; }

  async stop() {
    this.running = false;
    clearInterval(this.timer);
    for (const r of this.readers || []) r.cancel().catch(() => {});
    for (const c of [this.videoEncoder, this.audioEncoder]) { if (c && c.state !== 'closed') c.close(); }
    if (this.media) for (const t of this.media.getTracks()) t.stop();
    $('preview').srcObject = null;
    if (this.handle !== null && this.room.socket) {
      try { await this.room.socket.request('stop_publish', { stream_id: this.streamID }); } catch (e) { /* logged out */ }
    }
    this.handle = null;
  }
}

/** The same stream over WebRTC: the server answers the publish's sdp, the browser encodes and sends. */
export class WebRTCPublisher {
  constructor(room, streamID) {
    this.room = room;
    this.streamID = streamID;
    this.handle = null;
    this.wantKeyframe = false;   // the browser answers the server's PLI itself
    this.transport = 'webrtc';
    this.counts = { videoSent: 0, audioSent: 0, videoDropped: 0, bytes: 0, errors: 0 };
    this.stats = null;
  }

  async start() {
    const media = await captureCameraAndMicrophone();
    this.media = media;
    const tracks = [];
    const video = media.getVideoTracks()[0];
    if (video) {
      const s = video.getSettings();
      this.width = s.width || 640;
      this.height = s.height || 480;
      tracks.push({ kind: 'video', codec: 'h264', width: this.width, height: this.height, frame_rate: Math.round(s.frameRate || 30) });
    }
    if (media.getAudioTracks()[0]) tracks.push({ kind: 'audio', codec: 'opus', sample_rate: 48000, channels: 2 });
    this.tracks = tracks;
    await this.negotiate();
    log(`publishing ${this.streamID} over WebRTC (${tracks.map((t) => t.codec).join(' + ')}, ${this.width}x${this.height})`);
    this.timer = setInterval(() => this.poll(), 1000);
  }

  /** A peer connection for the media, its offer in the publish request (again after a reconnect). */
  async negotiate() {
    if (this.session) this.session.pc.close();
    const session = new WebRTCSession(null, {
      signal: async (sdp) => {
        const result = await this.room.socket.request('publish', { stream_id: this.streamID, tracks: this.tracks, sdp });
        this.handle = result.stream_handle;
        if (!result.sdp) throw new Error('the server takes no WebRTC media (it needs serve --udp)');
        return result.sdp;
      },
      onState: (s) => { if (s === 'failed') log(`publish ${this.streamID}: WebRTC connection failed`, true); },
    });
    this.session = session;
    await session.publish(this.media);
  }

  async poll() {
    if (!this.session) return;
    this.stats = await this.session.stats();
    const v = this.stats.video, a = this.stats.audio;
    this.counts.videoSent = v.framesSent || 0;
    this.counts.audioSent = a.packetsSent || 0;
    this.counts.bytes = (v.bytesSent || 0) + (a.bytesSent || 0);
    $('publish-stats').textContent = `${this.streamID} (WebRTC): ${this.counts.videoSent} video frames, ` +
      `${Math.round(this.counts.bytes / 1024)} KiB, ${v.width || '?'}x${v.height || '?'} at ${v.fps || 0} fps, ` +
      `${v.targetKbps === undefined ? '?' : Math.round(v.targetKbps)} kbit/s, rtt ${this.stats.rttMs === null ? '?' : Math.round(this.stats.rttMs)} ms`;
  }

  async republish() { await this.negotiate(); }

  summary() {
    return { streamID: this.streamID, handle: this.handle, transport: 'webrtc', width: this.width, height: this.height,
             ...this.counts, webrtc: this.stats };
  }

  async stop() {
    clearInterval(this.timer);
    if (this.session) this.session.pc.close();
    this.session = null;
    if (this.media) for (const t of this.media.getTracks()) t.stop();
    $('preview').srcObject = null;
    if (this.handle !== null && this.room.socket) {
      try { await this.room.socket.request('stop_publish', { stream_id: this.streamID }); } catch (e) { /* logged out */ }
    }
    this.handle = null;
  }
}
