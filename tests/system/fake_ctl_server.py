#!/usr/bin/env python3
"""A fake Mayfly control server on a Unix socket, for testing mfctl.

    fake_ctl_server.py SOCKET MODE [KEY_HEX]

SOCKET is a Unix socket path, or tcp:PORT for TCP on 127.0.0.1 (tcp:0
picks a free port), as a 'control net' control guest would serve it.
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
  record          no authentication; prints what START and UPLOAD_BEGIN
                  carried (devices, upload kind, payload length) and lists
                  a Solo5 and a Mayfly guest, with their personalities when
                  LIST asks for the 144-byte entries
  record-old      the same, but LIST answers as a hypervisor from before
                  personalities (128-byte entries, entry_size 0)
  close-mid-reply no authentication; answers HELLO, then sends the first
                  half of each reply and closes the connection
  close-at-once   closes every connection as soon as it is accepted (a
                  control guest busy with another client)

It prints "listening" (with TCP: "listening PORT") once the socket is
bound, "connection" for each connection accepted, and one line per
request it answered.
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


def cstr(b):
    return b.split(b"\0", 1)[0].decode(errors="replace")


def describe_start(p):
    """START's payload as one line: its length, image and devices."""
    line = f"START {len(p)} image={cstr(p[32:64])} name={cstr(p[0:32])}"
    devs = []
    if len(p) >= 1548:
        count = struct.unpack_from("<I", p, 424)[0]
        for i in range(min(count, 8)):
            kind, size, name, target = struct.unpack_from("<II68s64s", p, 428 + 140 * i)
            kinds = {1: "net", 2: "block"}
            devs.append(f"{cstr(name)}={kinds.get(kind, kind)}:{cstr(target)}:{size}")
    return line + " devices=" + (",".join(devs) or "-")


def describe_begin(p):
    name, size = struct.unpack_from("<32sQ", p)
    kind = struct.unpack_from("<I", p, 40)[0] if len(p) >= 48 else "v1"
    return f"UPLOAD_BEGIN {len(p)} name={cstr(name)} size={size} kind={kind}"


def list_reply(mode, p):
    """Two guests; with personalities to a client that asks for them."""
    first, size = (struct.unpack_from("<II", p) if len(p) >= 8 else
                   (struct.unpack_from("<I", p)[0] if len(p) >= 4 else 0, 0))
    wide = mode == "record" and size >= 144
    guests = [(7, "www.0", "www.hvt", "mirage", 32 << 20, "solo5-hvt"),
              (8, "hello.0", "hello.elf", "small", 2 << 20, "mayfly")][first:]
    body = b""
    for gid, name, image, cls, mem, pers in guests:
        e = struct.pack("<II32s32s32sQQQ", gid, 1, name.encode(), image.encode(),
                        cls.encode(), mem, 0, 3)
        body += e + (struct.pack("<16s", pers.encode()) if wide else b"")
    head = struct.pack("<IIII", len(guests), 2, first, 144 if wide else 0)
    return status(0) + head + body


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
    auth = mode not in ("noauth-ok", "record", "record-old", "close-mid-reply")
    if mode == "close-at-once":
        return
    sign_key = {"auth-good": key, "auth-wrongkey": b"not the key"}.get(mode)
    for ftype, seq, payload in frames(conn):
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
        if mode.startswith("record"):
            if ftype == 6:
                print(describe_start(payload), flush=True)
                body = status(0) + struct.pack("<IIII", 1, 0, 7, 0)
            elif ftype == 3:
                print(describe_begin(payload), flush=True)
            elif ftype == 2:
                body = list_reply(mode, payload)
        reply = frame(ftype | REPLY, seq, body, sign_key, nonce if sign_key else None)
        if mode == "close-mid-reply":
            conn.sendall(reply[:len(reply) // 2])
            print(f"closed mid-reply to type {ftype} seq {seq}", flush=True)
            return
        conn.sendall(reply)
        print(f"answered type {ftype} seq {seq}", flush=True)


def main():
    path, mode = sys.argv[1], sys.argv[2]
    key = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 else b""
    if path.startswith("tcp:"):
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", int(path[4:])))
        srv.listen(1)
        print(f"listening {srv.getsockname()[1]}", flush=True)
    else:
        if os.path.exists(path):
            os.unlink(path)
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        print("connection", flush=True)
        with conn:
            try:
                serve(conn, mode, key)
            except (BrokenPipeError, ConnectionResetError):
                pass


if __name__ == "__main__":
    main()
