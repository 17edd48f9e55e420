#!/usr/bin/env python3
"""Clients that misbehave towards the control guest (guests/ctlnet), for
tests/system/ctlnet_clients.sh; run inside its network namespace.

    ctlnet_client.py MODE --addr IP --port N [--key HEX] [--seconds S]

  hold     a busy client: prints "hold: port P" once connected, then
           sends a HELLO every 20 ms for S seconds, reading replies as they
           come; prints "hold: N hellos, M bytes back, kept" (or "closed"
           if the guest closed it: exit 1)
  idle     HELLO, its reply, then silence until the guest closes the
           connection (at most S seconds): "idle: closed by the guest"
           (exit 0) or "idle: still open" (exit 1)
  garbage  64 KiB of random bytes, then waits for the end of the stream or
           S seconds: "garbage: sent N"
  noread   a keyed session that sends signed LISTs for S seconds and never
           reads a reply, then stops sending: "noread: port P, sent N
           bytes, U unacknowledged, V after 2 s more" (P: its own port, as
           the guest's log names it; V < U: the guest took bytes meanwhile)
  stall    a keyed session with a small receive buffer that sends signed
           LISTs until TCP stops taking them, never reading, then prints
           "stall: port P" and "stall: stalled" and sleeps S seconds (the
           test cuts it off)

Frames are built here (include/mayfly/control.h: a 24-byte header with a
CRC-32, HMAC-SHA-256 over nonce || header || payload when keyed).
"""
import argparse
import fcntl
import hashlib
import hmac
import os
import socket
import struct
import sys
import termios
import time
import zlib

MAGIC = 0x4C54434D
HEADER = struct.Struct("<IBBHIIII")
HELLO, LIST = 1, 2
HELLO_REPLY_BYTES = HEADER.size + 256
NONCE_AT = HEADER.size + 168 + 8     # status, then protocol and abi versions


def frame(ftype, seq, payload=b"", key=None, nonce=None):
    flags = 1 if key else 0
    head = HEADER.pack(MAGIC, 1, ftype, flags, seq, len(payload), 0, 0)
    crc = zlib.crc32(head + payload) & 0xFFFFFFFF
    head = HEADER.pack(MAGIC, 1, ftype, flags, seq, len(payload), crc, 0)
    mac = hmac.new(key, nonce + head + payload, hashlib.sha256).digest() if key else b""
    return head + payload + mac


def connect(args, rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(30)
    s.connect((args.addr, args.port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def hello(s):
    """HELLO and its reply; returns the session's nonce."""
    s.sendall(frame(HELLO, 1))
    r = b""
    while len(r) < HELLO_REPLY_BYTES:
        b = s.recv(65536)
        if not b:
            sys.exit("the guest closed the connection before the HELLO reply")
        r += b
    return r[NONCE_AT:NONCE_AT + 16]


def hold(args):
    s = connect(args)
    print(f"hold: port {s.getsockname()[1]}", flush=True)
    s.setblocking(False)
    seq, got, end = 1, 0, time.time() + args.seconds
    while time.time() < end:
        s.send(frame(HELLO, seq))
        seq += 1
        time.sleep(0.02)
        try:
            b = s.recv(65536)
            if not b:
                print(f"hold: {seq - 1} hellos, {got} bytes back, closed")
                return 1
            got += len(b)
        except BlockingIOError:
            pass
    print(f"hold: {seq - 1} hellos, {got} bytes back, kept")
    return 0


def idle(args):
    s = connect(args)
    hello(s)
    print("idle: ready", flush=True)
    s.settimeout(args.seconds)
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        print("idle: still open")
        return 1
    except ConnectionResetError:
        pass
    print("idle: closed by the guest")
    return 0


def garbage(args):
    s = connect(args)
    data = os.urandom(65536)
    s.sendall(data)
    s.settimeout(args.seconds)
    try:
        while s.recv(65536):
            pass
    except (socket.timeout, ConnectionResetError):
        pass
    print(f"garbage: sent {len(data)}")
    return 0


def keyed_lists(s, key, nonce, seconds, most, stop_when_full):
    """Signed LISTs (seq 2, 3, ...) for seconds, at most `most` of them;
    when TCP takes no more, stop (stop_when_full) or wait and go on.
    Returns the bytes TCP took."""
    s.setblocking(False)
    seq, sent, pending, end = 2, 0, b"", time.time() + seconds
    while time.time() < end and (pending or seq - 2 < most):
        if not pending:
            pending = frame(LIST, seq, struct.pack("<I", 0), key, nonce)
            seq += 1
        try:
            n = s.send(pending)
        except BlockingIOError:
            if stop_when_full:
                break
            time.sleep(0.01)
            continue
        sent += n
        pending = pending[n:]
    return sent


def queued(s):
    """Bytes in s's send queue the peer has not acknowledged."""
    return struct.unpack("i", fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]


def noread(args):
    key = bytes.fromhex(args.key)
    s = connect(args)
    nonce = hello(s)
    sent = keyed_lists(s, key, nonce, args.seconds, 1 << 30, False)
    q1 = queued(s)
    time.sleep(2)
    print(f"noread: port {s.getsockname()[1]}, sent {sent} bytes, {q1} unacknowledged, "
          f"{queued(s)} after 2 s more")
    s.close()
    return 0


def stall(args):
    key = bytes.fromhex(args.key)
    s = connect(args, rcvbuf=1024)
    nonce = hello(s)
    keyed_lists(s, key, nonce, 10, 200, True)
    time.sleep(1)
    print(f"stall: port {s.getsockname()[1]}", flush=True)
    print("stall: stalled", flush=True)
    time.sleep(args.seconds)
    os._exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["hold", "idle", "garbage", "noread", "stall"])
    p.add_argument("--addr", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", default="")
    p.add_argument("--seconds", type=float, default=3)
    args = p.parse_args()
    return {"hold": hold, "idle": idle, "garbage": garbage, "noread": noread,
            "stall": stall}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
