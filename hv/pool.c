#include "pool.h"
#include "lib.h"
#include "param.h"

static uint64_t pool_base, pool_limit, pool_next;

void pool_init(uint64_t base, uint64_t size)
{
    pool_base = base;
    pool_next = base;
    pool_limit = base + size;
}

uint64_t pool_alloc_pages(uint64_t count)
{
    uint64_t bytes = count * PAGE_SIZE, p = pool_next;

    if (count == 0 || count > (pool_limit - pool_next) / PAGE_SIZE)
        return 0;
    pool_next += bytes;
    memset((void *)(uintptr_t)p, 0, bytes);
    return p;
}

uint64_t pool_used(void)
{
    return pool_next - pool_base;
}

uint64_t pool_size(void)
{
    return pool_limit - pool_base;
}
