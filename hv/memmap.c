#include "memmap.h"
#include "lib.h"

uint64_t memmap_end(uint64_t base, uint64_t size)
{
    return size > UINT64_MAX - base ? UINT64_MAX : base + size;
}

static void count_drop(uint32_t *dropped)
{
    if (dropped)
        (*dropped)++;
}

static void remove_at(struct mem_range *r, uint32_t *count, uint32_t i)
{
    memmove(&r[i], &r[i + 1], (*count - i - 1) * sizeof(*r));
    (*count)--;
}

/* Inserts [b, e) into a sorted, merged list, merging with neighbours. */
static void insert_merged(struct mem_range *r, uint32_t *count, uint32_t max,
                          uint64_t b, uint64_t e, uint32_t *dropped)
{
    uint32_t i = 0;

    while (i < *count && memmap_end(r[i].base, r[i].size) < b)
        i++;
    /* Absorb every range that touches or overlaps [b, e). */
    while (i < *count && r[i].base <= e) {
        uint64_t re = memmap_end(r[i].base, r[i].size);
        if (r[i].base < b)
            b = r[i].base;
        if (re > e)
            e = re;
        remove_at(r, count, i);
    }
    if (*count == max) {
        count_drop(dropped);
        return;
    }
    memmove(&r[i + 1], &r[i], (*count - i) * sizeof(*r));
    r[i].base = b;
    r[i].size = e - b;
    (*count)++;
}

uint32_t memmap_reserve(struct mem_range *r, uint32_t count, uint32_t max,
                        uint64_t base, uint64_t size, uint32_t *dropped)
{
    uint64_t b = base, e = memmap_end(base, size);
    uint32_t i = 0;

    while (i < count && size) {
        uint64_t rb = r[i].base, re = memmap_end(rb, r[i].size);
        if (re <= b || rb >= e) {
            i++;
            continue;
        }
        if (rb >= b && re <= e) {               /* wholly covered */
            remove_at(r, &count, i);
            continue;
        }
        if (rb < b && re > e) {                 /* split in two */
            r[i].size = b - rb;
            if (count == max) {
                count_drop(dropped);
                return count;
            }
            memmove(&r[i + 2], &r[i + 1], (count - i - 1) * sizeof(*r));
            r[i + 1].base = e;
            r[i + 1].size = re - e;
            count++;
            return count;
        }
        if (rb < b)                             /* cut the top */
            r[i].size = b - rb;
        else {                                  /* cut the bottom */
            r[i].base = e;
            r[i].size = re - e;
        }
        i++;
    }
    return count;
}

/* Shrinks every range inward to page boundaries and drops empty ones. */
static uint32_t align_pages(struct mem_range *r, uint32_t count)
{
    uint32_t i = 0;

    while (i < count) {
        uint64_t e = ALIGN_DOWN(memmap_end(r[i].base, r[i].size), PAGE_SIZE);
        uint64_t b = r[i].base > UINT64_MAX - (PAGE_SIZE - 1)
                         ? UINT64_MAX : ALIGN_UP(r[i].base, PAGE_SIZE);
        if (e <= b) {
            remove_at(r, &count, i);
            continue;
        }
        r[i].base = b;
        r[i].size = e - b;
        i++;
    }
    return count;
}

uint32_t memmap_normalise(const struct mem_entry *in, uint32_t n,
                          struct mem_range *out, uint32_t max, uint32_t *dropped)
{
    uint32_t count = 0, i;

    for (i = 0; i < n; i++)
        if (in[i].type == MEM_USABLE && in[i].size)
            insert_merged(out, &count, max, in[i].base,
                          memmap_end(in[i].base, in[i].size), dropped);
    for (i = 0; i < n; i++)
        if (in[i].type != MEM_USABLE && in[i].size)
            count = memmap_reserve(out, count, max, in[i].base, in[i].size, dropped);
    return align_pages(out, count);
}

uint64_t memmap_top(const struct mem_range *r, uint32_t count, uint64_t floor)
{
    uint64_t top = floor;

    for (uint32_t i = 0; i < count; i++)
        if (memmap_end(r[i].base, r[i].size) > top)
            top = memmap_end(r[i].base, r[i].size);
    return top;
}

uint64_t memmap_total(const struct mem_range *r, uint32_t count)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < count; i++)
        sum += r[i].size;
    return sum;
}

int memmap_take(struct mem_range *r, uint32_t *count, uint32_t max,
                uint64_t size, uint64_t align, uint64_t *base)
{
    for (uint32_t i = 0; i < *count; i++) {
        uint64_t end = memmap_end(r[i].base, r[i].size);
        uint64_t b;
        if (r[i].base > UINT64_MAX - (align - 1))
            continue;
        b = ALIGN_UP(r[i].base, align);
        if (b >= end || end - b < size)
            continue;
        *base = b;
        /* A cut inside a range of a full list loses the piece above:
         * that memory stays unused, it is never handed out twice. */
        *count = memmap_reserve(r, *count, max, b, size, NULL);
        return 0;
    }
    return -1;
}
