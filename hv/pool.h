/* The hypervisor pool: one contiguous range reserved at boot, handed out
 * in zeroed pages and never returned. Everything the hypervisor needs per
 * partition is taken from it at boot, so starting a guest allocates nothing. */
#ifndef HV_POOL_H
#define HV_POOL_H

#include <stdint.h>

void pool_init(uint64_t base, uint64_t size);

/* Returns the physical (= virtual) address of count zeroed pages, or 0. */
uint64_t pool_alloc_pages(uint64_t count);

/* Returns size bytes aligned to align (a power of two, at most a page),
 * zeroed, or NULL. For structures smaller than a page; they are taken
 * from the top of the pool so that page allocations stay dense. */
void *pool_alloc_bytes(uint64_t size, uint64_t align);

uint64_t pool_used(void);
uint64_t pool_size(void);

#endif
