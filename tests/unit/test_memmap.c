/* Unit tests of hv/memmap.c: normalising firmware maps, reserving and
 * taking ranges. Expected lists are worked out by hand in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "memmap.h"

#define U MEM_USABLE
#define R MEM_RESERVED
#define N(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))

static void check_list(const struct mem_range *got, uint32_t n,
                       const struct mem_range *want, uint32_t wn)
{
    for (uint32_t i = 0; i < n || i < wn; i++) {
        if (i >= n)
            fail_msg("missing range %u: [%#llx, +%#llx)", i,
                     (unsigned long long)want[i].base, (unsigned long long)want[i].size);
        if (i >= wn)
            fail_msg("extra range %u: [%#llx, +%#llx)", i,
                     (unsigned long long)got[i].base, (unsigned long long)got[i].size);
        if (got[i].base != want[i].base || got[i].size != want[i].size)
            fail_msg("range %u is [%#llx, +%#llx), expected [%#llx, +%#llx)", i,
                     (unsigned long long)got[i].base, (unsigned long long)got[i].size,
                     (unsigned long long)want[i].base, (unsigned long long)want[i].size);
    }
}

#define CHECK(got, n, ...) do {                                     \
        static const struct mem_range want_[] = { __VA_ARGS__ };    \
        check_list(got, n, want_, N(want_));                        \
    } while (0)

static uint32_t normalise(const struct mem_entry *in, uint32_t n, struct mem_range *out,
                          uint32_t max, uint32_t *dropped)
{
    memset(out, 0xa5, max * sizeof(*out));
    return memmap_normalise(in, n, out, max, dropped);
}

static void test_normalise_single(void **state)
{
    static const struct mem_entry in[] = { { 0x100000, 0x7f00000, U } };
    struct mem_range out[4];
    uint32_t dropped = 0;
    (void)state;
    uint32_t n = normalise(in, N(in), out, N(out), &dropped);
    CHECK(out, n, { 0x100000, 0x7f00000 });
    assert_int_equal(dropped, 0);
}

static void test_normalise_aligns_inward(void **state)
{
    /* [0x1234, 0x6234) -> [0x2000, 0x6000); [0x9001, 0xa000) holds no whole page. */
    static const struct mem_entry in[] = { { 0x1234, 0x5000, U }, { 0x9001, 0xfff, U } };
    struct mem_range out[4];
    (void)state;
    uint32_t n = normalise(in, N(in), out, N(out), NULL);
    CHECK(out, n, { 0x2000, 0x4000 });
}

static void test_normalise_merges_overlapping_and_adjacent(void **state)
{
    /* [0,3000) + [2000,5000) overlap, [5000,6000) and [6000,8000) touch:
     * one range [0, 0x8000). [0x10000, 0x11000) stays apart. */
    static const struct mem_entry in[] = {
        { 0x6000, 0x2000, U }, { 0x0, 0x3000, U }, { 0x10000, 0x1000, U },
        { 0x2000, 0x3000, U }, { 0x5000, 0x1000, U },
    };
    struct mem_range out[8];
    (void)state;
    uint32_t n = normalise(in, N(in), out, N(out), NULL);
    CHECK(out, n, { 0x0, 0x8000 }, { 0x10000, 0x1000 });
}

static void test_normalise_sorts(void **state)
{
    static const struct mem_entry in[] = {
        { 0x40000, 0x1000, U }, { 0x10000, 0x1000, U }, { 0x30000, 0x1000, U },
        { 0x20000, 0x1000, U },
    };
    struct mem_range out[8];
    (void)state;
    uint32_t n = normalise(in, N(in), out, N(out), NULL);
    CHECK(out, n, { 0x10000, 0x1000 }, { 0x20000, 0x1000 }, { 0x30000, 0x1000 },
          { 0x40000, 0x1000 });
}

static void test_normalise_merges_before_aligning(void **state)
{
    /* Two half pages make one whole page; alone each would vanish. */
    static const struct mem_entry in[] = { { 0x1800, 0x800, U }, { 0x1000, 0x800, U } };
    struct mem_range out[4];
    (void)state;
    uint32_t n = normalise(in, N(in), out, N(out), NULL);
    CHECK(out, n, { 0x1000, 0x1000 });
}

static void test_normalise_reserved_holes(void **state)
{
    /* Usable [0, 1M) minus [0x9fc00, 1M) -> [0, 0x9f000).
     * Usable [1M, 16M) minus 0x100 bytes at 0x200800 ->
     * [1M, 0x200800) -> [1M, 2M) and [0x200900, 16M) -> [0x201000, 16M). */
    static const struct mem_entry in[] = {
        { 0x0, 0x100000, U }, { 0x9fc00, 0x60400, R },
        { 0x100000, 0xf00000, U }, { 0x200800, 0x100, R },
    };
    struct mem_range out[8];
    uint32_t dropped = 0;
    (void)state;
    uint32_t n = normalise(in, N(in), out, N(out), &dropped);
    CHECK(out, n, { 0x0, 0x9f000 }, { 0x100000, 0x100000 }, { 0x201000, 0xdff000 });
    assert_int_equal(dropped, 0);
}

static void test_normalise_any_other_type_wins(void **state)
{
    /* Reserved listed before the usable entry it overlaps, and types that
     * are neither usable nor "reserved" (ACPI, 0, 7) exclude memory too. */
    static const struct mem_entry in[] = {
        { 0x0, 0x2000, R },        { 0x3000, 0x1000, 3 },  { 0x6000, 0x800, 0 },
        { 0x0, 0x10000, U },       { 0xf000, 0x2000, 7 },  { 0x8000, 0x1000, U },
    };
    struct mem_range out[8];
    (void)state;
    uint32_t n = normalise(in, N(in), out, N(out), NULL);
    /* usable [0, 0x10000) minus [0,2000) [3000,4000) [6000,6800) [f000,11000) */
    CHECK(out, n, { 0x2000, 0x1000 }, { 0x4000, 0x2000 }, { 0x7000, 0x8000 });
}

static void test_normalise_zero_sizes_ignored(void **state)
{
    static const struct mem_entry in[] = {
        { 0x10000, 0x10000, U }, { 0x18000, 0, R }, { 0x40000, 0, U },
    };
    struct mem_range out[4];
    (void)state;
    uint32_t n = normalise(in, N(in), out, N(out), NULL);
    CHECK(out, n, { 0x10000, 0x10000 });
}

static void test_normalise_capacity(void **state)
{
    static const struct mem_entry in[] = {
        { 0x10000, 0x1000, U }, { 0x20000, 0x1000, U }, { 0x30000, 0x1000, U },
        { 0x40000, 0x1000, U },
    };
    struct mem_range out[2];
    uint32_t dropped = 5;
    (void)state;
    uint32_t n = normalise(in, N(in), out, 2, &dropped);
    CHECK(out, n, { 0x10000, 0x1000 }, { 0x20000, 0x1000 });
    assert_int_equal(dropped, 7);          /* counted on top of what was there */
    n = normalise(in, N(in), out, 2, NULL);  /* dropped may be NULL */
    assert_int_equal(n, 2);
}

static void test_normalise_split_in_full_list(void **state)
{
    /* Two ranges fill the list; a reserved page inside the first would need
     * a third slot, so its upper piece [0x15000, 0x20000) is dropped. */
    static const struct mem_entry in[] = {
        { 0x10000, 0x10000, U }, { 0x40000, 0x10000, U }, { 0x14000, 0x1000, R },
    };
    struct mem_range out[2];
    uint32_t dropped = 0;
    (void)state;
    uint32_t n = normalise(in, N(in), out, 2, &dropped);
    CHECK(out, n, { 0x10000, 0x4000 }, { 0x40000, 0x10000 });
    assert_int_equal(dropped, 1);
}

static void test_normalise_top_of_address_space(void **state)
{
    /* The end clamps to UINT64_MAX instead of wrapping to a small number. */
    static const struct mem_entry in[] = {
        { 0xfffffffffffff000ULL - 0x2fff, 0x10000, U }, { 0x1000, 0x1000, U },
    };
    struct mem_range out[4];
    (void)state;
    uint32_t n = normalise(in, N(in), out, N(out), NULL);
    CHECK(out, n, { 0x1000, 0x1000 }, { 0xffffffffffffd000ULL, 0x2000 });
}

static void test_end_and_total(void **state)
{
    static const struct mem_range r[] = { { 0x1000, 0x3000 }, { 0x100000, 0x200000 } };
    (void)state;
    assert_int_equal(memmap_end(0x1000, 0x1000), 0x2000);
    assert_int_equal(memmap_end(0, 0), 0);
    assert_int_equal(memmap_end(UINT64_MAX - 1, 1), UINT64_MAX);
    assert_int_equal(memmap_end(UINT64_MAX - 1, 5), UINT64_MAX);
    assert_int_equal(memmap_end(2, UINT64_MAX), UINT64_MAX);
    assert_int_equal(memmap_total(r, 2), 0x203000);
    assert_int_equal(memmap_total(r, 1), 0x3000);
    assert_int_equal(memmap_total(r, 0), 0);
}

/* Three ranges [0x10000,0x20000) [0x30000,0x40000) [0x50000,0x60000). */
static uint32_t three(struct mem_range *r)
{
    r[0] = (struct mem_range){ 0x10000, 0x10000 };
    r[1] = (struct mem_range){ 0x30000, 0x10000 };
    r[2] = (struct mem_range){ 0x50000, 0x10000 };
    return 3;
}

static void test_reserve_outside_and_empty(void **state)
{
    struct mem_range r[8];
    uint32_t n = three(r), dropped = 0;
    (void)state;
    n = memmap_reserve(r, n, 8, 0x20000, 0x10000, &dropped);   /* the gap exactly */
    n = memmap_reserve(r, n, 8, 0x0, 0x10000, &dropped);       /* below, touching */
    n = memmap_reserve(r, n, 8, 0x60000, 0x1000, &dropped);    /* above, touching */
    n = memmap_reserve(r, n, 8, 0x34000, 0, &dropped);         /* nothing */
    CHECK(r, n, { 0x10000, 0x10000 }, { 0x30000, 0x10000 }, { 0x50000, 0x10000 });
    assert_int_equal(dropped, 0);
}

static void test_reserve_removes_and_cuts(void **state)
{
    struct mem_range r[8];
    uint32_t n = three(r);
    (void)state;
    /* [0x18000, 0x58000): cuts the top of the first, removes the second,
     * cuts the bottom of the third. */
    n = memmap_reserve(r, n, 8, 0x18000, 0x40000, NULL);
    CHECK(r, n, { 0x10000, 0x8000 }, { 0x58000, 0x8000 });
    n = memmap_reserve(r, n, 8, 0x10000, 0x8000, NULL);         /* exactly one range */
    CHECK(r, n, { 0x58000, 0x8000 });
}

static void test_reserve_splits(void **state)
{
    struct mem_range r[8];
    uint32_t n = three(r), dropped = 0;
    (void)state;
    n = memmap_reserve(r, n, 8, 0x34000, 0x1000, &dropped);
    CHECK(r, n, { 0x10000, 0x10000 }, { 0x30000, 0x4000 }, { 0x35000, 0xb000 },
          { 0x50000, 0x10000 });
    assert_int_equal(dropped, 0);
}

static void test_reserve_split_in_full_list(void **state)
{
    struct mem_range r[3];
    uint32_t n = three(r), dropped = 0;
    (void)state;
    n = memmap_reserve(r, n, 3, 0x34000, 0x1000, &dropped);
    CHECK(r, n, { 0x10000, 0x10000 }, { 0x30000, 0x4000 }, { 0x50000, 0x10000 });
    assert_int_equal(dropped, 1);
}

static void test_reserve_to_the_end(void **state)
{
    struct mem_range r[8];
    uint32_t n = three(r);
    (void)state;
    /* size UINT64_MAX: the end clamps, everything from 0x38000 up goes. */
    n = memmap_reserve(r, n, 8, 0x38000, UINT64_MAX, NULL);
    CHECK(r, n, { 0x10000, 0x10000 }, { 0x30000, 0x8000 });
}

static void test_take_lowest_that_fits(void **state)
{
    struct mem_range r[8] = { { 0x1000, 0x2000 }, { 0x10000, 0x10000 }, { 0x40000, 0x10000 } };
    uint32_t n = 3;
    uint64_t base = 0;
    (void)state;
    assert_int_equal(memmap_take(r, &n, 8, 0x3000, 0x1000, &base), 0);
    assert_int_equal(base, 0x10000);
    CHECK(r, n, { 0x1000, 0x2000 }, { 0x13000, 0xd000 }, { 0x40000, 0x10000 });
    assert_int_equal(memmap_take(r, &n, 8, 0x2000, 0x1000, &base), 0);
    assert_int_equal(base, 0x1000);                 /* exact fit: range removed */
    CHECK(r, n, { 0x13000, 0xd000 }, { 0x40000, 0x10000 });
}

static void test_take_aligned(void **state)
{
    struct mem_range r[8] = { { 0x1000, 0x7ff000 } };      /* [4K, 8M) */
    uint32_t n = 1;
    uint64_t base = 0;
    (void)state;
    assert_int_equal(memmap_take(r, &n, 8, 0x200000, 0x200000, &base), 0);
    assert_int_equal(base, 0x200000);
    CHECK(r, n, { 0x1000, 0x1ff000 }, { 0x400000, 0x400000 });
    assert_int_equal(memmap_take(r, &n, 8, 0x200000, 0x200000, &base), 0);
    assert_int_equal(base, 0x400000);
    CHECK(r, n, { 0x1000, 0x1ff000 }, { 0x600000, 0x200000 });
}

static void test_take_alignment_skips_range(void **state)
{
    /* [4K, 2M+4K) holds 2 MiB, but not 2 MiB aligned to 2 MiB. */
    struct mem_range r[8] = { { 0x1000, 0x200000 }, { 0x400000, 0x200000 } };
    uint32_t n = 2;
    uint64_t base = 0;
    (void)state;
    assert_int_equal(memmap_take(r, &n, 8, 0x200000, 0x200000, &base), 0);
    assert_int_equal(base, 0x400000);
    CHECK(r, n, { 0x1000, 0x200000 });
}

static void test_take_no_fit(void **state)
{
    struct mem_range r[8] = { { 0x1000, 0x200000 }, { 0x400000, 0x100000 } };
    uint32_t n = 2;
    uint64_t base = 0x1234;
    (void)state;
    assert_int_equal(memmap_take(r, &n, 8, 0x200000, 0x200000, &base), -1);
    assert_int_equal(memmap_take(r, &n, 8, 0x300000, 0x1000, &base), -1);
    assert_int_equal(base, 0x1234);
    CHECK(r, n, { 0x1000, 0x200000 }, { 0x400000, 0x100000 });
    n = 0;
    assert_int_equal(memmap_take(r, &n, 8, 0x1000, 0x1000, &base), -1);
}

static void test_take_full_list_never_hands_out_twice(void **state)
{
    /* A cut in the middle of the only slot loses the piece above it. */
    struct mem_range r[1] = { { 0x1000, 0x7ff000 } };
    uint32_t n = 1;
    uint64_t base = 0;
    (void)state;
    assert_int_equal(memmap_take(r, &n, 1, 0x200000, 0x200000, &base), 0);
    assert_int_equal(base, 0x200000);
    CHECK(r, n, { 0x1000, 0x1ff000 });
    assert_int_equal(memmap_take(r, &n, 1, 0x200000, 0x200000, &base), -1);
}

/* The highest end, never below the floor, clamped instead of wrapping. */
static void test_top(void **state)
{
    const struct mem_range r[3] = { { 0, 0x9f000 }, { 0x100000, 0x7ef0000 },
                                    { 0x100000000ULL, 0x40000000ULL } };
    const struct mem_range wrap[1] = { { ~0ULL - 0xfff, 0x2000 } };
    (void)state;
    assert_int_equal(memmap_top(r, 2, 4ULL << 30), 4ULL << 30);
    assert_int_equal(memmap_top(r, 3, 4ULL << 30), 0x140000000ULL);
    assert_int_equal(memmap_top(r, 0, 123), 123);
    assert_int_equal(memmap_top(wrap, 1, 0), ~0ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top),
        cmocka_unit_test(test_normalise_single),
        cmocka_unit_test(test_normalise_aligns_inward),
        cmocka_unit_test(test_normalise_merges_overlapping_and_adjacent),
        cmocka_unit_test(test_normalise_sorts),
        cmocka_unit_test(test_normalise_merges_before_aligning),
        cmocka_unit_test(test_normalise_reserved_holes),
        cmocka_unit_test(test_normalise_any_other_type_wins),
        cmocka_unit_test(test_normalise_zero_sizes_ignored),
        cmocka_unit_test(test_normalise_capacity),
        cmocka_unit_test(test_normalise_split_in_full_list),
        cmocka_unit_test(test_normalise_top_of_address_space),
        cmocka_unit_test(test_end_and_total),
        cmocka_unit_test(test_reserve_outside_and_empty),
        cmocka_unit_test(test_reserve_removes_and_cuts),
        cmocka_unit_test(test_reserve_splits),
        cmocka_unit_test(test_reserve_split_in_full_list),
        cmocka_unit_test(test_reserve_to_the_end),
        cmocka_unit_test(test_take_lowest_that_fits),
        cmocka_unit_test(test_take_aligned),
        cmocka_unit_test(test_take_alignment_skips_range),
        cmocka_unit_test(test_take_no_fit),
        cmocka_unit_test(test_take_full_list_never_hands_out_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
