/*
 * Unit tests of x86/nested_root.c: a vCPU's own directories (2 MiB
 * leaves over its partition, nothing else) and the per-CPU roots handed
 * from one vCPU to the next. The pool is a host allocator here; the
 * tables' addresses are host pointers (the hypervisor's are identity
 * mapped, so the code treats them alike).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../x86/nested_root.h"
#include "../../vmx/ept.h"
#include "pool.h"

#define M2 0x200000ULL
#define G1 0x40000000ULL

/* hv/pool.c's contract: zeroed, page-aligned, contiguous; 0 when out.
 * Every allocation stays reachable (the pool never frees either). */
static int pool_pages_left = 1 << 20;
static void *allocations[256];
static unsigned allocation_count;

uint64_t pool_alloc_pages(uint64_t count)
{
    void *p;

    if ((int64_t)count > pool_pages_left)
        return 0;
    pool_pages_left -= (int)count;
    p = aligned_alloc(4096, count * 4096);
    if (!p || allocation_count == sizeof(allocations) / sizeof(allocations[0]))
        return 0;
    allocations[allocation_count++] = p;
    memset(p, 0, count * 4096);
    return (uint64_t)(uintptr_t)p;
}

static uint64_t *table(uint64_t addr)
{
    return (uint64_t *)(uintptr_t)(addr & PT_ADDR_MASK);
}

static void test_dirs_map_the_partition_only(void **state)
{
    struct nested_dirs d;
    uint64_t base = 0x40000000;

    (void)state;
    assert_int_equal(nested_dirs_build(&d, &ept_format, base, 3 * M2), 0);
    assert_int_equal(d.count, 1);
    for (uint64_t i = 0; i < 3; i++)
        assert_int_equal(table(d.pd)[i], (base + i * M2) | ept_format.leaf_2m);
    for (int i = 3; i < 512; i++)
        assert_int_equal(table(d.pd)[i], 0);
}

static void test_dirs_one_per_gib(void **state)
{
    struct nested_dirs d;
    uint64_t base = 0x100000000ULL, size = 2 * G1 + M2;

    (void)state;
    assert_int_equal(nested_dirs_build(&d, &ept_format, base, size), 0);
    assert_int_equal(d.count, 3);
    /* Contiguous: entry 1024 is the first of the third directory. */
    assert_int_equal(table(d.pd)[1023], (base + 1023 * M2) | ept_format.leaf_2m);
    assert_int_equal(table(d.pd)[1024], (base + 1024 * M2) | ept_format.leaf_2m);
    assert_int_equal(table(d.pd)[1025], 0);
}

static void test_dirs_refuse_bad_ranges(void **state)
{
    static const struct { uint64_t base, size; } bad[] = {
        { 0x40000000, 0 }, { 0x40001000, M2 }, { 0x40000000, M2 + 4096 },
        { 0x40000000, 513 * G1 },
    };
    struct nested_dirs d;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(nested_dirs_build(&d, &ept_format, bad[i].base, bad[i].size), -1);
    pool_pages_left = 0;
    assert_int_equal(nested_dirs_build(&d, &ept_format, 0x40000000, M2), -1);
    pool_pages_left = 1 << 20;
}

/* What a walk of guest-physical gpa through root finds: the host
 * address, or ~0 when an entry on the way is not present. */
static uint64_t walk(uint64_t root, uint64_t gpa)
{
    uint64_t e = table(root)[(gpa >> 39) & 511];

    if (!(e & 7))
        return ~0ULL;
    e = table(e)[(gpa >> 30) & 511];
    if (!(e & 7))
        return ~0ULL;
    e = table(e)[(gpa >> 21) & 511];
    if (!(e & 7))
        return ~0ULL;
    return (e & PT_ADDR_MASK & ~(M2 - 1)) | (gpa & (M2 - 1));
}

static void test_roots_map_the_holder(void **state)
{
    struct nested_dirs a, b;
    int vcpu_a, vcpu_b, repointed;
    uint64_t root;

    (void)state;
    assert_int_equal(nested_roots_prepare(1, &ept_format), 0);
    assert_int_equal(nested_dirs_build(&a, &ept_format, 0x40000000, 2 * G1), 0);
    assert_int_equal(nested_dirs_build(&b, &ept_format, 0x10000000, M2), 0);
    root = nested_root_take(1, &vcpu_a, &a, &repointed);
    assert_int_equal(repointed, 1);
    assert_true(nested_root_held(1, &vcpu_a, &a));
    assert_int_equal(walk(root, 0x1234), 0x40001234);
    assert_int_equal(walk(root, G1 + 5), 0x80000005);
    assert_int_equal(walk(root, 2 * G1), ~0ULL);
    assert_int_equal(walk(root, 1ULL << 39), ~0ULL);
    /* Taken again while held: the same root, nothing to flush. */
    assert_int_equal(nested_root_take(1, &vcpu_a, &a, &repointed), root);
    assert_int_equal(repointed, 0);
    /* b takes another slot; a keeps its own. */
    assert_int_not_equal(nested_root_take(1, &vcpu_b, &b, &repointed), root);
    assert_int_equal(repointed, 1);
    assert_true(nested_root_held(1, &vcpu_a, &a));
    assert_int_equal(walk(root, 0x1234), 0x40001234);
}

/* A slot handed from a vCPU with two directories to one with one must
 * not leave the second pointing at the old holder's memory. */
static void test_root_taken_over_maps_nothing_of_the_old_holder(void **state)
{
    struct nested_dirs big, small[NESTED_ROOT_SLOTS];
    int vcpu_big, vcpu_small[NESTED_ROOT_SLOTS], repointed;
    uint64_t root_big, root;

    (void)state;
    assert_int_equal(nested_roots_prepare(2, &ept_format), 0);
    assert_int_equal(nested_dirs_build(&big, &ept_format, 0x40000000, 2 * G1), 0);
    root_big = nested_root_take(2, &vcpu_big, &big, &repointed);
    for (unsigned i = 0; i < NESTED_ROOT_SLOTS; i++) {
        assert_int_equal(nested_dirs_build(&small[i], &ept_format, 0x200000ULL * (i + 1), M2),
                         0);
        root = nested_root_take(2, &vcpu_small[i], &small[i], &repointed);
        assert_int_equal(repointed, 1);
    }
    /* The round came back to big's slot: the last small one holds it. */
    assert_int_equal(root, root_big);
    assert_false(nested_root_held(2, &vcpu_big, &big));
    assert_int_equal(walk(root, 0), 0x200000ULL * NESTED_ROOT_SLOTS);
    assert_int_equal(walk(root, M2), ~0ULL);
    assert_int_equal(walk(root, G1), ~0ULL);
    /* big takes a root again: repointed, its whole range back. */
    root = nested_root_take(2, &vcpu_big, &big, &repointed);
    assert_int_equal(repointed, 1);
    assert_int_equal(walk(root, G1 + 7), 0x80000007);
}

static void test_roots_out_of_pool(void **state)
{
    (void)state;
    pool_pages_left = 3;
    assert_int_equal(nested_roots_prepare(3, &ept_format), -1);
    pool_pages_left = 1 << 20;
    assert_int_equal(nested_roots_prepare(CPU_MAX, &ept_format), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dirs_map_the_partition_only),
        cmocka_unit_test(test_dirs_one_per_gib),
        cmocka_unit_test(test_dirs_refuse_bad_ranges),
        cmocka_unit_test(test_roots_map_the_holder),
        cmocka_unit_test(test_root_taken_over_maps_nothing_of_the_old_holder),
        cmocka_unit_test(test_roots_out_of_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
