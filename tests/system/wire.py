#!/usr/bin/env python3
"""The far end of an emulated NIC, for the uplink tests (issue 13).

Bochs's e1000 'socket' backend (and QEMU's -netdev dgram) carry one raw
Ethernet frame per UDP datagram on loopback: the emulator listens on
--emu-port for frames to put on the wire and sends every frame the NIC
transmits to --port (Bochs: emu-port + 1). This script plays a host on
that wire with its own small Ethernet/ARP/IPv4/UDP code, answering the
guest's ARP requests, so no root and no real network is needed and
nothing leaves the machine.

  wire.py echo --port P --emu-port E --guest-ip A --guest-mac M --count N
      sends N UDP datagrams (sizes 1..1472 in turn, one at a time, each
      retried until its echo is back) to the guest's port 7 and checks
      every echo byte for byte; prints "wire: N/N echoed intact".
  --garbage first sends malformed frames (runt, oversized, a bad IPv4
      length and header checksum, a truncated UDP header, random bytes, a
      frame for an unknown unicast address) and then does the echo run, so
      the test sees that they changed nothing but counters.
Exit status 0 when every datagram came back intact in time, else 1.
"""
import argparse
import os
import random
import socket
import struct
import sys
import time

HOST_MAC = bytes.fromhex("020000000001")
HOST_IP = "10.0.0.1"
BROADCAST = b"\xff" * 6


def mac_bytes(text):
    return bytes(int(b, 16) for b in text.split(":"))


def ip_bytes(text):
    return socket.inet_aton(text)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ether(dst, src, ethertype, payload):
    return dst + src + struct.pack("!H", ethertype) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa


def ipv4(src, dst, proto, payload, ident):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                      src, dst)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def udp(src_ip, dst_ip, sport, dport, data):
    length = 8 + len(data)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, length)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = checksum(pseudo + hdr + data) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c) + data


class Wire:
    def __init__(self, port, emu_port, guest_ip, guest_mac):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.emu = ("127.0.0.1", emu_port)
        self.guest_ip = ip_bytes(guest_ip)
        self.guest_mac = mac_bytes(guest_mac)
        self.host_ip = ip_bytes(HOST_IP)

    def send(self, frame):
        self.sock.sendto(frame, self.emu)

    def frames(self, until):
        """Frames from the NIC until the deadline; ARP for us is answered."""
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            self.sock.settimeout(left)
            try:
                frame, _ = self.sock.recvfrom(4096)
            except socket.timeout:
                return
            if self.answer_arp(frame):
                continue
            yield frame

    def answer_arp(self, f):
        if len(f) < 42 or f[12:14] != b"\x08\x06":
            return False
        op = struct.unpack("!H", f[20:22])[0]
        if op != 1:
            return False                        # a reply: the caller may want it
        if f[38:42] == self.host_ip:
            self.send(ether(f[6:12], HOST_MAC, 0x0806,
                            arp(2, HOST_MAC, self.host_ip, f[22:28], f[28:32])))
        return True

    def udp_frame(self, data, ident, sport=40007, dport=7):
        return ether(self.guest_mac, HOST_MAC, 0x0800,
                     ipv4(self.host_ip, self.guest_ip, 17,
                          udp(self.host_ip, self.guest_ip, sport, dport, data), ident))

    def echoed(self, frame, data, sport=40007):
        if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[0:6] != HOST_MAC:
            return False
        ihl = (frame[14] & 15) * 4
        ip = frame[14:]
        if ip[9] != 17 or ip[12:16] != self.guest_ip or ip[16:20] != self.host_ip:
            return False
        u = ip[ihl:]
        sp, dp, length = struct.unpack("!HHH", u[:6])
        return sp == 7 and dp == sport and u[8:length] == data

    def garbage(self):
        """Malformed frames; each must change nothing but counters."""
        rng = random.Random(13)
        # To the discard port: one that the emulator passes whole (it cuts
        # an oversized frame to 1514 bytes) reaches the guest's stack, which
        # drops it there, and is never echoed.
        good = self.udp_frame(b"x" * 32, 9, dport=9)
        frames = [
            good[:10],                                  # runt: no Ethernet header
            good[:14],                                  # a header and nothing
            good + b"\0" * 1600,                        # oversized (over 1514)
            good[:16] + b"\xff\xff" + good[18:],        # IPv4 total length too large
            good[:24] + b"\x00\x00" + good[26:],        # bad IPv4 header checksum
            good[:38],                                  # UDP header cut short
            bytes(rng.getrandbits(8) for _ in range(60)),
            ether(bytes.fromhex("02eeeeeeee01"), HOST_MAC, 0x0800, good[14:]),  # unknown unicast
            ether(self.guest_mac, self.guest_mac, 0x0800, good[14:]),  # claims the guest's MAC
        ]
        for f in frames:
            self.send(f)
            time.sleep(0.005)
        return len(frames)


def run_echo(args):
    w = Wire(args.port, args.emu_port, args.guest_ip, args.guest_mac)
    deadline = time.monotonic() + args.timeout
    # First until the guest is up: it answers an ARP probe for its address
    # (so that no datagram is sent twice to a guest that counts them).
    probe = ether(BROADCAST, HOST_MAC, 0x0806,
                  arp(1, HOST_MAC, w.host_ip, b"\0" * 6, w.guest_ip))
    up = False
    while not up and time.monotonic() < deadline:
        w.send(probe)
        for f in w.frames(time.monotonic() + 0.2):
            if f[12:14] == b"\x08\x06" and struct.unpack("!H", f[20:22])[0] == 2 and \
                    f[28:32] == w.guest_ip:
                up = True
                break
    if not up:
        print("wire: the guest never answered ARP")
        return 1
    if args.garbage:
        print("wire: sent %d malformed frames" % w.garbage())
    ok = 0
    started = time.monotonic()
    for i in range(args.count):
        data = bytes((i + k) & 0xFF for k in range(1 + (i * 97) % 1472))
        frame = w.udp_frame(data, i & 0xFFFF)
        got = False
        while not got and time.monotonic() < deadline:
            w.send(frame)
            for f in w.frames(time.monotonic() + args.retry):
                if w.echoed(f, data):
                    got = True
                    break
        if not got:
            break
        ok += 1
    print("wire: %d/%d echoed intact" % (ok, args.count))
    if ok:
        print("wire: %.3f ms per round trip (wall clock, host side)" %
              ((time.monotonic() - started) * 1000.0 / ok))
    return 0 if ok == args.count else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["echo"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--emu-port", type=int, required=True)
    p.add_argument("--guest-ip", required=True)
    p.add_argument("--guest-mac", required=True)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--timeout", type=float, default=120)
    # Seconds without its echo before a datagram is sent again. udp-echo
    # counts every datagram it gets, so a resend after an echo that was
    # merely late (a loaded machine, an emulator slower than the wall
    # clock) would end it one echo early: wait long, resend only on loss.
    p.add_argument("--retry", type=float, default=5)
    p.add_argument("--garbage", action="store_true")
    args = p.parse_args()
    sys.exit(run_echo(args))


if __name__ == "__main__":
    main()
