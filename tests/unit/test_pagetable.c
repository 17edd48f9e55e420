/* Unit tests of hv/pagetable.c with a host page allocator: each table is
 * a 4 KiB-aligned host page, and the address the tables hold is simply
 * the host pointer's value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host_pages.h"

#include "pagetable.h"

#define K4 0x1000ULL
#define M2 0x200000ULL
#define NONE (~0ULL)

static struct host_pages pages;

/* x86-64 paging: tables P|W, 4 KiB leaves P|W|NX, 2 MiB leaves P|W|PS. */
static const struct pt_format x86 = {
    .table = 0x3, .leaf_2m = 0x83, .leaf_4k = 0x8000000000000003ULL, .large = 0x80,
};
/* EPT: tables RWX, leaves RWX with write-back memory type (6 << 3). */
static const struct pt_format ept = {
    .table = 0x7, .leaf_2m = 0xb7, .leaf_4k = 0x37, .large = 0x80,
};

static struct pt_ctx ctx;

static void ctx_init(const struct pt_format *fmt, unsigned limit)
{
    host_pages_ctx(&pages, &ctx, fmt, limit);
}

static int setup(void **state)
{
    (void)state;
    memset(&pages, 0, sizeof(pages));
    ctx_init(&x86, 1024);
    assert_int_equal(pt_init(&ctx), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    host_pages_free(&pages);
    return 0;
}

/* The raw entry for va at level (4 = PML4 ... 1 = PT), walked by hand. */
static uint64_t entry_at(uint64_t va, int level)
{
    uint64_t addr = ctx.root;
    for (int l = 4;; l--) {
        uint64_t e = ((uint64_t *)(uintptr_t)addr)[(va >> (12 + 9 * (l - 1))) & 511];
        if (l == level)
            return e;
        assert_true(e & 1);
        addr = e & PT_ADDR_MASK;
    }
}

static void test_init(void **state)
{
    (void)state;
    assert_int_equal(ctx.tables, 1);
    assert_int_equal(pages.count, 1);
    assert_int_equal(ctx.root, (uint64_t)(uintptr_t)pages.page[0]);
    assert_int_equal(pt_lookup(&ctx, 0), NONE);
    assert_int_equal(pt_lookup(&ctx, 0x12345678), NONE);
}

static void test_init_allocation_fails(void **state)
{
    struct pt_ctx c = ctx;
    (void)state;
    pages.limit = pages.count;          /* nothing more to give */
    assert_int_equal(pt_init(&c), -1);
    assert_int_equal(c.tables, 0);
}

static void test_map_4k(void **state)
{
    const uint64_t va = 0x7f1234565000ULL, pa = 0xabcd000ULL;
    (void)state;
    assert_int_equal(pt_map(&ctx, va, pa, K4, K4), 0);
    assert_int_equal(pt_lookup(&ctx, va), pa);
    assert_int_equal(pt_lookup(&ctx, va + 0x123), pa + 0x123);
    assert_int_equal(pt_lookup(&ctx, va + 0xfff), pa + 0xfff);
    assert_int_equal(pt_lookup(&ctx, va + K4), NONE);
    assert_int_equal(pt_lookup(&ctx, va - 1), NONE);
    assert_int_equal(ctx.tables, 4);    /* PML4, PDPT, PD, PT */
    assert_int_equal(pages.count, 4);
    assert_int_equal(entry_at(va, 1), pa | 0x8000000000000003ULL);
    assert_int_equal(entry_at(va, 4) & ~PT_ADDR_MASK, 0x3);
    assert_int_equal(entry_at(va, 2) & 0x80, 0);
}

static void test_map_2m(void **state)
{
    const uint64_t va = 0x40000000ULL, pa = 0x80200000ULL;
    (void)state;
    assert_int_equal(pt_map(&ctx, va, pa, M2, M2), 0);
    assert_int_equal(pt_lookup(&ctx, va), pa);
    assert_int_equal(pt_lookup(&ctx, va + 0x1abcde), pa + 0x1abcde);
    assert_int_equal(pt_lookup(&ctx, va + M2 - 1), pa + M2 - 1);
    assert_int_equal(pt_lookup(&ctx, va + M2), NONE);
    assert_int_equal(ctx.tables, 3);    /* PML4, PDPT, PD */
    assert_int_equal(entry_at(va, 2), pa | 0x83);
}

static void test_map_4k_range_across_tables(void **state)
{
    (void)state;
    /* [0x1fe000, 0x202000): two pages under PD entry 0, two under entry 1. */
    assert_int_equal(pt_map(&ctx, 0x1fe000, 0x5000000, 4 * K4, K4), 0);
    assert_int_equal(ctx.tables, 5);
    assert_int_equal(pt_lookup(&ctx, 0x1fe000), 0x5000000);
    assert_int_equal(pt_lookup(&ctx, 0x1ff010), 0x5001010);
    assert_int_equal(pt_lookup(&ctx, 0x200000), 0x5002000);
    assert_int_equal(pt_lookup(&ctx, 0x201fff), 0x5003fff);
    assert_int_equal(pt_lookup(&ctx, 0x1fd000), NONE);
    assert_int_equal(pt_lookup(&ctx, 0x202000), NONE);
    /* Filling the rest of the first PT takes no new table. */
    assert_int_equal(pt_map(&ctx, 0x0, 0x9000000, 0x1fe000, K4), 0);
    assert_int_equal(ctx.tables, 5);
    assert_int_equal(pt_lookup(&ctx, 0x1fd000), 0x91fd000);
}

static void test_map_2m_tables_per_level(void **state)
{
    (void)state;
    assert_int_equal(pt_map(&ctx, 0, 0x10000000, 4 * M2, M2), 0);
    assert_int_equal(ctx.tables, 3);
    assert_int_equal(pt_lookup(&ctx, 3 * M2 + 5), 0x10000000 + 3 * M2 + 5);
    /* 1 GiB up: same PDPT, a new PD. */
    assert_int_equal(pt_map(&ctx, 0x40000000, 0x20000000, M2, M2), 0);
    assert_int_equal(ctx.tables, 4);
    /* 512 GiB up: a new PML4 slot, so a new PDPT and PD. */
    assert_int_equal(pt_map(&ctx, 0x8000000000ULL, 0x30000000, M2, M2), 0);
    assert_int_equal(ctx.tables, 6);
    assert_int_equal(pt_lookup(&ctx, 0x8000000000ULL + 0x1234), 0x30001234);
    assert_int_equal(pt_lookup(&ctx, 0x40000000 + 0x1234), 0x20001234);
}

static void test_misaligned_rejected(void **state)
{
    (void)state;
    assert_int_equal(pt_map(&ctx, 0x1001, 0x2000, K4, K4), -1);
    assert_int_equal(pt_map(&ctx, 0x1000, 0x2001, K4, K4), -1);
    assert_int_equal(pt_map(&ctx, 0x1000, 0x2000, K4 + 1, K4), -1);
    assert_int_equal(pt_map(&ctx, 0x1000, 0, M2, M2), -1);
    assert_int_equal(pt_map(&ctx, 0, 0x100000, M2, M2), -1);
    assert_int_equal(pt_map(&ctx, 0, 0, K4, M2), -1);
    assert_int_equal(pt_map(&ctx, 0, 0, M2 + K4, M2), -1);
    assert_int_equal(ctx.tables, 1);    /* rejected before touching anything */
    assert_int_equal(pt_lookup(&ctx, 0), NONE);
}

static void test_bad_page_size_rejected(void **state)
{
    (void)state;
    assert_int_equal(pt_map(&ctx, 0, 0, 0x40000000, 0x40000000), -1);     /* 1 GiB */
    assert_int_equal(pt_map(&ctx, 0, 0, 0x2000, 0x2000), -1);
    assert_int_equal(pt_map(&ctx, 0, 0, 0x1000, 0), -1);
    assert_int_equal(ctx.tables, 1);
}

static void test_address_limits(void **state)
{
    (void)state;
    /* 48-bit virtual addresses: the last page fits, one past does not. */
    assert_int_equal(pt_map(&ctx, 0xfffffffff000ULL, 0x1000, K4, K4), 0);
    assert_int_equal(pt_lookup(&ctx, 0xfffffffff800ULL), 0x1800);
    assert_int_equal(pt_map(&ctx, 0xfffffffff000ULL, 0x1000, 2 * K4, K4), -1);
    assert_int_equal(pt_map(&ctx, 1ULL << 48, 0x1000, K4, K4), -1);
    assert_int_equal(pt_map(&ctx, 0xfffffffffffff000ULL, 0x1000, 2 * K4, K4), -1);
    assert_int_equal(pt_map(&ctx, 0x1000, 0xfffffffffffff000ULL, 2 * K4, K4), -1);
}

/* A physical address the entry format cannot hold must not be truncated. */
static void test_physical_address_too_wide(void **state)
{
    const uint64_t pa = 1ULL << 52;
    (void)state;
    /* Either refused, or mapped to exactly that address; never to pa & mask. */
    if (pt_map(&ctx, 0x1000, pa, K4, K4) == 0)
        assert_int_equal(pt_lookup(&ctx, 0x1000), pa);
}

static void test_conflicts_rejected(void **state)
{
    (void)state;
    assert_int_equal(pt_map(&ctx, 0x1000, 0x5000, K4, K4), 0);
    assert_int_equal(pt_map(&ctx, 0x1000, 0x5000, K4, K4), -1);
    assert_int_equal(pt_map(&ctx, 0x1000, 0x9000, K4, K4), -1);
    assert_int_equal(pt_lookup(&ctx, 0x1000), 0x5000);
    /* A 2 MiB leaf where a page table already is. */
    assert_int_equal(pt_map(&ctx, 0, 0x200000, M2, M2), -1);
    assert_int_equal(pt_lookup(&ctx, 0x1000), 0x5000);

    assert_int_equal(pt_map(&ctx, 0x400000, 0x800000, M2, M2), 0);
    assert_int_equal(pt_map(&ctx, 0x400000, 0xa00000, M2, M2), -1);
    /* A 4 KiB page inside the 2 MiB leaf: no table may be made under it. */
    uint64_t before = ctx.tables;
    assert_int_equal(pt_map(&ctx, 0x401000, 0x3000, K4, K4), -1);
    assert_int_equal(ctx.tables, before);
    assert_int_equal(pt_lookup(&ctx, 0x401000), 0x801000);
}

static void test_allocation_failure_during_map(void **state)
{
    (void)state;
    pages.limit = pages.count + 2;      /* PDPT and PD, but no PT */
    assert_int_equal(pt_map(&ctx, 0x1000, 0x1000, K4, K4), -1);
    assert_int_equal(pt_lookup(&ctx, 0x1000), NONE);
    assert_int_equal(ctx.tables, 3);
    /* A 2 MiB leaf needs no PT: it still fits. */
    assert_int_equal(pt_map(&ctx, M2, 0x600000, M2, M2), 0);
    assert_int_equal(pt_lookup(&ctx, M2 + 8), 0x600008);
}

static void test_ept_format(void **state)
{
    (void)state;
    teardown(NULL);
    ctx_init(&ept, 1024);
    assert_int_equal(pt_init(&ctx), 0);
    assert_int_equal(pt_map(&ctx, 0, 0x40000000, M2, M2), 0);
    assert_int_equal(pt_map(&ctx, M2, 0x7000, K4, K4), 0);
    assert_int_equal(entry_at(0, 2), 0x40000000 | 0xb7);
    assert_int_equal(entry_at(M2, 1), 0x7000 | 0x37);
    assert_int_equal(entry_at(M2, 3) & ~PT_ADDR_MASK, 0x7);
    assert_int_equal(pt_lookup(&ctx, 0x123456), 0x40123456);
    assert_int_equal(pt_lookup(&ctx, M2 + 0x10), 0x7010);
    assert_int_equal(pt_lookup(&ctx, M2 + K4), NONE);
    assert_int_equal(ctx.tables, 4);
}

/* A 2 MiB leaf's bit 12 is PAT, not address: lookup must not return it. */
static void test_2m_leaf_attribute_bit_12(void **state)
{
    static const struct pt_format pat = {
        .table = 0x3, .leaf_2m = 0x1083, .leaf_4k = 0x3, .large = 0x80,
    };
    (void)state;
    teardown(NULL);
    ctx_init(&pat, 1024);
    assert_int_equal(pt_init(&ctx), 0);
    assert_int_equal(pt_map(&ctx, 0x600000, 0xc00000, M2, M2), 0);
    assert_int_equal(entry_at(0x600000, 2), 0xc01083);
    assert_int_equal(pt_lookup(&ctx, 0x600000), 0xc00000);
    assert_int_equal(pt_lookup(&ctx, 0x600000 + 0x1fffff), 0xdfffff);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_init),
        T(test_init_allocation_fails),
        T(test_map_4k),
        T(test_map_2m),
        T(test_map_4k_range_across_tables),
        T(test_map_2m_tables_per_level),
        T(test_misaligned_rejected),
        T(test_bad_page_size_rejected),
        T(test_address_limits),
        T(test_physical_address_too_wide),
        T(test_conflicts_rejected),
        T(test_allocation_failure_during_map),
        T(test_ept_format),
        T(test_2m_leaf_attribute_bit_12),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
