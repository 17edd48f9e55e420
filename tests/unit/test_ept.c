/*
 * Unit tests of vmx/ept.c over hv/pagetable.c with a host page
 * allocator: each table is a 4 KiB-aligned host page and the address the
 * tables hold is the host pointer's value. Checks what the CPU will see:
 * the EPT pointer's bits, each 2 MiB leaf's bits, what maps where, that
 * nothing past the partition is mapped, and how many tables a size takes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host_pages.h"

#include "../../vmx/ept.h"

#define M2 0x200000ULL
#define G1 0x40000000ULL
#define G512 0x8000000000ULL
#define NONE (~0ULL)
#define RWX (EPT_READ | EPT_WRITE | EPT_EXECUTE)

static struct host_pages pages;
static struct pt_ctx ctx;

static int setup(void **state)
{
    (void)state;
    memset(&pages, 0, sizeof(pages));
    host_pages_ctx(&pages, &ctx, NULL, 64);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    host_pages_free(&pages);
    return 0;
}

/* The directory entry (level 2) for gpa, walked by hand from the root
 * (table entries: RWX, nothing else). */
static uint64_t pde_of(uint64_t gpa)
{
    return host_pde_of(ctx.root, gpa, RWX);
}

/* Builds [0, size) -> [base, base + size) and checks everything about it. */
static void build_and_check(uint64_t base, uint64_t size, uint64_t tables)
{
    uint64_t eptp = ept_build(&ctx, base, size);

    assert_int_not_equal(eptp, 0);
    assert_int_equal(eptp & 0x7, EPTP_WB);
    assert_int_equal(eptp & (7ULL << 3), EPTP_WALK_4);
    assert_int_equal(EPTP_WALK_4, 3ULL << 3);
    assert_int_equal(eptp & 0xfc0, 0);                  /* no A/D, reserved bits clear */
    assert_int_equal(eptp & PT_ADDR_MASK, ctx.root);
    assert_ptr_equal(ctx.fmt, &ept_format);
    assert_int_equal(ctx.tables, tables);
    assert_int_equal(pages.count, tables);

    for (uint64_t off = 0; off < size; off += M2) {
        uint64_t e = pde_of(off);
        assert_int_equal(e & PT_ADDR_MASK, base + off);
        assert_int_equal(e & ~PT_ADDR_MASK, RWX | EPT_MEMTYPE_WB | EPT_LARGE);
        assert_int_equal(EPT_MEMTYPE_WB, 6ULL << 3);
        assert_int_equal(pt_lookup(&ctx, off), base + off);
        assert_int_equal(pt_lookup(&ctx, off + 0x1234), base + off + 0x1234);
        assert_int_equal(pt_lookup(&ctx, off + M2 - 1), base + off + M2 - 1);
    }
    /* Nothing past the end: the first byte after, and far away. */
    assert_int_equal(pt_lookup(&ctx, size), NONE);
    assert_int_equal(pt_lookup(&ctx, size + M2 - 1), NONE);
    assert_int_equal(pt_lookup(&ctx, size + G1), NONE);
    assert_int_equal(pt_lookup(&ctx, size + G512), NONE);
    assert_int_equal(pt_lookup(&ctx, G512), NONE);
    assert_int_equal(pt_lookup(&ctx, 0xffffffe00000ULL), NONE);   /* last 2 MiB of 48 bits */
}

static void test_2m(void **state)
{
    (void)state;
    build_and_check(0x40000000, M2, 3);
}

static void test_64m(void **state)
{
    (void)state;
    build_and_check(0x12200000, 32 * M2, 3);      /* 64 MiB */
}

/* Exactly one full directory. */
static void test_1g(void **state)
{
    (void)state;
    build_and_check(0x100000000ULL, G1, 3);
}

/* One 2 MiB page into the second gigabyte: a second directory. */
static void test_1g_plus_2m(void **state)
{
    (void)state;
    build_and_check(0x80000000ULL, G1 + M2, 4);
    assert_int_equal(pt_lookup(&ctx, G1), 0x80000000ULL + G1);
    assert_int_equal(pt_lookup(&ctx, G1 + M2), NONE);
}

/* A base above 4 GiB and not 1 GiB aligned: the offset is kept exactly. */
static void test_high_unaligned_to_1g_base(void **state)
{
    (void)state;
    build_and_check(0x3456600000ULL, 8 * M2, 3);
}

static void test_zero_base(void **state)
{
    (void)state;
    build_and_check(0, 4 * M2, 3);
}

static void test_refused(void **state)
{
    static const struct {
        uint64_t base, size;
    } bad[] = {
        { 0x40000000, 0 },                  /* empty */
        { 0, 0 },
        { 0x40001000, M2 },                 /* base 4 KiB but not 2 MiB aligned */
        { 0x40100000, M2 },
        { 0x40000001, M2 },
        { 0x40000000, M2 + 0x1000 },        /* size not a 2 MiB multiple */
        { 0x40000000, 0x1000 },
        { 0x40000000, M2 - 1 },
        { 0x40000000, 3 * M2 / 2 },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ept_build(&ctx, bad[i].base, bad[i].size), 0);
        assert_int_equal(pages.count, 0);   /* refused before allocating */
    }
}

static void test_allocation_failure(void **state)
{
    (void)state;
    pages.limit = 0;
    assert_int_equal(ept_build(&ctx, 0x40000000, M2), 0);
    teardown(NULL);
    setup(NULL);
    pages.limit = 2;                        /* root and PDPT, no directory */
    assert_int_equal(ept_build(&ctx, 0x40000000, M2), 0);
    teardown(NULL);
    setup(NULL);
    pages.limit = 3;                        /* enough for 1 GiB, not one more */
    assert_int_equal(ept_build(&ctx, 0x40000000, G1 + M2), 0);
}

/* The format the builder used is the EPT one: table entries RWX only. */
static void test_format(void **state)
{
    (void)state;
    assert_int_equal(ept_format.table, RWX);
    assert_int_equal(ept_format.leaf_2m, RWX | (6ULL << 3) | (1ULL << 7));
    assert_int_equal(ept_format.large, 1ULL << 7);
    assert_int_equal(ept_format.leaf_4k & ~PT_ADDR_MASK, RWX | (6ULL << 3));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_2m),
        T(test_64m),
        T(test_1g),
        T(test_1g_plus_2m),
        T(test_high_unaligned_to_1g_base),
        T(test_zero_base),
        T(test_refused),
        T(test_allocation_failure),
        T(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
