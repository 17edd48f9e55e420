/*
 * Unit tests of hv/elf.c. Each test builds an image in memory with the
 * small builder below (headers written by hand, byte by byte), breaks one
 * thing, and checks the reason elf_validate() gives.
 *
 * The base image: ELF header at 0, program headers from 64, the ABI note at
 * 0x800, text (R+X, 0x100 bytes) at file 0x1000 -> 0x100000, data (R+W,
 * 0x80 file bytes, 0x1000 in memory) at file 0x2000 -> 0x102000. The hvt
 * builder (hvt_base and friends) puts Solo5's notes there instead.
 */
#define _GNU_SOURCE                 /* REG_EFL, for the read-once test */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "elf.h"
#include "../../include/mayfly/abi.h"

#define MIB          (1024ULL * 1024ULL)
#define PT_LOAD      1
#define PT_DYNAMIC   2
#define PT_INTERP    3
#define PT_NOTE      4
#define PF_X         1u
#define PF_W         2u
#define PF_R         4u
#define TEXT_OFF     0x1000ULL
#define TEXT_VA      0x100000ULL
#define DATA_OFF     0x2000ULL
#define DATA_VA      0x102000ULL
#define NOTE_OFF     0x800ULL
#define IMAGE_SIZE   0x2080
#define BUF_SIZE     0x4000

struct builder {
    uint8_t buf[BUF_SIZE];
    size_t size;
    uint16_t phnum;
};

static struct builder b;
static struct elf_image img;
static char err[1024];

static void put16(size_t off, uint16_t v) { memcpy(b.buf + off, &v, sizeof(v)); }
static void put32(size_t off, uint32_t v) { memcpy(b.buf + off, &v, sizeof(v)); }
static void put64(size_t off, uint64_t v) { memcpy(b.buf + off, &v, sizeof(v)); }

/* An ELF header with no program headers yet. */
static void begin(void)
{
    memset(&b, 0, sizeof(b));
    memcpy(b.buf, "\x7f" "ELF", 4);
    b.buf[4] = 2;                   /* ELFCLASS64 */
    b.buf[5] = 1;                   /* ELFDATA2LSB */
    b.buf[6] = 1;                   /* EV_CURRENT */
    put16(16, 2);                   /* ET_EXEC */
    put16(18, 62);                  /* EM_X86_64 */
    put32(20, 1);
    put64(24, TEXT_VA);             /* entry */
    put64(32, 64);                  /* phoff */
    put16(52, 64);
    put16(54, 56);
    b.size = IMAGE_SIZE;
}

/* Appends a program header and returns its index. */
static uint16_t phdr(uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr,
                     uint64_t filesz, uint64_t memsz, uint64_t align)
{
    size_t p = 64 + (size_t)b.phnum * 56;
    assert_true(p + 56 <= NOTE_OFF);
    put32(p, type);
    put32(p + 4, flags);
    put64(p + 8, offset);
    put64(p + 16, vaddr);
    put64(p + 24, vaddr);
    put64(p + 32, filesz);
    put64(p + 40, memsz);
    put64(p + 48, align);
    put16(56, ++b.phnum);
    return (uint16_t)(b.phnum - 1);
}

static size_t phdr_at(uint16_t i) { return 64 + (size_t)i * 56; }

/* Writes a note at off (name padded to 4, descriptor padded to 4); returns its length. */
static size_t note(size_t off, const char *name, uint32_t namesz, uint32_t type,
                   const void *desc, uint32_t descsz)
{
    size_t name_space = (namesz + 3u) & ~3u, desc_space = (descsz + 3u) & ~3u;
    put32(off, namesz);
    put32(off + 4, descsz);
    put32(off + 8, type);
    memcpy(b.buf + off + 12, name, namesz);
    memcpy(b.buf + off + 12 + name_space, desc, descsz);
    return 12 + name_space + desc_space;
}

static size_t abi_note(size_t off, uint32_t version)
{
    struct mf_abi_note d = { .abi_version = version, .flags = 0 };
    return note(off, MF_NOTE_NAME, sizeof(MF_NOTE_NAME), MF_NOTE_TYPE_ABI, &d, sizeof(d));
}

/* Text and data segments with contents, no note. */
static void base_loads(void)
{
    begin();
    phdr(PT_LOAD, PF_R | PF_X, TEXT_OFF, TEXT_VA, 0x100, 0x100, 0x1000);
    phdr(PT_LOAD, PF_R | PF_W, DATA_OFF, DATA_VA, 0x80, 0x1000, 0x1000);
    for (size_t i = 0; i < 0x100; i++)
        b.buf[TEXT_OFF + i] = (uint8_t)(0x90 + i);
    for (size_t i = 0; i < 0x80; i++)
        b.buf[DATA_OFF + i] = (uint8_t)(i + 1);
}

/* The whole valid base image. */
static void base(void)
{
    base_loads();
    size_t len = abi_note(NOTE_OFF, MF_ABI_VERSION);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
}

static int validate(uint64_t mem_limit)
{
    memset(err, 0, sizeof(err));
    return elf_validate(b.buf, b.size, mem_limit, &img, err, sizeof(err));
}

static void accept(uint64_t mem_limit)
{
    if (validate(mem_limit) != 0)
        fail_msg("rejected: %s", err);
}

/* Expects a rejection whose reason contains want. */
static void reject(uint64_t mem_limit, const char *want)
{
    if (validate(mem_limit) != -1)
        fail_msg("accepted, expected \"%s\"", want);
    if (!strstr(err, want))
        fail_msg("reason \"%s\", expected \"%s\"", err, want);
    assert_null(strchr(err, '\n'));
}

/*
 * The hvt builder: the base image's loads with Solo5 notes instead of the
 * Mayfly note: an OpenBSD note (Solo5 images carry one), ABI1 (target,
 * version) and MFT1 with devices "service" (NET_BASIC) and "storage"
 * (BLOCK_BASIC), in one PT_NOTE segment at NOTE_OFF (header 2).
 */
#define MFT_DESC_MAX (HVT_MFT_NOTE_PAD + sizeof(struct hvt_mft) + \
                      HVT_MFT_ENTRIES_MAX * sizeof(struct hvt_mft_entry))
#define BIG_NOTE_OFF 0x2100ULL      /* room for a 64-entry manifest */

static const char *const two_names[] = { "service", "storage" };

static size_t solo5_abi_note(size_t off, uint32_t target, uint32_t version)
{
    struct hvt_abi_info d = { .target = target, .version = version };
    return note(off, HVT_NOTE_NAME, sizeof(HVT_NOTE_NAME), HVT_NOTE_TYPE_ABI, &d, sizeof(d));
}

/* An MFT1 descriptor: entry 0, then names[i] as entry i + 1, NET_BASIC at
 * odd indexes and BLOCK_BASIC at even ones. Returns its size. */
static uint32_t mft_desc(uint8_t *desc, const char *const *names, uint32_t n)
{
    struct hvt_mft h = { .version = HVT_MFT_VERSION, .entries = n + 1 };
    struct hvt_mft_entry e;
    size_t at = HVT_MFT_NOTE_PAD;

    memset(desc, 0, MFT_DESC_MAX);
    memcpy(desc + at, &h, sizeof(h));
    at += sizeof(h);
    for (uint32_t i = 0; i <= n; i++, at += sizeof(e)) {
        memset(&e, 0, sizeof(e));
        e.type = i == 0 ? HVT_MFT_RESERVED_FIRST : i % 2 ? HVT_MFT_NET_BASIC : HVT_MFT_BLOCK_BASIC;
        if (i > 0)
            strcpy(e.name, names[i - 1]);
        memcpy(desc + at, &e, sizeof(e));
    }
    return (uint32_t)at;
}

static size_t mft_note(size_t off, const char *const *names, uint32_t n)
{
    static uint8_t desc[MFT_DESC_MAX];
    uint32_t len = mft_desc(desc, names, n);
    return note(off, HVT_NOTE_NAME, sizeof(HVT_NOTE_NAME), HVT_NOTE_TYPE_MFT, desc, len);
}

static size_t openbsd_note(size_t off)
{
    static const uint8_t zero[4];
    return note(off, "OpenBSD", 8, 1, zero, sizeof(zero));
}

/* The three notes at off; returns their length. */
static size_t hvt_notes(size_t off, uint32_t version)
{
    size_t len = openbsd_note(off);
    len += solo5_abi_note(off + len, HVT_TARGET_HVT, version);
    len += mft_note(off + len, two_names, 2);
    return len;
}

static void hvt_base(uint32_t version)
{
    base_loads();
    size_t len = hvt_notes(NOTE_OFF, version);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
}

/* An hvt image whose only Solo5 notes are ABI1 (target, version) and,
 * when with_mft, a two-device MFT1, in one segment. */
static void hvt_with(uint32_t target, uint32_t version, int with_mft)
{
    base_loads();
    size_t len = solo5_abi_note(NOTE_OFF, target, version);
    if (with_mft)
        len += mft_note(NOTE_OFF + len, two_names, 2);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
}

static void assert_two_devices(void)
{
    assert_int_equal(img.mft.entries, 3);
    assert_int_equal(img.mft.e[0].type, HVT_MFT_RESERVED_FIRST);
    assert_string_equal(img.mft.e[1].name, "service");
    assert_int_equal(img.mft.e[1].type, HVT_MFT_NET_BASIC);
    assert_string_equal(img.mft.e[2].name, "storage");
    assert_int_equal(img.mft.e[2].type, HVT_MFT_BLOCK_BASIC);
}

/* ---- acceptance ---- */

static void test_accepts_base(void **state)
{
    (void)state;
    base();
    accept(2 * MIB);
    assert_int_equal(img.entry, TEXT_VA);
    assert_int_equal(img.segment_count, 2);
    assert_int_equal(img.segments[0].vaddr, TEXT_VA);
    assert_int_equal(img.segments[0].offset, TEXT_OFF);
    assert_int_equal(img.segments[0].filesz, 0x100);
    assert_int_equal(img.segments[0].flags, PF_R | PF_X);
    assert_int_equal(img.segments[1].vaddr, DATA_VA);
    assert_int_equal(img.segments[1].memsz, 0x1000);
    assert_int_equal(img.lowest, TEXT_VA);
    assert_int_equal(img.highest, DATA_VA + 0x1000);
    assert_int_equal(img.abi_version, MF_ABI_VERSION);
}

static void test_sorts_segments(void **state)
{
    (void)state;
    begin();
    phdr(PT_LOAD, PF_R | PF_W, DATA_OFF, DATA_VA, 0x80, 0x1000, 0x1000);
    phdr(PT_LOAD, PF_R, 0, 0x180000, 0x10, 0x10, 0);
    phdr(PT_LOAD, PF_R | PF_X, TEXT_OFF, TEXT_VA, 0x100, 0x100, 0x1000);
    size_t len = abi_note(NOTE_OFF, MF_ABI_VERSION);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    accept(2 * MIB);
    assert_int_equal(img.segment_count, 3);
    assert_int_equal(img.segments[0].vaddr, TEXT_VA);
    assert_int_equal(img.segments[1].vaddr, DATA_VA);
    assert_int_equal(img.segments[2].vaddr, 0x180000);
    assert_int_equal(img.lowest, TEXT_VA);
    assert_int_equal(img.highest, 0x180010);
}

static void test_accepts_segment_at_limit(void **state)
{
    (void)state;
    base();
    /* Data ends exactly where the stack reserve begins. */
    put64(phdr_at(1) + 40, 2 * MIB - MF_STACK_RESERVE - DATA_VA);
    accept(2 * MIB);
    assert_int_equal(img.highest, 2 * MIB - MF_STACK_RESERVE);
}

static void test_ignores_empty_segment(void **state)
{
    (void)state;
    base();
    phdr(PT_LOAD, PF_R, 0, 0, 0, 0, 0x1000);   /* below the image base but empty */
    accept(2 * MIB);
    assert_int_equal(img.segment_count, 2);
}

static void test_accepts_max_segments(void **state)
{
    (void)state;
    base();
    /* 14 more one-byte segments: 16 in all, plus an empty one. */
    for (uint64_t i = 0; i < ELF_MAX_SEGMENTS - 2; i++)
        phdr(PT_LOAD, PF_R, 0, 0x110000 + i * 0x1000, 1, 1, 0x1000);
    phdr(PT_LOAD, PF_R, 0, 0x1f0000, 0, 0, 0);
    accept(2 * MIB);
    assert_int_equal(img.segment_count, ELF_MAX_SEGMENTS);
    for (uint32_t i = 1; i < img.segment_count; i++)
        assert_true(img.segments[i - 1].vaddr < img.segments[i].vaddr);
}

static void test_accepts_other_notes(void **state)
{
    (void)state;
    base_loads();
    static const uint8_t gnu_desc[16] = { 1, 2, 3 };
    size_t off = NOTE_OFF;
    off += note(off, "GNU", 4, 5, gnu_desc, sizeof(gnu_desc));
    off += note(off, "Mayfly", 6, MF_NOTE_TYPE_ABI, gnu_desc, 8);   /* no NUL: another name */
    off += note(off, MF_NOTE_NAME, 7, 0x4d460099u, gnu_desc, 3);    /* later Mayfly note type */
    off += abi_note(off, MF_ABI_VERSION);
    off += note(off, "Xen", 4, 1, gnu_desc, 5);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, off - NOTE_OFF, off - NOTE_OFF, 4);
    accept(2 * MIB);
    assert_int_equal(img.abi_version, MF_ABI_VERSION);
}

static void test_accepts_note_in_second_segment(void **state)
{
    (void)state;
    base_loads();
    static const uint8_t desc[4] = { 0 };
    size_t len1 = note(NOTE_OFF, "GNU", 4, 1, desc, sizeof(desc));
    size_t len2 = abi_note(NOTE_OFF + 0x100, MF_ABI_VERSION);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len1, len1, 4);
    phdr(PT_NOTE, PF_R, NOTE_OFF + 0x100, 0, len2, len2, 4);
    accept(2 * MIB);
}

static void test_accepts_unpadded_last_descriptor(void **state)
{
    (void)state;
    base_loads();
    uint8_t desc[9] = { MF_ABI_VERSION, 0, 0, 0, 0, 0, 0, 0, 0xee };
    note(NOTE_OFF, MF_NOTE_NAME, 7, MF_NOTE_TYPE_ABI, desc, sizeof(desc));
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, 12 + 8 + 9, 12 + 8 + 9, 4);   /* no tail padding */
    accept(2 * MIB);
    assert_int_equal(img.abi_version, MF_ABI_VERSION);
}

static void test_error_buffer_optional(void **state)
{
    (void)state;
    char small[8];
    base();
    b.buf[0] = 0;
    assert_int_equal(elf_validate(b.buf, b.size, 2 * MIB, &img, NULL, 0), -1);
    assert_int_equal(elf_validate(b.buf, b.size, 2 * MIB, &img, small, sizeof(small)), -1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* ---- header rejections ---- */

static void test_rejects_short(void **state)
{
    (void)state;
    base();
    b.size = 63;
    reject(2 * MIB, "not an ELF file");
    b.size = 0;
    reject(2 * MIB, "not an ELF file");
}

static void test_rejects_bad_magic(void **state)
{
    (void)state;
    base();
    b.buf[1] = 'X';
    reject(2 * MIB, "not an ELF file (bad magic)");
}

static void test_rejects_elf32(void **state)
{
    (void)state;
    base();
    b.buf[4] = 1;
    reject(2 * MIB, "not a 64-bit ELF file");
}

static void test_rejects_big_endian(void **state)
{
    (void)state;
    base();
    b.buf[5] = 2;
    reject(2 * MIB, "not a little-endian");
}

static void test_rejects_version(void **state)
{
    (void)state;
    base();
    b.buf[6] = 2;
    reject(2 * MIB, "unknown ELF version 2");
    base();
    put32(20, 0);
    reject(2 * MIB, "unknown ELF version 0");
}

static void test_rejects_type(void **state)
{
    (void)state;
    base();
    put16(16, 3);
    reject(2 * MIB, "position-independent executables are not supported");
    put16(16, 1);
    reject(2 * MIB, "ELF type 1 is not an executable");
}

static void test_rejects_machine(void **state)
{
    (void)state;
    base();
    put16(18, 183);                 /* EM_AARCH64 */
    reject(2 * MIB, "ELF machine 183 is not x86-64");
}

static void test_rejects_phentsize(void **state)
{
    (void)state;
    base();
    put16(54, 64);
    reject(2 * MIB, "program header size 64");
}

static void test_rejects_phnum(void **state)
{
    (void)state;
    base();
    put16(56, 0);
    reject(2 * MIB, "0 program headers");
    put16(56, 33);
    reject(2 * MIB, "33 program headers");
    put16(56, 0xffff);              /* PN_XNUM */
    reject(2 * MIB, "65535 program headers");
}

static void test_rejects_phdrs_outside_file(void **state)
{
    (void)state;
    base();
    put64(32, b.size - 56);         /* three headers, room for one */
    reject(2 * MIB, "program header table");
    put64(32, UINT64_MAX - 8);      /* phoff + size wraps */
    reject(2 * MIB, "lies outside the file");
    base();
    b.size = 64 + 56;               /* the table is cut short */
    reject(2 * MIB, "program header table");
}

static void test_rejects_dynamic(void **state)
{
    (void)state;
    base();
    phdr(PT_INTERP, PF_R, 0x300, 0x100300, 0x10, 0x10, 1);
    reject(2 * MIB, "dynamic executables are not supported: link statically");
    base();
    phdr(PT_DYNAMIC, PF_R, 0x300, 0x100300, 0x10, 0x10, 8);
    reject(2 * MIB, "dynamic executables are not supported");
}

/* ---- segment rejections ---- */

static void test_rejects_filesz_over_memsz(void **state)
{
    (void)state;
    base();
    put64(phdr_at(1) + 32, 0x1001);
    reject(2 * MIB, "segment 1 has more file bytes");
}

static void test_rejects_segment_outside_file(void **state)
{
    (void)state;
    base();
    put64(phdr_at(1) + 32, 0x81);   /* one byte past the end of the file */
    reject(2 * MIB, "segment 1 (offset 0x2000, 0x81 bytes) lies outside the file");
    base();
    put64(phdr_at(0) + 8, UINT64_MAX - 0x7f);  /* offset + filesz wraps */
    put64(phdr_at(0) + 48, 0);
    reject(2 * MIB, "segment 0 (offset");
}

static void test_rejects_below_image_base(void **state)
{
    (void)state;
    base();
    put64(phdr_at(0) + 16, 0xff000);
    reject(2 * MIB, "segment 0 at 0xff000 is below 0x100000");
}

static void test_rejects_beyond_partition(void **state)
{
    (void)state;
    base();
    put64(phdr_at(1) + 40, 2 * MIB - DATA_VA);  /* ends at the top: into the stack */
    reject(2 * MIB, "segment 1 [0x102000-0x200000) ends beyond the partition (2 MiB");
    assert_non_null(strstr(err, "use a larger class"));
    accept(4 * MIB);
    base();
    reject(MF_IMAGE_BASE, "ends beyond the partition (1 MiB");
    reject(MF_STACK_RESERVE / 2, "ends beyond the partition (32 KiB");
    reject(0, "ends beyond the partition (0 bytes");
}

static void test_rejects_wrapping_segment(void **state)
{
    (void)state;
    base();
    put64(phdr_at(1) + 16, UINT64_MAX - 0xfff);
    put64(phdr_at(1) + 8, DATA_OFF);
    put64(phdr_at(1) + 48, 0);
    put64(phdr_at(1) + 40, 0x2000);
    reject(UINT64_MAX, "segment 1 at 0xfffffffffffff000 (0x2000 bytes) wraps around");
    reject(2 * MIB, "wraps around the address space");
}

static void test_rejects_bad_alignment(void **state)
{
    (void)state;
    base();
    put64(phdr_at(1) + 48, 0x3000);
    reject(2 * MIB, "segment 1 alignment 0x3000 is not a power of two");
    base();
    put64(phdr_at(1) + 16, DATA_VA + 0x10);  /* 0x102010 vs offset 0x2000 */
    reject(2 * MIB, "differ modulo its alignment 0x1000");
    put64(phdr_at(1) + 48, 0x10);            /* congruent modulo 16 */
    accept(2 * MIB);
    put64(phdr_at(1) + 48, 1);
    put64(phdr_at(1) + 16, DATA_VA + 3);
    accept(2 * MIB);
}

static void test_rejects_too_many_segments(void **state)
{
    (void)state;
    base();
    for (uint64_t i = 0; i < ELF_MAX_SEGMENTS - 1; i++)
        phdr(PT_LOAD, PF_R, 0, 0x110000 + i * 0x1000, 1, 1, 0x1000);
    reject(2 * MIB, "more than 16 loadable segments");
}

static void test_rejects_overlap(void **state)
{
    (void)state;
    base();
    phdr(PT_LOAD, PF_R, 0, DATA_VA + 0xfff, 1, 1, 0);   /* last byte of the bss */
    reject(2 * MIB, "segments 1 and 3 overlap");
    base();
    put64(phdr_at(1) + 16, TEXT_VA + 0xff);  /* listed after text, starts inside it */
    put64(phdr_at(1) + 48, 1);
    reject(2 * MIB, "segments 0 and 1 overlap");
    put64(phdr_at(1) + 16, TEXT_VA + 0x100); /* adjacent is fine */
    accept(2 * MIB);
}

static void test_rejects_overlap_unsorted(void **state)
{
    (void)state;
    base();
    phdr(PT_LOAD, PF_R, 0, 0x100080, 0x10, 0x10, 0);   /* inside text, listed last */
    reject(2 * MIB, "segments 0 and 3 overlap");
}

static void test_rejects_no_load(void **state)
{
    (void)state;
    begin();
    size_t len = abi_note(NOTE_OFF, MF_ABI_VERSION);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    phdr(PT_LOAD, PF_R | PF_X, TEXT_OFF, TEXT_VA, 0, 0, 0x1000);    /* empty */
    reject(2 * MIB, "no loadable segment");
}

static void test_rejects_entry(void **state)
{
    (void)state;
    base();
    put64(24, TEXT_VA + 0x100);     /* one past text */
    reject(2 * MIB, "entry point 0x100100 is not inside an executable segment");
    put64(24, DATA_VA);             /* in data, not executable */
    reject(2 * MIB, "entry point 0x102000");
    put64(24, 0);
    reject(2 * MIB, "entry point 0x0");
    put64(24, TEXT_VA + 0xff);
    accept(2 * MIB);
}

/* ---- note rejections ---- */

static void test_rejects_no_note(void **state)
{
    (void)state;
    base_loads();
    reject(2 * MIB, "not a Mayfly or Solo5 hvt image: it has no Mayfly ABI note and no Solo5 ABI note (link Mayfly guests with guests/lib; build Solo5 unikernels for the hvt target)");
    static const uint8_t desc[8] = { MF_ABI_VERSION };
    size_t len = note(NOTE_OFF, "Mayfly", 6, MF_NOTE_TYPE_ABI, desc, sizeof(desc));
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    reject(2 * MIB, "no Mayfly ABI note");
    /* The right note in a PT_LOAD-only region is not found either. */
    base_loads();
    abi_note(NOTE_OFF, MF_ABI_VERSION);
    reject(2 * MIB, "no Mayfly ABI note");
    base_loads();
    hvt_notes(NOTE_OFF, 2);
    reject(2 * MIB, "no Solo5 ABI note");
}

static void test_rejects_two_notes(void **state)
{
    (void)state;
    base_loads();
    size_t len = abi_note(NOTE_OFF, MF_ABI_VERSION);
    len += abi_note(NOTE_OFF + len, MF_ABI_VERSION);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    reject(2 * MIB, "more than one Mayfly ABI note");
    base();
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, 28, 28, 4);     /* the same note twice */
    reject(2 * MIB, "more than one Mayfly ABI note");
}

static void test_rejects_short_descriptor(void **state)
{
    (void)state;
    base_loads();
    static const uint8_t desc[4] = { MF_ABI_VERSION };
    size_t len = note(NOTE_OFF, MF_NOTE_NAME, 7, MF_NOTE_TYPE_ABI, desc, sizeof(desc));
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    reject(2 * MIB, "4-byte descriptor, expected at least 8");
}

static void test_rejects_truncated_note(void **state)
{
    (void)state;
    base();
    put64(phdr_at(2) + 32, 27);     /* the descriptor's last byte is cut off */
    reject(2 * MIB, "runs past the segment's end");
    put32(NOTE_OFF, 0xffffffffu);   /* a huge name */
    put64(phdr_at(2) + 32, 28);
    reject(2 * MIB, "runs past the segment's end");
    put32(NOTE_OFF, 7);
    put32(NOTE_OFF + 4, 0xfffffffdu);
    reject(2 * MIB, "runs past the segment's end");
}

static void test_ignores_short_note_tail(void **state)
{
    (void)state;
    base();
    put64(phdr_at(2) + 32, 28 + 11);    /* 11 stray bytes: not a note header */
    accept(2 * MIB);
}

static void test_rejects_note_segment_outside_file(void **state)
{
    (void)state;
    base();
    put64(phdr_at(2) + 8, b.size - 10);
    reject(2 * MIB, "note segment 2");
    put64(phdr_at(2) + 8, UINT64_MAX - 10);
    reject(2 * MIB, "lies outside the file");
}

static void test_rejects_abi_version(void **state)
{
    (void)state;
    base_loads();
    size_t len = abi_note(NOTE_OFF, 9);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    reject(2 * MIB, "ABI note version 9, this hypervisor speaks version 1");
}

/* ---- Solo5 hvt images ---- */

static void test_hvt_accepts_v2(void **state)
{
    (void)state;
    hvt_base(2);
    accept(2 * MIB);
    assert_int_equal(img.personality, ELF_SOLO5_HVT);
    assert_int_equal(img.abi_version, 2);
    assert_two_devices();
    assert_int_equal(img.segment_count, 2);
    assert_int_equal(img.lowest, TEXT_VA);
    assert_int_equal(img.highest, DATA_VA + 0x1000);
    assert_int_equal(img.kernel_end, DATA_VA + 0x1000);
    assert_int_equal(img.entry, TEXT_VA);
    assert_int_equal(elf_memory_needed(&img), 2 * MIB);
}

static void test_hvt_accepts_v1(void **state)
{
    (void)state;
    base_loads();
    put64(phdr_at(1) + 40, 0x81);   /* data ends off a page boundary */
    size_t len = solo5_abi_note(NOTE_OFF, HVT_TARGET_HVT, 1);
    len += mft_note(NOTE_OFF + len, NULL, 0);   /* entry 0 alone: no devices */
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    accept(2 * MIB);
    assert_int_equal(img.personality, ELF_SOLO5_HVT);
    assert_int_equal(img.abi_version, 1);
    assert_int_equal(img.mft.entries, 1);
    assert_int_equal(img.highest, DATA_VA + 0x81);
    assert_int_equal(img.kernel_end, DATA_VA + 0x1000);     /* rounded up to 4 KiB */
}

static void test_mayfly_personality_fields(void **state)
{
    (void)state;
    static const struct mft_info zero;

    base();
    accept(2 * MIB);
    assert_int_equal(img.personality, ELF_MAYFLY);
    assert_int_equal(img.abi_version, MF_ABI_VERSION);
    assert_int_equal(img.kernel_end, 0);
    assert_memory_equal(&img.mft, &zero, sizeof(zero));
    /* A Solo5 image validated before leaves nothing behind. */
    hvt_base(2);
    accept(2 * MIB);
    base();
    accept(2 * MIB);
    assert_memory_equal(&img.mft, &zero, sizeof(zero));
    assert_int_equal(img.kernel_end, 0);
}

/*
 * The layout Solo5 0.12's linker script gives: PT_INTERP first (inside
 * text), execute-only text, read-only rodata, data, an empty PT_LOAD at 0
 * (a segment with no sections), .bss as a PT_LOAD with no file bytes,
 * then three PT_NOTEs after every load.
 */
static void hvt_solo5_layout(void)
{
    begin();
    phdr(PT_INTERP, PF_R, TEXT_OFF, TEXT_VA, 0x14, 0x14, 1);
    phdr(PT_LOAD, PF_X, TEXT_OFF, TEXT_VA, 0x100, 0x100, 0x1000);
    phdr(PT_LOAD, PF_R, 0x1800, 0x101800, 0x80, 0x80, 0x1000);
    phdr(PT_LOAD, PF_R | PF_W, DATA_OFF, DATA_VA, 0x80, 0x1000, 0x1000);
    phdr(PT_LOAD, PF_R, 0, 0, 0, 0, 0x1000);
    phdr(PT_LOAD, PF_R | PF_W, 0x3000, 0x103000, 0, 0x5000, 0x1000);
    size_t a = openbsd_note(NOTE_OFF);
    size_t b2 = solo5_abi_note(NOTE_OFF + a, HVT_TARGET_HVT, 2);
    size_t c = mft_note(NOTE_OFF + a + b2, two_names, 2);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, a, a, 4);
    phdr(PT_NOTE, PF_R, NOTE_OFF + a, 0, b2, b2, 4);
    phdr(PT_NOTE, PF_R, NOTE_OFF + a + b2, 0, c, c, 4);
}

static void test_hvt_solo5_layout(void **state)
{
    (void)state;
    hvt_solo5_layout();
    accept(2 * MIB);
    assert_int_equal(img.personality, ELF_SOLO5_HVT);
    assert_two_devices();
    assert_int_equal(img.segment_count, 4);     /* text, rodata, data, bss */
    assert_int_equal(img.segments[3].vaddr, 0x103000);
    assert_int_equal(img.segments[3].filesz, 0);
    assert_int_equal(img.highest, 0x108000);
    assert_int_equal(img.kernel_end, 0x108000);
    /* .bss counts: the partition must hold it. */
    put64(phdr_at(5) + 40, 2 * MIB - MF_STACK_RESERVE - 0x103000 + 1);
    reject(2 * MIB, "segment 5 [0x103000-0x1f0001) ends beyond the partition (2 MiB");
    accept(4 * MIB);
    assert_int_equal(elf_memory_needed(&img), 4 * MIB);
}

/* The same notes before the loads, the PT_INTERP last: same result. */
static void test_hvt_header_order(void **state)
{
    (void)state;
    begin();
    size_t len = hvt_notes(NOTE_OFF, 2);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    phdr(PT_LOAD, PF_R | PF_W, DATA_OFF, DATA_VA, 0x80, 0x1000, 0x1000);
    phdr(PT_LOAD, PF_R | PF_X, TEXT_OFF, TEXT_VA, 0x100, 0x100, 0x1000);
    phdr(PT_INTERP, PF_R, TEXT_OFF, TEXT_VA, 0x14, 0x14, 1);
    accept(2 * MIB);
    assert_int_equal(img.personality, ELF_SOLO5_HVT);
    assert_int_equal(img.segment_count, 2);
    assert_int_equal(img.segments[0].vaddr, TEXT_VA);
    /* A Mayfly image is refused for PT_INTERP wherever it stands. */
    begin();
    phdr(PT_INTERP, PF_R, TEXT_OFF, TEXT_VA, 0x14, 0x14, 1);
    phdr(PT_LOAD, PF_R | PF_X, TEXT_OFF, TEXT_VA, 0x100, 0x100, 0x1000);
    len = abi_note(NOTE_OFF, MF_ABI_VERSION);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    reject(2 * MIB, "dynamic executables are not supported: link statically");
}

/* An empty PT_LOAD is not read: its file fields may be anything. */
static void test_hvt_ignores_empty_load(void **state)
{
    (void)state;
    hvt_base(2);
    phdr(PT_LOAD, PF_R | PF_W | PF_X, 0xffffffff0ULL, 0, 0, 0, 3);
    accept(2 * MIB);
    assert_int_equal(img.segment_count, 2);
    base();
    phdr(PT_LOAD, PF_R | PF_W | PF_X, 0xffffffff0ULL, 0, 0, 0, 3);
    reject(2 * MIB, "segment 3 (offset 0xffffffff0, 0x0 bytes) lies outside the file");
}

static void test_hvt_accepts_interp(void **state)
{
    (void)state;
    hvt_base(2);
    phdr(PT_INTERP, PF_R, TEXT_OFF, TEXT_VA, 0x14, 0x14, 1);
    accept(2 * MIB);
    base();
    phdr(PT_INTERP, PF_R, TEXT_OFF, TEXT_VA, 0x14, 0x14, 1);
    reject(2 * MIB, "dynamic executables are not supported: link statically");
}

static void test_hvt_rejects_dynamic(void **state)
{
    (void)state;
    hvt_base(2);
    phdr(PT_DYNAMIC, PF_R, 0x300, 0x100300, 0x10, 0x10, 8);
    reject(2 * MIB, "dynamic executables are not supported: link statically");
}

static void test_hvt_rejects_wx(void **state)
{
    (void)state;
    hvt_base(2);
    put32(phdr_at(1) + 4, PF_R | PF_W | PF_X);
    reject(2 * MIB, "segment 1 is both writable and executable");
    put32(phdr_at(1) + 4, PF_W | PF_X);
    reject(2 * MIB, "segment 1 is both writable and executable");
    /* A segment of zeroes is loaded too. */
    hvt_solo5_layout();
    put32(phdr_at(5) + 4, PF_R | PF_W | PF_X);
    reject(2 * MIB, "segment 5 is both writable and executable");
    /* Mayfly images keep today's rule. */
    base();
    put32(phdr_at(1) + 4, PF_R | PF_W | PF_X);
    accept(2 * MIB);
}

static void test_hvt_rejects_placement(void **state)
{
    (void)state;
    hvt_base(2);
    put64(phdr_at(0) + 16, 0xff000);
    reject(2 * MIB, "segment 0 at 0xff000 is below 0x100000");
    hvt_base(2);
    put64(phdr_at(1) + 40, 2 * MIB - DATA_VA);
    reject(2 * MIB, "segment 1 [0x102000-0x200000) ends beyond the partition (2 MiB");
    hvt_solo5_layout();
    put64(phdr_at(5) + 16, 0x1000);     /* .bss below the image base */
    reject(2 * MIB, "segment 5 at 0x1000 is below 0x100000");
    hvt_solo5_layout();
    put64(phdr_at(5) + 16, DATA_VA + 0x800);    /* .bss over data */
    reject(2 * MIB, "segments 3 and 5 overlap");
}

static void test_rejects_both_notes(void **state)
{
    (void)state;
    hvt_base(2);
    size_t len = abi_note(0x700, MF_ABI_VERSION);
    phdr(PT_NOTE, PF_R, 0x700, 0, len, len, 4);
    reject(2 * MIB, "carries both a Mayfly and a Solo5 ABI note");
    base();
    len = hvt_notes(0x900, 2);
    phdr(PT_NOTE, PF_R, 0x900, 0, len, len, 4);
    reject(2 * MIB, "carries both a Mayfly and a Solo5 ABI note");
    /* Both in one segment, the Mayfly note last. */
    base_loads();
    len = hvt_notes(NOTE_OFF, 2);
    len += abi_note(NOTE_OFF + len, MF_ABI_VERSION);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    reject(2 * MIB, "carries both a Mayfly and a Solo5 ABI note");
}

static void test_hvt_rejects_two_notes_of_a_kind(void **state)
{
    (void)state;
    hvt_base(2);
    size_t len = solo5_abi_note(0x700, HVT_TARGET_HVT, 2);
    phdr(PT_NOTE, PF_R, 0x700, 0, len, len, 4);
    reject(2 * MIB, "more than one Solo5 ABI note");
    hvt_base(2);
    len = mft_note(0x700, two_names, 1);
    phdr(PT_NOTE, PF_R, 0x700, 0, len, len, 4);
    reject(2 * MIB, "more than one Solo5 manifest (MFT1 note)");
}

static void test_hvt_rejects_target(void **state)
{
    (void)state;
    static const char *const want[] = {
        "Solo5 ABI target 0 (unknown) is not hvt",
        NULL,
        "Solo5 ABI target 2 (spt) is not hvt: build the unikernel for the hvt target",
        "Solo5 ABI target 3 (virtio) is not hvt",
        "Solo5 ABI target 4 (muen) is not hvt",
        "Solo5 ABI target 5 (genode) is not hvt",
        "Solo5 ABI target 6 (xen) is not hvt",
        "Solo5 ABI target 7 (unknown) is not hvt",
    };

    for (uint32_t t = 0; t < sizeof(want) / sizeof(want[0]); t++) {
        hvt_with(t, 2, 1);
        if (want[t])
            reject(2 * MIB, want[t]);
        else
            accept(2 * MIB);
    }
}

static void test_hvt_rejects_version(void **state)
{
    (void)state;
    hvt_with(HVT_TARGET_HVT, 0, 1);
    reject(2 * MIB, "Solo5 hvt ABI version 0 is not supported: this hypervisor runs hvt ABI versions 1 to 2");
    hvt_with(HVT_TARGET_HVT, 3, 1);
    reject(2 * MIB, "Solo5 hvt ABI version 3 is not supported");
    hvt_with(HVT_TARGET_HVT, HVT_ABI_VERSION_MIN, 1);
    accept(2 * MIB);
    hvt_with(HVT_TARGET_HVT, HVT_ABI_VERSION_MAX, 1);
    accept(2 * MIB);
}

static void test_hvt_rejects_no_manifest(void **state)
{
    (void)state;
    hvt_with(HVT_TARGET_HVT, 2, 0);
    reject(2 * MIB, "no Solo5 manifest (MFT1 note)");
}

static void test_hvt_abi_descriptor_size(void **state)
{
    (void)state;
    static const uint8_t desc[8] = { HVT_TARGET_HVT, 0, 0, 0, 2 };

    base_loads();
    size_t len = note(NOTE_OFF, HVT_NOTE_NAME, 6, HVT_NOTE_TYPE_ABI, desc, 7);
    len += mft_note(NOTE_OFF + len, two_names, 2);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    reject(2 * MIB, "Solo5 ABI note in segment 2 has a 7-byte descriptor, expected at least 8");
    base_loads();
    len = note(NOTE_OFF, HVT_NOTE_NAME, 6, HVT_NOTE_TYPE_ABI, desc, 8);     /* target and version only */
    len += mft_note(NOTE_OFF + len, two_names, 2);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    accept(2 * MIB);
    assert_int_equal(img.abi_version, 2);
}

/* Manifest errors come through with mft_parse's reason. */
static void test_hvt_rejects_bad_manifest(void **state)
{
    (void)state;
    static uint8_t desc[MFT_DESC_MAX];
    uint32_t len = mft_desc(desc, two_names, 2);

    base_loads();
    size_t n = solo5_abi_note(NOTE_OFF, HVT_TARGET_HVT, 2);
    n += note(NOTE_OFF + n, HVT_NOTE_NAME, 6, HVT_NOTE_TYPE_MFT, desc, len - 104);  /* too small */
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, n, n, 4);
    reject(2 * MIB, "Solo5 manifest: the descriptor is 220 bytes, expected 324 for 3 entries");
    desc[HVT_MFT_NOTE_PAD] = 2;
    base_loads();
    n = solo5_abi_note(NOTE_OFF, HVT_TARGET_HVT, 2);
    n += note(NOTE_OFF + n, HVT_NOTE_NAME, 6, HVT_NOTE_TYPE_MFT, desc, len);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, n, n, 4);
    reject(2 * MIB, "Solo5 manifest: version 2, expected 1");
    /* A broken manifest refuses the image whatever its ABI note says. */
    base_loads();
    n = note(NOTE_OFF, HVT_NOTE_NAME, 6, HVT_NOTE_TYPE_MFT, desc, 3);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, n, n, 4);
    reject(2 * MIB, "Solo5 manifest: the descriptor is 3 bytes, shorter than its 12-byte header");
}

static void test_manifest_without_abi_note(void **state)
{
    (void)state;
    base_loads();
    size_t len = mft_note(NOTE_OFF, two_names, 2);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    reject(2 * MIB, "not a Mayfly or Solo5 hvt image");
    base();
    len = mft_note(0x900, two_names, 2);
    phdr(PT_NOTE, PF_R, 0x900, 0, len, len, 4);
    reject(2 * MIB, "a Mayfly image (Mayfly ABI note) carries a Solo5 manifest (MFT1 note)");
}

static void test_hvt_note_names(void **state)
{
    (void)state;
    static const struct hvt_abi_info abi = { .target = HVT_TARGET_HVT, .version = 2 };
    static const uint8_t desc[16] = { 1 };

    /* Other Solo5 note types, and other names, are ignored. */
    base_loads();
    size_t len = hvt_notes(NOTE_OFF, 2);
    len += note(NOTE_OFF + len, HVT_NOTE_NAME, 6, 0x4c4c4f50u, desc, sizeof(desc));
    len += note(NOTE_OFF + len, "Solo5", 5, HVT_NOTE_TYPE_ABI, desc, sizeof(desc));
    len += note(NOTE_OFF + len, "Solo5\0x", 7, HVT_NOTE_TYPE_ABI, desc, sizeof(desc));
    len += note(NOTE_OFF + len, "GNU", 4, 3, desc, 5);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    accept(2 * MIB);
    assert_int_equal(img.personality, ELF_SOLO5_HVT);
    /* "Solo5" without its NUL does not claim the image. */
    base_loads();
    len = note(NOTE_OFF, "Solo5", 5, HVT_NOTE_TYPE_ABI, &abi, sizeof(abi));
    len += mft_note(NOTE_OFF + len, two_names, 2);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    reject(2 * MIB, "not a Mayfly or Solo5 hvt image");
}

/* An hvt image whose manifest declares `devices` devices dev1, dev2, ...
 * in its own PT_NOTE at BIG_NOTE_OFF (header 3). */
static void hvt_devices(uint32_t devices)
{
    static char names[HVT_MFT_ENTRIES_MAX - 1][16];
    const char *list[HVT_MFT_ENTRIES_MAX - 1];

    for (uint32_t i = 0; i < devices; i++) {
        snprintf(names[i], sizeof(names[i]), "dev%u", i + 1);
        list[i] = names[i];
    }
    base_loads();
    size_t a = solo5_abi_note(NOTE_OFF, HVT_TARGET_HVT, 2);
    size_t m = mft_note(BIG_NOTE_OFF, list, devices);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, a, a, 4);
    phdr(PT_NOTE, PF_R, BIG_NOTE_OFF, 0, m, m, 8);
    b.size = BIG_NOTE_OFF + m;
}

/* As many devices as a guest line maps are kept; one more, or a full
 * 64-entry manifest, is refused: such an image could never start. */
static void test_hvt_manifest_most_devices(void **state)
{
    (void)state;
    hvt_devices(MFT_DEVICES_MAX);
    accept(2 * MIB);
    assert_int_equal(img.mft.entries, 1 + MFT_DEVICES_MAX);
    assert_string_equal(img.mft.e[8].name, "dev8");
    assert_int_equal(mft_find(&img.mft, "dev5"), 5);
    hvt_devices(MFT_DEVICES_MAX + 1);
    reject(2 * MIB, "Solo5 manifest: 9 devices, Mayfly attaches at most 8 to one guest");
    hvt_devices(HVT_MFT_ENTRIES_MAX - 1);
    reject(2 * MIB, "Solo5 manifest: 63 devices, Mayfly attaches at most 8 to one guest");
    b.size--;                       /* the manifest's last byte cut off: the note's reason */
    reject(2 * MIB, "note segment 3 (offset 0x2100");
}

static void test_hvt_load(void **state)
{
    (void)state;
    hvt_solo5_layout();
    put64(phdr_at(5) + 8, UINT64_MAX - 0x10);   /* .bss: an offset never used */
    accept(2 * MIB);
    assert_int_equal(img.segments[3].offset, 0);
    uint8_t *mem = malloc(2 * MIB);
    assert_non_null(mem);
    memset(mem, 0xaa, 2 * MIB);
    elf_load(&img, b.buf, mem);
    assert_memory_equal(mem + TEXT_VA, b.buf + TEXT_OFF, 0x100);
    assert_memory_equal(mem + 0x101800, b.buf + 0x1800, 0x80);
    assert_memory_equal(mem + DATA_VA, b.buf + DATA_OFF, 0x80);
    for (uint64_t a = DATA_VA + 0x80; a < 0x108000; a++)
        assert_int_equal(mem[a], 0);            /* data's tail and .bss */
    assert_int_equal(mem[0], 0xaa);             /* the empty PT_LOAD at 0 */
    assert_int_equal(mem[0x108000], 0xaa);
    free(mem);
}

static void test_rejected_image_zeroed(void **state)
{
    (void)state;
    static struct elf_image zero;

    hvt_base(2);
    put64(24, 0);                   /* entry outside: the last check */
    reject(2 * MIB, "entry point 0x0");
    assert_memory_equal(&img, &zero, sizeof(img));
}

/* ---- loading ---- */

static void test_load(void **state)
{
    (void)state;
    base();
    accept(2 * MIB);
    uint8_t *mem = malloc(2 * MIB);
    assert_non_null(mem);
    memset(mem, 0xaa, 2 * MIB);
    elf_load(&img, b.buf, mem);
    assert_memory_equal(mem + TEXT_VA, b.buf + TEXT_OFF, 0x100);
    assert_memory_equal(mem + DATA_VA, b.buf + DATA_OFF, 0x80);
    for (uint64_t a = DATA_VA + 0x80; a < DATA_VA + 0x1000; a++)
        assert_int_equal(mem[a], 0);
    /* Nothing outside the segments is touched. */
    assert_int_equal(mem[TEXT_VA - 1], 0xaa);
    for (uint64_t a = TEXT_VA + 0x100; a < DATA_VA; a++)
        assert_int_equal(mem[a], 0xaa);
    assert_int_equal(mem[DATA_VA + 0x1000], 0xaa);
    assert_int_equal(mem[0], 0xaa);
    free(mem);
}

/* Into memory already zero (a scrubbed partition): the same result as
 * elf_load, and the .bss tail is not written (seen with a marker). */
static void test_load_zeroed(void **state)
{
    (void)state;
    base();
    accept(2 * MIB);
    uint8_t *mem = calloc(1, 2 * MIB), *ref = calloc(1, 2 * MIB);
    assert_non_null(mem);
    assert_non_null(ref);
    elf_load_zeroed(&img, b.buf, mem);
    elf_load(&img, b.buf, ref);
    assert_memory_equal(mem, ref, 2 * MIB);
    memset(mem + DATA_VA + 0x80, 0x55, 0x1000 - 0x80);
    elf_load_zeroed(&img, b.buf, mem);
    assert_memory_equal(mem + TEXT_VA, b.buf + TEXT_OFF, 0x100);
    assert_memory_equal(mem + DATA_VA, b.buf + DATA_OFF, 0x80);
    assert_int_equal(mem[DATA_VA + 0x80], 0x55);
    assert_int_equal(mem[DATA_VA + 0xfff], 0x55);
    free(mem);
    free(ref);
}

static void test_memory_needed(void **state)
{
    (void)state;
    base();
    accept(2 * MIB);
    assert_int_equal(elf_memory_needed(&img), 2 * MIB);
    put64(phdr_at(1) + 40, 2 * MIB - MF_STACK_RESERVE - DATA_VA);
    accept(2 * MIB);
    assert_int_equal(elf_memory_needed(&img), 2 * MIB);
    put64(phdr_at(1) + 40, 2 * MIB - MF_STACK_RESERVE - DATA_VA + 1);
    reject(2 * MIB, "ends beyond the partition");
    accept(64 * MIB);
    assert_int_equal(elf_memory_needed(&img), 4 * MIB);
}

/* ---- validated values only ---- */

/* Whether x1 and x2 describe the same approved image. */
static int same_image(const struct elf_image *x1, const struct elf_image *x2)
{
    if (x1->entry != x2->entry || x1->segment_count != x2->segment_count ||
        x1->lowest != x2->lowest || x1->highest != x2->highest ||
        x1->abi_version != x2->abi_version || x1->phoff != x2->phoff ||
        x1->phnum != x2->phnum || x1->file_size != x2->file_size ||
        x1->personality != x2->personality || x1->kernel_end != x2->kernel_end ||
        memcmp(&x1->mft, &x2->mft, sizeof(x1->mft)) != 0)
        return 0;
    for (uint32_t i = 0; i < x1->segment_count; i++) {
        const struct elf_segment *x = &x1->segments[i], *y = &x2->segments[i];
        if (x->offset != y->offset || x->vaddr != y->vaddr || x->filesz != y->filesz ||
            x->memsz != y->memsz || x->flags != y->flags)
            return 0;
    }
    return 1;
}

static void test_validated_table_recorded(void **state)
{
    (void)state;
    base();
    accept(2 * MIB);
    assert_int_equal(img.phoff, 64);
    assert_int_equal(img.phnum, 3);
    assert_int_equal(img.file_size, IMAGE_SIZE);
}

/* Headers rewritten after validation change nothing elf_load writes. */
static void test_load_uses_validated_values(void **state)
{
    (void)state;
    base();
    accept(2 * MIB);
    struct elf_image approved = img;
    uint8_t *mem = malloc(2 * MIB), *want = malloc(2 * MIB);
    assert_non_null(mem);
    assert_non_null(want);
    memset(want, 0xaa, 2 * MIB);
    memcpy(want + TEXT_VA, b.buf + TEXT_OFF, 0x100);
    memcpy(want + DATA_VA, b.buf + DATA_OFF, 0x80);
    memset(want + DATA_VA + 0x80, 0, 0x1000 - 0x80);

    put16(56, 0xffff);              /* e_phnum */
    put64(32, DATA_OFF);            /* e_phoff: the data bytes as headers */
    put64(phdr_at(1) + 16, 0x1f0000);   /* data moved near the top */
    put64(phdr_at(1) + 32, 0x1000);     /* with more file bytes */
    put64(phdr_at(1) + 40, 0x10000);
    put64(phdr_at(0) + 8, 0);           /* text from the headers */
    memset(mem, 0xaa, 2 * MIB);
    elf_load(&img, b.buf, mem);
    assert_true(same_image(&img, &approved));
    assert_memory_equal(mem, want, 2 * MIB);
    free(mem);
    free(want);
}

#if defined(__linux__) && defined(__x86_64__)
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>

/*
 * A hostile writer that changes the image while elf_validate() reads it:
 * the pages holding the headers are PROT_NONE, every read of them faults,
 * the fault handler counts the read, opens the pages and single-steps the
 * reading instruction (the trap flag); the trap handler rewrites the field
 * just read and closes the pages again. A field read twice is counted
 * twice and, the second time, has the hostile value. The image ends at a
 * guard page, so a read past its end is caught too.
 */
#define PAGE        4096
#define WATCH_LEN   (2 * PAGE)
#define MAP_LEN     (3 * PAGE + PAGE)   /* the image, then the guard page */
#define X86_TF      0x100

static struct {
    uint8_t *map, *data;            /* data: the image, ending at the guard */
    uint32_t reads[WATCH_LEN];      /* reads starting at each byte of map */
    size_t last;                    /* where the last read started */
    uintptr_t stray;                /* a read outside the watched pages */
    sigjmp_buf escape;
} w;

/* The field the last read started in, rewritten to what would escape. */
static void hostile_write(size_t off)
{
    uint64_t far = 0x7f0000000000ULL, low = 0x1000;
    uint16_t many = 0xffff;

    if (off == 32)
        memcpy(w.data + 32, &far, sizeof(far));          /* e_phoff */
    else if (off == 56)
        memcpy(w.data + 56, &many, sizeof(many));        /* e_phnum */
    else if (off == phdr_at(1) + 16)
        memcpy(w.data + off, &low, sizeof(low));         /* p_vaddr of data */
    else if (off == phdr_at(1) + 40)
        memcpy(w.data + off, &far, sizeof(far));         /* p_memsz of data */
}

static void watch_fault(int sig, siginfo_t *si, void *ctx)
{
    uint8_t *a = si->si_addr;
    ucontext_t *uc = ctx;

    (void)sig;
    if (a < w.map || a >= w.map + WATCH_LEN) {
        w.stray = (uintptr_t)a;
        siglongjmp(w.escape, 1);
    }
    w.last = (size_t)(a - w.map);
    w.reads[w.last]++;
    mprotect(w.map, WATCH_LEN, PROT_READ | PROT_WRITE);
    uc->uc_mcontext.gregs[REG_EFL] |= X86_TF;
}

static void watch_step(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;

    (void)sig;
    (void)si;
    uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)X86_TF;
    if (w.last >= (size_t)(w.data - w.map))
        hostile_write(w.last - (size_t)(w.data - w.map));
    mprotect(w.map, WATCH_LEN, PROT_NONE);
}

/* elf_validate() on a copy of the builder's image under the hostile writer. */
static int validate_watched(uint64_t mem_limit)
{
    struct sigaction fault = { .sa_sigaction = watch_fault, .sa_flags = SA_SIGINFO };
    struct sigaction step = { .sa_sigaction = watch_step, .sa_flags = SA_SIGINFO };
    struct sigaction old_fault, old_step;
    volatile int rc = -2;

    memset(&w, 0, sizeof(w));
    w.map = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(w.map != MAP_FAILED);
    w.data = w.map + MAP_LEN - PAGE - b.size;
    memcpy(w.data, b.buf, b.size);
    assert_int_equal(mprotect(w.map + MAP_LEN - PAGE, PAGE, PROT_NONE), 0);
    sigaction(SIGSEGV, &fault, &old_fault);
    sigaction(SIGTRAP, &step, &old_step);
    if (sigsetjmp(w.escape, 1) == 0) {
        mprotect(w.map, WATCH_LEN, PROT_NONE);
        rc = elf_validate(w.data, b.size, mem_limit, &img, err, sizeof(err));
    }
    mprotect(w.map, WATCH_LEN, PROT_READ | PROT_WRITE);
    sigaction(SIGSEGV, &old_fault, NULL);
    sigaction(SIGTRAP, &old_step, NULL);
    munmap(w.map, MAP_LEN);
    return rc;
}

static void test_header_fields_read_once(void **state)
{
    (void)state;
    base();
    accept(2 * MIB);
    struct elf_image approved = img;
    int rc = validate_watched(2 * MIB);
    size_t start = (size_t)(w.data - w.map);

    if (w.stray)
        fail_msg("elf_validate read outside the image (image at %p, read at 0x%lx)",
                 (void *)w.data, (unsigned long)w.stray);
    if (rc != 0)
        fail_msg("rejected under a writer that changes fields already read: %s", err);
    for (size_t i = start; i < WATCH_LEN; i++)
        if (w.reads[i] > 1)
            fail_msg("image byte 0x%zx read %u times", i - start, w.reads[i]);
    assert_true(w.reads[start + 32] == 1 && w.reads[start + 56] == 1);
    assert_true(same_image(&img, &approved));
}

/* The same for an hvt image: its notes (the manifest among them) lie in
 * the watched pages too. */
static void test_hvt_fields_read_once(void **state)
{
    (void)state;
    hvt_base(2);
    accept(2 * MIB);
    struct elf_image approved = img;
    int rc = validate_watched(2 * MIB);
    size_t start = (size_t)(w.data - w.map);

    if (w.stray)
        fail_msg("elf_validate read outside the image (image at %p, read at 0x%lx)",
                 (void *)w.data, (unsigned long)w.stray);
    if (rc != 0)
        fail_msg("rejected under a writer that changes fields already read: %s", err);
    for (size_t i = start; i < WATCH_LEN; i++)
        if (w.reads[i] > 1)
            fail_msg("image byte 0x%zx read %u times", i - start, w.reads[i]);
    assert_true(w.reads[start + NOTE_OFF] == 1);    /* the notes were read */
    assert_true(same_image(&img, &approved));
}
#else
static void test_header_fields_read_once(void **state)
{
    (void)state;
    skip();
}

static void test_hvt_fields_read_once(void **state)
{
    (void)state;
    skip();
}
#endif

/* ---- every reason fits ELF_REASON_MAX ---- */

/* n PT_NULL headers, so that the next one has index 3 + n. */
static void null_phdrs(uint16_t n)
{
    for (uint16_t i = 0; i < n; i++)
        phdr(0, 0, 0, 0, 0, 0, 0);
}

/* base() plus headers up to index 30; the caller adds index 31. */
static void base_to_31(void)
{
    base();
    null_phdrs(ELF_MAX_PHNUM - 1 - 3);
}

static void r_short(void) { base(); b.size = 0; }
static void r_magic(void) { base(); b.buf[0] = 0; }
static void r_class(void) { base(); b.buf[4] = 0xff; }
static void r_data(void) { base(); b.buf[5] = 0xff; }
static void r_version(void) { base(); put32(20, UINT32_MAX); }
static void r_pie(void) { base(); put16(16, 3); }
static void r_type(void) { base(); put16(16, 0xffff); }
static void r_machine(void) { base(); put16(18, 0xffff); }
static void r_phentsize(void) { base(); put16(54, 0xffff); }
static void r_phnum(void) { base(); put16(56, 0xfffe); }
/* Only the ELF header is read before these reasons, so the file may claim
 * the largest size there is. */
static void r_table(void) { base_to_31(); phdr(0, 0, 0, 0, 0, 0, 0); put64(32, UINT64_MAX); b.size = SIZE_MAX; }
static void r_filesz(void) { base_to_31(); phdr(PT_LOAD, 0, 0, TEXT_VA, UINT64_MAX, UINT64_MAX - 1, 0); }
static void r_outside(void)
{
    base_to_31();
    phdr(PT_LOAD, 0, UINT64_MAX, TEXT_VA, UINT64_MAX, UINT64_MAX, 0);
    b.size = SIZE_MAX;
}
static void r_align(void) { base_to_31(); phdr(PT_LOAD, 0, 0, 0, 0, 0, UINT64_MAX); }
static void r_modulo(void)
{
    base_to_31();
    phdr(PT_LOAD, 0, UINT64_MAX - 1, UINT64_MAX, 0, 0, 1ULL << 63);
    b.size = SIZE_MAX;
}
static void r_below(void) { base_to_31(); phdr(PT_LOAD, 0, 0, MF_IMAGE_BASE - 1, 0, 1, 0); }
static void r_wraps(void) { base_to_31(); phdr(PT_LOAD, 0, 0, UINT64_MAX, 0, UINT64_MAX, 0); }
static void r_beyond(void) { base_to_31(); phdr(PT_LOAD, 0, 0, UINT64_MAX - 0xfffff, 0, 0xfffff, 0); }
static void r_segments(void)
{
    base();
    for (uint64_t i = 0; i < ELF_MAX_SEGMENTS - 1; i++)
        phdr(PT_LOAD, PF_R, 0, 0x110000 + i * 0x1000, 1, 1, 0x1000);
}
static void r_descriptor(void)
{
    base_loads();
    static const uint8_t desc[7] = { MF_ABI_VERSION };
    null_phdrs(ELF_MAX_PHNUM - 1 - 2);
    size_t len = note(NOTE_OFF, MF_NOTE_NAME, 7, MF_NOTE_TYPE_ABI, desc, sizeof(desc));
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
}
static void r_two_notes(void) { base(); phdr(PT_NOTE, PF_R, NOTE_OFF, 0, 28, 28, 4); }
static void r_note_outside(void) { base_to_31(); phdr(PT_NOTE, 0, UINT64_MAX, 0, UINT64_MAX, 0, 0); }
static void r_note_past(void)
{
    base_to_31();
    put32(0x900, UINT32_MAX);
    put32(0x904, UINT32_MAX);
    phdr(PT_NOTE, 0, 0x900, 0, 12, 12, 4);
}
static void r_dynamic(void) { base(); phdr(PT_INTERP, PF_R, 0x300, 0x100300, 0x10, 0x10, 1); }
static void r_no_load(void)
{
    begin();
    size_t len = abi_note(NOTE_OFF, MF_ABI_VERSION);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    phdr(PT_LOAD, 0, 0, 0, 0, 0, 0);
}
static void r_overlap(void)
{
    base();
    null_phdrs(ELF_MAX_PHNUM - 2 - 3);
    phdr(PT_LOAD, PF_R, 0, 0x1e0000, 1, 1, 0);
    phdr(PT_LOAD, PF_R, 0, 0x1e0000, 1, 1, 0);
}
static void r_entry(void) { base(); put64(24, UINT64_MAX); }
static void r_no_note(void) { base_loads(); }
static void r_abi(void)
{
    base_loads();
    size_t len = abi_note(NOTE_OFF, UINT32_MAX);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
}

static void r_pt_dynamic(void) { base(); phdr(PT_DYNAMIC, PF_R, 0x300, 0x100300, 0x10, 0x10, 8); }
static void r_both(void)
{
    base();
    size_t len = solo5_abi_note(0x900, HVT_TARGET_HVT, 2);
    phdr(PT_NOTE, PF_R, 0x900, 0, len, len, 4);
}
static void r_mayfly_mft(void)
{
    base();
    size_t len = mft_note(0x900, two_names, 2);
    phdr(PT_NOTE, PF_R, 0x900, 0, len, len, 4);
}
static void r_solo5_descriptor(void)
{
    static const uint8_t desc[7] = { HVT_TARGET_HVT };
    base_loads();
    null_phdrs(ELF_MAX_PHNUM - 1 - 2);
    size_t len = note(NOTE_OFF, HVT_NOTE_NAME, 6, HVT_NOTE_TYPE_ABI, desc, sizeof(desc));
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
}
static void r_two_solo5(void) { hvt_base(2); phdr(PT_NOTE, PF_R, NOTE_OFF + 24, 0, 36, 36, 4); }
static void r_two_mft(void)
{
    hvt_base(2);
    size_t at = NOTE_OFF + 24 + 36;     /* after the OpenBSD and ABI notes */
    phdr(PT_NOTE, PF_R, at, 0, 20 + 324, 20 + 324, 4);
}
static void r_target(void) { hvt_with(UINT32_MAX, 2, 1); }
static void r_hvt_version(void) { hvt_with(HVT_TARGET_HVT, UINT32_MAX, 1); }
static void r_no_mft(void) { hvt_with(HVT_TARGET_HVT, 2, 0); }
static void r_manifest(void)
{
    static char names[MFT_DEVICES_MAX][HVT_MFT_NAME_SIZE];
    static uint8_t desc[MFT_DESC_MAX];
    const char *list[MFT_DEVICES_MAX];

    for (uint32_t i = 0; i < MFT_DEVICES_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "d%u", i + 1);
        list[i] = names[i];
    }
    memset(names[MFT_DEVICES_MAX - 1], 'W', HVT_MFT_NAME_SIZE - 1);
    uint32_t len = mft_desc(desc, list, MFT_DEVICES_MAX);
    memset(desc + len - 104 + 68, 0xff, 4);     /* the last entry's type */
    base_loads();
    size_t a = solo5_abi_note(NOTE_OFF, HVT_TARGET_HVT, 2);
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, a, a, 4);
    size_t m = note(BIG_NOTE_OFF, HVT_NOTE_NAME, 6, HVT_NOTE_TYPE_MFT, desc, len);
    phdr(PT_NOTE, PF_R, BIG_NOTE_OFF, 0, m, m, 4);
    b.size = BIG_NOTE_OFF + m;
}
static void r_devices(void) { hvt_devices(HVT_MFT_ENTRIES_MAX - 1); }
static void r_wx(void)
{
    hvt_base(2);
    null_phdrs(ELF_MAX_PHNUM - 1 - 3);
    phdr(PT_LOAD, PF_W | PF_X, 0, 0x1e0000, 1, 1, 0);
}

struct reason_case {
    void (*make)(void);
    uint64_t mem_limit;
    const char *ends_with;          /* the reason's last words */
};

/* One image per rejection path of hv/elf.c (39 fail() calls, and a
 * manifest's reason from mft_parse), each with the longest values that
 * path can print. */
static const struct reason_case reasons[] = {
    { r_short, 2 * MIB, "shorter than an ELF header)" },
    { r_magic, 2 * MIB, "(bad magic)" },
    { r_class, 2 * MIB, "build the guest for x86-64" },
    { r_data, 2 * MIB, "(data encoding 255)" },
    { r_version, 2 * MIB, "unknown ELF version 4294967295" },
    { r_pie, 2 * MIB, "link with -static -no-pie" },
    { r_type, 2 * MIB, "ELF type 65535 is not an executable (ET_EXEC)" },
    { r_machine, 2 * MIB, "ELF machine 65535 is not x86-64 (62)" },
    { r_phentsize, 2 * MIB, "program header size 65535, expected 56" },
    { r_phnum, 2 * MIB, "65534 program headers, expected 1 to 32" },
    { r_table, 2 * MIB, "(offset 0xffffffffffffffff, 32 entries) lies outside the file (18446744073709551615 bytes)" },
    { r_filesz, 2 * MIB, "segment 31 has more file bytes (0xffffffffffffffff) than memory bytes (0xfffffffffffffffe)" },
    { r_outside, 2 * MIB, "segment 31 (offset 0xffffffffffffffff, 0xffffffffffffffff bytes) lies outside the file (18446744073709551615 bytes)" },
    { r_align, 2 * MIB, "segment 31 alignment 0xffffffffffffffff is not a power of two" },
    { r_modulo, 2 * MIB, "differ modulo its alignment 0x8000000000000000" },
    { r_below, 2 * MIB, "segment 31 at 0xfffff is below 0x100000 (the low 1 MiB is the hypervisor's); link the guest at 0x100000 or above" },
    { r_wraps, UINT64_MAX, "segment 31 at 0xffffffffffffffff (0xffffffffffffffff bytes) wraps around the address space" },
    { r_beyond, UINT64_MAX, "segment 31 [0xfffffffffff00000-0xffffffffffffffff) ends beyond the partition (18446744073709551615 bytes, the top 64 KiB kept for the stack); use a larger class" },
    { r_segments, 2 * MIB, "more than 16 loadable segments" },
    { r_descriptor, 2 * MIB, "ABI note in segment 31 has a 7-byte descriptor, expected at least 8" },
    { r_two_notes, 2 * MIB, "more than one Mayfly ABI note" },
    { r_note_outside, 2 * MIB, "note segment 31 (offset 0xffffffffffffffff, 0xffffffffffffffff bytes) lies outside the file" },
    { r_note_past, 2 * MIB, "note segment 31: a note (name 4294967295 bytes, descriptor 4294967295 bytes) runs past the segment's end" },
    { r_dynamic, 2 * MIB, "dynamic executables are not supported: link statically" },
    { r_no_load, 2 * MIB, "no loadable segment" },
    { r_overlap, 2 * MIB, "segments 30 and 31 overlap" },
    { r_entry, 2 * MIB, "entry point 0xffffffffffffffff is not inside an executable segment" },
    { r_no_note, 2 * MIB, "no Solo5 ABI note (link Mayfly guests with guests/lib; build Solo5 unikernels for the hvt target)" },
    { r_abi, 2 * MIB, "ABI note version 4294967295, this hypervisor speaks version 1; rebuild the guest against this include/mayfly/abi.h" },
    { r_pt_dynamic, 2 * MIB, "dynamic executables are not supported: link statically" },
    { r_both, 2 * MIB, "carries both a Mayfly and a Solo5 ABI note: an image is built for one personality" },
    { r_mayfly_mft, 2 * MIB, "a Mayfly image (Mayfly ABI note) carries a Solo5 manifest (MFT1 note): an image is built for one personality" },
    { r_solo5_descriptor, 2 * MIB, "Solo5 ABI note in segment 31 has a 7-byte descriptor, expected at least 8" },
    { r_two_solo5, 2 * MIB, "more than one Solo5 ABI note" },
    { r_two_mft, 2 * MIB, "more than one Solo5 manifest (MFT1 note)" },
    { r_target, 2 * MIB, "Solo5 ABI target 4294967295 (unknown) is not hvt: build the unikernel for the hvt target" },
    { r_hvt_version, 2 * MIB, "Solo5 hvt ABI version 4294967295 is not supported: this hypervisor runs hvt ABI versions 1 to 2 (Solo5 up to 0.12)" },
    { r_no_mft, 2 * MIB, "no Solo5 manifest (MFT1 note): an hvt unikernel declares its devices in one; build it with Solo5's toolchain" },
    { r_manifest, 2 * MIB, "Solo5 manifest entry 8 (\"WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW\"): type 4294967295 is not BLOCK_BASIC (1) or NET_BASIC (2)" },
    { r_devices, 2 * MIB, "Solo5 manifest: 63 devices, Mayfly attaches at most 8 to one guest" },
    { r_wx, 2 * MIB, "segment 31 is both writable and executable" },
};

static void test_reasons_fit(void **state)
{
    (void)state;
    char fit[ELF_REASON_MAX];
    size_t longest = 0;

    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        const struct reason_case *r = &reasons[i];
        size_t n, want = strlen(r->ends_with);
        r->make();
        if (validate(r->mem_limit) != -1)
            fail_msg("case %zu (\"%s\") accepted", i, r->ends_with);
        n = strlen(err);
        if (n < want || strcmp(err + n - want, r->ends_with) != 0)
            fail_msg("case %zu: reason \"%s\", expected it to end \"%s\"", i, err, r->ends_with);
        if (n >= ELF_REASON_MAX)
            fail_msg("case %zu: %zu characters, more than ELF_REASON_MAX - 1: \"%s\"", i, n, err);
        assert_int_equal(elf_validate(b.buf, b.size, r->mem_limit, &img, fit, sizeof(fit)), -1);
        assert_string_equal(fit, err);
        longest = n > longest ? n : longest;
    }
    assert_true(longest > 150);     /* the cases do reach the long values */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_base),
        cmocka_unit_test(test_sorts_segments),
        cmocka_unit_test(test_accepts_segment_at_limit),
        cmocka_unit_test(test_ignores_empty_segment),
        cmocka_unit_test(test_accepts_max_segments),
        cmocka_unit_test(test_accepts_other_notes),
        cmocka_unit_test(test_accepts_note_in_second_segment),
        cmocka_unit_test(test_accepts_unpadded_last_descriptor),
        cmocka_unit_test(test_error_buffer_optional),
        cmocka_unit_test(test_rejects_short),
        cmocka_unit_test(test_rejects_bad_magic),
        cmocka_unit_test(test_rejects_elf32),
        cmocka_unit_test(test_rejects_big_endian),
        cmocka_unit_test(test_rejects_version),
        cmocka_unit_test(test_rejects_type),
        cmocka_unit_test(test_rejects_machine),
        cmocka_unit_test(test_rejects_phentsize),
        cmocka_unit_test(test_rejects_phnum),
        cmocka_unit_test(test_rejects_phdrs_outside_file),
        cmocka_unit_test(test_rejects_dynamic),
        cmocka_unit_test(test_rejects_filesz_over_memsz),
        cmocka_unit_test(test_rejects_segment_outside_file),
        cmocka_unit_test(test_rejects_below_image_base),
        cmocka_unit_test(test_rejects_beyond_partition),
        cmocka_unit_test(test_rejects_wrapping_segment),
        cmocka_unit_test(test_rejects_bad_alignment),
        cmocka_unit_test(test_rejects_too_many_segments),
        cmocka_unit_test(test_rejects_overlap),
        cmocka_unit_test(test_rejects_overlap_unsorted),
        cmocka_unit_test(test_rejects_no_load),
        cmocka_unit_test(test_rejects_entry),
        cmocka_unit_test(test_rejects_no_note),
        cmocka_unit_test(test_rejects_two_notes),
        cmocka_unit_test(test_rejects_short_descriptor),
        cmocka_unit_test(test_rejects_truncated_note),
        cmocka_unit_test(test_ignores_short_note_tail),
        cmocka_unit_test(test_rejects_note_segment_outside_file),
        cmocka_unit_test(test_rejects_abi_version),
        cmocka_unit_test(test_hvt_accepts_v2),
        cmocka_unit_test(test_hvt_accepts_v1),
        cmocka_unit_test(test_mayfly_personality_fields),
        cmocka_unit_test(test_hvt_solo5_layout),
        cmocka_unit_test(test_hvt_header_order),
        cmocka_unit_test(test_hvt_ignores_empty_load),
        cmocka_unit_test(test_hvt_accepts_interp),
        cmocka_unit_test(test_hvt_rejects_dynamic),
        cmocka_unit_test(test_hvt_rejects_wx),
        cmocka_unit_test(test_hvt_rejects_placement),
        cmocka_unit_test(test_rejects_both_notes),
        cmocka_unit_test(test_hvt_rejects_two_notes_of_a_kind),
        cmocka_unit_test(test_hvt_rejects_target),
        cmocka_unit_test(test_hvt_rejects_version),
        cmocka_unit_test(test_hvt_rejects_no_manifest),
        cmocka_unit_test(test_hvt_abi_descriptor_size),
        cmocka_unit_test(test_hvt_rejects_bad_manifest),
        cmocka_unit_test(test_manifest_without_abi_note),
        cmocka_unit_test(test_hvt_note_names),
        cmocka_unit_test(test_hvt_manifest_most_devices),
        cmocka_unit_test(test_hvt_load),
        cmocka_unit_test(test_rejected_image_zeroed),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_load_zeroed),
        cmocka_unit_test(test_memory_needed),
        cmocka_unit_test(test_validated_table_recorded),
        cmocka_unit_test(test_load_uses_validated_values),
        cmocka_unit_test(test_header_fields_read_once),
        cmocka_unit_test(test_hvt_fields_read_once),
        cmocka_unit_test(test_reasons_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
