/*
 * Unit tests of svm/npt.c over hv/pagetable.c with a host page
 * allocator: NPT entries are x86 page-table entries in which every
 * level has present, writable and user (nested walks are user
 * accesses), 2 MiB leaves map the partition and nothing else, and the
 * root is page aligned with write-back caching (PWT and PCD clear).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host_pages.h"

#include "../../svm/npt.h"

#define M2 0x200000ULL
#define G1 0x40000000ULL
#define PRWU (NPT_P | NPT_RW | NPT_US)

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

/* The directory entry for gpa, walked by hand (table entries: P|RW|US); upper levels checked. */
static uint64_t pde_of(uint64_t gpa)
{
    return host_pde_of(ctx.root, gpa, PRWU);
}

static void build_and_check(uint64_t base, uint64_t size, uint64_t tables)
{
    uint64_t root = npt_build(&ctx, base, size);

    assert_int_not_equal(root, 0);
    assert_int_equal(root & 0xfff, 0);
    assert_int_equal(root, ctx.root);
    assert_ptr_equal(ctx.fmt, &npt_format);
    assert_int_equal(ctx.tables, tables);
    for (uint64_t off = 0; off < size; off += M2) {
        uint64_t e = pde_of(off);
        assert_int_equal(e & PT_ADDR_MASK, base + off);
        assert_int_equal(e & ~PT_ADDR_MASK, PRWU | NPT_PS);
        assert_int_equal(pt_lookup(&ctx, off + 0x1234), base + off + 0x1234);
    }
    assert_int_equal(pt_lookup(&ctx, size), ~0ULL);
    assert_int_equal(pt_lookup(&ctx, size + M2 - 1), ~0ULL);
}

static void test_one_2m_partition(void **state)
{
    (void)state;
    build_and_check(0xa00000, M2, 3);
}

static void test_partition_across_a_gib(void **state)
{
    (void)state;
    build_and_check(0x40000000, 2 * G1 + 4 * M2, 5);
}

static void test_misaligned_refused(void **state)
{
    (void)state;
    assert_int_equal(npt_build(&ctx, 0xa00000 + 0x1000, M2), 0);
    assert_int_equal(npt_build(&ctx, 0xa00000, M2 + 0x1000), 0);
    assert_int_equal(npt_build(&ctx, 0xa00000, 0), 0);
}

static void test_out_of_pages(void **state)
{
    (void)state;
    pages.limit = 2;
    assert_int_equal(npt_build(&ctx, 0xa00000, M2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_2m_partition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partition_across_a_gib, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misaligned_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_pages, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
