/*
 * A host-side page allocator for page-table tests (test_pagetable,
 * test_ept, test_svm_npt): each table is a 4 KiB-aligned host page, the address the
 * tables hold is the host pointer's value, and `limit` bounds how many
 * pages may be handed out (to test allocation failures). Include after
 * <cmocka.h>.
 */
#ifndef TESTS_HOST_PAGES_H
#define TESTS_HOST_PAGES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../hv/pagetable.h"

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

/* A fresh builder context in format fmt (NULL: the builder's caller
 * sets it) over h, which may hand out pages until it has limit. */
static inline void host_pages_ctx(struct host_pages *h, struct pt_ctx *c,
                                  const struct pt_format *fmt, unsigned limit)
{
    h->limit = limit;
    memset(c, 0, sizeof(*c));
    c->fmt = fmt;
    c->alloc = host_alloc;
    c->table_ptr = host_table;
    c->arg = h;
}

/* The directory entry (level 2) for va, walked by hand from root; every
 * table entry above it must carry exactly table_bits. */
static inline uint64_t host_pde_of(uint64_t root, uint64_t va, uint64_t table_bits)
{
    uint64_t addr = root;

    for (int level = 4;; level--) {
        uint64_t e = ((uint64_t *)(uintptr_t)addr)[(va >> (12 + 9 * (level - 1))) & 511];
        if (level == 2)
            return e;
        assert_int_equal(e & ~PT_ADDR_MASK, table_bits);
        addr = e & PT_ADDR_MASK;
    }
}

#endif
