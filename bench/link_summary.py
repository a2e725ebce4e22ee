#!/usr/bin/env python3
"""bench/link_summary.py OUT: the table of bench/link's runs (one row per scenario and system).

latency p50/p95/p99/max: g2g.py's figures (frames arriving after SKIP s); fps over the same window; freezes:
gaps between arriving frames longer than max(3 frame intervals, mean interval + 150 ms), over the whole run and
after SKIP s, and the longest gap.
step: 'down ok' is how long after the step down until every later frame of the low period is <= 400 ms
late; 'up 90%' how long after the step up until traffic control's target is >= 90 % of 2 Mbit/s (rtcbox).
outage: 'back' is how long after the link came back until frames are <= 400 ms late again.
"""
import csv, glob, json, os, statistics, sys

out = sys.argv[1]

def series(label):
    try:
        rows = list(csv.reader(open(os.path.join(out, label + ".csv"))))[1:]
    except OSError:
        return []
    return [(float(t), float(l)) for t, l in rows]

def epoch(label, kind):
    try:
        return float(open(os.path.join(out, f"{label}.{kind}")).read())
    except OSError:
        return None

SKIP = float(os.environ.get("SKIP", "10"))

def freezes(s):
    """Freezes over the whole run / after SKIP s, and the longest gap (s)."""
    if len(s) < 3:
        return "-"
    gaps = [(b[0], b[0] - a[0]) for a, b in zip(s, s[1:])]
    limit = max(3 / 30, statistics.mean(g for _, g in gaps) + 0.150)
    frozen = [(t, g) for t, g in gaps if g > limit]
    late = [g for t, g in frozen if t >= SKIP]
    return f"{len(frozen)}/{len(late)} {max((g for _, g in gaps), default=0):.1f}s"

def settle(s, start, end, bound=400):
    """Seconds from `start` until every frame up to `end` is <= bound ms late."""
    late = [t for t, l in s if start <= t < end and l > bound]
    return max(0.0, (max(late) - start)) if late else 0.0

def target_back(label, at, want=1_800):
    path = os.path.join(out, label + "-pub.jsonl")
    if not os.path.exists(path):
        return None
    for line in open(path):
        o = json.loads(line)
        if o.get("event") == "traffic_control" and o["ts"] >= at and o.get("video_kbps", 0) >= want:
            return o["ts"] - at
    return None

def target_median(label, since):
    """The median video bit rate traffic control asked for (publisher_quality's target_kbps) after `since`."""
    path = os.path.join(out, label + "-pub.jsonl")
    if not os.path.exists(path):
        return None
    rates = sorted(o["target_kbps"] for o in map(json.loads, open(path))
                   if o.get("event") == "publisher_quality" and o["ts"] >= since and "target_kbps" in o)
    return rates[len(rates) // 2] if rates else None

print(f"{'scenario':8} {'system':6} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6} {'fps':>5} {'freezes all/late, longest':>26}  notes")
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    label = os.path.basename(path)[:-5]
    scenario, system = label.split("-", 1)
    try:
        r = json.loads(open(path).read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        print(f"{scenario:8} {system:6}  no result")
        continue
    s = series(label)
    notes = []
    impair, recv = epoch(label, "impair"), epoch(label, "recv")
    offset = (impair - recv) if impair and recv else 0.0
    if scenario == "step" and s:
        notes.append(f"down ok {settle(s, offset + 8, offset + 16):.1f} s")
        if impair:
            back = target_back(label, impair + 16)
            if back is not None:
                notes.append(f"up 90% {back:.1f} s")
            elif system in ("own",):
                notes.append("up 90% not within the run")
    if system == "own" and impair:
        rate = target_median(label, impair + float(os.environ.get("SKIP", 10)))
        if rate is not None:
            notes.append(f"target {rate:.0f} kbit/s")
    if scenario == "outage" and s:
        notes.append(f"back {settle(s, offset + 13, offset + 60):.1f} s")
    f = lambda k: f"{r.get(k, float('nan')):6.0f}"
    print(f"{scenario:8} {system:6} {f('p50_ms')} {f('p95_ms')} {f('p99_ms')} {f('max_ms')} {r.get('fps', 0):5.1f} "
          f"{freezes(s):>26}  {', '.join(notes)}")
