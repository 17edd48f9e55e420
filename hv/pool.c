#include "pool.h"
#include "lib.h"
#include "param.h"

/* Pages grow up from the base, small structures down from the limit, so
 * that neither pads the other to alignment. */
static uint64_t pool_base, pool_limit, pool_next, pool_low;

void pool_init(uint64_t base, uint64_t size)
{
    pool_base = base;
    pool_next = base;
    pool_limit = base + size;
    pool_low = pool_limit;
}

uint64_t pool_alloc_pages(uint64_t count)
{
    uint64_t bytes = count * PAGE_SIZE, p = ALIGN_UP(pool_next, PAGE_SIZE);

    if (count == 0 || p > pool_low || count > (pool_low - p) / PAGE_SIZE)
        return 0;
    pool_next = p + bytes;
    memset((void *)(uintptr_t)p, 0, bytes);
    return p;
}

void *pool_alloc_bytes(uint64_t size, uint64_t align)
{
    uint64_t p;

    if (size > pool_low - pool_next)
        return NULL;
    p = ALIGN_DOWN(pool_low - size, align);
    if (p < pool_next)
        return NULL;
    pool_low = p;
    memset((void *)(uintptr_t)p, 0, size);
    return (void *)(uintptr_t)p;
}

uint64_t pool_used(void)
{
    return (pool_next - pool_base) + (pool_limit - pool_low);
}

uint64_t pool_size(void)
{
    return pool_limit - pool_base;
}
