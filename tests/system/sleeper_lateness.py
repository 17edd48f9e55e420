#!/usr/bin/env python3
"""Judges a sleeper guest (guests/sleep) that slept through a flood.

    sleeper_lateness.py SERIAL_LOG TSC_HZ LATE_MS ROUNDS

Reads the "sleep sleeper.0 round R: ... late by T) ok" lines of the serial
log and the control server's "unadmitted frames refused" summary lines.
Fails (exit 1, the reason on the last line) unless all ROUNDS rounds are
there, a summary line lies between the first and the last round (the
flood happened while the sleeper slept), and no wake-up was more than
LATE_MS milliseconds late. Prints the worst lateness.
"""
import re
import sys


def main():
    log, hz, late_ms, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    lines = open(log, errors="replace").read().splitlines()
    late = []
    for i, line in enumerate(lines):
        m = re.search(r"sleep sleeper\.0 round \d+: .* late by (\d+)\) ok", line)
        if m:
            late.append((i, int(m.group(1))))
    summaries = [i for i, line in enumerate(lines) if "unadmitted frames refused" in line]
    if len(late) != rounds:
        sys.exit(f"{len(late)} sleeper rounds in the log, expected {rounds}")
    worst = max(t for _, t in late)
    print(f"worst lateness {worst} ticks ({worst * 1000 / hz:.2f} ms), bound {late_ms} ms")
    if not any(late[0][0] < i < late[-1][0] for i in summaries):
        sys.exit("the flood did not happen while the sleeper slept")
    if worst > hz // 1000 * late_ms:
        sys.exit(f"the sleeper woke {worst * 1000 / hz:.2f} ms late (bound {late_ms} ms)")


if __name__ == "__main__":
    main()
