// The room: login (token, AppSign or none), events, the stream list, reconnect and resume.

import { RECONNECT_TIMEOUT_MS, FINAL_REFUSALS, sleep, $, params, state, log, setStatus } from './common.js';
import { RoomSocket } from './connection.js';
import { Player, WebRTCPlayer } from './player.js';

export class Room {
  constructor() {
    this.socket = null;
    // The form's: called with true when the room is (again) logged in, false when it is left for good.
    this.onLoggedIn = () => {};
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
            const player = state.players.get(id);
            if (player.request) await player.request(); else await this.socket.request('play', { stream_id: id });
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
        this.onLoggedIn(true);
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
    const player = state.webrtc ? new WebRTCPlayer(this, streamID) : new Player(this, streamID);
    state.players.set(streamID, player);
    this.renderStreams();
    try {
      if (player.request) await player.request(); else await this.socket.request('play', { stream_id: streamID });
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
    this.onLoggedIn(false);
  }
}

// HMAC-SHA256 over the login details and the server's nonce (docs/protocol.md, Credentials).
export async function signLogin(appSignHex, nonce, appID, userID, roomID) {
  if (!/^[0-9a-fA-F]{64}$/.test(appSignHex)) throw new Error('the AppSign must be 64 hex characters');
  const keyBytes = new Uint8Array(appSignHex.match(/../g).map((h) => parseInt(h, 16)));
  const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const text = `rtcbox-login-v1\n${nonce}\n${appID}\n${userID}\n${roomID}`;
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(text)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}
