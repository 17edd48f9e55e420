/*
 * The one 4-level page-table builder (4 KiB and 2 MiB leaves). Host page
 * tables, guest page tables and EPT differ only in how an entry's
 * attributes are encoded, which the caller's pt_format gives.
 */
#ifndef HV_PAGETABLE_H
#define HV_PAGETABLE_H

#include <stdint.h>

#define PT_ADDR_MASK 0x000ffffffffff000ULL

struct pt_format {
    uint64_t table;         /* bits of an entry that points at a lower table */
    uint64_t leaf_2m;       /* bits of a 2 MiB leaf (including its size bit) */
    uint64_t leaf_4k;       /* bits of a 4 KiB leaf */
    uint64_t large;         /* the bit that marks a 2 MiB leaf in a directory */
};

struct pt_ctx {
    const struct pt_format *fmt;
    /* Returns the address (as the tables see it) of a zeroed page, or 0. */
    uint64_t (*alloc)(void *arg);
    /* Turns such an address into a pointer the builder can write. */
    uint64_t *(*table_ptr)(void *arg, uint64_t addr);
    void *arg;
    uint64_t root;          /* address of the top table, allocated by pt_init */
    uint64_t tables;        /* how many table pages the builder has taken */
};

/* Allocates the root table. Returns 0, or -1 when allocation fails. */
int pt_init(struct pt_ctx *c);

/*
 * Maps [va, va + size) to [pa, pa + size) with leaves of page_size
 * (4 KiB or 2 MiB); va, pa and size must be aligned to it. Returns 0, or
 * -1 on bad arguments, allocation failure or a conflicting mapping.
 */
int pt_map(struct pt_ctx *c, uint64_t va, uint64_t pa, uint64_t size, uint64_t page_size);

/* Looks va up; returns the physical address it maps to, or -1 (all ones). */
uint64_t pt_lookup(struct pt_ctx *c, uint64_t va);

#endif
