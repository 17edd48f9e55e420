#!/usr/bin/env python3
"""Writes deliberately broken Solo5 hvt images for the loader tests.

Usage: mkbad_hvt.py HVT-TEST.hvt HVT-BLOCK.hvt OUTDIR

Each image is a good image with exactly one defect (the notes are found by
walking the PT_NOTE segments, as the hypervisor does):
  bad-hvt-mftsmall.hvt  hvt-test: the MFT1 descriptor is one entry (104
                        bytes) smaller than its entry count needs (and the
                        PT_NOTE shrunk with it, so the note walk still ends
                        exactly at the segment's end)
  bad-hvt-target.hvt    hvt-test: the ABI1 note names target spt (2)
  bad-hvt-version.hvt   hvt-test: the ABI1 note's version is 3
  bad-hvt-mftfirst.hvt  hvt-test: manifest entry 0 has type BLOCK_BASIC
                        instead of RESERVED_FIRST
  bad-hvt-mftname.hvt   hvt-block: entry 1's name ("storage") fills all 68
                        bytes with no NUL
  bad-hvt-both.hvt      hvt-test plus a valid Mayfly ABI note in a new
                        PT_NOTE program header (the note appended to the
                        file): claimed by two personalities
  bad-hvt-nomft.hvt     hvt-test: the MFT1 note's PT_NOTE turned into
                        PT_NULL (an ABI1 note but no manifest)
Numbers come from include/mayfly/hvt.h and include/mayfly/abi.h.
Python 3 standard library only.
"""
import os
import re
import struct
import sys

import mkbad
from mkbad import PHDR, PT_NOTE, PT_NULL, write

NOTE_HDR = struct.Struct("<III")
ENTRY_SIZE = 104
NAME_SIZE = 68
MFT_HEADER = 8          # struct hvt_mft

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def fail(why):
    sys.exit("mkbad_hvt.py: " + why)


def header_defines(path):
    """The integer #defines of a C header: name -> value."""
    out = {}
    with open(os.path.join(ROOT, path)) as f:
        for m in re.finditer(r"^#define\s+(\w+)\s+\(?(0x[0-9a-fA-F]+|\d+)u?(?:\s*<<\s*(\d+)\))?",
                             f.read(), re.M):
            value = int(m.group(2), 0)
            if m.group(3):
                value <<= int(m.group(3))
            out[m.group(1)] = value
    return out


HVT = header_defines("include/mayfly/hvt.h")
ABI = header_defines("include/mayfly/abi.h")
SOLO5 = b"Solo5\0"
MAYFLY = b"Mayfly\0"


class Elf(mkbad.Elf):
    """mkbad.py's ELF editor with the notes an hvt image carries."""

    def note(self, name, ntype):
        """(program header index, note offset, descriptor offset, descsz)."""
        for i in range(self.phnum):
            p_type, _, off, _, _, filesz, _, _ = self.phdr(i)
            if p_type != PT_NOTE:
                continue
            pos, end = off, off + filesz
            while pos + NOTE_HDR.size <= end:
                namesz, descsz, t = NOTE_HDR.unpack_from(self.data, pos)
                name_at = pos + NOTE_HDR.size
                desc_at = name_at + ((namesz + 3) & ~3)
                if self.data[name_at:name_at + namesz] == name and t == ntype:
                    return i, pos, desc_at, descsz
                pos = desc_at + ((descsz + 3) & ~3)
        fail("no %s note of type 0x%x in the input" % (name[:-1].decode(), ntype))

    def abi_desc(self):
        return self.note(SOLO5, HVT["HVT_NOTE_TYPE_ABI"])[2]

    def mft_entry(self, index):
        """File offset of manifest entry index."""
        _, _, desc, _ = self.note(SOLO5, HVT["HVT_NOTE_TYPE_MFT"])
        return desc + HVT["HVT_MFT_NOTE_PAD"] + MFT_HEADER + index * ENTRY_SIZE


def bad_mftsmall(elf):
    i, pos, desc, descsz = elf.note(SOLO5, HVT["HVT_NOTE_TYPE_MFT"])
    struct.pack_into("<I", elf.data, pos + 4, descsz - ENTRY_SIZE)
    ph = elf.phdr(i)
    ph[5] -= ENTRY_SIZE
    ph[6] -= ENTRY_SIZE
    elf.set_phdr(i, ph)


def bad_target(elf):
    struct.pack_into("<I", elf.data, elf.abi_desc(), HVT["HVT_TARGET_SPT"])


def bad_version(elf):
    struct.pack_into("<I", elf.data, elf.abi_desc() + 4, 3)


def bad_mftfirst(elf):
    struct.pack_into("<I", elf.data, elf.mft_entry(0) + NAME_SIZE, HVT["HVT_MFT_BLOCK_BASIC"])


def bad_mftname(elf):
    at = elf.mft_entry(1)
    if elf.data[at:at + 8] != b"storage\0":
        fail("entry 1 of the second input is not \"storage\"")
    elf.data[at:at + NAME_SIZE] = (b"storage" * 10)[:NAME_SIZE]


def bad_both(elf):
    """Appends a Mayfly ABI note and points a new PT_NOTE at it; the new
    program header goes into the zero bytes after the table (the first
    segment starts on a later page)."""
    table_end = elf.phdr_offset(elf.phnum)
    if any(elf.data[table_end:table_end + PHDR.size]):
        fail("no room after the program header table")
    while len(elf.data) % 4:
        elf.data.append(0)
    at = len(elf.data)
    elf.data += NOTE_HDR.pack(len(MAYFLY), 8, ABI["MF_NOTE_TYPE_ABI"]) + MAYFLY + b"\0"
    elf.data += struct.pack("<II", ABI["MF_ABI_VERSION"], 0)
    elf.phnum += 1
    struct.pack_into("<H", elf.data, 56, elf.phnum)
    elf.set_phdr(elf.phnum - 1, [PT_NOTE, 4, at, 0, 0, len(elf.data) - at, len(elf.data) - at, 4])


def bad_nomft(elf):
    i = elf.note(SOLO5, HVT["HVT_NOTE_TYPE_MFT"])[0]
    ph = elf.phdr(i)
    ph[0] = PT_NULL
    elf.set_phdr(i, ph)


DEFECTS = [
    ("bad-hvt-mftsmall.hvt", 0, bad_mftsmall),
    ("bad-hvt-target.hvt", 0, bad_target),
    ("bad-hvt-version.hvt", 0, bad_version),
    ("bad-hvt-mftfirst.hvt", 0, bad_mftfirst),
    ("bad-hvt-mftname.hvt", 1, bad_mftname),
    ("bad-hvt-both.hvt", 0, bad_both),
    ("bad-hvt-nomft.hvt", 0, bad_nomft),
]


def main():
    if len(sys.argv) != 4:
        fail("usage: mkbad_hvt.py HVT-TEST.hvt HVT-BLOCK.hvt OUTDIR")
    goods = []
    for path in sys.argv[1:3]:
        with open(path, "rb") as f:
            goods.append(f.read())
    for name, which, defect in DEFECTS:
        elf = Elf(goods[which])
        defect(elf)
        write(os.path.join(sys.argv[3], name), elf.data)


if __name__ == "__main__":
    main()
