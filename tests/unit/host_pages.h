/*
 * A host-side page allocator for page-table tests (test_pagetable,
 * test_ept): each table is a 4 KiB-aligned host page, the address the
 * tables hold is the host pointer's value, and `limit` bounds how many
 * pages may be handed out (to test allocation failures). Include after
 * <cmocka.h>.
 */
#ifndef TESTS_HOST_PAGES_H
#define TESTS_HOST_PAGES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HOST_PAGES_MAX 1024

struct host_pages {
    void *page[HOST_PAGES_MAX];
    unsigned count;
    unsigned limit;                 /* allocations allowed */
};

static uint64_t host_alloc(void *arg)
{
    struct host_pages *h = arg;
    void *p;

    if (h->count == h->limit || h->count == HOST_PAGES_MAX)
        return 0;
    p = aligned_alloc(4096, 4096);
    assert_non_null(p);
    memset(p, 0, 4096);
    h->page[h->count++] = p;
    return (uint64_t)(uintptr_t)p;
}

static uint64_t *host_table(void *arg, uint64_t addr)
{
    (void)arg;
    return (uint64_t *)(uintptr_t)addr;
}

/* Frees every page handed out. */
static void host_pages_free(struct host_pages *h)
{
    for (unsigned i = 0; i < h->count; i++)
        free(h->page[i]);
    h->count = 0;
}

#endif
