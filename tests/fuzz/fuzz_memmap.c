/*
 * libFuzzer target: memmap_normalise on entries from the input, then a few
 * memmap_reserve / memmap_take calls the input also drives. After every
 * step the list must be sorted, non-overlapping, page aligned, no longer
 * than max, and only hold memory that is usable by the inputs.
 *
 * The first byte picks a mode. In the small mode every address lies in
 * the first 2 MiB, in steps of 256 bytes, and a byte map of that space is
 * the reference: while nothing was dropped the list must equal the runs of
 * whole usable pages, and afterwards it may only be a subset of them. In
 * the wide mode addresses are full 64-bit values (overflow, clamping) and
 * the invariants are checked against the entries directly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 32
#define MAX_OPS     12
#define UNIT        0x100ULL
#define SPACE       (2 * 1024 * 1024ULL)
#define UNITS       (SPACE / UNIT)
#define PAGES       (SPACE / PAGE_SIZE)

struct input {
    const uint8_t *p;
    size_t left;
};

static uint64_t take_bytes(struct input *in, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v = v << 8 | (in->left ? *in->p : 0);
        if (in->left) {
            in->p++;
            in->left--;
        }
    }
    return v;
}

static void check(int ok)
{
    if (!ok)
        abort();
}

static uint64_t end_of(uint64_t base, uint64_t size)
{
    return size > UINT64_MAX - base ? UINT64_MAX : base + size;
}

static void check_shape(const struct mem_range *r, uint32_t n, uint32_t max)
{
    check(n <= max);
    for (uint32_t i = 0; i < n; i++) {
        check(r[i].size != 0);
        check(r[i].base % PAGE_SIZE == 0 && r[i].size % PAGE_SIZE == 0);
        check(r[i].size <= UINT64_MAX - r[i].base);
        if (i > 0)
            check(r[i].base > r[i - 1].base + r[i - 1].size);
    }
}

/* [b, e) is covered by usable entries and touches no other entry. */
static int usable_in_entries(const struct mem_entry *in, uint32_t n, uint64_t b, uint64_t e)
{
    for (uint32_t i = 0; i < n; i++)
        if (in[i].type != MEM_USABLE && in[i].size &&
            in[i].base < e && end_of(in[i].base, in[i].size) > b)
            return 0;
    while (b < e) {
        uint64_t reach = b;
        for (uint32_t i = 0; i < n; i++)
            if (in[i].type == MEM_USABLE && in[i].base <= b &&
                end_of(in[i].base, in[i].size) > reach)
                reach = end_of(in[i].base, in[i].size);
        if (reach == b)
            return 0;
        b = reach;
    }
    return 1;
}

/* Every range of r lies inside one range of old. */
static int subset_of(const struct mem_range *r, uint32_t n, const struct mem_range *old, uint32_t on)
{
    for (uint32_t i = 0; i < n; i++) {
        int inside = 0;
        for (uint32_t j = 0; j < on && !inside; j++)
            inside = r[i].base >= old[j].base &&
                     r[i].base + r[i].size <= old[j].base + old[j].size;
        if (!inside)
            return 0;
    }
    return 1;
}

static int overlaps_any(const struct mem_range *r, uint32_t n, uint64_t b, uint64_t e)
{
    for (uint32_t i = 0; i < n; i++)
        if (r[i].base < e && r[i].base + r[i].size > b)
            return 1;
    return 0;
}

/* The lowest range that can hold size bytes aligned to align, per the contract. */
static int expected_take(const struct mem_range *r, uint32_t n, uint64_t size, uint64_t align,
                         uint64_t *base)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t end = r[i].base + r[i].size, b;
        if (r[i].base > UINT64_MAX - (align - 1))
            continue;
        b = (r[i].base + align - 1) & ~(align - 1);
        if (b < end && end - b >= size) {
            *base = b;
            return 0;
        }
    }
    return -1;
}

/* The reference for the small mode: which pages are usable now. */
struct model {
    uint8_t page[PAGES];
};

/* The byte loops of the model are memset, memchr and memcmp over runs
 * (the same bytes compared): as instrumented loops over every 256-byte
 * unit and page they were most of this target's time. */
static void model_build(struct model *m, const struct mem_entry *in, uint32_t n)
{
    static uint8_t ok[UNITS];
    static const uint8_t all_ok[PAGE_SIZE / UNIT] = {
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };

    _Static_assert(PAGE_SIZE / UNIT == 16, "all_ok holds one page of units");
    /* A unit is usable when a usable entry covers it and no other entry
     * does: the usable entries first, then every other one over them. */
    memset(ok, 0, sizeof(ok));
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < n; i++)
            if ((in[i].type == MEM_USABLE) == !pass && in[i].size)
                memset(ok + in[i].base / UNIT, !pass,
                       (in[i].base + in[i].size) / UNIT - in[i].base / UNIT);
    for (uint64_t p = 0; p < PAGES; p++)
        m->page[p] = !memcmp(ok + p * (PAGE_SIZE / UNIT), all_ok, sizeof(all_ok));
}

static void model_clear(struct model *m, uint64_t b, uint64_t e)
{
    uint64_t first = b / PAGE_SIZE, end = e / PAGE_SIZE < PAGES ? e / PAGE_SIZE : PAGES;

    if (first < end)
        memset(m->page + first, 0, end - first);
}

/* lossless: r must be exactly the runs of usable pages; else a subset. */
static void model_compare(const struct model *m, const struct mem_range *r, uint32_t n, int lossless)
{
    uint8_t in_list[PAGES] = { 0 };

    for (uint32_t i = 0; i < n; i++) {
        uint64_t first = r[i].base / PAGE_SIZE, end = (r[i].base + r[i].size) / PAGE_SIZE;

        check(r[i].base + r[i].size <= SPACE);
        if (first >= end)
            continue;
        check(!memchr(m->page + first, 0, end - first));
        memset(in_list + first, 1, end - first);
    }
    if (lossless)
        check(!memcmp(in_list, m->page, PAGES));
}

static void read_entries(struct input *in, int small, struct mem_entry *e, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint8_t t = (uint8_t)take_bytes(in, 1);
        if (small) {
            e[i].base = take_bytes(in, 2) % (UNITS / 2) * UNIT;
            e[i].size = take_bytes(in, 2) % (UNITS / 2) * UNIT;
        } else {
            e[i].base = take_bytes(in, 8);
            e[i].size = take_bytes(in, 8);
        }
        e[i].type = (t & 3) ? MEM_USABLE : t >> 2;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    struct mem_entry entries[MAX_ENTRIES];
    struct mem_range *r, before[64];
    struct model model;
    uint32_t mode, max, n, count, dropped = 0, ops;
    int small, lossless;

    mode = (uint32_t)take_bytes(&in, 1);
    small = mode & 1;
    max = (uint32_t)take_bytes(&in, 1) % 16 + 1;
    n = (uint32_t)take_bytes(&in, 1) % (MAX_ENTRIES + 1);
    read_entries(&in, small, entries, n);

    /* Exactly max slots, so ASan catches a write past them. */
    r = malloc(max * sizeof(*r));
    if (!r)
        return 0;
    count = memmap_normalise(entries, n, r, max, &dropped);
    check_shape(r, count, max);
    for (uint32_t i = 0; i < count; i++)
        check(usable_in_entries(entries, n, r[i].base, r[i].base + r[i].size));
    if (small) {
        model_build(&model, entries, n);
        model_compare(&model, r, count, dropped == 0);
    }
    lossless = dropped == 0;

    ops = (uint32_t)take_bytes(&in, 1) % (MAX_OPS + 1);
    for (uint32_t k = 0; k < ops; k++) {
        uint8_t op = (uint8_t)take_bytes(&in, 1);
        uint32_t old_count = count;
        memcpy(before, r, count * sizeof(*r));
        if (op & 1) {
            uint64_t b, s, e;
            uint32_t d = 0;
            if (small) {
                b = take_bytes(&in, 2) % PAGES * PAGE_SIZE;
                s = take_bytes(&in, 1) % 64 * PAGE_SIZE;
            } else {
                b = take_bytes(&in, 8) & ~(PAGE_SIZE - 1);
                s = take_bytes(&in, 8) & ~(PAGE_SIZE - 1);
            }
            e = end_of(b, s);
            count = memmap_reserve(r, count, max, b, s, &d);
            check_shape(r, count, max);
            check(subset_of(r, count, before, old_count));
            if (s)
                check(!overlaps_any(r, count, b, e));
            check(memmap_total(r, count) <= memmap_total(before, old_count));
            if (!d) {
                /* Only [b, e) went: the total fell by its overlap. */
                uint64_t gone = 0;
                for (uint32_t i = 0; i < old_count; i++) {
                    uint64_t lo = before[i].base > b ? before[i].base : b;
                    uint64_t hi = before[i].base + before[i].size < e ? before[i].base + before[i].size : e;
                    gone += hi > lo ? hi - lo : 0;
                }
                check(memmap_total(r, count) == memmap_total(before, old_count) - gone);
            }
            lossless &= d == 0;
            if (small)
                model_clear(&model, b, e);
        } else {
            uint64_t s, align, base = 0, want;
            int rc, want_rc;
            if (small) {
                s = (take_bytes(&in, 1) % 32 + 1) * PAGE_SIZE;
                align = PAGE_SIZE << (op >> 1) % 6;
            } else {
                s = (take_bytes(&in, 2) + 1) * PAGE_SIZE << take_bytes(&in, 1) % 32;
                align = PAGE_SIZE << (op >> 1) % 40;
            }
            want_rc = expected_take(r, count, s, align, &want);
            rc = memmap_take(r, &count, max, s, align, &base);
            check(rc == want_rc);
            check_shape(r, count, max);
            if (rc == 0) {
                check(base == want && base % align == 0);
                check(subset_of(&(struct mem_range){ base, s }, 1, before, old_count));
                check(!overlaps_any(r, count, base, base + s));
                check(subset_of(r, count, before, old_count));
                check(memmap_total(r, count) <= memmap_total(before, old_count) - s);
                if (old_count == max)
                    lossless = 0;       /* a split may have lost the upper piece */
                else
                    check(memmap_total(r, count) == memmap_total(before, old_count) - s);
                if (small)
                    model_clear(&model, base, base + s);
            } else {
                check(count == old_count && !memcmp(r, before, count * sizeof(*r)));
            }
        }
        if (small)
            model_compare(&model, r, count, lossless);
    }
    free(r);
    return 0;
}
