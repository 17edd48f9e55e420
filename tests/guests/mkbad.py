#!/usr/bin/env python3
"""Writes deliberately broken guest images for the loader tests.

Usage: mkbad.py GOOD.elf OUTDIR

Each image is GOOD.elf (a valid Mayfly guest) with exactly one defect:
  bad-magic.elf      the ELF magic is corrupted
  bad-nonote.elf     the PT_NOTE program header is turned into PT_NULL
  bad-version.elf    the Mayfly note's abi_version is 99
  bad-far.elf        the first PT_LOAD (and the entry point with it) moved
                     to 0x7f000000, outside any small partition
  bad-overlap.elf    the second PT_LOAD moved onto the first
  bad-long.elf       like bad-far.elf at 0x7ffffffff0000000: its reason is
                     one of the longest the loader gives (16-digit addresses),
                     to check that no caller cuts it
  bad-truncated.elf  only the first 200 bytes
Python 3 standard library only.
"""
import os
import struct
import sys

PT_NULL, PT_LOAD, PT_NOTE = 0, 1, 4
NOTE_NAME = b"Mayfly\0"
NOTE_TYPE_ABI = 0x4D460001
FAR_ADDR = 0x7F000000
LONG_ADDR = 0x7FFFFFFFF0000000

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")


def fail(why):
    sys.exit("mkbad.py: " + why)


class Elf:
    def __init__(self, data):
        self.data = bytearray(data)
        if self.data[:4] != b"\x7fELF" or self.data[4] != 2:
            fail("input is not an ELF64 file")
        fields = EHDR.unpack_from(self.data, 0)
        self.entry, self.phoff = fields[4], fields[5]
        self.phentsize, self.phnum = fields[9], fields[10]
        if self.phentsize != PHDR.size:
            fail("unexpected program header size")

    def phdr_offset(self, i):
        return self.phoff + i * self.phentsize

    def phdr(self, i):
        return list(PHDR.unpack_from(self.data, self.phdr_offset(i)))

    def set_phdr(self, i, ph):
        PHDR.pack_into(self.data, self.phdr_offset(i), *ph)

    def find(self, p_type):
        return [i for i in range(self.phnum) if self.phdr(i)[0] == p_type]

    def set_entry(self, entry):
        struct.pack_into("<Q", self.data, 24, entry)


def mayfly_desc_offset(elf):
    """File offset of the Mayfly ABI note's descriptor."""
    for i in elf.find(PT_NOTE):
        _, _, off, _, _, filesz, _, _ = elf.phdr(i)
        pos, end = off, off + filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf.data, pos)
            name_at = pos + 12
            desc_at = name_at + ((namesz + 3) & ~3)
            if elf.data[name_at:name_at + namesz] == NOTE_NAME and ntype == NOTE_TYPE_ABI:
                return desc_at
            pos = desc_at + ((descsz + 3) & ~3)
    fail("no Mayfly ABI note in the input")


def bad_magic(elf):
    elf.data[1:4] = b"BAD"


def bad_nonote(elf):
    notes = elf.find(PT_NOTE)
    if not notes:
        fail("input has no PT_NOTE")
    for i in notes:
        ph = elf.phdr(i)
        ph[0] = PT_NULL
        elf.set_phdr(i, ph)


def bad_version(elf):
    struct.pack_into("<I", elf.data, mayfly_desc_offset(elf), 99)


def move_first_load(elf, addr):
    first = elf.find(PT_LOAD)[0]
    ph = elf.phdr(first)
    vaddr, memsz = ph[3], ph[6]
    if vaddr <= elf.entry < vaddr + memsz:
        elf.set_entry(elf.entry - vaddr + addr)
    ph[3] = ph[4] = addr
    elf.set_phdr(first, ph)


def bad_far(elf):
    move_first_load(elf, FAR_ADDR)


def bad_long(elf):
    move_first_load(elf, LONG_ADDR)


def bad_overlap(elf):
    loads = elf.find(PT_LOAD)
    if len(loads) < 2:
        fail("input has fewer than two PT_LOADs")
    first, second = elf.phdr(loads[0]), elf.phdr(loads[1])
    # Same page offset as before, so only the overlap is wrong.
    second[3] = second[4] = first[3] + (second[3] & 0xFFF)
    elf.set_phdr(loads[1], second)


DEFECTS = {
    "bad-magic.elf": bad_magic,
    "bad-nonote.elf": bad_nonote,
    "bad-version.elf": bad_version,
    "bad-far.elf": bad_far,
    "bad-overlap.elf": bad_overlap,
    "bad-long.elf": bad_long,
}


def write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 3:
        fail("usage: mkbad.py GOOD.elf OUTDIR")
    with open(sys.argv[1], "rb") as f:
        good = f.read()
    outdir = sys.argv[2]
    for name, defect in DEFECTS.items():
        elf = Elf(good)
        defect(elf)
        write(os.path.join(outdir, name), elf.data)
    write(os.path.join(outdir, "bad-truncated.elf"), good[:200])


if __name__ == "__main__":
    main()
