// The rtcbox room page: logs into a room over the server's WebSocket (/ws), shows room, user and stream events,
// plays streams and publishes the camera and microphone (H.264 + Opus): over RTCPeerConnection where the
// server takes WebRTC (its default), else with WebCodecs over the WebSocket. ES modules served as
// they are (no build step, strict as every module), one concept each: common, connection, h264, player,
// publisher, room, and this one, the form. webrtc.js (WHIP/WHEP) is the WebRTC session, used by whip.html.

import { $, params, state, log, setStatus, chooseMode } from './common.js';
import { Publisher, WebRTCPublisher } from './publisher.js';
import { Room } from './room.js';

const room = new Room();
room.onLoggedIn = (loggedIn) => setControls(loggedIn);
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
  if (!state.loggedIn && !state.publisher && state.players.size === 0) state.webrtc = await chooseMode();
  $('mode').textContent = state.webrtc ? 'media: WebRTC' : 'media: WebCodecs over the WebSocket';
  if (!state.webrtc && typeof VideoDecoder === 'undefined') {
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
  const publisher = state.webrtc ? new WebRTCPublisher(room, streamID) : new Publisher(room, streamID);
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
