/* Unit tests of efi/mb2.c on hand-built Multiboot2 boot information.
 * Every parse runs on an exact-size heap copy, so ASan catches any read
 * past len. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mb2.h"

struct blob {
    uint8_t buf[8192];
    size_t len;
};

static struct blob b;
static struct boot_info bi;

static int setup(void **state)
{
    (void)state;
    memset(&b, 0, sizeof(b));
    memset(&bi, 0, sizeof(bi));
    b.len = 8;                          /* total_size, reserved */
    return 0;
}

static void put32(uint32_t v)
{
    memcpy(b.buf + b.len, &v, 4);
    b.len += 4;
}

static void put64(uint64_t v)
{
    memcpy(b.buf + b.len, &v, 8);
    b.len += 8;
}

static void put_bytes(const void *p, size_t n)
{
    memcpy(b.buf + b.len, p, n);
    b.len += n;
}

static void set32(size_t off, uint32_t v)
{
    memcpy(b.buf + off, &v, 4);
}

/* Opens a tag; tag_close writes its size and pads to 8 with pad bytes. */
static size_t tag_open(uint32_t type)
{
    size_t start = b.len;
    put32(type);
    put32(0);
    return start;
}

static void tag_close_pad(size_t start, uint8_t pad)
{
    set32(start + 4, (uint32_t)(b.len - start));
    while (b.len % 8)
        b.buf[b.len++] = pad;
}

static void tag_close(size_t start)
{
    tag_close_pad(start, 0);
}

/* Appends the end tag and sets total_size. */
static void finish(void)
{
    put32(MB2_TAG_END);
    put32(8);
    set32(0, (uint32_t)b.len);
}

static int parse_len(size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    int rc;
    assert_non_null(copy);
    memcpy(copy, b.buf, len);
    rc = mb2_parse(copy, len, &bi);
    free(copy);
    return rc;
}

static int parse(void)
{
    return parse_len(b.len);
}

static void add_mmap(uint32_t entry_size, const uint64_t (*e)[3], size_t n)
{
    size_t t = tag_open(MB2_TAG_MMAP);
    put32(entry_size);
    put32(0);                           /* entry_version */
    for (size_t i = 0; i < n; i++) {
        put64(e[i][0]);
        put64(e[i][1]);
        put32((uint32_t)e[i][2]);
        put32(0);
        for (uint32_t k = 24; k < entry_size; k++)
            b.buf[b.len++] = 0xee;      /* a newer, longer entry's extra bytes */
    }
    tag_close(t);
}

static void add_module(uint32_t start, uint32_t end, const char *name)
{
    size_t t = tag_open(MB2_TAG_MODULE);
    put32(start);
    put32(end);
    put_bytes(name, strlen(name) + 1);
    tag_close(t);
}

static void add_string_tag(uint32_t type, const char *s, int with_nul, uint8_t pad)
{
    size_t t = tag_open(type);
    put_bytes(s, strlen(s) + (with_nul ? 1 : 0));
    tag_close_pad(t, pad);
}

static void test_minimal(void **state)
{
    (void)state;
    finish();
    assert_int_equal(b.len, 16);
    assert_int_equal(parse(), 0);
    assert_int_equal(bi.range_count, 0);
    assert_int_equal(bi.file_count, 0);
    assert_int_equal(bi.rsdp, 0);
    assert_string_equal(bi.cmdline, "");
    assert_int_equal(bi.dropped, 0);
}

static const uint64_t pc_map[][3] = {
    { 0x0, 0x9fc00, 1 },
    { 0x9fc00, 0x400, 2 },
    { 0xf0000, 0x10000, 2 },
    { 0x100000, 0x7ee0000, 1 },
    { 0x7fe0000, 0x20000, 3 },          /* ACPI reclaimable: not usable */
    { 0xfffc0000, 0x40000, 2 },
    { 0x100000000ULL, 0x40000000, 1 },
    { 0x100000000ULL, 0x1000, 4 },      /* ACPI NVS inside usable RAM */
};

static void check_pc_ranges(void)
{
    assert_int_equal(bi.range_count, 3);
    assert_int_equal(bi.ranges[0].base, 0x0);
    assert_int_equal(bi.ranges[0].size, 0x9f000);
    assert_int_equal(bi.ranges[1].base, 0x100000);
    assert_int_equal(bi.ranges[1].size, 0x7ee0000);
    assert_int_equal(bi.ranges[2].base, 0x100001000ULL);
    assert_int_equal(bi.ranges[2].size, 0x3ffff000);
}

static void test_mmap_normalised(void **state)
{
    (void)state;
    add_mmap(24, pc_map, sizeof(pc_map) / sizeof(pc_map[0]));
    finish();
    assert_int_equal(parse(), 0);
    check_pc_ranges();
    assert_int_equal(bi.dropped, 0);
}

static void test_mmap_longer_entries(void **state)
{
    (void)state;
    add_mmap(40, pc_map, sizeof(pc_map) / sizeof(pc_map[0]));
    finish();
    assert_int_equal(parse(), 0);
    check_pc_ranges();
}

static void test_mmap_partial_entry_ignored(void **state)
{
    static const uint64_t map[][3] = { { 0x100000, 0x100000, 1 } };
    size_t t;
    (void)state;
    /* One whole entry and 16 bytes of a second one. */
    t = tag_open(MB2_TAG_MMAP);
    put32(24);
    put32(0);
    put64(map[0][0]);
    put64(map[0][1]);
    put32(1);
    put32(0);
    put64(0x40000000);
    put64(0x40000000);
    tag_close(t);
    finish();
    assert_int_equal(parse(), 0);
    assert_int_equal(bi.range_count, 1);
    assert_int_equal(bi.ranges[0].base, 0x100000);
    assert_int_equal(bi.ranges[0].size, 0x100000);
}

static void test_mmap_bad_entry_size(void **state)
{
    static const uint64_t map[][3] = { { 0x100000, 0x100000, 1 } };
    size_t t;
    (void)state;
    add_mmap(16, map, 0);               /* < 24 */
    finish();
    assert_int_equal(parse(), -1);
    setup(NULL);
    add_mmap(28, map, 1);               /* not a multiple of 8 */
    finish();
    assert_int_equal(parse(), -1);
    setup(NULL);
    t = tag_open(MB2_TAG_MMAP);         /* no room for entry_size/version */
    put32(24);
    tag_close(t);
    finish();
    assert_int_equal(parse(), -1);
}

/*
 * An entry_size near 2^32 must not let off + entry_size wrap around: the
 * tag is 16 bytes (no entries at all), yet what follows it (the end tag and
 * bytes past total_size) must not be read as a memory-map entry.
 */
static void test_mmap_huge_entry_size(void **state)
{
    size_t t;
    (void)state;
    t = tag_open(MB2_TAG_MMAP);
    put32(0xfffffff0u);
    put32(0);
    tag_close(t);
    finish();                           /* total_size 32 */
    put64(0x10000000);                  /* past total: "size" */
    put32(MB2_MMAP_AVAILABLE);          /* past total: "type" */
    put32(0);
    mb2_parse(b.buf, b.len, &bi);
    assert_int_equal(bi.range_count, 0);
}

static void test_modules(void **state)
{
    (void)state;
    add_module(0x200000, 0x200123, "mayfly.conf");
    add_module(0x300000, 0x340000, "guest.elf");
    add_module(0x400000, 0x400000, "");
    finish();
    assert_int_equal(parse(), 0);
    assert_int_equal(bi.file_count, 3);
    assert_string_equal(bi.files[0].name, "mayfly.conf");
    assert_int_equal(bi.files[0].addr, 0x200000);
    assert_int_equal(bi.files[0].size, 0x123);
    assert_string_equal(bi.files[1].name, "guest.elf");
    assert_int_equal(bi.files[1].addr, 0x300000);
    assert_int_equal(bi.files[1].size, 0x40000);
    assert_string_equal(bi.files[2].name, "");
    assert_int_equal(bi.files[2].size, 0);
}

static void test_module_name_bounds(void **state)
{
    char longname[100];
    size_t t;
    (void)state;
    /* Name without a NUL inside the tag: the padding after it is not part of it. */
    t = tag_open(MB2_TAG_MODULE);
    put32(0x1000);
    put32(0x2000);
    put_bytes("abc", 3);
    tag_close_pad(t, 'X');
    memset(longname, 'n', 99);
    longname[99] = '\0';
    add_module(0x3000, 0x4000, longname);
    finish();
    assert_int_equal(parse(), 0);
    assert_int_equal(bi.file_count, 2);
    assert_string_equal(bi.files[0].name, "abc");
    assert_int_equal(strlen(bi.files[1].name), BOOT_NAME_MAX - 1);
}

static void test_module_malformed(void **state)
{
    size_t t;
    (void)state;
    add_module(0x2000, 0x1000, "backwards");
    finish();
    assert_int_equal(parse(), -1);
    setup(NULL);
    t = tag_open(MB2_TAG_MODULE);       /* 12 bytes: no mod_end (the padding would read as 0) */
    put32(0);
    tag_close(t);
    finish();
    assert_int_equal(parse(), -1);
}

static void test_too_many_modules(void **state)
{
    (void)state;
    for (int i = 0; i < BOOT_MAX_FILES + 2; i++)
        add_module((uint32_t)i * 0x1000, (uint32_t)i * 0x1000 + 0x10, "m");
    finish();
    assert_int_equal(parse(), 0);
    assert_int_equal(bi.file_count, BOOT_MAX_FILES);
    assert_int_equal(bi.dropped, 2);
    assert_int_equal(bi.files[BOOT_MAX_FILES - 1].addr, (BOOT_MAX_FILES - 1) * 0x1000);
}

static void test_cmdline(void **state)
{
    char big[400];
    (void)state;
    add_string_tag(MB2_TAG_CMDLINE, "console=com1 debug", 1, 0);
    finish();
    assert_int_equal(parse(), 0);
    assert_string_equal(bi.cmdline, "console=com1 debug");

    setup(NULL);
    add_string_tag(MB2_TAG_CMDLINE, "quiet", 0, 'Y');   /* no NUL in the tag */
    finish();
    assert_int_equal(parse(), 0);
    assert_string_equal(bi.cmdline, "quiet");

    setup(NULL);
    memset(big, 'c', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    add_string_tag(MB2_TAG_CMDLINE, big, 1, 0);
    finish();
    assert_int_equal(parse(), 0);
    assert_int_equal(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
}

static const uint8_t rsdp_v1[20] = "RSD PTR \x42OEMID\x00\x10\x20\x30\x40";
static const uint8_t rsdp_v2[36] = "RSD PTR \x99NEWOEM\x02\x00\x00\x0f\x00\x24\x00\x00\x00"
                                   "\x00\x00\x0f\x00\x00\x00\x00\x77\x00\x00\x00";

static void add_acpi(uint32_t type, const uint8_t *p, size_t n)
{
    size_t t = tag_open(type);
    put_bytes(p, n);
    tag_close(t);
}

static void test_acpi_old(void **state)
{
    uint8_t want[36] = { 0 };
    (void)state;
    add_acpi(MB2_TAG_ACPI_OLD, rsdp_v1, sizeof(rsdp_v1));
    finish();
    assert_int_equal(parse(), 0);
    memcpy(want, rsdp_v1, sizeof(rsdp_v1));
    assert_memory_equal(bi.rsdp_copy, want, sizeof(want));
    assert_int_equal(bi.rsdp, (uint64_t)(uintptr_t)bi.rsdp_copy);
}

static void test_acpi_new_wins(void **state)
{
    (void)state;
    /* Old then new: new replaces it. */
    add_acpi(MB2_TAG_ACPI_OLD, rsdp_v1, sizeof(rsdp_v1));
    add_acpi(MB2_TAG_ACPI_NEW, rsdp_v2, sizeof(rsdp_v2));
    finish();
    assert_int_equal(parse(), 0);
    assert_memory_equal(bi.rsdp_copy, rsdp_v2, sizeof(rsdp_v2));
    assert_int_equal(bi.rsdp, (uint64_t)(uintptr_t)bi.rsdp_copy);
    /* New then old: new is kept. */
    setup(NULL);
    add_acpi(MB2_TAG_ACPI_NEW, rsdp_v2, sizeof(rsdp_v2));
    add_acpi(MB2_TAG_ACPI_OLD, rsdp_v1, sizeof(rsdp_v1));
    finish();
    assert_int_equal(parse(), 0);
    assert_memory_equal(bi.rsdp_copy, rsdp_v2, sizeof(rsdp_v2));
}

static void test_acpi_oversized_copy_bounded(void **state)
{
    uint8_t payload[64];
    (void)state;
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i + 1);
    add_acpi(MB2_TAG_ACPI_NEW, payload, sizeof(payload));
    finish();
    assert_int_equal(parse(), 0);
    assert_memory_equal(bi.rsdp_copy, payload, sizeof(bi.rsdp_copy));
    assert_string_equal(bi.cmdline, "");    /* the field after it is untouched */
}

static void test_unknown_tags_and_padding(void **state)
{
    static const uint64_t map[][3] = { { 0x100000, 0x300000, 1 } };
    (void)state;
    add_string_tag(2, "GRUB 2.06", 1, 0xff);      /* boot loader name: skipped */
    add_string_tag(21, "x", 0, 0xff);             /* 9 bytes, padded to 16 */
    add_string_tag(MB2_TAG_CMDLINE, "a=b", 1, 0); /* 12 bytes, padded to 16 */
    add_mmap(24, map, 1);
    add_module(0x500000, 0x501000, "g.elf");
    finish();
    assert_int_equal(parse(), 0);
    assert_string_equal(bi.cmdline, "a=b");
    assert_int_equal(bi.range_count, 1);
    assert_int_equal(bi.ranges[0].base, 0x100000);
    assert_int_equal(bi.file_count, 1);
    assert_string_equal(bi.files[0].name, "g.elf");
}

static void test_end_tag_stops(void **state)
{
    size_t t;
    (void)state;
    t = tag_open(MB2_TAG_END);
    tag_close(t);
    add_string_tag(MB2_TAG_CMDLINE, "after-end", 1, 0);
    set32(0, (uint32_t)b.len);
    assert_int_equal(parse(), 0);
    assert_string_equal(bi.cmdline, "");
}

static void test_tag_past_total_rejected(void **state)
{
    (void)state;
    add_string_tag(MB2_TAG_CMDLINE, "hello", 1, 0);
    finish();
    set32(8 + 4, 0x100);                /* cmdline claims 256 bytes of 24 */
    assert_int_equal(parse(), -1);
    /* 24 bytes lie between the tag and total_size: 25 is one too many. */
    set32(8 + 4, 25);
    assert_int_equal(parse(), -1);
    set32(8 + 4, 0xfffffff9u);
    assert_int_equal(parse(), -1);
}

static void test_tag_size_below_8_rejected(void **state)
{
    (void)state;
    add_string_tag(MB2_TAG_CMDLINE, "hello", 1, 0);
    finish();
    set32(8 + 4, 7);
    assert_int_equal(parse(), -1);
    setup(NULL);
    put32(MB2_TAG_END);
    put32(0);                           /* an end tag of size 0 */
    set32(0, 16);
    assert_int_equal(parse(), -1);
}

static void test_missing_end_tag_rejected(void **state)
{
    (void)state;
    add_string_tag(MB2_TAG_CMDLINE, "hello", 1, 0);
    set32(0, (uint32_t)b.len);
    assert_int_equal(parse(), -1);
    /* What was read before the fault is kept. */
    assert_string_equal(bi.cmdline, "hello");
    setup(NULL);
    set32(0, 8);                        /* header only */
    assert_int_equal(parse(), -1);
    setup(NULL);
    finish();
    set32(0, 12);                       /* end tag cut in half by total_size */
    assert_int_equal(parse(), -1);
}

static void test_total_size_checks(void **state)
{
    (void)state;
    add_string_tag(MB2_TAG_CMDLINE, "hello", 1, 0);
    finish();
    assert_int_equal(parse_len(b.len - 1), -1);     /* total > len */
    assert_int_equal(parse_len(7), -1);             /* len < 8 */
    assert_int_equal(parse_len(0), -1);
    set32(0, 7);                                    /* total < 8 */
    assert_int_equal(parse(), -1);
    set32(0, 0);
    assert_int_equal(parse(), -1);
    /* Bytes past total_size are never looked at. */
    set32(0, (uint32_t)b.len);
    memset(b.buf + b.len, 0xff, 64);
    assert_int_equal(parse_len(b.len + 64), 0);
    assert_string_equal(bi.cmdline, "hello");
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_minimal),
        T(test_mmap_normalised),
        T(test_mmap_longer_entries),
        T(test_mmap_partial_entry_ignored),
        T(test_mmap_bad_entry_size),
        T(test_mmap_huge_entry_size),
        T(test_modules),
        T(test_module_name_bounds),
        T(test_module_malformed),
        T(test_too_many_modules),
        T(test_cmdline),
        T(test_acpi_old),
        T(test_acpi_new_wins),
        T(test_acpi_oversized_copy_bounded),
        T(test_unknown_tags_and_padding),
        T(test_end_tag_stops),
        T(test_tag_past_total_rejected),
        T(test_tag_size_below_8_rejected),
        T(test_missing_end_tag_rejected),
        T(test_total_size_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
