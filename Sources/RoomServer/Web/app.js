// The rtcbox room page: logs into a room over the server's WebSocket (/ws), shows room, user and stream events,
// plays streams with WebCodecs and publishes the camera and microphone (H.264 + Opus).
// The wire is the room protocol of docs/protocol.md: JSON control messages as text messages, media frames as
// binary messages (30-byte media header, then the payload). No build step: this file is served as it is.
'use strict';

const PROTOCOL_VERSION = 1;
const HEADER_SIZE = 30;
const TRACK_VIDEO = 0;
const TRACK_AUDIO = 1;
const FLAG_KEYFRAME = 1;
const FLAG_DISCONTINUITY = 2;
const KEYFRAME_INTERVAL_FRAMES = 60;
// As the CLI (RoomClient+Reconnect.swift): a ping every second, a connection quiet for 5 s is dead, a lost
// connection is retried for 60 s with backoff from 0.2 to 2 s, and what the server decided is final.
const DEAD_CONNECTION_MS = 5000;
const RECONNECT_TIMEOUT_MS = 60000;
const FINAL_REFUSALS = new Set(['token_invalid', 'token_expired', 'no_privilege', 'app_not_found', 'invalid_id',
                                'kicked_out', 'duplicate_stream', 'room_full']);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const wallMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

// What tests and curious users can read: window.rtcbox.stats().
const state = { loggedIn: false, reconnecting: false, events: [], errors: [], players: new Map(), publisher: null, room: null };
window.rtcbox = {
  state,
  stats() {
    const players = {};
    for (const [id, p] of state.players) players[id] = p.summary();
    return { loggedIn: state.loggedIn, reconnecting: state.reconnecting, room: state.room, events: state.events.slice(-200), errors: state.errors,
             players, publisher: state.publisher ? state.publisher.summary() : null };
  },
};

function log(text, isError) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toISOString().slice(11, 23)} ${text}`;
  if (isError) { li.className = 'error'; state.errors.push(text); }
  const list = $('log');
  list.appendChild(li);
  while (list.children.length > 500) list.removeChild(list.firstChild);
  list.scrollTop = list.scrollHeight;
}

function setStatus(text) { $('status').textContent = text; }

function median(values) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

function base64ToBytes(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The connection: hello, requests with ids, events, media frames.

class RoomSocket {
  constructor(url) {
    this.url = url;
    this.nextID = 1;
    this.pending = new Map();
    this.onEvent = () => {};
    this.onMedia = () => {};
    this.onClose = () => {};
    this.serverHello = null;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, ['rtcbox.v1']);
      ws.binaryType = 'arraybuffer';
      this.ws = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        ws.send(JSON.stringify({ type: 'hello', version: PROTOCOL_VERSION, minimum_version: PROTOCOL_VERSION,
                                 software: 'rtcbox-web/1' }));
      };
      ws.onmessage = (m) => {
        this.lastInbound = performance.now();
        if (typeof m.data !== 'string') { this.media(new Uint8Array(m.data)); return; }
        let msg;
        try { msg = JSON.parse(m.data); } catch (e) { log(`unreadable message: ${e}`, true); return; }
        if (msg.type === 'hello') { this.serverHello = msg; resolve(msg); return; }
        if (msg.type === 'error' && !this.serverHello) { reject(new Error(msg.message)); return; }
        this.control(msg);
      };
      ws.onerror = () => { if (!opened) reject(new Error(`cannot connect to ${this.url}`)); };
      ws.onclose = (e) => this.closed(e, () => {
        if (!opened || !this.serverHello) reject(new Error(`connection to ${this.url} closed (${e.code})`));
      });
    });
  }

  // Once per connection, from the socket's own close or from the liveness check giving up on it.
  closed(e, then) {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.liveness);
    for (const [, p] of this.pending) p.reject(new Error('connection closed'));
    this.pending.clear();
    if (then) then();
    this.onClose(e);
  }

  // A ping every second; a connection with no word from the server for DEAD_CONNECTION_MS is given up at once
  // (a dead link may take minutes to close by itself).
  startLiveness() {
    this.lastInbound = performance.now();
    this.liveness = setInterval(() => {
      if (performance.now() - this.lastInbound > DEAD_CONNECTION_MS) {
        try { this.ws.close(4000, 'no word from the server'); } catch (e) { /* closing already */ }
        this.closed({ code: 4000, reason: `no word from the server for ${DEAD_CONNECTION_MS / 1000} s` });
        return;
      }
      if (this.ws.readyState === WebSocket.OPEN) this.send('ping', { id: 0, time: wallMicros() });
    }, 1000);
  }

  control(msg) {
    if (msg.type === 'pong') return;
    if ((msg.type === 'result' || msg.type === 'error') && msg.id !== undefined && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.type === 'result') p.resolve(msg);
      else p.reject(Object.assign(new Error(`${msg.name}: ${msg.message}`), { code: msg.code, name: msg.name }));
      return;
    }
    this.onEvent(msg);
  }

  request(type, fields) {
    const id = this.nextID++;
    return new Promise((resolve, reject) => {
      if (this.isClosed || this.ws.readyState !== WebSocket.OPEN) { reject(new Error('connection closed')); return; }
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ type, id, ...fields }));
    });
  }

  send(type, fields) { this.ws.send(JSON.stringify({ type, ...fields })); }

  media(bytes) {
    if (bytes.length < HEADER_SIZE) return;
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const header = {
      handle: v.getUint32(0), track: v.getUint8(4), flags: v.getUint8(5),
      pts: Number(v.getBigInt64(6)), dts: Number(v.getBigInt64(14)), capture: Number(v.getBigUint64(22)),
    };
    this.onMedia(header, bytes.subarray(HEADER_SIZE));
  }

  sendMedia(handle, track, flags, pts, dts, capture, payload) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    // Backpressure: a publisher on a slow link drops rather than queueing seconds of media in the browser.
    if (this.ws.bufferedAmount > 4 << 20) return false;
    const bytes = new Uint8Array(HEADER_SIZE + payload.byteLength);
    const v = new DataView(bytes.buffer);
    v.setUint32(0, handle);
    v.setUint8(4, track);
    v.setUint8(5, flags);
    v.setBigInt64(6, BigInt(pts));
    v.setBigInt64(14, BigInt(dts));
    v.setBigUint64(22, BigInt(capture));
    bytes.set(payload, HEADER_SIZE);
    this.ws.send(bytes);
    return true;
  }

  close() { if (this.ws) this.ws.close(1000); }
}

// ---------------------------------------------------------------------------------------------------------------
// H.264 Annex-B: NAL units, the codec string and the colour description of an SPS.

function nalUnits(bytes) {
  const units = [];
  let i = 0, start = -1;
  while (i + 2 < bytes.length) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      if (start >= 0) units.push(bytes.subarray(start, i > 0 && bytes[i - 1] === 0 ? i - 1 : i));
      start = i + 3;
      i += 3;
    } else {
      i++;
    }
  }
  if (start >= 0) units.push(bytes.subarray(start));
  return units;
}

class BitReader {
  constructor(nal) {
    // Remove emulation prevention bytes (00 00 03).
    const out = [];
    for (let i = 0; i < nal.length; i++) {
      if (nal[i] === 3 && out.length >= 2 && out[out.length - 1] === 0 && out[out.length - 2] === 0) continue;
      out.push(nal[i]);
    }
    this.bytes = out;
    this.pos = 0;
  }
  bit() {
    if (this.pos >= this.bytes.length * 8) throw new Error('SPS ends early');
    const b = (this.bytes[this.pos >> 3] >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }
  bits(n) { let v = 0; for (let i = 0; i < n; i++) v = v * 2 + this.bit(); return v; }
  ue() { let z = 0; while (this.bit() === 0) { z++; if (z > 31) throw new Error('bad exp-Golomb'); } return (2 ** z - 1) + this.bits(z); }
  se() { const k = this.ue(); return k & 1 ? (k + 1) / 2 : -k / 2; }
}

const PRIMARIES = { 1: 'bt709', 5: 'bt470bg', 6: 'smpte170m', 9: 'bt2020', 12: 'smpte432' };
const TRANSFERS = { 1: 'bt709', 6: 'smpte170m', 8: 'linear', 13: 'iec61966-2-1', 16: 'pq', 18: 'hlg' };
const MATRICES = { 0: 'rgb', 1: 'bt709', 5: 'bt470bg', 6: 'smpte170m', 9: 'bt2020-ncl' };

// Returns { codec: 'avc1.PPCCLL', colorSpace: {...} | null } for an SPS NAL unit.
function parseSPS(sps) {
  const hex = (b) => b.toString(16).padStart(2, '0').toUpperCase();
  const result = { codec: `avc1.${hex(sps[1])}${hex(sps[2])}${hex(sps[3])}`, colorSpace: null };
  try {
    const r = new BitReader(sps.subarray(1));
    const profile = r.bits(8); r.bits(8); r.bits(8); r.ue();
    if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
      const chroma = r.ue();
      if (chroma === 3) r.bit();
      r.ue(); r.ue(); r.bit();
      if (r.bit()) {
        for (let i = 0; i < (chroma === 3 ? 12 : 8); i++) {
          if (!r.bit()) continue;
          let last = 8, next = 8;
          for (let j = 0; j < (i < 6 ? 16 : 64); j++) {
            if (next !== 0) next = (last + r.se() + 256) % 256;
            last = next === 0 ? last : next;
          }
        }
      }
    }
    r.ue();
    const pocType = r.ue();
    if (pocType === 0) r.ue();
    else if (pocType === 1) { r.bit(); r.se(); r.se(); const n = r.ue(); for (let i = 0; i < n; i++) r.se(); }
    r.ue(); r.bit(); r.ue(); r.ue();
    if (!r.bit()) r.bit();
    r.bit();
    if (r.bit()) { r.ue(); r.ue(); r.ue(); r.ue(); }
    if (!r.bit()) return result;                       // no VUI
    if (r.bit() && r.bits(8) === 255) r.bits(32);      // aspect ratio
    if (r.bit()) r.bit();                               // overscan
    if (!r.bit()) return result;                       // no video signal type
    r.bits(3);
    const fullRange = r.bit() === 1;
    if (!r.bit()) return result;                       // no colour description
    const p = r.bits(8), t = r.bits(8), m = r.bits(8);
    result.colorSpace = { primaries: PRIMARIES[p] || null, transfer: TRANSFERS[t] || null, matrix: MATRICES[m] || null, fullRange };
  } catch (e) {
    // An SPS this reader does not follow: the decoder still gets it, only the colour tags are unknown.
  }
  return result;
}

// Untagged streams are taken as BT.601 limited range, as ffmpeg and ffplay take them (Chromium would assume BT.709).
const UNTAGGED_COLOUR = { primaries: 'smpte170m', transfer: 'smpte170m', matrix: 'smpte170m', fullRange: false };

// ---------------------------------------------------------------------------------------------------------------
// Playing one stream: VideoDecoder on Annex-B, AudioDecoder (AAC or Opus) into Web Audio, stats.

class Player {
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
    const box = document.createElement('div');
    box.className = 'player';
    box.dataset.stream = this.streamID;
    const title = document.createElement('h3');
    title.textContent = this.streamID;
    const stop = document.createElement('button');
    stop.textContent = 'Stop';
    stop.onclick = () => this.room.stopPlay(this.streamID);
    title.appendChild(stop);
    this.canvas = document.createElement('canvas');
    this.canvas.width = 640;
    this.canvas.height = 360;
    this.ctx = this.canvas.getContext('2d');
    this.statsLine = document.createElement('div');
    this.statsLine.className = 'stats';
    this.statsLine.textContent = 'waiting for the stream';
    box.append(title, this.canvas, this.statsLine);
    $('players').appendChild(box);
    this.box = box;
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

  stopped() {
    this.handle = null;
    this.statsLine.textContent = 'the publisher stopped; waiting for it to come back';
  }

  close() {
    clearInterval(this.timer);
    for (const c of [this.videoDecoder, this.audioDecoder]) { if (c && c.state !== 'closed') c.close(); }
    if (this.audioContext) this.audioContext.close();
    this.box.remove();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Publishing the camera and microphone: VideoEncoder H.264 (Annex-B), AudioEncoder Opus.

class Publisher {
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
    const media = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      audio: { echoCancellation: true, noiseSuppression: true },
    });
    this.media = media;
    $('preview').srcObject = media;
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

// ---------------------------------------------------------------------------------------------------------------
// The room: login, events, the stream list.

class Room {
  constructor() {
    this.socket = null;
    this.streams = new Map();
    this.autoplay = params.get('autoplay') === '1';
  }

  async login(details) {
    this.details = details;
    this.sessionID = null;
    const { hello, result } = await this.connect();
    state.loggedIn = true;
    state.room = details.roomID;
    log(`logged into ${details.roomID} as ${details.userID} (${hello.software}); ${(result.users || []).length} other users, ` +
        `${(result.streams || []).length} streams live`);
    for (const u of result.users || []) this.record('room_user_update', { update_type: 'add', users: [u], initial: true });
    for (const s of result.streams || []) this.addStream(s, true);
    return result;
  }

  // One connection: the hello, then a login that resumes the session when there is one (a fresh AppSign
  // signature each time: it covers the server's nonce).
  async connect() {
    const { appID, roomID, userID, token, appSign } = this.details;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // Always the server that served this page: a link cannot send the token typed here anywhere else.
    const socket = new RoomSocket(`${scheme}//${location.host}/ws`);
    this.socket = socket;
    socket.onEvent = (m) => this.event(m);
    socket.onMedia = (h, payload) => {
      for (const p of state.players.values()) { if (p.handle === h.handle) { p.media(h, payload); return; } }
    };
    socket.onClose = (e) => { if (this.socket === socket) this.connectionLost(e); };
    const hello = await socket.connect();
    const request = { app_id: appID, room_id: roomID, user: { user_id: userID, user_name: userID }, user_status: true };
    if (token) request.token = token;
    if (appSign) request.signature = await signLogin(appSign, hello.nonce || '', appID, userID, roomID);
    if (this.sessionID) request.session_id = this.sessionID;
    const result = await socket.request('login', request);
    this.sessionID = result.session_id || this.sessionID;
    socket.startLiveness();
    return { hello, result };
  }

  // Closes the connection without treating its close as a loss (onClose only acts for the current socket).
  dropSocket() {
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
  }

  connectionLost(e) {
    const why = `${e.code}${e.reason ? ' ' + e.reason : ''}`;
    if (state.loggedIn && !state.loggingOut && !this.ended) { this.reconnect(`connection lost (${why})`); return; }
    log(`connection closed (${why})`, !state.loggingOut);
    this.loggedOut();
  }

  // Back into the room after a lost connection: the session resumed if the server still holds it, the stream
  // published again and every stream played again; the page's players and preview stay as they are.
  async reconnect(reason) {
    if (state.reconnecting) return;
    state.reconnecting = true;
    this.socket = null;
    const decoded = [...state.players.values()].reduce((n, p) => n + p.counts.videoDecoded, 0);
    this.record('reconnecting', { reason, decoded });
    log(`${reason}: reconnecting`, true);
    setStatus('reconnecting...');
    const deadline = Date.now() + RECONNECT_TIMEOUT_MS;
    let delay = 200, attempts = 0, last = reason;
    while (state.loggedIn && !state.loggingOut) {
      attempts++;
      try {
        const { result } = await this.connect();
        if (!state.loggedIn || state.loggingOut) { this.dropSocket(); return; }
        this.streams = new Map((result.streams || []).map((s) => [s.stream_id, s]));
        if (state.publisher) await state.publisher.republish();
        for (const id of [...state.players.keys()]) {
          try {
            await this.socket.request('play', { stream_id: id });
          } catch (e) {
            if (e.message === 'connection closed') throw e;
            log(`play ${id}: ${e.message}`, true);
            state.players.get(id).close();
            state.players.delete(id);
          }
        }
        this.renderStreams();
        state.reconnecting = false;
        this.record('reconnected', { resumed: result.resumed === true, attempts });
        log(`reconnected: ${result.resumed ? 'session resumed' : 'logged in again'} after ${attempts} attempt${attempts === 1 ? '' : 's'}`);
        setControls(true);
        return;
      } catch (e) {
        last = e.message;
        this.dropSocket();
        if (FINAL_REFUSALS.has(e.name)) break;
      }
      if (Date.now() + delay >= deadline) break;
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
    state.reconnecting = false;
    if (!state.loggedIn || state.loggingOut) return;
    this.record('reconnect_failed', { attempts, reason: last });
    log(`gave up reconnecting after ${attempts} attempts in ${RECONNECT_TIMEOUT_MS / 1000} s; the last: ${last}`, true);
    this.loggedOut();
  }

  record(type, detail) {
    state.events.push({ type, ...detail, at: Date.now() });
  }

  event(m) {
    switch (m.type) {
      case 'room_user_update':
        this.record(m.type, { update_type: m.update_type, users: m.users });
        log(`users ${m.update_type === 'add' ? 'joined' : 'left'}: ${m.users.map((u) => u.user_id).join(', ')}`);
        break;
      case 'room_stream_update':
        this.record(m.type, { update_type: m.update_type, streams: m.streams.map((s) => s.stream_id) });
        for (const s of m.streams) { if (m.update_type === 'add') this.addStream(s, false); else this.removeStream(s); }
        break;
      case 'play_started': {
        this.record(m.type, { stream_id: m.stream_id });
        const p = state.players.get(m.stream_id);
        if (p) p.started(m.stream_handle, m.stream);
        log(`playing ${m.stream_id} (${(m.stream.tracks || []).map((t) => t.codec).join(' + ')})`);
        break;
      }
      case 'play_stopped': {
        this.record(m.type, { stream_id: m.stream_id });
        const p = state.players.get(m.stream_id);
        if (p) p.stopped();
        log(`${m.stream_id} stopped: ${m.reason}`);
        break;
      }
      case 'keyframe_request':
        if (state.publisher && state.publisher.streamID === m.stream_id) state.publisher.wantKeyframe = true;
        break;
      case 'session_ended':
        this.ended = m.name;   // the server's decision: no reconnect after the close that follows
        this.record(m.type, { name: m.name });
        log(`session ended: ${m.name} (${m.reason})`, true);
        break;
      case 'broadcast_message':
        this.record(m.type, { from: m.from_user.user_id });
        log(`${m.from_user.user_id} says: ${m.message}`);
        break;
      case 'play_frames_dropped':
        // The server dropped frames this downlink could not take; the decoder waits for the keyframe anyway.
        break;
      case 'room_stream_tracks_update':
        // The picture follows from the keyframe's SPS/PPS (the decoder takes the new size); this says so.
        this.record(m.type, { streams: m.streams.map((s) => s.stream_id) });
        for (const s of m.streams) {
          const v = (s.tracks || []).find((t) => t.kind === 'video');
          if (v) log(`${s.stream_id} is now ${v.width}x${v.height} at ${v.frame_rate} fps`);
        }
        break;
      case 'token_will_expire':
        log(`the token expires in ${m.remaining_seconds} s`, true);
        break;
      default:
        this.record(m.type, {});
        log(`${m.type}`);
    }
  }

  addStream(s, initial) {
    this.record('stream_added', { stream_id: s.stream_id, user: s.user.user_id, initial });
    log(`stream added: ${s.stream_id} by ${s.user.user_id} (${s.tracks.map((t) => t.codec).join(' + ')})`);
    this.streams.set(s.stream_id, s);
    this.renderStreams();
    if (this.autoplay) this.play(s.stream_id);
  }

  removeStream(s) {
    log(`stream deleted: ${s.stream_id}`);
    this.streams.delete(s.stream_id);
    this.renderStreams();
  }

  renderStreams() {
    const list = $('streams');
    list.textContent = '';
    for (const [id, s] of this.streams) {
      const li = document.createElement('li');
      li.textContent = `${id} (${s.user.user_id}) `;
      const b = document.createElement('button');
      b.textContent = state.players.has(id) ? 'Stop' : 'Play';
      b.onclick = () => (state.players.has(id) ? this.stopPlay(id) : this.play(id));
      li.appendChild(b);
      list.appendChild(li);
    }
  }

  async play(streamID) {
    if (state.players.has(streamID)) return;
    const player = new Player(this, streamID);
    state.players.set(streamID, player);
    this.renderStreams();
    try {
      await this.socket.request('play', { stream_id: streamID });
    } catch (e) {
      log(`play ${streamID}: ${e.message}`, true);
      player.close();
      state.players.delete(streamID);
      this.renderStreams();
    }
  }

  async stopPlay(streamID) {
    const p = state.players.get(streamID);
    if (!p) return;
    state.players.delete(streamID);
    p.close();
    this.renderStreams();
    try { await this.socket.request('stop_play', { stream_id: streamID }); } catch (e) { /* gone already */ }
  }

  async logout() {
    state.loggingOut = true;
    if (state.publisher) await state.publisher.stop();
    if (this.socket) {
      try { await this.socket.request('logout', {}); } catch (e) { /* closed already */ }
      this.socket.close();
    }
    this.loggedOut();
    log('logged out');
  }

  loggedOut() {
    for (const p of state.players.values()) p.close();
    state.players.clear();
    if (state.publisher) { state.publisher.stop(); state.publisher = null; }
    this.streams.clear();
    this.renderStreams();
    state.loggedIn = false;
    state.loggingOut = false;
    this.ended = null;
    this.socket = null;
    setControls(false);
  }
}

// HMAC-SHA256 over the login details and the server's nonce (docs/protocol.md, Credentials).
async function signLogin(appSignHex, nonce, appID, userID, roomID) {
  if (!/^[0-9a-fA-F]{64}$/.test(appSignHex)) throw new Error('the AppSign must be 64 hex characters');
  const keyBytes = new Uint8Array(appSignHex.match(/../g).map((h) => parseInt(h, 16)));
  const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const text = `rtcbox-login-v1\n${nonce}\n${appID}\n${userID}\n${roomID}`;
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(text)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------------------------------------------------------
// The form.

const room = new Room();
window.rtcbox.logout = () => (state.loggedIn ? room.logout() : Promise.resolve());
// Closing the tab leaves the room at once (otherwise the server would keep the user for its reconnect grace).
window.addEventListener('pagehide', () => { if (room.socket) room.socket.send('logout', { id: 0 }); });

function setControls(loggedIn) {
  $('login').disabled = loggedIn;
  $('logout').disabled = !loggedIn;
  $('publish').disabled = !loggedIn;
  $('publish').textContent = 'Publish camera + microphone';
  setStatus(loggedIn ? `in room ${state.room}` : 'not logged in');
}

async function doLogin() {
  if (typeof VideoDecoder === 'undefined') {
    log('this page has no WebCodecs: open it over https, or on localhost / 127.0.0.1', true);
    return;
  }
  const details = {
    appID: Number($('app-id').value), roomID: $('room-id').value.trim(), userID: $('user-id').value.trim(),
    token: $('token').value.trim(), appSign: $('app-sign').value.trim(),
  };
  $('login').disabled = true;
  setStatus('logging in...');
  try {
    await room.login(details);
    setControls(true);
    const publish = params.get('publish');
    if (publish) { $('publish-stream').value = publish; await togglePublish(); }
  } catch (e) {
    log(`login failed: ${e.message}`, true);
    room.dropSocket();
    setControls(false);
  }
}

async function togglePublish() {
  if (state.publisher) {
    await state.publisher.stop();
    state.publisher = null;
    $('publish').textContent = 'Publish camera + microphone';
    return;
  }
  const streamID = $('publish-stream').value.trim() || `${$('user-id').value.trim()}-cam`;
  const publisher = new Publisher(room, streamID);
  state.publisher = publisher;
  $('publish').textContent = 'Stop publishing';
  try {
    await publisher.start();
  } catch (e) {
    log(`publish ${streamID}: ${e.message}`, true);
    await publisher.stop();
    state.publisher = null;
    $('publish').textContent = 'Publish camera + microphone';
  }
}

$('login-form').addEventListener('submit', (e) => { e.preventDefault(); doLogin(); });
$('logout').addEventListener('click', () => room.logout());
$('publish').addEventListener('click', () => togglePublish());

// Query parameters fill the form (?app=1&room=r1&user=web1&token=...&publish=cam&autoplay=1&autologin=1).
$('app-id').value = params.get('app') || '1';
$('room-id').value = params.get('room') || 'r1';
$('user-id').value = params.get('user') || `web-${Math.random().toString(36).slice(2, 8)}`;
$('token').value = params.get('token') || '';
$('app-sign').value = params.get('app_sign') || '';
if (params.get('autologin') === '1') doLogin();
