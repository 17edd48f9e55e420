/*
 * Unit tests of hv/elf.c. Each test builds an image in memory with the
 * small builder below (headers written by hand, byte by byte), breaks one
 * thing, and checks the reason elf_validate() gives.
 *
 * The base image: ELF header at 0, program headers from 64, the ABI note at
 * 0x800, text (R+X, 0x100 bytes) at file 0x1000 -> 0x100000, data (R+W,
 * 0x80 file bytes, 0x1000 in memory) at file 0x2000 -> 0x102000.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
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
static char err[256];

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
    reject(2 * MIB, "no Mayfly ABI note: link the guest with guests/lib");
    static const uint8_t desc[8] = { MF_ABI_VERSION };
    size_t len = note(NOTE_OFF, "Mayfly", 6, MF_NOTE_TYPE_ABI, desc, sizeof(desc));
    phdr(PT_NOTE, PF_R, NOTE_OFF, 0, len, len, 4);
    reject(2 * MIB, "no Mayfly ABI note");
    /* The right note in a PT_LOAD-only region is not found either. */
    base_loads();
    abi_note(NOTE_OFF, MF_ABI_VERSION);
    reject(2 * MIB, "no Mayfly ABI note");
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
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_memory_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
