#!/usr/bin/env python3
"""COM2 of a Bochs run started by tests/lib/emu.sh (BOCHS_COM2), offered
as the Unix socket server mfctl's --control expects: the same rules as
`mfctl run --control` (one client at a time, bytes for no client are
dropped), for SMP cases, whose Bochs needs more CPUs than mfctl run gives.

Usage: smp_com2_bridge.py SOCKET PORTFILE. Listens on 127.0.0.1 (a free
port, written to PORTFILE once listening) for Bochs's socket-client COM2
and on SOCKET for mfctl; runs until killed or Bochs disconnects."""
import os
import select
import socket
import sys


def main():
    path, portfile = sys.argv[1], sys.argv[2]
    tcp_listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp_listen.bind(("127.0.0.1", 0))
    tcp_listen.listen(1)
    if os.path.exists(path):
        os.unlink(path)
    unix_listen = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix_listen.bind(path)
    unix_listen.listen(4)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % tcp_listen.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    bochs, _ = tcp_listen.accept()
    client = None
    try:
        while True:
            # Another client waits in the backlog until this one is done.
            watch = [bochs, client if client else unix_listen]
            ready, _, _ = select.select(watch, [], [])
            if bochs in ready:
                data = bochs.recv(65536)
                if not data:
                    return 0
                if client:
                    try:
                        client.sendall(data)
                    except OSError:
                        client.close()
                        client = None
            if client and client in ready:
                data = client.recv(65536)
                if data:
                    bochs.sendall(data)
                else:
                    client.close()
                    client = None
            elif not client and unix_listen in ready:
                client, _ = unix_listen.accept()
    finally:
        os.unlink(path)


if __name__ == "__main__":
    sys.exit(main())
