#!/usr/bin/env python3
"""bench/loss_summary.py OUT: the table of bench/loss's runs (one row per scenario and system).

latency p50/p95/p99/max: g2g.py's figures (frames arriving after SKIP s); fps over the same window; freezes:
gaps between arriving frames longer than max(3 frame intervals, mean interval + 150 ms) after SKIP s, and the
longest gap. rtcbox over UDP also reports, from its events: the publisher's retransmitted share of the bytes
it sent (publisher_quality retransmitted_percent), and the player's video frames given up, freezes and audio
frames concealed (player_quality, cumulative).
"""
import csv, glob, json, os, statistics, sys

out = sys.argv[1]
SKIP = float(os.environ.get("SKIP", "5"))

def series(label):
    try:
        rows = list(csv.reader(open(os.path.join(out, label + ".csv"))))[1:]
    except OSError:
        return []
    return [(float(t), float(l)) for t, l in rows]

def freezes(s):
    late = [x for x in s if x[0] >= SKIP]
    if len(late) < 3:
        return "-"
    gaps = [b[0] - a[0] for a, b in zip(late, late[1:])]
    limit = max(3 / 30, statistics.mean(gaps) + 0.150)
    return f"{sum(1 for g in gaps if g > limit)} {max(gaps):.2f}s"

def last_event(label, kind, name):
    path = os.path.join(out, f"{label}-{kind}.jsonl")
    found = None
    if os.path.exists(path):
        for line in open(path):
            try:
                o = json.loads(line)
            except ValueError:
                continue
            if o.get("event") == name:
                found = o
    return found

def transport(label):
    pub, play = last_event(label, "pub", "media_transport"), last_event(label, "play", "media_transport")
    return "/".join(o["transport"] if o else "-" for o in (pub, play))

rows = []
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    label = os.path.basename(path)[:-5]
    try:
        r = json.loads(open(path).read().strip().splitlines()[-1])
    except (ValueError, IndexError):
        rows.append((label, None))
        continue
    rows.append((label, r))

print(f"{'run':<22} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6} {'fps':>5}  {'freezes':<10} extra")
for label, r in rows:
    if not r or "p50_ms" not in r:
        print(f"{label:<22} no result")
        continue
    extra = ""
    if label.endswith(("-udp", "-tcp", "-udp-nopace")):
        extra = f"transport {transport(label)}"
        pq = last_event(label, "pub", "publisher_quality") or {}
        vq = last_event(label, "play", "player_quality") or {}
        if "retransmitted_percent" in pq:
            extra += f"; rtx {pq['retransmitted_percent']}% of bytes"
        if "frames_given_up" in vq:
            extra += f"; given up {vq['frames_given_up']}, freezes {vq.get('freezes')}, audio concealed {vq.get('audio_concealed')}"
            if "audio_concealed_percent" in vq:
                extra += f" ({vq['audio_concealed_percent']}%), recovered by RED {vq.get('audio_recovered')}"
        if "frames_dropped" in vq:
            extra += f"; player dropped {vq['frames_dropped']}"
    print(f"{label:<22} {r['p50_ms']:6.0f} {r['p95_ms']:6.0f} {r['p99_ms']:6.0f} {r['max_ms']:6.0f} {r.get('fps', 0):5.1f}  "
          f"{freezes(series(label)):<10} {extra}")
