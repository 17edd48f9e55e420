/* Physical memory maps: normalising a firmware map and taking ranges out. */
#ifndef HV_MEMMAP_H
#define HV_MEMMAP_H

#include <stdint.h>
#include "boot_info.h"

/*
 * Turns raw firmware entries into sorted, merged, non-overlapping usable
 * ranges aligned inward to 4 KiB: a byte is usable only when some entry
 * says usable and no entry says anything else. Writes at most max ranges
 * to out and returns how many; ranges that did not fit are counted in
 * *dropped (which may be NULL).
 */
uint32_t memmap_normalise(const struct mem_entry *in, uint32_t n,
                          struct mem_range *out, uint32_t max, uint32_t *dropped);

/*
 * Removes [base, base + size) from a normalised list of count ranges
 * (capacity max) and returns the new count. A split that would overflow
 * the list keeps the lower piece and counts the upper one in *dropped.
 */
uint32_t memmap_reserve(struct mem_range *r, uint32_t count, uint32_t max,
                        uint64_t base, uint64_t size, uint32_t *dropped);

/* Sum of the sizes of count ranges. */
uint64_t memmap_total(const struct mem_range *r, uint32_t count);

/* The exclusive end of [base, base + size), clamped instead of wrapping. */
uint64_t memmap_end(uint64_t base, uint64_t size);

/* The highest end of count ranges, at least floor: what the hypervisor's
 * identity map covers is memmap_top(ranges, n, 4 GiB). */
uint64_t memmap_top(const struct mem_range *r, uint32_t count, uint64_t floor);

/*
 * Takes size bytes aligned to align (a power of two) from the lowest range
 * that can hold them and removes them from the list. Returns 0 and the
 * base in *base, or -1 when no range is large enough.
 */
int memmap_take(struct mem_range *r, uint32_t *count, uint32_t max,
                uint64_t size, uint64_t align, uint64_t *base);

#endif
