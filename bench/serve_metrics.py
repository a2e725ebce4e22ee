#!/usr/bin/env python3
"""What serve's /metrics says about its fan-out, for the benches.

    serve_metrics.py snapshot URL            one JSON line: frames dropped and the video delay histogram
    serve_metrics.py delay BEFORE AFTER      p50/p99 (ms) of rtcbox_fanout_video_delay_seconds between two
                                              snapshots (files), interpolated inside the histogram's buckets
"""
import json
import sys
import urllib.request


def snapshot(url):
    dropped, buckets = 0.0, {}
    for line in urllib.request.urlopen(url, timeout=30).read().decode().splitlines():
        if line.startswith("rtcbox_frames_dropped_total"):
            dropped = float(line.split()[-1])
        elif line.startswith('rtcbox_fanout_video_delay_seconds_bucket{le="'):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[le] = float(line.split()[-1])
    return {"dropped": dropped, "buckets": buckets}


def quantile(before, after, q):
    """The q-quantile in ms of what was counted between two snapshots' cumulative buckets, or None."""
    bound = lambda le: float("inf") if le == "+Inf" else float(le)
    les = sorted(after, key=bound)
    counts = [after[le] - before.get(le, 0.0) for le in les]
    if not counts or counts[-1] <= 0:
        return None
    rank, lo, below = q * counts[-1], 0.0, 0.0
    for le, c in zip(les, counts):
        if c >= rank:
            hi = bound(le) if le != "+Inf" else lo
            return round((lo + (hi - lo) * ((rank - below) / max(c - below, 1e-9))) * 1000, 2)
        lo, below = bound(le), c
    return None


def delay(before, after):
    b0, b1 = before["buckets"], after["buckets"]
    return {"serve_video_delay_ms_p50": quantile(b0, b1, 0.5), "serve_video_delay_ms_p99": quantile(b0, b1, 0.99),
            "server_dropped_frames": int(after["dropped"] - before["dropped"])}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "snapshot":
        print(json.dumps(snapshot(sys.argv[2])))
    elif len(sys.argv) == 4 and sys.argv[1] == "delay":
        print(json.dumps(delay(*(json.load(open(p)) for p in sys.argv[2:]))))
    else:
        sys.exit(__doc__)
