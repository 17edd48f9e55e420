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
    uint64_t sizes[FAKE_POOL_ALLOCS_MAX], aligns[FAKE_POOL_ALLOCS_MAX];
    unsigned count;
};

static struct fake_pool fake_pool;

#ifdef FAKE_POOL_KEEP
/* A fuzz target defines FAKE_POOL_KEEP before including this: a reset
 * keeps its blocks here, and the next allocation of the same size and
 * alignment takes one back (filled again, the same exact-size block, so
 * ASan's bounds are unchanged). Each execution then skips the host's
 * mmap, page clearing and munmap of the drivers' 2 KiB-per-descriptor
 * buffer areas, which were most of fuzz_e1000's and fuzz_virtio_net's
 * time. Unit tests free every block, so ASan's quarantine still sees a
 * driver that keeps a pointer past a reset. */
static struct fake_pool_spare {
    void *p;
    uint64_t size, align;
} fake_pool_spares[FAKE_POOL_ALLOCS_MAX];
static unsigned fake_pool_spare_count;
#endif

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
    for (unsigned i = 0; i < fake_pool.count; i++) {
#ifdef FAKE_POOL_KEEP
        if (fake_pool_spare_count < FAKE_POOL_ALLOCS_MAX) {
            fake_pool_spares[fake_pool_spare_count++] = (struct fake_pool_spare){
                fake_pool.allocs[i], fake_pool.sizes[i], fake_pool.aligns[i] };
            continue;
        }
#endif
        free(fake_pool.allocs[i]);
    }
    memset(&fake_pool, 0, sizeof(fake_pool));
    fake_pool.pages_left = -1;
    fake_pool.fill = fill;
}

static void *fake_pool_alloc(uint64_t size, uint64_t align)
{
    void *p = NULL;

    fake_check(fake_pool.count < FAKE_POOL_ALLOCS_MAX, "too many pool allocations");
#ifdef FAKE_POOL_KEEP
    for (unsigned i = 0; i < fake_pool_spare_count; i++) {
        if (fake_pool_spares[i].size == size && fake_pool_spares[i].align == align) {
            p = fake_pool_spares[i].p;
            fake_pool_spares[i] = fake_pool_spares[--fake_pool_spare_count];
            break;
        }
    }
#endif
    if (!p)
        p = aligned_alloc(align, (size + align - 1) / align * align);
    fake_check(p != NULL, "host out of memory");
    memset(p, fake_pool.fill, size);
    fake_pool.sizes[fake_pool.count] = size;
    fake_pool.aligns[fake_pool.count] = align;
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
