#!/usr/bin/env python3
"""Writes the binary seed inputs under corpus/mb2, corpus/memmap,
corpus/mft, corpus/madt, the Solo5 hvt images corpus/elf/hvt_*.elf and
the Solo5 upload programs corpus/control/seed-upload-solo5-* (the other
corpus/elf and corpus/control seeds are older and checked in as they
are).

Run from anywhere: python3 tests/fuzz/make_corpus.py. The files are
committed; rerun this only to change them.
"""
import os
import struct
import zlib

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


# Solo5 hvt images (include/mayfly/hvt.h): small synthetic ones, so that
# fuzz_elf starts from both personalities.
PT_LOAD, PT_INTERP, PT_NOTE = 1, 3, 4
PF_X, PF_W, PF_R = 1, 2, 4
MFT_RESERVED_FIRST, MFT_BLOCK, MFT_NET = 1 << 30, 1, 2


def note(name, type_, desc):
    return (struct.pack('<III', len(name), len(desc), type_) + name +
            b'\0' * (-len(name) % 4) + desc + b'\0' * (-len(desc) % 4))


def mft_desc(devices):
    """The MFT1 descriptor: 4 bytes of padding, version, entries, 104-byte
    entries (name[68], type, 16 bytes of host data, backing, attached, pad)."""
    entries = [(b'', MFT_RESERVED_FIRST)] + devices
    out = b'\0' * 4 + struct.pack('<II', 1, len(entries))
    for name, type_ in entries:
        out += name.ljust(68, b'\0') + struct.pack('<I', type_) + b'\0' * 32
    return out


def abi_note(target, version):
    return note(b'Solo5\0', 0x31494241, struct.pack('<IIII', target, version, 0, 0))


def mft_note(devices):
    return note(b'Solo5\0', 0x3154464d, mft_desc(devices))


def elf64(entry, phdrs, blobs):
    """phdrs: (type, flags, offset, vaddr, filesz, memsz, align); blobs:
    (offset, bytes) placed in the file, which ends after the last."""
    size = max(off + len(blob) for off, blob in blobs)
    out = bytearray(size)
    out[0:64] = (b'\x7fELF' + bytes([2, 1, 1]) + b'\0' * 9 +
                 struct.pack('<HHIQQQIHHHHHH', 2, 62, 1, entry, 64, 0, 0, 64, 56,
                             len(phdrs), 0, 0, 0))
    for i, (t, f, off, va, fs, ms, al) in enumerate(phdrs):
        out[64 + 56 * i:120 + 56 * i] = struct.pack('<IIQQQQQQ', t, f, off, va, va, fs, ms, al)
    for off, blob in blobs:
        out[off:off + len(blob)] = blob
    return bytes(out)


def hvt_v2():
    """Solo5 0.12's layout: PT_INTERP in text, execute-only text, the notes
    in read-only data, data, .bss with no file bytes, an empty PT_LOAD at 0,
    one PT_NOTE per note (OpenBSD first)."""
    base = 0x100000
    text_off = 64 + 9 * 56
    interp = b'/nonexistent/solo5/\0'
    text = interp + b'\x90' * 12 + b'\xf4'        # nops, hlt
    notes = [note(b'OpenBSD\0', 1, b'\0' * 4), abi_note(1, 2),
             mft_note([(b'service', MFT_NET), (b'storage', MFT_BLOCK)])]
    notes_off = text_off + len(text)
    data_off = notes_off + sum(len(n) for n in notes)
    data = b'\x11' * 8
    phdrs = [(PT_INTERP, PF_R, text_off, base + text_off, len(interp), len(interp), 1),
             (PT_LOAD, PF_X, text_off, base + text_off, len(text), len(text), 0x1000),
             (PT_LOAD, PF_R, notes_off, base + 0x1000 + notes_off, data_off - notes_off,
              data_off - notes_off, 0x1000),
             (PT_LOAD, PF_R | PF_W, data_off, base + 0x2000 + data_off, 8, 8, 0x1000),
             (PT_LOAD, PF_R | PF_W, data_off + 8, base + 0x2000 + data_off + 8, 0, 0x1000, 0x1000),
             (PT_LOAD, PF_R, 0, 0, 0, 0, 0x1000)]
    off = notes_off
    for n in notes:
        phdrs.append((PT_NOTE, PF_R, off, base + 0x1000 + off, len(n), len(n), 4))
        off += len(n)
    return elf64(base + text_off + len(interp), phdrs,
                 [(text_off, text), (notes_off, b''.join(notes)), (data_off, data)])


def hvt_v1():
    """ABI version 1, a manifest of entry 0 alone, both notes in one PT_NOTE."""
    base = 0x100000
    text_off = 64 + 2 * 56
    text = b'\xf4' * 16
    notes = abi_note(1, 1) + mft_note([])
    notes_off = text_off + len(text)
    return elf64(base + text_off, [
        (PT_LOAD, PF_R | PF_X, text_off, base + text_off, len(text), len(text), 0x1000),
        (PT_NOTE, PF_R, notes_off, 0, len(notes), len(notes), 4)],
        [(text_off, text), (notes_off, notes)])


ELF = {
    'hvt_v2_solo5_layout.elf': hvt_v2(),
    'hvt_v1_minimal.elf': hvt_v1(),
}

MFT = {
    'two_devices.bin': mft_desc([(b'service', MFT_NET), (b'storage', MFT_BLOCK)]),
    'reserved_only.bin': mft_desc([]),
    # The most devices Mayfly keeps (MFT_DEVICES_MAX, accepted) and a full
    # 64-entry manifest (refused: more than one guest line maps).
    'devices_8.bin': mft_desc([(b'dev%d' % i, MFT_NET if i % 2 else MFT_BLOCK)
                               for i in range(1, 9)]),
    'entries_64.bin': mft_desc([(b'dev%d' % i, MFT_NET if i % 2 else MFT_BLOCK)
                                for i in range(1, 64)]),
}


# ACPI tables for fuzz_madt: the first byte is the harness's mode (bit 0
# discover over memory, bit 1 fix checksums, bit 2 RSDP as a copy); the
# memory images put the RSDP at 16, as tests/fuzz/fuzz_madt.c expects.
def acpi_sum(data, at):
    data = bytearray(data)
    data[at] = 0
    data[at] = -sum(data) & 0xff
    return bytes(data)


def sdt(sig, body):
    head = sig + struct.pack('<IBB6s8sI4sI', 36 + len(body), 1, 0, b'BOCHS ',
                             b'BXPCAPIC', 1, b'BXPC', 1)
    return acpi_sum(head + body, 9)


def madt(entries, lapic=0xfee00000, flags=1):
    return sdt(b'APIC', struct.pack('<II', lapic, flags) + b''.join(entries))


def lapic(uid, id_, flags=1):
    return struct.pack('<BBBBI', 0, 8, uid, id_, flags)


def ioapic(id_, addr, gsi):
    return struct.pack('<BBBBII', 1, 12, id_, 0, addr, gsi)


def x2apic(id_, flags, uid):
    return struct.pack('<BBHIII', 9, 16, 0, id_, flags, uid)


ISO = struct.pack('<BBBBIH', 2, 10, 0, 0, 2, 0)
NMI = struct.pack('<BBBHB', 4, 6, 0xff, 0, 1)
BOCHS_MADT = madt([lapic(i, i) for i in range(4)] + [ioapic(4, 0xfec00000, 0), ISO, NMI])
QEMU_MADT = madt([lapic(0, 0), lapic(1, 1), x2apic(256, 1, 2), x2apic(257, 3, 3),
                  ioapic(0, 0xfec00000, 0), struct.pack('<BBHIB3x', 0xa, 12, 0, 0xffffffff, 1),
                  struct.pack('<BBHQ', 5, 12, 0, 0xfee00000)])


def rsdp(rsdt, xsdt=None):
    v1 = acpi_sum(b'RSD PTR \0BOCHS ' + bytes([0 if xsdt is None else 2]) +
                  struct.pack('<I', rsdt), 8)
    if xsdt is None:
        return v1 + b'\0' * 16
    return acpi_sum(v1 + struct.pack('<IQB3x', 36, xsdt, 0), 32)


def acpi_memory(root_sig, tables, rsdp_of):
    """Memory from 0: 16 bytes, the RSDP, the root table, then tables."""
    at = 16 + 36
    body = b''
    addrs = []
    for t in tables:
        addrs.append(at + 64 + len(body))
        body += t + b'\0' * (-len(t) % 4)
    fmt = '<I' if root_sig == b'RSDT' else '<Q'
    root = sdt(root_sig, b''.join(struct.pack(fmt, a) for a in addrs))
    mem = b'\0' * 16 + rsdp_of(at) + root
    mem += b'\0' * (at + 64 - len(mem))
    assert len(mem) == at + 64, 'root table too long for the layout'
    return mem + body


FACP = sdt(b'FACP', b'\0' * 80)
MADT = {
    'parse_bochs.bin': b'\x00' + BOCHS_MADT,
    'parse_qemu.bin': b'\x00' + QEMU_MADT,
    'parse_fixup_many.bin': b'\x02' + madt([x2apic(i, 1 if i % 5 else 0, i) for i in range(90)]),
    # Refused: a duplicate id, a second override; accepted: placeholders,
    # more I/O APICs than are kept.
    'parse_duplicate.bin': b'\x02' + madt([lapic(0, 0), x2apic(0, 1, 1)]),
    'parse_two_overrides.bin': b'\x02' + madt([lapic(0, 0)] + [QEMU_MADT[-12:]] * 2),
    'parse_placeholders.bin': b'\x02' + madt([lapic(0, 0), lapic(1, 0xff, 0), lapic(2, 0xff, 0),
                                               x2apic(0xffffffff, 0, 3)]),
    'parse_ioapics.bin': b'\x02' + madt([lapic(0, 0)] + [ioapic(i, 0xfec00000 + i * 0x1000, 24 * i)
                                                        for i in range(10)]),
    'discover_bochs.bin': b'\x01' + acpi_memory(b'RSDT', [FACP, BOCHS_MADT], rsdp),
    'discover_qemu.bin': b'\x03' + acpi_memory(b'XSDT', [FACP, QEMU_MADT],
                                               lambda at: rsdp(0, at)),
    'discover_copy.bin': b'\x05' + acpi_memory(b'RSDT', [BOCHS_MADT, FACP], rsdp),
    # madt_find_table (mode bit 3) with a buffer of 36 + 15 * 16 bytes.
    'find_bochs.bin': b'\xf9' + acpi_memory(b'RSDT', [FACP, BOCHS_MADT], rsdp),
    'find_qemu_copy.bin': b'\xff' + acpi_memory(b'XSDT', [FACP, QEMU_MADT],
                                                lambda at: rsdp(0, at)),
}


# fuzz_control programs (tests/fuzz/fuzz_control.c): the client uploads a
# disk and a Solo5 image (hvt_v2, whose manifest names "service" and
# "storage"), STARTs the image with both devices mapped, and reads its
# log. Every request is op 2 with a two-byte length (0x0a); the harness
# signs it. Small enough for make fuzz-long's 4 KiB input limit.
CTL_HELLO_OP, CTL_SIGNED_WIDE = 0x01, 0x0a
CTL_UPLOAD_BEGIN, CTL_UPLOAD_CHUNK, CTL_UPLOAD_END, CTL_START, CTL_LOGS = 3, 4, 5, 6, 9
CTL_CHUNK_DATA_MAX = 4096 - 8


def ctl_request(type_, payload):
    return bytes([CTL_SIGNED_WIDE, type_]) + struct.pack('<H', len(payload)) + payload


def ctl_upload(name, data, kind):
    out = ctl_request(CTL_UPLOAD_BEGIN, name.ljust(32, b'\0') + struct.pack('<QII', len(data), kind, 0))
    for off in range(0, len(data), CTL_CHUNK_DATA_MAX):
        out += ctl_request(CTL_UPLOAD_CHUNK, struct.pack('<Q', off) + data[off:off + CTL_CHUNK_DATA_MAX])
    return out + ctl_request(CTL_UPLOAD_END, struct.pack('<II', zlib.crc32(data), 0))


def ctl_device(kind, sector_size, name, target):
    return struct.pack('<II', kind, sector_size) + name.ljust(68, b'\0') + target.ljust(64, b'\0')


def ctl_start(name, image, devices):
    body = (name.ljust(32, b'\0') + image.ljust(32, b'\0') + b'\0' * 32 +
            struct.pack('<II', 1, 0) + b'\0' * 256 + b'\0' * 64 + struct.pack('<I', len(devices)))
    body += b''.join(devices) + b'\0' * (140 * (8 - len(devices)))
    return ctl_request(CTL_START, body)


def ctl_solo5_program(mode):
    disk = bytes(range(256)) * 2
    return (bytes([mode, CTL_HELLO_OP]) + ctl_upload(b'disk.img', disk, 1) +
            ctl_upload(b'site.hvt', hvt_v2(), 0) +
            ctl_start(b'site', b'site.hvt', [ctl_device(1, 0, b'service', b'sw0'),
                                            ctl_device(2, 512, b'storage', b'disk.img')]) +
            ctl_request(CTL_LOGS, struct.pack('<II', 7, 4096)))


CONTROL = {
    'seed-upload-solo5-start-keyed': ctl_solo5_program(1),       # COM2, a key
    'seed-upload-solo5-start-net-keyed': ctl_solo5_program(3),   # the network channel
}


def write(sub, files):
    d = os.path.join(HERE, 'corpus', sub)
    os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)


write('mb2', MB2)
write('memmap', MEMMAP)
write('elf', ELF)
write('mft', MFT)
write('madt', MADT)
write('control', CONTROL)
