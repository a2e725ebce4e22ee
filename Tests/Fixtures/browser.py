#!/usr/bin/env python3
"""Drives Debian's headless Chromium over the DevTools protocol, with nothing but the standard library.

    browser.py --url URL --until JS [--timeout S] [--eval JS] [--screenshot FILE] [--fake-media] [--insecure] [--log FILE]

Opens URL in a fresh headless Chromium (its own profile in a temp directory), polls the JavaScript
expression --until every 250 ms until it is truthy, then prints one JSON object on stdout:
{"ok": bool, "value": <--eval's value>, "console": [...], "exceptions": [...], "elapsed": s}.
With --screenshot the page is captured as PNG. Exit status: 0 when --until came true, 1 on timeout,
2 when Chromium could not be started. Chromium is stopped (and its profile removed) in every case.
"""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request


class WebSocket:
    """The client side of RFC 6455, enough for DevTools: text frames out (masked), any frames in."""

    def __init__(self, url, timeout=30, headers=None):
        assert url.startswith("ws://")
        rest = url[5:]
        hostport, path = rest.split("/", 1)
        host, port = hostport.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        request = (f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n")
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed during the handshake")
            response += chunk
        head, self.buffer = response.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(f"DevTools refused the WebSocket: {head[:200]!r}")

    def send_text(self, text):
        self._send(0x81, text.encode())

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def receive(self):
        """The next whole text message, reassembling fragments; None when the peer closes."""
        message = self.receive_message()
        return None if message is None else message[1].decode()

    def receive_message(self):
        """The next whole message as (opcode, bytes): 1 text, 2 binary; None when the peer closes."""
        parts = []
        first_opcode = None
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            opcode = b0 & 0x0F
            if opcode == 8:
                return None
            if opcode in (9, 10):
                continue
            if first_opcode is None:
                first_opcode = opcode
            parts.append(data)
            if b0 & 0x80:
                return first_opcode, b"".join(parts)

    def send_binary(self, payload):
        self._send(0x82, payload)

    def _send(self, first_byte, payload):
        header = bytes([first_byte])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class DevTools:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 1
        self.console = []
        self.exceptions = []

    def call(self, method, params=None, timeout=30):
        mid = self.next_id
        self.next_id += 1
        self.ws.send_text(json.dumps({"id": mid, "method": method, "params": params or {}}))
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.ws.receive()
            if text is None:
                raise ConnectionError("DevTools went away")
            msg = json.loads(text)
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._event(msg)
        raise TimeoutError(method)

    def _event(self, msg):
        method = msg.get("method")
        params = msg.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console.append(f"{params.get('type')}: {text}")
        elif method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            self.exceptions.append(d.get("exception", {}).get("description") or d.get("text"))
        elif method == "Log.entryAdded":
            e = params.get("entry", {})
            self.console.append(f"log.{e.get('level')} [{e.get('source')}] {e.get('text')}")

    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluate {expression[:80]}: {r['exceptionDetails'].get('text')}")
        return r.get("result", {}).get("value")


def launch(fake_media, log_file, insecure=False):
    profile = tempfile.mkdtemp(prefix="rtcbox-chromium-")
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        raise FileNotFoundError("chromium is not installed (apt-get install chromium)")
    args = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", f"--user-data-dir={profile}",
            "--window-size=1280,900", "--autoplay-policy=no-user-gesture-required", "--mute-audio",
            # a container's /dev/shm is often 64 MB: Chromium then stalls or crashes its renderers
            "--disable-dev-shm-usage"]
    if fake_media:
        args += ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    if insecure:
        args.append("--ignore-certificate-errors")  # a test's self-signed certificate
    # RTCBOX_CHROMIUM_ARGS: more switches for a diagnosis (e.g. --enable-logging=stderr --vmodule=...).
    args += os.environ.get("RTCBOX_CHROMIUM_ARGS", "").split()
    args.append("about:blank")
    log = open(log_file, "ab") if log_file else subprocess.DEVNULL
    proc = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode} before DevTools came up")
        if os.path.exists(port_file):
            lines = open(port_file).read().split()
            if lines:
                return proc, profile, int(lines[0])
        time.sleep(0.05)
    raise TimeoutError("DevTools did not come up within 30 s")


def stop(proc, profile):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    shutil.rmtree(profile, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--until", required=True)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--eval", default="null")
    ap.add_argument("--screenshot")
    ap.add_argument("--fake-media", action="store_true")
    ap.add_argument("--log")
    ap.add_argument("--insecure", action="store_true", help="accept a self-signed certificate")
    a = ap.parse_args()
    try:
        proc, profile, port = launch(a.fake_media, a.log, a.insecure)
    except Exception as e:  # noqa: BLE001 - any failure to start is reported the same way
        print(json.dumps({"ok": False, "error": str(e)}))
        return 2
    started = time.time()
    try:
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page = next(t for t in targets if t.get("type") == "page")
        dt = DevTools(WebSocket(page["webSocketDebuggerUrl"]))
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            dt.call(domain)
        dt.call("Page.navigate", {"url": a.url})
        ok = False
        while time.time() - started < a.timeout:
            try:
                if dt.evaluate(f"Boolean({a.until})"):
                    ok = True
                    break
            except RuntimeError:
                pass  # the page is still loading
            time.sleep(0.25)
        value = dt.evaluate(a.eval)
        if a.screenshot:
            shot = dt.call("Page.captureScreenshot", {"format": "png"})
            with open(a.screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        print(json.dumps({"ok": ok, "value": value, "console": dt.console, "exceptions": dt.exceptions,
                          "elapsed": round(time.time() - started, 3)}))
        dt.ws.close()
        return 0 if ok else 1
    finally:
        stop(proc, profile)


if __name__ == "__main__":
    sys.exit(main())
