#!/usr/bin/env python3
"""An authenticated control client that floods its own connection.

    ctl_flood.py SOCKET KEY_HEX ROUNDS

On one connection to the control socket (the frame format of
include/mayfly/control.h): HELLO, then an authenticated START of the
stored image sleep.elf as "sleeper" with args "10 ROUNDS" (the victim: it
sleeps 10 ms ROUNDS times and reports how late it woke); then at once
8000 bytes of junk ("MCTL" over and over: each magic starts a bad frame,
so the hypervisor sees 2000 malformed frames), cut into pieces with,
between them, foreign HELLOs (which must not replace this client's
session), STOPs of the victim without a MAC and with a wrong one (which
must not act), and in the middle an authenticated STATS; at the end a
last authenticated STATS. Starting the victim itself keeps the flood
inside the victim's sleep however fast emulated time runs. It reads every
reply until the last one and prints one JSON object:

  victim          the sleeper's guest id
  ours            {seq: "ok" | what came instead} for the authenticated
                  requests (a reply to their seq that is a refusal, or not
                  signed under this client's session, is not "ok")
  refusals        unsigned error replies seen (to junk, STOPs, ...)
  signed_refusals error replies that carried a MAC (must be 0)
  hellos          HELLO replies seen (to the foreign HELLOs)
  control_errors  the hypervisor's own count of refusals, from the last STATS
  tsc_hz          from the HELLO reply
  seconds         wall time of the flood
"""
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time
import zlib

MAGIC = 0x4C54434D
VERSION = 1
REPLY = 0x80
F_AUTH = 1
HEADER = struct.Struct("<IBBHIIII")
HELLO, START, STOP, STATS = 1, 6, 7, 8
STATUS = struct.Struct("<iI160s")


def frame(ftype, seq, payload=b"", key=None, nonce=None):
    flags = F_AUTH if key is not None else 0
    head = HEADER.pack(MAGIC, VERSION, ftype, flags, seq, len(payload), 0, 0)
    crc = zlib.crc32(head + payload) & 0xFFFFFFFF
    head = HEADER.pack(MAGIC, VERSION, ftype, flags, seq, len(payload), crc, 0)
    out = head + payload
    if key is not None:
        out += hmac.new(key, nonce + head + payload, hashlib.sha256).digest()
    return out


class Conn:
    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.settimeout(timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def read(self):
        """The next reply: (type, seq, payload, mac or None)."""
        while True:
            while len(self.buf) >= HEADER.size:
                magic, _, ftype, flags, seq, length, _, _ = HEADER.unpack_from(self.buf)
                if magic != MAGIC:
                    self.buf = self.buf[1:]
                    continue
                need = HEADER.size + length + (32 if flags & F_AUTH else 0)
                if len(self.buf) < need:
                    break
                head = self.buf[:HEADER.size]
                payload = self.buf[HEADER.size:HEADER.size + length]
                mac = self.buf[HEADER.size + length:need] if flags & F_AUTH else None
                self.buf = self.buf[need:]
                return ftype, seq, head, payload, mac
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("the connection was closed")
            self.buf += data


def mac_ok(key, nonce, head, payload, mac):
    if mac is None:
        return False
    return hmac.compare_digest(mac, hmac.new(key, nonce + head + payload,
                                             hashlib.sha256).digest())


def main():
    path, key, rounds = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3])
    c = Conn(path, float(os.environ.get("FLOOD_TIMEOUT", "180")))
    result = {"ours": {}, "refusals": 0, "signed_refusals": 0, "hellos": 0}

    c.send(frame(HELLO, 1))
    while True:
        ftype, seq, head, payload, mac = c.read()
        if ftype == HELLO | REPLY and seq == 1:
            break
    nonce = payload[176:192]
    result["tsc_hz"] = struct.unpack_from("<Q", payload, 216)[0]
    start_req = struct.pack("<32s32s32sII256s64s", b"sleeper", b"sleep.elf", b"", 1, 0,
                            f"10 {rounds}".encode(), b"")
    seq = 2
    c.send(frame(START, seq, start_req, key, nonce))
    while True:
        ftype, rseq, head, payload, mac = c.read()
        if ftype == START | REPLY and rseq == seq:
            break
    code = STATUS.unpack_from(payload)[0]
    if code != 0 or not mac_ok(key, nonce, head, payload, mac):
        sys.exit(f"START of the sleeper failed: status {code}, "
                 f"{STATUS.unpack_from(payload)[2].split(bytes(1))[0]}")
    started, _, victim = struct.unpack_from("<III", payload, 168)
    result["ours"][str(seq)] = "ok"
    result["victim"] = victim
    ref0 = struct.pack("<II", 0, 0)
    stop_victim = struct.pack("<II", victim, 0)
    wanted = set()

    start = time.time()
    pieces = 8
    for i in range(pieces):
        c.send(b"MCTL" * 250)
        for j in range(5):
            c.send(frame(HELLO, 1))
            c.send(frame(STOP, 100 + j, stop_victim))
            c.send(frame(STOP, 200 + j, stop_victim, b"not the key", nonce))
        if i == pieces // 2:
            seq += 1
            c.send(frame(STATS, seq, ref0, key, nonce))
            wanted.add(seq)
    seq += 1
    last = seq
    c.send(frame(STATS, last, ref0, key, nonce))
    wanted.add(last)

    while str(last) not in result["ours"]:
        ftype, rseq, head, payload, mac = c.read()
        code = STATUS.unpack_from(payload)[0]
        if ftype == HELLO | REPLY:
            result["hellos"] += 1
        elif rseq in wanted and ftype == STATS | REPLY:
            msg = STATUS.unpack_from(payload)[2].split(b"\0")[0].decode(errors="replace")
            signed = mac_ok(key, nonce, head, payload, mac)
            result["ours"][str(rseq)] = ("ok" if code == 0 and signed else
                                         f"status {code}, {'' if signed else 'not '}signed "
                                         f"by our session: {msg}")
            if rseq == last and code == 0 and signed:
                # control_requests and control_errors follow 11 other u64s.
                result["control_errors"] = struct.unpack_from("<Q", payload, 168 + 8 + 12 * 8)[0]
        elif code < 0:
            result["refusals"] += 1
            result["signed_refusals"] += mac is not None
        else:
            result.setdefault("unexpected", []).append(f"type 0x{ftype:02x} seq {rseq}")
    result["seconds"] = round(time.time() - start, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
