#!/usr/bin/env python3
"""Writes the block test disks for hvt-block (tests/guests/hvt/block/main.c).

Usage: mkdisk.py OUTDIR

  hvt-disk.img      64 sectors of 512 bytes; sector n holds the ASCII text
                    "sector <n>\\n" (n decimal), then zero bytes
  hvt-disk-odd.img  the same plus 100 bytes: its size is not a multiple of
                    512, so the host must refuse it
Python 3 standard library only.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from mkbad import write  # noqa: E402

SECTOR = 512
SECTORS = 64
ODD_TAIL = 100


def disk(sectors):
    out = bytearray()
    for n in range(sectors):
        text = b"sector %d\n" % n
        out += text + bytes(SECTOR - len(text))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("mkdisk.py: usage: mkdisk.py OUTDIR")
    good = disk(SECTORS)
    write(os.path.join(sys.argv[1], "hvt-disk.img"), good)
    write(os.path.join(sys.argv[1], "hvt-disk-odd.img"), good + disk(1)[:ODD_TAIL])


if __name__ == "__main__":
    main()
