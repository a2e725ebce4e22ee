#!/usr/bin/env python3
"""Talks to `rtcbox serve --web` at the WebSocket level (no browser), printing one JSON object.

    ws_probe.py play URL ROOM STREAM SECONDS     hello, login, play; parses every media message for SECONDS
    ws_probe.py hello URL VERSION MINIMUM        sends a hello with these versions; prints the answer
    ws_probe.py upgrade URL [ORIGIN]             an upgrade request (with Origin); prints the HTTP status
"""
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import WebSocket  # noqa: E402

HELLO = {"type": "hello", "version": 1, "minimum_version": 1, "software": "ws_probe"}


def play(url, room, stream, seconds):
    ws = WebSocket(url)
    ws.send_text(json.dumps(HELLO))
    hello = json.loads(ws.receive())
    ws.send_text(json.dumps({"type": "login", "id": 1, "app_id": 1, "room_id": room,
                             "user": {"user_id": "wsprobe", "user_name": "wsprobe"}, "user_status": False}))
    ws.send_text(json.dumps({"type": "play", "id": 2, "stream_id": stream}))
    out = {"hello": hello, "handle": None, "video": 0, "audio": 0, "first_video_key": None, "handles": [],
           "pts_increasing": True, "max_latency_ms": 0, "results": []}
    last_pts = {}
    deadline = None
    ws.sock.settimeout(10)
    while deadline is None or time.time() < deadline:
        message = ws.receive_message()
        if message is None:
            break
        opcode, data = message
        if opcode == 1:
            msg = json.loads(data)
            if msg["type"] == "play_started":
                out["handle"] = msg["stream_handle"]
                deadline = time.time() + seconds
            elif msg["type"] in ("result", "error"):
                out["results"].append(msg)
            continue
        handle, track, flags, pts, dts, capture = struct.unpack(">IBBqqQ", data[:30])
        if handle not in out["handles"]:
            out["handles"].append(handle)
        if track == 0:
            if out["first_video_key"] is None:
                out["first_video_key"] = bool(flags & 1)
            out["video"] += 1
            # An Annex-B start code in front of every video payload.
            out["annexb"] = out.get("annexb", True) and (data[30:34] == b"\0\0\0\1" or data[30:33] == b"\0\0\1")
        else:
            out["audio"] += 1
        if track in last_pts and dts <= last_pts[track]:
            out["pts_increasing"] = False
        last_pts[track] = dts
        out["max_latency_ms"] = max(out["max_latency_ms"], (time.time() * 1e6 - capture) / 1000)
    ws.close()
    return out


def hello(url, version, minimum):
    ws = WebSocket(url)
    ws.send_text(json.dumps({"type": "hello", "version": int(version), "minimum_version": int(minimum), "software": "old"}))
    server = json.loads(ws.receive())
    answer = ws.receive()
    closed = ws.receive_message() is None
    return {"server": server, "answer": json.loads(answer) if answer else None, "closed": closed}


def upgrade(url, origin=None):
    hostport = url[5:].split("/", 1)[0]
    host, port = hostport.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    request = (f"GET /ws HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
    if origin:
        request += f"Origin: {origin}\r\n"
    s.sendall((request + "\r\n").encode())
    status = s.recv(4096).split(b"\r\n")[0].decode()
    s.close()
    return {"status": int(status.split()[1])}


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "play":
        result = play(args[0], args[1], args[2], float(args[3]))
    elif command == "hello":
        result = hello(*args)
    else:
        result = upgrade(*args)
    print(json.dumps(result))
