// The room page's shared pieces: the room protocol's constants, the page's state (window.rtcbox), the log.

export const PROTOCOL_VERSION = 1;
export const HEADER_SIZE = 30;
export const SOUND_LEVEL_FLAG = 0x08;
export const TRACK_VIDEO = 0;
export const TRACK_AUDIO = 1;
export const FLAG_KEYFRAME = 1;
export const FLAG_DISCONTINUITY = 2;
export const KEYFRAME_INTERVAL_FRAMES = 60;
// As the CLI (RoomClient+Reconnect.swift): a ping every second, a connection quiet for 5 s is dead, a lost
// connection is retried for 60 s with backoff from 0.2 to 2 s, and what the server decided is final.
export const DEAD_CONNECTION_MS = 5000;
export const RECONNECT_TIMEOUT_MS = 60000;
export const FINAL_REFUSALS = new Set(['token_invalid', 'token_expired', 'no_privilege', 'app_not_found', 'invalid_id',
                                'kicked_out', 'duplicate_stream', 'room_full']);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const $ = (id) => document.getElementById(id);
export const params = new URLSearchParams(location.search);
export const wallMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

// What tests and curious users can read: window.rtcbox.stats().
// webrtc: media over RTCPeerConnection instead of WebCodecs over the WebSocket; chooseMode sets it at login.
export const state = { loggedIn: false, reconnecting: false, events: [], errors: [], players: new Map(), publisher: null, room: null,
                       webrtc: false };

/**
 * The page's media path: WebRTC where the browser has RTCPeerConnection and the server takes WebRTC media
 * (its /server.json: serve --udp), else WebCodecs over the room's WebSocket. ?mode=webcodecs or ?mode=webrtc
 * decides instead (webrtc still needs RTCPeerConnection).
 */
export async function chooseMode() {
  const asked = params.get('mode');
  if (asked === 'webcodecs' || typeof RTCPeerConnection === 'undefined') return false;
  if (asked === 'webrtc') return true;
  try {
    const response = await fetch('server.json', { cache: 'no-store' });
    return response.ok && (await response.json()).webrtc === true;
  } catch (e) {
    return false;
  }
}
window.rtcbox = {
  state,
  stats() {
    const players = {};
    for (const [id, p] of state.players) players[id] = p.summary();
    return { mode: state.webrtc ? 'webrtc' : 'webcodecs', loggedIn: state.loggedIn, reconnecting: state.reconnecting, room: state.room, events: state.events.slice(-200), errors: state.errors,
             players, publisher: state.publisher ? state.publisher.summary() : null };
  },
};

export function log(text, isError) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toISOString().slice(11, 23)} ${text}`;
  if (isError) { li.className = 'error'; state.errors.push(text); }
  const list = $('log');
  list.appendChild(li);
  while (list.children.length > 500) list.removeChild(list.firstChild);
  list.scrollTop = list.scrollHeight;
}

export function setStatus(text) { $('status').textContent = text; }

export function median(values) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

export function base64ToBytes(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
