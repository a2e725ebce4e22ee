#!/usr/bin/env python3
"""An independent token04 (AES-256-GCM) implementation with PyCryptodome, used by the tests to check
rtcbox's tokens both ways. Written from the format's description, not from rtcbox's code.

  token04.py generate APP_ID USER_ID SECRET SECONDS [PAYLOAD]   prints a token
  token04.py open TOKEN SECRET                                  prints the plaintext JSON
"""
import base64
import json
import random
import string
import struct
import sys
import time

from Crypto.Cipher import AES


def generate(app_id, user_id, secret, seconds, payload=""):
    now = int(time.time())
    plain = json.dumps({
        "app_id": app_id, "user_id": user_id, "nonce": random.randint(0, 2**31 - 1),
        "ctime": now, "expire": now + seconds, "payload": payload,
    }, separators=(",", ":")).encode()
    nonce = "".join(random.choice(string.ascii_letters + string.digits) for _ in range(12)).encode()
    cipher = AES.new(secret.encode(), AES.MODE_GCM, nonce=nonce)
    body, tag = cipher.encrypt_and_digest(plain)
    sealed = body + tag
    blob = struct.pack(">qH", now + seconds, len(nonce)) + nonce + struct.pack(">H", len(sealed)) + sealed + b"\x01"
    return "04" + base64.b64encode(blob).decode()


def open_token(token, secret):
    assert token.startswith("04"), "no 04 prefix"
    blob = base64.b64decode(token[2:])
    expire, nonce_len = struct.unpack(">qH", blob[:10])
    nonce = blob[10:10 + nonce_len]
    (sealed_len,) = struct.unpack(">H", blob[10 + nonce_len:12 + nonce_len])
    sealed = blob[12 + nonce_len:12 + nonce_len + sealed_len]
    mode = blob[12 + nonce_len + sealed_len]
    assert mode == 1, "mode is not GCM"
    assert len(blob) == 13 + nonce_len + sealed_len, "trailing bytes"
    cipher = AES.new(secret.encode(), AES.MODE_GCM, nonce=nonce)
    plain = json.loads(cipher.decrypt_and_verify(sealed[:-16], sealed[-16:]))
    assert plain["expire"] == expire, "outer and inner expiry differ"
    return plain


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        payload = sys.argv[6] if len(sys.argv) > 6 else ""
        print(generate(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), payload))
    elif sys.argv[1] == "open":
        print(json.dumps(open_token(sys.argv[2], sys.argv[3]), separators=(",", ":")))
    else:
        sys.exit("usage: token04.py generate|open ...")
