#!/usr/bin/env python3
"""Writes the binary seed inputs under corpus/mb2 and corpus/memmap.

Run from anywhere: python3 tests/fuzz/make_corpus.py. The files are
committed; rerun this only to change them.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def tag(type_, payload):
    body = struct.pack('<II', type_, 8 + len(payload)) + payload
    return body + b'\0' * (-len(body) % 8)


def info(*tags):
    body = b''.join(tags) + tag(0, b'')
    return struct.pack('<II', 8 + len(body), 0) + body


def mmap(entries, entry_size=24):
    out = struct.pack('<II', entry_size, 0)
    for base, size, type_ in entries:
        e = struct.pack('<QQII', base, size, type_, 0)
        out += e + b'\xee' * (entry_size - len(e))
    return tag(6, out)


def module(start, end, name):
    return tag(3, struct.pack('<II', start, end) + name + b'\0')


PC_MAP = [(0x0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (0xf0000, 0x10000, 2),
          (0x100000, 0x7ee0000, 1), (0x7fe0000, 0x20000, 3),
          (0xfffc0000, 0x40000, 2), (0x100000000, 0x40000000, 1)]
RSDP_V1 = b'RSD PTR \x42OEMID\x00\x10\x20\x30\x40'
RSDP_V2 = RSDP_V1 + struct.pack('<IQB3x', 36, 0xf0000, 0x77)

MB2 = {
    'grub_bios.bin': info(
        tag(1, b'console=com1\0'), tag(2, b'GRUB 2.06\0'),
        module(0x200000, 0x200123, b'mayfly.conf'),
        module(0x300000, 0x340000, b'guest.elf'),
        mmap(PC_MAP), tag(14, RSDP_V1)),
    'grub_efi.bin': info(
        mmap(PC_MAP, 40), tag(15, RSDP_V2), tag(1, b'\0'),
        module(0x1000000, 0x1001000, b'net.elf')),
    'minimal.bin': info(),
    # Regression: a 16-byte mmap tag whose entry_size (0xfffffff0) makes the
    # uint32 off + entry_size wrap; the input ends right after the tag.
    'regress_mmap_entry_size_wrap.bin': struct.pack('<II', 24, 0) +
        struct.pack('<IIII', 6, 16, 0xfffffff0, 0),
}


def memmap_seed(small, max_, entries, ops):
    """Layout read by fuzz_memmap.c: mode, max-1, n, entries, nops, ops."""
    out = bytes([1 if small else 0, max_ - 1, len(entries)])
    for base, size, type_ in entries:
        t = 1 if type_ == 1 else type_ << 2
        if small:
            out += bytes([t]) + struct.pack('>HH', base // 0x100, size // 0x100)
        else:
            out += bytes([t]) + struct.pack('>QQ', base, size)
    out += bytes([len(ops)])
    for op in ops:
        out += op
    return out


def small_reserve(page, pages):
    return bytes([1]) + struct.pack('>HB', page, pages)


def small_take(pages, align_shift):
    return bytes([align_shift << 1]) + bytes([pages - 1])


MEMMAP = {
    'small.bin': memmap_seed(True, 16, [
        (0x0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (0x10000, 0x20000, 1),
        (0x40000, 0x40800, 1), (0x50000, 0x800, 2), (0x7f000, 0x1000, 3)],
        [small_reserve(0x20, 4), small_take(8, 4), small_take(1, 0),
         small_reserve(0x50, 30)]),
    'small_full.bin': memmap_seed(True, 2, [
        (0x1000, 0x10000, 1), (0x20000, 0x10000, 1), (0x40000, 0x10000, 1),
        (0x4000, 0x1000, 2)],
        [small_take(2, 3), small_reserve(0x22, 1)]),
    'wide.bin': memmap_seed(False, 8, [
        (0x100000, 0x7ee0000, 1), (0xfffffffffffff000 - 0x2fff, 0x10000, 1),
        (0x100000000, 0x40000000, 1), (0x100000000, 0x1000, 4)],
        [bytes([1]) + struct.pack('>QQ', 0x200000, 0x1000),
         bytes([9 << 1]) + struct.pack('>HB', 0x1ff, 0)]),
}


def write(sub, files):
    d = os.path.join(HERE, 'corpus', sub)
    os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)


write('mb2', MB2)
write('memmap', MEMMAP)
