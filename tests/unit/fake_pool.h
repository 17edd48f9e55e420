/*
 * What the fake NICs of the driver tests and fuzz targets share
 * (fake_e1000.h, fake_virtio_net.h): fake_check, which aborts with the
 * fake's name (FAKE_NAME, defined before including this), and the
 * hypervisor pool replaced by exact-size host allocations, so that a
 * driver access outside its rings or buffers is an ASan report, with a
 * page budget to make attach run out of room. No cmocka here: the fuzz
 * targets include it too.
 */
#ifndef TESTS_FAKE_POOL_H
#define TESTS_FAKE_POOL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

#ifndef FAKE_NAME
#error "define FAKE_NAME (the fake device's name in its abort messages) before fake_pool.h"
#endif

#define FAKE_POOL_ALLOCS_MAX 16

struct fake_pool {
    int pages_left;                 /* pool_alloc_pages fails at 0; < 0: no limit */
    uint8_t fill;                   /* what a fresh allocation holds */
    void *allocs[FAKE_POOL_ALLOCS_MAX];
    unsigned count;
};

static struct fake_pool fake_pool;

/* Aborts with what when ok is false: the fake saw the driver break a rule. */
static void fake_check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fake " FAKE_NAME ": %s\n", what);
        abort();
    }
}

/* Frees every allocation; a fresh pool with no limit whose memory holds
 * fill (0 where the driver may count on zeroed pages, anything else to
 * show that it does not). */
static void fake_pool_reset(uint8_t fill)
{
    for (unsigned i = 0; i < fake_pool.count; i++)
        free(fake_pool.allocs[i]);
    memset(&fake_pool, 0, sizeof(fake_pool));
    fake_pool.pages_left = -1;
    fake_pool.fill = fill;
}

static void *fake_pool_alloc(uint64_t size, uint64_t align)
{
    void *p;

    fake_check(fake_pool.count < FAKE_POOL_ALLOCS_MAX, "too many pool allocations");
    p = aligned_alloc(align, (size + align - 1) / align * align);
    fake_check(p != NULL, "host out of memory");
    memset(p, fake_pool.fill, size);
    fake_pool.allocs[fake_pool.count++] = p;
    return p;
}

/* The pool, as the driver sees it. */
uint64_t pool_alloc_pages(uint64_t count)
{
    if (fake_pool.pages_left >= 0 && (uint64_t)fake_pool.pages_left < count)
        return 0;
    if (fake_pool.pages_left >= 0)
        fake_pool.pages_left -= (int)count;
    return (uint64_t)(uintptr_t)fake_pool_alloc(count * 4096, 4096);
}

void *pool_alloc_bytes(uint64_t size, uint64_t align)
{
    return fake_pool_alloc(size, align);
}

#endif
