// Playing one stream: with WebCodecs from the WebSocket (VideoDecoder on Annex-B, AudioDecoder for AAC or Opus
// into Web Audio), or over WebRTC (RTCPeerConnection into a <video>, the offer in the play's sdp); stats for both.

import { TRACK_VIDEO, TRACK_AUDIO, FLAG_KEYFRAME, $, wallMicros, log, median, base64ToBytes } from './common.js';
import { nalUnits, parseSPS, UNTAGGED_COLOUR } from './h264.js';
import { WebRTCSession } from './webrtc.js';

/** A player's box in the page, either kind: its title with a Stop button, its picture, its stats line. */
function buildPlayerView(player, title, picture) {
  const box = document.createElement('div');
  box.className = 'player';
  box.dataset.stream = player.streamID;
  const heading = document.createElement('h3');
  heading.textContent = title;
  const stop = document.createElement('button');
  stop.textContent = 'Stop';
  stop.onclick = () => player.room.stopPlay(player.streamID);
  heading.appendChild(stop);
  player.statsLine = document.createElement('div');
  player.statsLine.className = 'stats';
  player.statsLine.textContent = 'waiting for the stream';
  box.append(heading, picture, player.statsLine);
  $('players').appendChild(box);
  player.box = box;
}

/** The stream ended (play_stopped): the player waits for it to come back. */
function playerStopped(player) {
  player.handle = null;
  player.statsLine.textContent = 'the publisher stopped; waiting for it to come back';
}

export class Player {
  constructor(room, streamID) {
    this.room = room;
    this.streamID = streamID;
    this.handle = null;
    this.tracks = [];
    this.videoDecoder = null;
    this.videoConfigured = false;
    this.audioDecoder = null;
    this.audioContext = null;
    this.playhead = 0;
    this.captureByPts = new Map();
    this.counts = { videoIn: 0, videoDecoded: 0, videoDropped: 0, audioIn: 0, audioDecoded: 0, bytes: 0, errors: 0 };
    this.latencies = [];
    this.window = { frames: 0, bytes: 0, latencies: [], since: performance.now() };
    this.firstFrameAt = null;
    this.requestedAt = performance.now();
    this.keyframeAsked = 0;
    this.buildView();
    this.timer = setInterval(() => this.tick(), 1000);
  }

  buildView() {
    this.canvas = document.createElement('canvas');
    this.canvas.width = 640;
    this.canvas.height = 360;
    this.ctx = this.canvas.getContext('2d');
    buildPlayerView(this, this.streamID, this.canvas);
  }

  started(handle, stream) {
    this.handle = handle;
    this.tracks = stream.tracks || [];
    this.videoConfigured = false;   // a (re)started stream configures again at its next keyframe
    const audio = this.tracks.find((t) => t.kind === 'audio');
    if (audio) this.configureAudio(audio);
    if (!this.tracks.some((t) => t.kind === 'video')) this.canvas.style.display = 'none';
  }

  configureAudio(track) {
    if (this.audioDecoder) { try { this.audioDecoder.close(); } catch (e) { /* closed already */ } }
    const config = { sampleRate: track.sample_rate || 48000, numberOfChannels: track.channels || 2 };
    if (track.codec === 'aac') {
      config.codec = 'mp4a.40.2';
      if (track.extradata) config.description = base64ToBytes(track.extradata);
    } else if (track.codec === 'opus') {
      config.codec = 'opus';
    } else {
      log(`${this.streamID}: audio codec ${track.codec} is not played here`, true);
      return;
    }
    this.audioDecoder = new AudioDecoder({
      output: (data) => this.playAudio(data),
      error: (e) => { this.counts.errors++; log(`${this.streamID}: audio decoder: ${e.message}`, true); },
    });
    this.audioDecoder.configure(config);
    if (!this.audioContext) {
      this.audioContext = new AudioContext({ latencyHint: 'interactive' });
      this.audioContext.resume().catch(() => {});
    }
  }

  configureVideo(keyframe) {
    const sps = nalUnits(keyframe).find((n) => (n[0] & 0x1f) === 7);
    if (!sps) return false;
    const info = parseSPS(sps);
    if (!this.videoDecoder) {
      this.videoDecoder = new VideoDecoder({
        output: (frame) => this.drawFrame(frame),
        error: (e) => { this.counts.errors++; log(`${this.streamID}: video decoder: ${e.message}`, true); this.videoConfigured = false; },
      });
    }
    const config = { codec: info.codec, optimizeForLatency: true, hardwareAcceleration: 'no-preference' };
    if (!info.colorSpace) config.colorSpace = UNTAGGED_COLOUR;
    this.videoDecoder.configure(config);
    this.videoConfigured = true;
    return true;
  }

  media(h, payload) {
    this.counts.bytes += payload.byteLength;
    this.window.bytes += payload.byteLength;
    if (h.track === TRACK_VIDEO) {
      this.counts.videoIn++;
      const key = (h.flags & FLAG_KEYFRAME) !== 0;
      // A decoder that falls behind for good (a slow machine, a background tab) skips to the next keyframe rather
      // than showing ever older frames. The bound is above a whole cached GOP (60 frames at 30 fps, 2 s), which
      // a joiner gets at once and decodes in a fraction of a second.
      if (this.videoConfigured && !key && this.videoDecoder.decodeQueueSize > 120) this.skipToKeyframe = true;
      if (this.skipToKeyframe && !key) { this.counts.videoDropped++; this.askKeyframe(); return; }
      this.skipToKeyframe = false;
      if (!this.videoConfigured || this.videoDecoder.state !== 'configured') {
        // Wait for a keyframe (a delta first would throw); ask for one at most once a second.
        if (!key || !this.configureVideo(payload)) {
          this.counts.videoDropped++;
          this.askKeyframe();
          return;
        }
      }
      this.captureByPts.set(h.pts, h.capture);
      if (this.captureByPts.size > 300) this.captureByPts.delete(this.captureByPts.keys().next().value);
      try {
        this.videoDecoder.decode(new EncodedVideoChunk({ type: key ? 'key' : 'delta', timestamp: h.pts, data: payload }));
      } catch (e) {
        this.counts.errors++;
        this.videoConfigured = false;
        log(`${this.streamID}: decode: ${e.message}`, true);
      }
    } else if (h.track === TRACK_AUDIO && this.audioDecoder && this.audioDecoder.state === 'configured') {
      this.counts.audioIn++;
      this.audioDecoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: h.pts, data: payload }));
    }
  }

  // Asks the publisher for a keyframe, at most once a second (the server limits it the same way).
  askKeyframe() {
    if (performance.now() - this.keyframeAsked < 1000) return;
    this.keyframeAsked = performance.now();
    if (this.room.socket) this.room.socket.send('request_keyframe', { stream_id: this.streamID });
  }

  drawFrame(frame) {
    const capture = this.captureByPts.get(frame.timestamp);
    this.captureByPts.delete(frame.timestamp);
    if (capture) {
      const ms = (wallMicros() - capture) / 1000;
      this.latencies.push(ms);
      if (this.latencies.length > 10000) this.latencies.shift();
      this.window.latencies.push(ms);
    }
    const w = frame.displayWidth, h = frame.displayHeight;
    if (this.canvas.width !== w || this.canvas.height !== h) { this.canvas.width = w; this.canvas.height = h; }
    this.ctx.drawImage(frame, 0, 0, w, h);
    frame.close();
    if (this.firstFrameAt === null) {
      this.firstFrameAt = performance.now();
      log(`${this.streamID}: first frame ${w}x${h} after ${Math.round(this.firstFrameAt - this.requestedAt)} ms`);
    }
    this.counts.videoDecoded++;
    this.window.frames++;
  }

  playAudio(data) {
    this.counts.audioDecoded++;
    const ctx = this.audioContext;
    if (!ctx || data.numberOfFrames === 0) { data.close(); return; }
    const buffer = ctx.createBuffer(data.numberOfChannels, data.numberOfFrames, data.sampleRate);
    for (let c = 0; c < data.numberOfChannels; c++) {
      const plane = new Float32Array(data.numberOfFrames);
      data.copyTo(plane, { planeIndex: c, format: 'f32-planar' });
      buffer.copyToChannel(plane, c);
    }
    data.close();
    // A small jitter buffer: start 60 ms ahead; if playback fell behind, start again from now.
    const now = ctx.currentTime;
    if (this.playhead < now + 0.01 || this.playhead > now + 0.5) this.playhead = now + 0.06;
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(ctx.destination);
    source.start(this.playhead);
    this.playhead += buffer.duration;
  }

  tick() {
    const now = performance.now();
    const seconds = (now - this.window.since) / 1000;
    const fps = this.window.frames / seconds;
    const kbps = this.window.bytes * 8 / 1000 / seconds;
    const p50 = median(this.window.latencies);
    this.last = { fps, kbps, latency: p50 };
    this.window = { frames: 0, bytes: 0, latencies: [], since: now };
    if (this.handle === null) return;
    this.statsLine.textContent = `${fps.toFixed(1)} fps  ${Math.round(kbps)} kbit/s  latency ${p50 === null ? '-' : p50.toFixed(0) + ' ms'}` +
      `  decoded ${this.counts.videoDecoded}/${this.counts.videoIn} video, ${this.counts.audioDecoded} audio`;
  }

  summary() {
    return { handle: this.handle, tracks: this.tracks, ...this.counts, latencyP50: median(this.latencies),
             latencies: this.latencies.slice(-600), last: this.last || null,
             firstFrameMs: this.firstFrameAt === null ? null : this.firstFrameAt - this.requestedAt };
  }

  stopped() { playerStopped(this); }

  close() {
    clearInterval(this.timer);
    for (const c of [this.videoDecoder, this.audioDecoder]) { if (c && c.state !== 'closed') c.close(); }
    if (this.audioContext) this.audioContext.close();
    this.box.remove();
  }
}

/** A stream played over WebRTC: the server answers the play's sdp and sends H.264 and (Opus) audio over UDP. */
export class WebRTCPlayer {
  constructor(room, streamID) {
    this.room = room;
    this.streamID = streamID;
    this.handle = null;
    this.tracks = [];
    this.transport = 'webrtc';
    this.counts = { videoIn: 0, videoDecoded: 0, videoDropped: 0, audioIn: 0, audioDecoded: 0, bytes: 0, errors: 0 };
    this.latencies = [];
    this.stats = null;
    this.firstFrameAt = null;
    this.requestedAt = performance.now();
    this.video = document.createElement('video');
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.muted = true;   // autoplay; the page's own audio choice is the browser's
    buildPlayerView(this, `${streamID} (WebRTC)`, this.video);
    this.windowLatencies = [];
    this.watchFrames();
    this.timer = setInterval(() => this.tick(), 1000);
  }

  /**
   * Latency, capture to shown: for each frame the <video> presents (requestVideoFrameCallback, with its RTP
   * timestamp), the publisher's capture time of that frame from abs-capture-time, which the video receiver's
   * getSynchronizationSources reports for the frames it delivers (NTP time; same machine, same clock as the
   * page's). Frames whose capture time was not seen are left out; none without abs-capture-time.
   */
  watchFrames() {
    if (typeof this.video.requestVideoFrameCallback !== 'function') return;
    const NTP_TO_UNIX_MS = 2208988800000;
    const captures = new Map();   // RTP timestamp -> capture time, Unix ms
    const onFrame = (now, meta) => {
      const receiver = this.session && this.session.pc.getReceivers().find((r) => r.track && r.track.kind === 'video');
      for (const source of receiver ? receiver.getSynchronizationSources() : []) {
        if (source.captureTimestamp) captures.set(source.rtpTimestamp, source.captureTimestamp - NTP_TO_UNIX_MS);
      }
      while (captures.size > 64) captures.delete(captures.keys().next().value);
      const capture = captures.get(meta.rtpTimestamp);
      if (capture !== undefined) {
        const ms = performance.timeOrigin + (meta.presentationTime || now) - capture;
        if (ms > -1000 && ms < 60000) {
          this.latencies.push(ms);
          if (this.latencies.length > 10000) this.latencies.shift();
          this.windowLatencies.push(ms);
        }
      }
      if (this.video) this.video.requestVideoFrameCallback(onFrame);
    };
    this.video.requestVideoFrameCallback(onFrame);
  }

  /** The play request, with an offer (again after a reconnect: a new peer connection). */
  async request() {
    if (this.session) this.session.pc.close();
    const session = new WebRTCSession(null, {
      signal: async (sdp) => {
        const result = await this.room.socket.request('play', { stream_id: this.streamID, sdp });
        if (!result.sdp) throw new Error('the server takes no WebRTC media (it needs serve --udp)');
        return result.sdp;
      },
    });
    this.session = session;
    await session.play((remote) => { if (this.video.srcObject !== remote) this.video.srcObject = remote; });
  }

  started(handle, stream) {
    this.handle = handle;
    this.tracks = stream.tracks || [];
  }

  media() { /* frames come over UDP, to the peer connection */ }

  async tick() {
    if (!this.session) return;
    const s = await this.session.stats();
    const previous = this.stats;
    this.stats = s;
    this.statsAt = performance.now();   // when these counts were true (rates over a window use it)
    const v = s.video, a = s.audio;
    this.counts.videoIn = v.framesReceived || 0;
    this.counts.videoDecoded = v.framesDecoded || 0;
    this.counts.audioIn = a.packetsReceived || 0;
    this.counts.bytes = (v.bytesReceived || 0) + (a.bytesReceived || 0);
    if (this.firstFrameAt === null && this.counts.videoDecoded > 0) this.firstFrameAt = performance.now();
    const kbps = previous ? ((this.counts.bytes - (previous.video.bytesReceived || 0) - (previous.audio.bytesReceived || 0)) * 8) / 1000 : 0;
    const latency = median(this.windowLatencies);
    this.windowLatencies = [];
    this.last = { fps: v.fps || 0, kbps, latency, rttMs: s.rttMs, lost: (v.packetsLost || 0) + (a.packetsLost || 0) };
    this.statsLine.textContent = `${(v.fps || 0).toFixed(0)} fps  ${Math.round(kbps)} kbit/s  latency ${latency === null ? '-' : latency.toFixed(0) + ' ms'}` +
      `  rtt ${s.rttMs === null ? '-' : Math.round(s.rttMs) + ' ms'}` +
      `  lost ${this.last.lost}  decoded ${this.counts.videoDecoded} video (${v.width || '?'}x${v.height || '?'})`;
  }

  summary() {
    return { handle: this.handle, tracks: this.tracks, transport: 'webrtc', ...this.counts, statsAt: this.statsAt || null,
             latencyP50: median(this.latencies), latencies: this.latencies.slice(-600),
             last: this.last || null, webrtc: this.stats,
             firstFrameMs: this.firstFrameAt === null ? null : this.firstFrameAt - this.requestedAt };
  }

  stopped() { playerStopped(this); }

  close() {
    clearInterval(this.timer);
    if (this.session) this.session.pc.close();
    this.session = null;
    this.box.remove();
  }
}
