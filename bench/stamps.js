// bench/stamps.js: the anchors' pixel-stamp method (g2g.py) inside the room page, for bench/webrtc.
// One JavaScript function of the job; bench/webrtc calls it, `(FUNCTION)(JOB)`, as browser.py's --until,
// polled every 250 ms: it installs itself on the first call and is true when its job is done. The job:
//   { job: 'read', stream: 'cli', secs: 20 }    read the stamp of every frame the page shows
//   { job: 'stamp', stream: 'page', secs: 30 }  publish a canvas with the wall clock stamped in it
// The stamp is g2g.py's: 24 bits of (epoch ms mod 2^24) as 40x16 px blocks at the top left, bit 0 first,
// white for 1, and the inverted bits in the 16 px row below (a frame whose two rows disagree is "bad").
((BENCH) => {
  const B = window.__bench || (window.__bench = { latencies: [], bad: 0, frames: 0, started: null, error: null });
  const MOD = 1 << 24, BW = 40, BH = 16, BITS = 24;
  if (B.error) return true;
  if (!rtcbox.state.loggedIn) return false;

  if (BENCH.job === 'read') {
    const player = rtcbox.state.players.get(BENCH.stream);
    if (!player) return false;
    if (!B.installed) {
      B.installed = true;
      const canvas = document.createElement('canvas');
      canvas.width = BITS * BW; canvas.height = 2 * BH;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      const record = (source) => {
        const now = Date.now();
        ctx.drawImage(source, 0, 0, canvas.width, canvas.height, 0, 0, canvas.width, canvas.height);
        const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let stamp = 0;
        for (let k = 0; k < BITS; k++) {
          const x = k * BW + BW / 2;
          const top = px[((BH / 2) * canvas.width + x) * 4] > 128;
          const bottom = px[((BH + BH / 2) * canvas.width + x) * 4] > 128;
          if (top === bottom) { B.bad++; return; }
          if (top) stamp |= 1 << k;
        }
        B.frames++;
        if (B.started === null) B.started = performance.now();
        B.latencies.push({ t: (performance.now() - B.started) / 1000, ms: (((now % MOD) - stamp) % MOD + MOD) % MOD });
      };
      if (player.video) {
        // WebRTC: each frame the video element presents.
        const onFrame = () => { record(player.video); player.video.requestVideoFrameCallback(onFrame); };
        player.video.requestVideoFrameCallback(onFrame);
      } else {
        // WebCodecs: each decoded frame, right after the player draws it on its canvas.
        const draw = player.ctx.drawImage.bind(player.ctx);
        player.ctx.drawImage = (...args) => { draw(...args); record(player.canvas); };
      }
    }
    return B.started !== null && (performance.now() - B.started) / 1000 > BENCH.secs;
  }

  // job 'stamp': a 1280x720 canvas drawn at 60 Hz (a moving bar for the encoder, the stamp on top), published
  // by the page's own publisher (WebRTC or WebCodecs, as the page's mode) in place of the camera.
  if (!B.installed) {
    B.installed = true;
    const canvas = document.createElement('canvas');
    canvas.width = 1280; canvas.height = 720;
    const ctx = canvas.getContext('2d');
    let n = 0;
    const paint = () => {
      n++;
      ctx.fillStyle = '#336'; ctx.fillRect(0, 0, 1280, 720);
      ctx.fillStyle = '#c84'; ctx.fillRect((n * 8) % 1280, 200, 120, 400);
      const stamp = Date.now() % MOD;
      for (let k = 0; k < BITS; k++) {
        const bit = (stamp >> k) & 1;
        ctx.fillStyle = bit ? '#fff' : '#000'; ctx.fillRect(k * BW, 0, BW, BH);
        ctx.fillStyle = bit ? '#000' : '#fff'; ctx.fillRect(k * BW, BH, BW, BH);
      }
    };
    paint();
    B.timer = setInterval(paint, 1000 / 60);
    const stream = canvas.captureStream(30);
    for (const t of stream.getVideoTracks()) t.contentHint = 'detail';   // keep 1280x720: the stamp's size
    navigator.mediaDevices.getUserMedia = async () => stream;
    document.getElementById('publish-stream').value = BENCH.stream;
    document.getElementById('publish').click();
    B.started = performance.now();
  }
  return (performance.now() - B.started) / 1000 > BENCH.secs;
})
