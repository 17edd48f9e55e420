/* Unit tests of hv/partition.c: carving classes out of usable RAM and the
 * per-class free lists (clean and dirty) and idle zeroing's slices. Expected bases are worked out by hand in comments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "partition.h"
#include "memmap.h"

#define M (1024ULL * 1024ULL)
#define N(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))

/* struct partition_table holds PARTITION_MAX entries: too big for a stack. */
static struct partition_table table;
static struct config cfg;
static struct carve_shortfall sf;
static struct mem_range ranges[BOOT_MAX_RANGES];
static uint32_t range_count;

static int setup(void **state)
{
    (void)state;
    memset(&table, 0x5a, sizeof(table));    /* carve must not rely on zeroed memory */
    memset(&cfg, 0, sizeof(cfg));
    memset(&sf, 0x5a, sizeof(sf));
    range_count = 0;
    return 0;
}

static void add_class(const char *name, uint64_t size, uint32_t count)
{
    struct config_class *c = &cfg.classes[cfg.class_count++];
    strcpy(c->name, name);
    c->size = size;
    c->count = count;
}

static void add_range(uint64_t base, uint64_t size)
{
    ranges[range_count++] = (struct mem_range){ base, size };
}

static int carve(void)
{
    return partition_carve(&table, &cfg, ranges, &range_count, BOOT_MAX_RANGES, &sf);
}

static uint64_t part_size(uint32_t i)
{
    return table.classes[table.parts[i].class_index].size;
}

static uint64_t base_of(uint32_t class_index, uint32_t k)
{
    return table.parts[table.classes[class_index].first + k].base;
}

static int overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
    return a < b + bs && b < a + as;
}

/*
 * What must hold after any successful carve: each class owns a contiguous
 * slice of the table, sorted by address; every base is 2 MiB aligned and
 * inside one of the usable ranges offered (given as `offered`); no two
 * partitions overlap; none overlaps what is left in the range list; the
 * list shrank by exactly what the partitions use.
 */
static void check_carved(const struct mem_range *offered, uint32_t offered_count)
{
    uint64_t used = 0, first = 0;

    assert_int_equal(table.class_count, cfg.class_count);
    for (uint32_t ci = 0; ci < table.class_count; ci++) {
        const struct partition_class *c = &table.classes[ci];
        assert_string_equal(c->name, cfg.classes[ci].name);
        assert_int_equal(c->size, cfg.classes[ci].size);
        assert_int_equal(c->count, cfg.classes[ci].count);
        assert_int_equal(c->first, first);
        assert_int_equal(c->free_count, c->count);
        first += c->count;
        for (uint32_t k = 0; k < c->count; k++) {
            const struct partition *p = &table.parts[c->first + k];
            assert_int_equal(p->class_index, ci);
            assert_int_equal(p->in_use, 0);
            if (k > 0)
                assert_true(p->base > table.parts[c->first + k - 1].base);
            assert_int_equal(p->base % (2 * M), 0);
            assert_true(p->base >= c->lowest && p->base + c->size <= c->highest_end);
        }
        if (c->count) {
            assert_int_equal(c->lowest, base_of(ci, 0));
            assert_int_equal(c->highest_end, base_of(ci, c->count - 1) + c->size);
        }
    }
    assert_int_equal(table.count, first);
    for (uint32_t i = 0; i < table.count; i++) {
        uint64_t b = table.parts[i].base, s = part_size(i);
        int inside = 0;
        used += s;
        for (uint32_t j = 0; j < offered_count; j++)
            inside |= b >= offered[j].base && b + s <= offered[j].base + offered[j].size;
        if (!inside)
            fail_msg("partition %u [%#llx, +%#llx) is outside usable RAM", i,
                     (unsigned long long)b, (unsigned long long)s);
        for (uint32_t j = i + 1; j < table.count; j++)
            if (overlaps(b, s, table.parts[j].base, part_size(j)))
                fail_msg("partitions %u and %u overlap", i, j);
        for (uint32_t j = 0; j < range_count; j++)
            if (overlaps(b, s, ranges[j].base, ranges[j].size))
                fail_msg("partition %u is still in the usable list", i);
    }
    assert_int_equal(memmap_total(ranges, range_count) + used,
                     memmap_total(offered, offered_count));
    assert_int_equal(sf.needed, used);
    assert_int_equal(sf.missing, 0);
    assert_int_equal(sf.missing_partitions, 0);
    assert_int_equal(sf.first_class, -1);
}

static void test_carve_fits(void **state)
{
    struct mem_range offered[1];
    (void)state;
    add_range(1 * M, 127 * M);
    memcpy(offered, ranges, sizeof(offered));
    add_class("small", 2 * M, 4);
    assert_int_equal(carve(), 0);
    check_carved(offered, 1);
    /* [1M, 128M): the first 2 MiB boundary is 2M. */
    assert_int_equal(base_of(0, 0), 2 * M);
    assert_int_equal(base_of(0, 1), 4 * M);
    assert_int_equal(base_of(0, 2), 6 * M);
    assert_int_equal(base_of(0, 3), 8 * M);
    assert_int_equal(range_count, 2);
    assert_int_equal(ranges[0].base, 1 * M);
    assert_int_equal(ranges[0].size, 1 * M);
    assert_int_equal(ranges[1].base, 10 * M);
    assert_int_equal(ranges[1].size, 118 * M);
    assert_int_equal(sf.needed, 8 * M);
    assert_int_equal(sf.available, 127 * M);
    assert_int_equal(table.classes[0].lowest, 2 * M);
    assert_int_equal(table.classes[0].highest_end, 10 * M);
}

static void test_carve_shortfall(void **state)
{
    (void)state;
    /* 10 MiB offered, 2x4M + 3x2M = 14 MiB needed. big goes first: 2M, 6M;
     * small gets 10M, then nothing: 2 partitions, 4 MiB missing. */
    add_range(2 * M, 10 * M);
    add_class("big", 4 * M, 2);
    add_class("small", 2 * M, 3);
    assert_int_equal(carve(), -1);
    assert_int_equal(sf.needed, 14 * M);
    assert_int_equal(sf.available, 10 * M);
    assert_int_equal(sf.missing, 4 * M);
    assert_int_equal(sf.missing_partitions, 2);
    assert_int_equal(sf.first_class, 1);
}

static void test_carve_shortfall_first_class_in_config_order(void **state)
{
    (void)state;
    /* [2M, 8M). Carving order: big (config index 1) at 2M, second big does
     * not fit; small (index 0) at 6M, second small does not fit. */
    add_range(2 * M, 6 * M);
    add_class("small", 2 * M, 2);
    add_class("big", 4 * M, 2);
    assert_int_equal(carve(), -1);
    assert_int_equal(sf.needed, 12 * M);
    assert_int_equal(sf.available, 6 * M);
    assert_int_equal(sf.missing, 6 * M);
    assert_int_equal(sf.missing_partitions, 2);
    assert_int_equal(sf.first_class, 0);
}

static void test_carve_empty_ranges(void **state)
{
    (void)state;
    add_class("only", 2 * M, 1);
    assert_int_equal(carve(), -1);
    assert_int_equal(sf.available, 0);
    assert_int_equal(sf.missing, 2 * M);
    assert_int_equal(sf.missing_partitions, 1);
    assert_int_equal(sf.first_class, 0);
}

static void test_carve_alignment_and_placement(void **state)
{
    struct mem_range offered[2];
    (void)state;
    /* A = [0x123000, 0x2468000), B = [0x5555000, 0x8555000).
     * 6M x3 first: 0x200000, 0x800000, 0xe00000 (A left: [0x1400000, ...)).
     * 4M x2: 0x1400000, 0x1800000. 2M x5: 0x1c00000, 0x1e00000, 0x2000000,
     * 0x2200000; 0x2400000 would end past A, so the fifth goes to B at
     * 0x5600000. */
    add_range(0x123000, 0x2345000);
    add_range(0x5555000, 0x3000000);
    memcpy(offered, ranges, sizeof(offered));
    add_class("s", 2 * M, 5);
    add_class("l", 6 * M, 3);
    add_class("m", 4 * M, 2);
    assert_int_equal(carve(), 0);
    check_carved(offered, 2);
    assert_int_equal(base_of(1, 0), 0x200000);
    assert_int_equal(base_of(1, 1), 0x800000);
    assert_int_equal(base_of(1, 2), 0xe00000);
    assert_int_equal(base_of(2, 0), 0x1400000);
    assert_int_equal(base_of(2, 1), 0x1800000);
    assert_int_equal(base_of(0, 0), 0x1c00000);
    assert_int_equal(base_of(0, 3), 0x2200000);
    assert_int_equal(base_of(0, 4), 0x5600000);
}

static void test_carve_largest_first(void **state)
{
    (void)state;
    /* A = [2M, 6M), B = [16M, 18M). In config order the small partition
     * would take 2M and leave no room for big; largest first fits both. */
    add_range(2 * M, 4 * M);
    add_range(16 * M, 2 * M);
    add_class("small", 2 * M, 1);
    add_class("big", 4 * M, 1);
    assert_int_equal(carve(), 0);
    assert_int_equal(base_of(1, 0), 2 * M);
    assert_int_equal(base_of(0, 0), 16 * M);
    assert_int_equal(range_count, 0);
}

static void test_carve_many_classes(void **state)
{
    struct mem_range offered[1];
    (void)state;
    /* 16 classes, sizes 2M..32M in a scrambled config order, 3 of each. */
    add_range(0, 1024 * M);
    memcpy(offered, ranges, sizeof(offered));
    for (uint32_t i = 0; i < CONFIG_MAX_CLASSES; i++) {
        char name[8] = "c00";
        name[1] = (char)('0' + i / 10);
        name[2] = (char)('0' + i % 10);
        add_class(name, 2 * M * ((i * 7) % 16 + 1), 3);
    }
    assert_int_equal(carve(), 0);
    check_carved(offered, 1);
    assert_int_equal(table.count, 48);
    /* One contiguous range, largest first: every partition of a larger
     * class lies below every partition of a smaller one, and the largest
     * (32M, config index 9 since 9 * 7 % 16 = 15) starts at 0. */
    for (uint32_t a = 0; a < table.class_count; a++)
        for (uint32_t b = 0; b < table.class_count; b++)
            if (table.classes[a].size > table.classes[b].size)
                assert_true(table.classes[a].highest_end <= table.classes[b].lowest);
    assert_int_equal(table.classes[9].size, 32 * M);
    assert_int_equal(base_of(9, 0), 0);
    assert_int_equal(base_of(9, 2), 64 * M);
    assert_int_equal(sf.needed, 3 * 2 * M * (16 * 17 / 2));
}

static void test_carve_avoids_reserved(void **state)
{
    static const struct mem_entry map[] = {
        { 0x0, 64 * M, MEM_USABLE },
        { 3 * M, 1 * M, MEM_RESERVED },
        { 20 * M + 0x1000, 0x1000, MEM_RESERVED },
        { 40 * M, 5 * M, 2 },
        { 0x9fc00, 0x60400, MEM_RESERVED },
    };
    struct mem_range offered[BOOT_MAX_RANGES];
    uint32_t offered_count;
    (void)state;
    range_count = memmap_normalise(map, N(map), ranges, BOOT_MAX_RANGES, NULL);
    offered_count = range_count;
    memcpy(offered, ranges, sizeof(offered));
    add_class("s", 2 * M, 10);
    add_class("m", 4 * M, 3);
    assert_int_equal(carve(), 0);
    check_carved(offered, offered_count);
    for (uint32_t i = 0; i < table.count; i++)
        for (uint32_t j = 1; j < N(map); j++)
            if (overlaps(table.parts[i].base, part_size(i), map[j].base, map[j].size))
                fail_msg("partition %u overlaps reserved entry %u", i, j);
    /* Usable: [0, 0x9f000) [1M, 3M) [4M, 20M+4K) [20M+8K, 40M) [45M, 64M).
     * m: 4M, 8M, 12M. s: 16M, 18M, then past the reserved page at 20M+4K
     * the next 2 MiB boundary is 22M: 22M, 24M, ... 36M. */
    assert_int_equal(base_of(1, 0), 4 * M);
    assert_int_equal(base_of(1, 1), 8 * M);
    assert_int_equal(base_of(1, 2), 12 * M);
    assert_int_equal(base_of(0, 0), 16 * M);
    assert_int_equal(base_of(0, 1), 18 * M);
    assert_int_equal(base_of(0, 2), 22 * M);
    assert_int_equal(base_of(0, 9), 36 * M);
}

/* Sizes whose total does not fit in 64 bits must not look like success. */
static void test_carve_huge_classes_fail(void **state)
{
    (void)state;
    add_range(0, 1024 * M);
    add_class("huge", 1ULL << 63, 2);
    assert_int_equal(carve(), -1);
    assert_int_equal(sf.missing_partitions, 2);
    assert_int_equal(sf.first_class, 0);
}

/* small 2M x2, mid 8M x1, big 32M x1, all in [0, 1G). */
static void carve_three(void)
{
    add_range(0, 1024 * M);
    add_class("small", 2 * M, 2);
    add_class("mid", 8 * M, 1);
    add_class("big", 32 * M, 1);
    assert_int_equal(carve(), 0);
}

static uint32_t class_of(uint32_t index)
{
    assert_int_not_equal(index, PARTITION_NONE);
    assert_true(index < table.count);
    return table.parts[index].class_index;
}

static void test_alloc_smallest_that_fits(void **state)
{
    uint32_t a;
    (void)state;
    carve_three();
    a = partition_alloc(&table, -1, 3 * M);
    assert_int_equal(class_of(a), 1);
    assert_int_equal(table.parts[a].in_use, 1);
    assert_int_equal(table.classes[1].free_count, 0);
    a = partition_alloc(&table, -1, 0);
    assert_int_equal(class_of(a), 0);
    assert_int_equal(table.parts[a].base, base_of(0, 0));   /* lowest first */
    a = partition_alloc(&table, -1, 2 * M);                 /* exact size fits */
    assert_int_equal(class_of(a), 0);
    assert_int_equal(table.parts[a].base, base_of(0, 1));
    /* small and mid are used up: the next smallest with one free is big. */
    a = partition_alloc(&table, -1, 1);
    assert_int_equal(class_of(a), 2);
    assert_int_equal(partition_alloc(&table, -1, 1), PARTITION_NONE);
}

static void test_alloc_too_large(void **state)
{
    (void)state;
    carve_three();
    assert_int_equal(partition_alloc(&table, -1, 32 * M + 1), PARTITION_NONE);
    assert_int_equal(partition_alloc(&table, -1, UINT64_MAX), PARTITION_NONE);
    assert_int_equal(table.classes[2].free_count, 1);
}

static void test_alloc_explicit_class(void **state)
{
    uint32_t a;
    (void)state;
    carve_three();
    a = partition_alloc(&table, 2, 0);
    assert_int_equal(class_of(a), 2);
    assert_int_equal(a, table.classes[2].first);
    /* big is used up; other classes have room but were not asked for. */
    assert_int_equal(partition_alloc(&table, 2, 0), PARTITION_NONE);
    assert_int_equal(partition_alloc(&table, 3, 0), PARTITION_NONE);
    assert_int_equal(partition_alloc(&table, CONFIG_MAX_CLASSES, 0), PARTITION_NONE);
    assert_int_equal(class_of(partition_alloc(&table, 0, 0)), 0);
}

static void test_alloc_exhaustion_and_order(void **state)
{
    uint32_t got[8];
    (void)state;
    add_range(0x100000, 64 * M);
    add_class("s", 2 * M, 5);
    assert_int_equal(carve(), 0);
    for (uint32_t k = 0; k < 5; k++) {
        got[k] = partition_alloc(&table, 0, 0);
        assert_int_equal(class_of(got[k]), 0);
        assert_int_equal(table.parts[got[k]].base, 2 * M * (k + 1));
        assert_int_equal(table.classes[0].free_count, 4 - k);
    }
    assert_int_equal(partition_alloc(&table, 0, 0), PARTITION_NONE);
    assert_int_equal(partition_alloc(&table, -1, 0), PARTITION_NONE);
    assert_int_equal(table.classes[0].free_count, 0);
}

static void test_free_and_reuse(void **state)
{
    uint32_t a, b;
    (void)state;
    carve_three();
    a = partition_alloc(&table, 0, 0);
    b = partition_alloc(&table, 0, 0);
    assert_int_not_equal(a, b);
    partition_free(&table, a);
    assert_int_equal(table.parts[a].in_use, 0);
    assert_int_equal(table.classes[0].free_count, 1);
    assert_int_equal(partition_alloc(&table, -1, 2 * M), a);
    partition_free(&table, b);
    partition_free(&table, a);
    assert_int_equal(table.classes[0].free_count, 2);
    assert_int_not_equal(partition_alloc(&table, 0, 0), PARTITION_NONE);
    assert_int_not_equal(partition_alloc(&table, 0, 0), PARTITION_NONE);
    assert_int_equal(partition_alloc(&table, 0, 0), PARTITION_NONE);
}

static void test_double_free_harmless(void **state)
{
    uint32_t a, b, c;
    (void)state;
    carve_three();
    a = partition_alloc(&table, 0, 0);
    b = partition_alloc(&table, 0, 0);
    partition_free(&table, a);
    partition_free(&table, a);
    assert_int_equal(table.classes[0].free_count, 1);
    c = partition_alloc(&table, 0, 0);
    assert_int_equal(c, a);
    /* Had a been linked twice, it would now be handed out a second time. */
    assert_int_equal(partition_alloc(&table, 0, 0), PARTITION_NONE);
    assert_int_equal(table.parts[b].in_use, 1);
}

static void test_free_bad_indices_harmless(void **state)
{
    (void)state;
    carve_three();
    partition_free(&table, PARTITION_NONE);
    partition_free(&table, table.count);
    partition_free(&table, table.classes[0].first);     /* never allocated */
    assert_int_equal(table.classes[0].free_count, 2);
    assert_int_equal(table.classes[1].free_count, 1);
    assert_int_equal(table.classes[2].free_count, 1);
    assert_int_not_equal(partition_alloc(&table, 0, 0), PARTITION_NONE);
    assert_int_not_equal(partition_alloc(&table, 0, 0), PARTITION_NONE);
    assert_int_equal(partition_alloc(&table, 0, 0), PARTITION_NONE);
}

/* Every partition is dirty after carving (firmware's bytes), and one
 * that a tenant gives back is dirty again: a launch must zero it. */
static void test_free_leaves_partition_dirty(void **state)
{
    uint32_t a;
    (void)state;
    carve_three();
    a = partition_alloc(&table, 0, 0);
    assert_int_equal(table.parts[a].dirty, 1);
    assert_int_equal(partition_dirty_from(&table, a), 0);
    partition_clean(&table, a);
    assert_int_equal(partition_dirty_from(&table, a), 2 * M);
    partition_free(&table, a);
    assert_int_equal(table.parts[a].dirty, 1);
    assert_int_equal(table.classes[0].dirty_count, 2);
    assert_int_equal(partition_alloc(&table, 0, 0), a);        /* the last freed first */
    assert_int_equal(partition_dirty_from(&table, a), 0);
    assert_true(partition_lists_agree(&table));
}

/* Idle zeroing in slices: the partition being zeroed is nobody's to
 * take, its progress counts when a launch takes it half-done, and it
 * comes back clean after its last slice, preferred over dirty ones. */
static void test_scrub_slices(void **state)
{
    uint64_t from, len;
    uint32_t a, b, s;
    (void)state;
    carve_three();
    a = partition_alloc(&table, 0, 0);
    b = partition_alloc(&table, 0, 0);
    partition_clean(&table, a);
    partition_clean(&table, b);
    partition_free(&table, a);
    s = partition_scrub_take(&table, M / 2, &from, &len);
    assert_int_equal(s, a);
    assert_int_equal(from, 0);
    assert_int_equal(len, M / 2);
    assert_int_equal(partition_scrubbing(&table), 1);
    assert_int_equal(table.classes[0].free_count, 1);          /* free, but not takeable */
    assert_int_equal(partition_alloc(&table, 0, 0), PARTITION_NONE);
    assert_true(partition_lists_agree(&table));
    partition_scrub_give(&table, a);
    assert_int_equal(partition_scrubbing(&table), 0);
    assert_int_equal(table.parts[a].dirty, 1);
    /* Taken half-zeroed: the launch zeroes only from where the slices stopped. */
    assert_int_equal(partition_alloc(&table, 0, 0), a);
    assert_int_equal(partition_dirty_from(&table, a), M / 2);
    partition_clean(&table, a);
    partition_free(&table, a);
    partition_free(&table, b);                                 /* b first on the dirty list */
    for (int k = 0; k < 3; k++) {
        s = partition_scrub_take(&table, 3 * M / 4, &from, &len);
        assert_int_equal(s, b);                                /* goes on with the same one */
        assert_int_equal(from, (uint64_t)k * 3 * M / 4);
        assert_int_equal(len, k < 2 ? 3 * M / 4 : M / 2);       /* the last slice is short */
        partition_scrub_give(&table, b);
    }
    assert_int_equal(table.parts[b].dirty, 0);
    assert_int_equal(table.classes[0].dirty_count, 1);
    assert_int_equal(table.classes[0].free_count, 2);
    assert_true(partition_lists_agree(&table));
    /* The clean one is handed out first, whole; then the dirty one. */
    assert_int_equal(partition_alloc(&table, 0, 0), b);
    assert_int_equal(partition_dirty_from(&table, b), 2 * M);
    assert_int_equal(partition_alloc(&table, 0, 0), a);
    assert_int_equal(partition_dirty_from(&table, a), 0);
    /* Class 0 has nothing free: the next class's dirty one is zeroed; a
     * second give, or one of no partition, changes nothing. */
    assert_int_equal(partition_scrub_take(&table, M, &from, &len), table.classes[1].first);
    partition_scrub_give(&table, table.classes[1].first);
    partition_scrub_give(&table, table.classes[1].first);
    partition_scrub_give(&table, PARTITION_NONE);
    assert_true(partition_lists_agree(&table));
}

/* A partition its last tenant's teardown zeroed goes back clean, first
 * in line; a second free changes nothing. */
static void test_free_zeroed(void **state)
{
    uint32_t a, b;
    (void)state;
    carve_three();
    a = partition_alloc(&table, 0, 0);
    b = partition_alloc(&table, 0, 0);
    partition_free(&table, b);
    partition_free_zeroed(&table, a);
    partition_free_zeroed(&table, a);
    assert_int_equal(table.parts[a].dirty, 0);
    assert_int_equal(table.classes[0].free_count, 2);
    assert_int_equal(table.classes[0].dirty_count, 1);
    assert_true(partition_lists_agree(&table));
    assert_int_equal(partition_alloc(&table, 0, 0), a);
    assert_int_equal(partition_dirty_from(&table, a), 2 * M);
    assert_int_equal(partition_alloc(&table, 0, 0), b);
    assert_int_equal(partition_dirty_from(&table, b), 0);
}

/* The check notices a partition on the wrong list. */
static void test_lists_disagree(void **state)
{
    uint32_t a;
    (void)state;
    carve_three();
    assert_true(partition_lists_agree(&table));
    a = table.classes[0].dirty_head;
    table.parts[a].dirty = 0;
    assert_false(partition_lists_agree(&table));
    table.parts[a].dirty = 1;
    table.classes[0].free_count++;
    assert_false(partition_lists_agree(&table));
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_carve_fits),
        T(test_carve_shortfall),
        T(test_carve_shortfall_first_class_in_config_order),
        T(test_carve_empty_ranges),
        T(test_carve_alignment_and_placement),
        T(test_carve_largest_first),
        T(test_carve_many_classes),
        T(test_carve_avoids_reserved),
        T(test_carve_huge_classes_fail),
        T(test_alloc_smallest_that_fits),
        T(test_alloc_too_large),
        T(test_alloc_explicit_class),
        T(test_alloc_exhaustion_and_order),
        T(test_free_and_reuse),
        T(test_double_free_harmless),
        T(test_free_bad_indices_harmless),
        T(test_free_leaves_partition_dirty),
        T(test_scrub_slices),
        T(test_free_zeroed),
        T(test_lists_disagree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
