#!/usr/bin/env python3
"""One small room subscriber per process, the counterpart of the anchors' `rtmpdump -o /dev/null`:
connects to `rtcbox serve`, sends hello, login and play, then writes everything it receives to /dev/null
(so its wchar in /proc counts the bytes it took) until killed.

    room_subscriber.py HOST:PORT ROOM STREAM USER [--stall]

With --stall it never reads after sending play (a stalled viewer): the server must drop its video to
keyframes and, after its limit, end it with slow_consumer (seen in the server's metrics); kill it after.
"""
import json
import os
import socket
import struct
import sys
import time


def frame(kind, payload):
    return struct.pack(">IB", len(payload) + 1, kind) + payload


def control(obj):
    return frame(0x02, json.dumps(obj, separators=(",", ":")).encode())


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    room, stream, user = sys.argv[2], sys.argv[3], sys.argv[4]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if "--stall" in sys.argv[5:]:
        # A small receive window, as on a congested link: without it loopback's autotuned buffer (up to
        # tcp_rmem's 6 MiB) takes ~25 s of a 2 Mbit/s stream before the server sees anything back up.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    s.connect((host, int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    hello = b"RTCB" + struct.pack(">HH", 1, 1) + json.dumps({"software": "room_subscriber"}).encode()
    s.sendall(frame(0x01, hello)
              + control({"type": "login", "id": 1, "app_id": 1, "room_id": room,
                         "user": {"user_id": user, "user_name": user}, "user_status": False})
              + control({"type": "play", "id": 2, "stream_id": stream}))
    if "--stall" in sys.argv[5:]:
        # Never reads again (the server's close cannot reach it either: it waits behind the unread media).
        while True:
            time.sleep(3600)
    sink = os.open(os.devnull, os.O_WRONLY)
    buf = bytearray(1 << 18)
    view = memoryview(buf)
    while True:
        n = s.recv_into(buf)
        if n == 0:
            return 1
        os.write(sink, view[:n])


if __name__ == "__main__":
    sys.exit(main())
