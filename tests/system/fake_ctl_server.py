#!/usr/bin/env python3
"""A fake Mayfly control server on a Unix socket, for testing mfctl.

    fake_ctl_server.py SOCKET MODE [KEY_HEX]

It speaks the frame format of include/mayfly/control.h (header, payload,
optional HMAC-SHA-256 over nonce || header || payload) and answers every
HELLO and request at once, one connection after another, until killed.
MODE says how it lies:

  noauth-ok       HELLO says no authentication is needed; every request is
                  answered with success, unsigned
  auth-unsigned   HELLO asks for authentication; successes come unsigned
  auth-refuse     HELLO asks for authentication; refusals come unsigned
  auth-wrongkey   HELLO asks for authentication; successes are signed
                  with another key than KEY_HEX
  auth-good       a well-behaved keyed server (signs with KEY_HEX), so the
                  test can tell the fake works

It prints "listening" once the socket is bound, and one line per request
it answered.
"""
import hashlib
import hmac
import os
import socket
import struct
import sys
import zlib

MAGIC = 0x4C54434D
VERSION = 1
REPLY = 0x80
F_AUTH = 1
HEADER = struct.Struct("<IBBHIIII")
HELLO = 1


def frame(ftype, seq, payload, key=None, nonce=None):
    flags = F_AUTH if key is not None else 0
    head = HEADER.pack(MAGIC, VERSION, ftype, flags, seq, len(payload), 0, 0)
    crc = zlib.crc32(head + payload) & 0xFFFFFFFF
    head = HEADER.pack(MAGIC, VERSION, ftype, flags, seq, len(payload), crc, 0)
    out = head + payload
    if key is not None:
        out += hmac.new(key, nonce + head + payload, hashlib.sha256).digest()
    return out


def status(code, message=""):
    return struct.pack("<iI160s", code, 0, message.encode()[:159])


def hello_reply(auth, nonce):
    body = status(0) + struct.pack("<II16sIIQQQ32s", 1, 1, nonce, 1 if auth else 0, 0,
                                   8 << 20, 8 << 20, 1000000000, b"fake 0.1")
    assert len(body) == 256
    return body


def frames(conn):
    """Yields (type, seq, payload) for each request on the connection."""
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while len(buf) >= HEADER.size:
            magic, _, ftype, flags, seq, length, _, _ = HEADER.unpack_from(buf)
            if magic != MAGIC:
                buf = buf[1:]
                continue
            need = HEADER.size + length + (32 if flags & F_AUTH else 0)
            if len(buf) < need:
                break
            yield ftype, seq, buf[HEADER.size:HEADER.size + length]
            buf = buf[need:]


def serve(conn, mode, key):
    nonce = os.urandom(16)
    auth = mode != "noauth-ok"
    sign_key = {"auth-good": key, "auth-wrongkey": b"not the key"}.get(mode)
    for ftype, seq, _ in frames(conn):
        if ftype == HELLO:
            conn.sendall(frame(HELLO | REPLY, seq, hello_reply(auth, nonce)))
            print("HELLO", flush=True)
            continue
        if mode == "auth-refuse":
            body = status(-4, "authentication failed: wrong MAC (check the key)")
        else:
            body = status(0) + bytes(512 - 168)     # long enough for any reply
        if ftype == 2:                              # LIST: count 0, total 0
            body = status(0) + bytes(16)
        conn.sendall(frame(ftype | REPLY, seq, body, sign_key,
                           nonce if sign_key else None))
        print(f"answered type {ftype} seq {seq}", flush=True)


def main():
    path, mode = sys.argv[1], sys.argv[2]
    key = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 else b""
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        with conn:
            try:
                serve(conn, mode, key)
            except (BrokenPipeError, ConnectionResetError):
                pass


if __name__ == "__main__":
    main()
