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
    uint64_t bytes = count * PAGE_SIZE, p = ALIGN_UP(pool_next, PAGE_SIZE);

    if (count == 0 || p > pool_limit || count > (pool_limit - p) / PAGE_SIZE)
        return 0;
    pool_next = p + bytes;
    memset((void *)(uintptr_t)p, 0, bytes);
    return p;
}

void *pool_alloc_bytes(uint64_t size, uint64_t align)
{
    uint64_t p = ALIGN_UP(pool_next, align);

    if (p > pool_limit || size > pool_limit - p)
        return NULL;
    pool_next = p + size;
    memset((void *)(uintptr_t)p, 0, size);
    return (void *)(uintptr_t)p;
}

uint64_t pool_used(void)
{
    return pool_next - pool_base;
}

uint64_t pool_size(void)
{
    return pool_limit - pool_base;
}
