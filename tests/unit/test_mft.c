/*
 * Unit tests of hv/mft.c. Each test writes a manifest descriptor (the
 * MFT1 note's contents: 4 bytes of padding, version, entries, then
 * 104-byte entries) byte by byte with the builder below, breaks exactly
 * one rule of mft_parse(), and checks the reason. The descriptor sits at
 * an odd address, so an unaligned cast in the parser is an UBSan report.
 * A kept manifest holds KEPT entries (entry 0 and MFT_DEVICES_MAX
 * devices); the rules of entries are tested with at most that many, the
 * refusals that come first (count, size) with up to 65.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mft.h"

#define HEADER      (HVT_MFT_NOTE_PAD + sizeof(struct hvt_mft))
#define ENTRY       sizeof(struct hvt_mft_entry)
#define TYPE_AT     offsetof(struct hvt_mft_entry, type)
#define ATTACHED_AT offsetof(struct hvt_mft_entry, attached)
#define DESC_MAX    (HEADER + (HVT_MFT_ENTRIES_MAX + 1) * ENTRY)
#define KEPT        (1 + MFT_DEVICES_MAX)

static uint8_t raw[DESC_MAX + 1];
static uint8_t *const d = raw + 1;  /* deliberately misaligned */
static size_t dsz;
static struct mft_info m;
static char err[512];

static void put32(size_t off, uint32_t v) { memcpy(d + off, &v, sizeof(v)); }
static size_t at(uint32_t i) { return HEADER + (size_t)i * ENTRY; }

/* A valid descriptor of `entries` entries: entry 0 reserved, the others
 * unnamed (the caller names them with device()). */
static void begin(uint32_t entries)
{
    memset(raw, 0, sizeof(raw));
    memset(d, 0xee, HVT_MFT_NOTE_PAD);      /* the padding is not read */
    put32(HVT_MFT_NOTE_PAD, HVT_MFT_VERSION);
    put32(HVT_MFT_NOTE_PAD + 4, entries);
    put32(at(0) + TYPE_AT, HVT_MFT_RESERVED_FIRST);
    dsz = at(entries);
}

static void device(uint32_t i, const char *name, uint32_t type)
{
    memset(d + at(i), 0, HVT_MFT_NAME_SIZE);
    memcpy(d + at(i), name, strlen(name));
    put32(at(i) + TYPE_AT, type);
}

/* A valid descriptor of `entries` entries, devices prefix1, prefix2, ...
 * alternately network (odd) and block (even). */
static void numbered(uint32_t entries, const char *prefix)
{
    char name[16];

    begin(entries);
    for (uint32_t i = 1; i < entries; i++) {
        snprintf(name, sizeof(name), "%s%u", prefix, i);
        device(i, name, i % 2 ? HVT_MFT_NET_BASIC : HVT_MFT_BLOCK_BASIC);
    }
}

/* A manifest with a network device "service" and a block device "storage". */
static void two_devices(void)
{
    begin(3);
    device(1, "service", HVT_MFT_NET_BASIC);
    device(2, "storage", HVT_MFT_BLOCK_BASIC);
}

static int parse(void)
{
    memset(err, 0, sizeof(err));
    return mft_parse(d, dsz, &m, err, sizeof(err));
}

static void accept(void)
{
    if (parse() != 0)
        fail_msg("rejected: %s", err);
}

/* Expects a rejection whose reason contains want, a zeroed *out, and a
 * reason of one line that fits MFT_REASON_MAX. */
static void reject(const char *want)
{
    static const struct mft_info zero;

    memset(&m, 0x5a, sizeof(m));
    if (parse() != -1)
        fail_msg("accepted, expected \"%s\"", want);
    if (!strstr(err, want))
        fail_msg("reason \"%s\", expected \"%s\"", err, want);
    if (strncmp(err, "Solo5 manifest", 14) != 0)
        fail_msg("reason \"%s\" does not start with \"Solo5 manifest\"", err);
    assert_null(strchr(err, '\n'));
    assert_true(strlen(err) < MFT_REASON_MAX);
    assert_memory_equal(&m, &zero, sizeof(m));
}

/* ---- acceptance ---- */

static void test_accepts_reserved_only(void **state)
{
    (void)state;
    begin(1);
    accept();
    assert_int_equal(m.entries, 1);
    assert_int_equal(m.e[0].type, HVT_MFT_RESERVED_FIRST);
    assert_string_equal(m.e[0].name, "");
}

static void test_accepts_two_devices(void **state)
{
    (void)state;
    two_devices();
    accept();
    assert_int_equal(m.entries, 3);
    assert_string_equal(m.e[1].name, "service");
    assert_int_equal(m.e[1].type, HVT_MFT_NET_BASIC);
    assert_string_equal(m.e[2].name, "storage");
    assert_int_equal(m.e[2].type, HVT_MFT_BLOCK_BASIC);
}

static void test_accepts_one_device(void **state)
{
    (void)state;
    begin(2);
    device(1, "net0", HVT_MFT_NET_BASIC);
    accept();
    assert_int_equal(m.entries, 2);
    assert_string_equal(m.e[1].name, "net0");
}

/* As many devices as one guest line can map: all kept. */
static void test_accepts_most_devices(void **state)
{
    (void)state;
    _Static_assert(KEPT == 9, "CONFIG_DEVICES_MAX is 8: the reasons below say so");
    assert_int_equal(sizeof(m.e) / sizeof(m.e[0]), KEPT);
    numbered(KEPT, "dev");
    accept();
    assert_int_equal(m.entries, KEPT);
    assert_string_equal(m.e[8].name, "dev8");
    assert_int_equal(m.e[8].type, HVT_MFT_BLOCK_BASIC);
    assert_int_equal(m.e[7].type, HVT_MFT_NET_BASIC);
}

static void test_accepts_longest_name(void **state)
{
    (void)state;
    char name[HVT_MFT_NAME_SIZE];

    memset(name, 'Z', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    begin(2);
    device(1, name, HVT_MFT_BLOCK_BASIC);
    accept();
    assert_string_equal(m.e[1].name, name);
    begin(2);
    device(1, "aZ09", HVT_MFT_BLOCK_BASIC);     /* every character class */
    accept();
}

/* What the host fills in (u, backing) is ignored, the bytes after a name's
 * NUL too; the copy is canonical: zero after the NUL. */
static void test_ignores_host_fields_and_name_tail(void **state)
{
    (void)state;
    two_devices();
    memset(d + at(1) + TYPE_AT + 4, 0xab, ATTACHED_AT - TYPE_AT - 4);   /* u, backing */
    memset(d + at(2) + ATTACHED_AT + 1, 0xcd, ENTRY - ATTACHED_AT - 1); /* pad */
    memset(d + at(2) + 8, 0x7f, HVT_MFT_NAME_SIZE - 8);                 /* after "storage\0" */
    memset(d + at(0) + 1, 'x', HVT_MFT_NAME_SIZE - 1);                  /* after entry 0's NUL */
    accept();
    for (size_t j = 7; j < HVT_MFT_NAME_SIZE; j++)
        assert_int_equal(m.e[2].name[j], 0);
    for (size_t j = 0; j < HVT_MFT_NAME_SIZE; j++)
        assert_int_equal(m.e[0].name[j], 0);
}

static void test_same_name_other_case(void **state)
{
    (void)state;
    begin(3);
    device(1, "net", HVT_MFT_NET_BASIC);
    device(2, "Net", HVT_MFT_NET_BASIC);
    accept();
}

static void test_error_buffer_optional(void **state)
{
    (void)state;
    char small[8];

    begin(0);
    assert_int_equal(mft_parse(d, dsz, &m, NULL, 0), -1);
    assert_int_equal(mft_parse(d, dsz, &m, small, sizeof(small)), -1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* ---- each rule, broken alone ---- */

static void test_rejects_short_descriptor(void **state)
{
    (void)state;
    begin(1);
    dsz = HEADER - 1;
    reject("Solo5 manifest: the descriptor is 11 bytes, shorter than its 12-byte header");
    dsz = 0;
    reject("the descriptor is 0 bytes");
}

static void test_rejects_version(void **state)
{
    (void)state;
    two_devices();
    put32(HVT_MFT_NOTE_PAD, 2);
    reject("Solo5 manifest: version 2, expected 1");
    put32(HVT_MFT_NOTE_PAD, 0);
    reject("version 0, expected 1");
}

static void test_rejects_entry_count(void **state)
{
    (void)state;
    begin(0);
    reject("Solo5 manifest: 0 entries, expected 1 to 64");
    begin(HVT_MFT_ENTRIES_MAX + 1);
    reject("65 entries, expected 1 to 64");
    begin(1);
    put32(HVT_MFT_NOTE_PAD + 4, UINT32_MAX);
    reject("4294967295 entries");
}

/* One device more than a guest line maps is refused after the count and
 * size checks and before any entry is read (or written to *out: the
 * result lives in a heap block of exactly its size, so ASan sees a write
 * past e[]). */
static void test_rejects_too_many_devices(void **state)
{
    (void)state;
    struct mft_info *exact = malloc(sizeof(*exact));

    assert_non_null(exact);
    numbered(KEPT + 1, "dev");
    reject("Solo5 manifest: 9 devices, Mayfly attaches at most 8 to one guest");
    numbered(HVT_MFT_ENTRIES_MAX, "dev");
    reject("Solo5 manifest: 63 devices, Mayfly attaches at most 8 to one guest");
    assert_int_equal(mft_parse(d, dsz, exact, err, sizeof(err)), -1);
    numbered(HVT_MFT_ENTRIES_MAX, "dev");
    put32(at(0) + TYPE_AT, 0);      /* malformed as well: the count is reported */
    memset(d + at(40), 0, HVT_MFT_NAME_SIZE);
    reject("63 devices, Mayfly attaches at most 8");
    numbered(KEPT + 1, "dev");      /* the size is checked first */
    dsz--;
    reject("Solo5 manifest: the descriptor is 1051 bytes, expected 1052 for 10 entries");
    begin(HVT_MFT_ENTRIES_MAX + 1); /* and the count before that */
    reject("65 entries, expected 1 to 64");
    free(exact);
}

static void test_rejects_size_mismatch(void **state)
{
    (void)state;
    two_devices();
    dsz++;
    reject("Solo5 manifest: the descriptor is 325 bytes, expected 324 for 3 entries");
    dsz -= 2;
    reject("the descriptor is 323 bytes, expected 324");
    dsz = at(2);                    /* one entry short */
    reject("the descriptor is 220 bytes, expected 324 for 3 entries");
    dsz = at(3) + 4;                /* a padded descriptor is not exact */
    reject("expected 324");
}

static void test_rejects_first_type(void **state)
{
    (void)state;
    two_devices();
    put32(at(0) + TYPE_AT, HVT_MFT_NET_BASIC);
    reject("Solo5 manifest entry 0: type 2, expected RESERVED_FIRST (0x40000000)");
    put32(at(0) + TYPE_AT, 0);
    reject("entry 0: type 0");
}

static void test_rejects_first_name(void **state)
{
    (void)state;
    two_devices();
    d[at(0)] = 'a';
    reject("Solo5 manifest entry 0: the name is not empty");
}

static void test_rejects_unterminated_name(void **state)
{
    (void)state;
    two_devices();
    memset(d + at(2), 'a', HVT_MFT_NAME_SIZE);
    reject("Solo5 manifest entry 2: the name is not NUL-terminated within 68 bytes");
}

static void test_rejects_empty_name(void **state)
{
    (void)state;
    two_devices();
    memset(d + at(1), 0, HVT_MFT_NAME_SIZE);
    reject("Solo5 manifest entry 1: the name is empty");
}

static void test_rejects_name_characters(void **state)
{
    (void)state;
    static const char bad[] = { '-', '_', ' ', '.', '/', '"', '\n', '\x7f', '\x80', '\xff' };

    for (size_t k = 0; k < sizeof(bad); k++) {
        char want[128];
        two_devices();
        d[at(2) + 3] = (uint8_t)bad[k];
        snprintf(want, sizeof(want),
                 "Solo5 manifest entry 2: the name has byte 0x%02x at 3; names are 1 to 67 of A-Z, a-z, 0-9",
                 (unsigned)(uint8_t)bad[k]);
        reject(want);
    }
}

static void test_rejects_type(void **state)
{
    (void)state;
    two_devices();
    put32(at(2) + TYPE_AT, 7);
    reject("Solo5 manifest entry 2 (\"storage\"): type 7 is not BLOCK_BASIC (1) or NET_BASIC (2)");
    put32(at(2) + TYPE_AT, 0);
    reject("type 0 is not");
    put32(at(2) + TYPE_AT, 3);
    reject("type 3 is not");
    put32(at(2) + TYPE_AT, HVT_MFT_RESERVED_FIRST);     /* reserved only for entry 0 */
    reject("type 1073741824 is not");
}

static void test_rejects_attached(void **state)
{
    (void)state;
    two_devices();
    d[at(1) + ATTACHED_AT] = 1;
    reject("Solo5 manifest entry 1 (\"service\"): attached is 1, expected 0 in an image");
    two_devices();
    d[at(0) + ATTACHED_AT] = 0x80;
    reject("Solo5 manifest entry 0: attached is 128, expected 0 in an image");
}

static void test_rejects_duplicate_name(void **state)
{
    (void)state;
    char name[16];

    begin(3);
    device(1, "disk", HVT_MFT_BLOCK_BASIC);
    device(2, "disk", HVT_MFT_NET_BASIC);       /* other type, same name */
    reject("Solo5 manifest entries 1 and 2 are both called \"disk\"");
    begin(KEPT);
    for (uint32_t i = 1; i < KEPT; i++) {
        snprintf(name, sizeof(name), "d%u", i);
        device(i, name, HVT_MFT_NET_BASIC);
    }
    device(8, "d5", HVT_MFT_NET_BASIC);
    reject("entries 5 and 8 are both called \"d5\"");
}

/* The longest values each reason can print fit MFT_REASON_MAX. */
static void test_reasons_fit(void **state)
{
    (void)state;
    char longest[HVT_MFT_NAME_SIZE];
    char fit[MFT_REASON_MAX];

    memset(longest, 'W', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    for (int k = 0; k < 6; k++) {
        uint32_t n = k >= 3 ? HVT_MFT_ENTRIES_MAX : KEPT;
        begin(n);
        for (uint32_t i = 1; i < n; i++) {
            char name[16];
            snprintf(name, sizeof(name), "d%u", i);
            device(i, name, HVT_MFT_NET_BASIC);
        }
        device(KEPT - 1, longest, k == 0 ? UINT32_MAX : HVT_MFT_NET_BASIC);
        if (k == 1)
            d[at(KEPT - 1) + ATTACHED_AT] = 0xff;
        if (k == 2)
            device(KEPT - 2, longest, HVT_MFT_NET_BASIC);
        if (k == 3)
            dsz = SIZE_MAX;         /* only the header is read before this reason */
        /* k == 4: the most devices the next reason can name */
        if (k == 5)
            put32(HVT_MFT_NOTE_PAD + 4, UINT32_MAX);
        assert_int_equal(parse(), -1);
        if (strlen(err) >= MFT_REASON_MAX)
            fail_msg("%zu characters, more than MFT_REASON_MAX - 1: \"%s\"", strlen(err), err);
        assert_int_equal(mft_parse(d, dsz, &m, fit, sizeof(fit)), -1);
        assert_string_equal(fit, err);
        if (k == 0)
            assert_true(strlen(err) > 140);
    }
}

/* ---- find and copy size ---- */

static void test_find(void **state)
{
    (void)state;
    two_devices();
    accept();
    assert_int_equal(mft_find(&m, "service"), 1);
    assert_int_equal(mft_find(&m, "storage"), 2);
    assert_int_equal(mft_find(&m, "stor"), -1);
    assert_int_equal(mft_find(&m, "storage0"), -1);
    assert_int_equal(mft_find(&m, "Storage"), -1);
    assert_int_equal(mft_find(&m, ""), -1);     /* entry 0 is not a device */
    begin(1);
    accept();
    assert_int_equal(mft_find(&m, ""), -1);
    assert_int_equal(mft_find(&m, "service"), -1);
}

static void test_find_last(void **state)
{
    (void)state;
    numbered(KEPT, "dev");
    accept();
    assert_int_equal(mft_find(&m, "dev8"), 8);
    assert_int_equal(mft_find(&m, "dev1"), 1);
    assert_int_equal(mft_find(&m, "dev9"), -1);
}

/* mft_find reads no entry at or beyond entries, and never past e[] even
 * when entries says more (the result in an exact heap block: ASan). */
static void test_find_stays_inside(void **state)
{
    (void)state;
    struct mft_info *exact = malloc(sizeof(*exact));

    assert_non_null(exact);
    numbered(KEPT, "dev");
    assert_int_equal(mft_parse(d, dsz, exact, err, sizeof(err)), 0);
    exact->entries = 3;                     /* dev3.. are beyond entries */
    assert_int_equal(mft_find(exact, "dev2"), 2);
    assert_int_equal(mft_find(exact, "dev3"), -1);
    exact->entries = UINT32_MAX;            /* not a parsed value */
    assert_int_equal(mft_find(exact, "dev8"), 8);
    assert_int_equal(mft_find(exact, "dev9"), -1);
    free(exact);
}

static void test_copy_size(void **state)
{
    (void)state;
    begin(1);
    accept();
    assert_int_equal(mft_copy_size(&m), 8 + 104);
    two_devices();
    accept();
    assert_int_equal(mft_copy_size(&m), 8 + 3 * 104);
    numbered(KEPT, "b");
    accept();
    assert_int_equal(mft_copy_size(&m), 8 + 9 * 104);
    /* The guest's copy is the descriptor less its padding. */
    assert_int_equal(mft_copy_size(&m), dsz - HVT_MFT_NOTE_PAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_reserved_only),
        cmocka_unit_test(test_accepts_two_devices),
        cmocka_unit_test(test_accepts_one_device),
        cmocka_unit_test(test_accepts_most_devices),
        cmocka_unit_test(test_accepts_longest_name),
        cmocka_unit_test(test_ignores_host_fields_and_name_tail),
        cmocka_unit_test(test_same_name_other_case),
        cmocka_unit_test(test_error_buffer_optional),
        cmocka_unit_test(test_rejects_short_descriptor),
        cmocka_unit_test(test_rejects_version),
        cmocka_unit_test(test_rejects_entry_count),
        cmocka_unit_test(test_rejects_too_many_devices),
        cmocka_unit_test(test_rejects_size_mismatch),
        cmocka_unit_test(test_rejects_first_type),
        cmocka_unit_test(test_rejects_first_name),
        cmocka_unit_test(test_rejects_unterminated_name),
        cmocka_unit_test(test_rejects_empty_name),
        cmocka_unit_test(test_rejects_name_characters),
        cmocka_unit_test(test_rejects_type),
        cmocka_unit_test(test_rejects_attached),
        cmocka_unit_test(test_rejects_duplicate_name),
        cmocka_unit_test(test_reasons_fit),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_find_last),
        cmocka_unit_test(test_find_stays_inside),
        cmocka_unit_test(test_copy_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
