#!/usr/bin/env python3
"""The host's side of tests/system/uplink_tcp.sh (issue 13), run inside the
network namespace that test made, so that everything it sends stays on the
namespace's tap and the guest behind the emulator's NIC (Bochs's e1000, or
QEMU's e1000 or virtio-net-pci).

  uplink_host.py serve --addr 10.0.0.1 --port 8080 --ready FILE --log FILE
      an HTTP/1.1 server (keep-alive) for the guest's http-get: GET /
      returns a fixed page, GET /status {"server":"host","requests":N}
      (N counts this request); anything else 404. Each request is logged
      to --log as "<client ip>:<client port> <method> <path> <n>"; FILE
      --ready is written once the socket listens. Runs until --seconds
      have passed or it is killed.
  uplink_host.py ping --dst 10.0.0.2 --count N [--sizes 56,1400]
      sends N ICMP echo requests through a raw socket (payload sizes taken
      in turn from --sizes), each waited for up to --wait seconds, and
      checks that every reply carries the request's id, sequence number
      and payload; prints "ping: N/N answered intact, rtt max X ms".
      Exit status 0 only if all were. --until-up S first probes every 50 ms
      until the guest answers (at most S seconds; then --count 0 is fine).
"""
import argparse
import http.server
import os
import socket
import struct
import sys
import threading
import time

PAGE = b"<!DOCTYPE html>\n<html><body><p>host side of uplink_tcp.sh</p></body></html>\n"


def serve(args):
    lock = threading.Lock()
    count = [0]
    log = open(args.log, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"   # http-get wants "HTTP/1.1 200" and keep-alive

        def do_GET(self):
            with lock:
                count[0] += 1
                n = count[0]
                log.write("%s:%d GET %s %d\n" % (self.client_address[0],
                                                 self.client_address[1], self.path, n))
            if self.path == "/":
                body, ctype, status = PAGE, "text/html", 200
            elif self.path == "/status":
                body = ('{"server":"host","requests":%d}\n' % n).encode()
                ctype, status = "application/json", 200
            else:
                body, ctype, status = b"not found\n", "text/plain", 404
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if self.headers.get("Connection", "").lower() == "close":
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *a):
            pass

    httpd = http.server.ThreadingHTTPServer((args.addr, args.port), Handler)
    httpd.daemon_threads = True
    with open(args.ready, "w") as f:
        f.write("listening\n")
    timer = threading.Timer(args.seconds, httpd.shutdown)
    timer.daemon = True
    timer.start()
    httpd.serve_forever()
    return 0


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def echo_once(sock, dst, ident, seq, payload, wait):
    """One echo request; 'ok' for an intact reply, 'bad' for a reply that
    differs, 'none' for no reply within wait seconds."""
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    sock.sendto(struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), ident, seq) + payload,
                (dst, 0))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            data, src = sock.recvfrom(65535)
        except socket.timeout:
            break
        icmp = data[(data[0] & 0x0F) * 4:]
        if src[0] != dst or len(icmp) < 8:
            continue
        typ, code, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
        if typ != 0 or rid != ident or rseq != seq:
            continue            # our own request looped back, or someone else's
        return "ok" if code == 0 and icmp[8:] == payload and checksum(icmp) == 0 else "bad"
    return "none"


def ping(args):
    sizes = [int(x) for x in args.sizes.split(",")]
    ident = os.getpid() & 0xFFFF
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    if args.until_up:
        # Readiness: the guest's stack answers only from its main loop, so a
        # reply means the guest is serving. Its serial line may reach the
        # log file only when the emulator flushes it, too late to wait on.
        deadline = time.monotonic() + args.until_up
        seq = 0x8000
        while echo_once(sock, args.dst, ident, seq, b"up?", 0.05) != "ok":
            if args.stop_file and os.path.exists(args.stop_file):
                print("ping: %s did not answer before the run ended" % args.dst)
                return 1
            if time.monotonic() >= deadline:
                print("ping: %s did not answer within %.0f s" % (args.dst, args.until_up))
                return 1
            seq += 1
        if args.count == 0:
            return 0
    ok, worst = 0, 0.0
    for seq in range(1, args.count + 1):
        size = sizes[(seq - 1) % len(sizes)]
        payload = bytes((seq + i) & 0xFF for i in range(size))
        start = time.monotonic()
        r = echo_once(sock, args.dst, ident, seq, payload, args.wait)
        if r == "ok":
            ok += 1
            worst = max(worst, time.monotonic() - start)
        elif r == "bad":
            print("ping: reply %d (%d bytes) differs from the request" % (seq, size))
        else:
            print("ping: no reply to %d (%d bytes) within %.1f s" % (seq, size, args.wait))
        time.sleep(args.interval)
    print("ping: %d/%d answered intact, rtt max %.1f ms" % (ok, args.count, worst * 1000))
    return 0 if ok == args.count else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--addr", required=True)
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--ready", required=True)
    s.add_argument("--log", required=True)
    s.add_argument("--seconds", type=float, default=120)
    q = sub.add_parser("ping")
    q.add_argument("--dst", required=True)
    q.add_argument("--count", type=int, default=10)
    q.add_argument("--sizes", default="56")
    q.add_argument("--wait", type=float, default=2.0)
    q.add_argument("--interval", type=float, default=0.05)
    q.add_argument("--until-up", type=float, default=0,
                   help="first probe every 50 ms until a reply, for up to this many s")
    q.add_argument("--stop-file", help="stop probing once this file exists (the run ended)")
    args = p.parse_args()
    return serve(args) if args.cmd == "serve" else ping(args)


if __name__ == "__main__":
    sys.exit(main())
