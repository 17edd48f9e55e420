#include "nested_root.h"
#include "../hv/pool.h"

struct nested_roots nested_roots[CPU_MAX];

int nested_roots_prepare(uint32_t cpu, const struct pt_format *f)
{
    struct nested_roots *r;

    if (cpu >= CPU_MAX)
        return -1;
    r = &nested_roots[cpu];
    r->table_bits = f->table;
    r->next = 0;
    for (uint32_t i = 0; i < NESTED_ROOT_SLOTS; i++) {
        uint64_t pml4 = pool_alloc_pages(2);    /* zeroed: nothing mapped */
        if (!pml4)
            return -1;
        /* Guest-physical addresses below 512 GiB are all a partition
         * has: PML4 entry 0 is the only one ever present. */
        *(uint64_t *)(uintptr_t)pml4 = (pml4 + PAGE_SIZE) | f->table;
        r->slot[i] = (struct nested_slot){ .root = pml4,
                                           .pdpt = (uint64_t *)(uintptr_t)(pml4 + PAGE_SIZE) };
    }
    return 0;
}

int nested_dirs_build(struct nested_dirs *d, const struct pt_format *f, uint64_t base,
                      uint64_t size)
{
    uint64_t leaves = size / PAGE_2M;
    uint64_t *pd;

    if (!size || (base | size) & (PAGE_2M - 1) || size > (512ULL << 30))
        return -1;
    d->count = (uint32_t)((leaves + 511) / 512);
    d->pd = pool_alloc_pages(d->count);
    d->slot = 0;
    if (!d->pd)
        return -1;
    pd = (uint64_t *)(uintptr_t)d->pd;          /* the directories are contiguous */
    for (uint64_t i = 0; i < leaves; i++)
        pd[i] = ((base + i * PAGE_2M) & PT_ADDR_MASK) | f->leaf_2m;
    return 0;
}

uint64_t nested_root_take(uint32_t cpu, const void *holder, struct nested_dirs *d,
                          int *repointed)
{
    struct nested_roots *r = &nested_roots[cpu];
    struct nested_slot *s = &r->slot[d->slot];
    uint32_t i;

    if (s->holder == holder) {
        *repointed = 0;
        return s->root;
    }
    d->slot = r->next;
    r->next = (r->next + 1) % NESTED_ROOT_SLOTS;
    s = &r->slot[d->slot];
    /* Entries beyond the old holder's count stay zero: not present. */
    for (i = 0; i < d->count; i++)
        s->pdpt[i] = (d->pd + i * PAGE_SIZE) | r->table_bits;
    for (; i < s->count; i++)
        s->pdpt[i] = 0;
    s->count = d->count;
    s->holder = holder;
    *repointed = 1;
    return s->root;
}
