// The room protocol over the server's WebSocket (/ws): hello, requests with ids, events, media frames
// (docs/protocol.md: JSON control messages as text messages, media frames as binary messages).

import { PROTOCOL_VERSION, HEADER_SIZE, SOUND_LEVEL_FLAG, DEAD_CONNECTION_MS, wallMicros, log } from './common.js';

export class RoomSocket {
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
    // Flag 0x08: a sound level byte (-dBov) follows the fixed header.
    let start = HEADER_SIZE;
    if (header.flags & SOUND_LEVEL_FLAG) {
      if (bytes.length < HEADER_SIZE + 1) return;
      header.soundLevel = bytes[HEADER_SIZE];
      start += 1;
    }
    this.onMedia(header, bytes.subarray(start));
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
