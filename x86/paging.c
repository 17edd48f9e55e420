/* The hypervisor's own page tables: all RAM identity mapped with 2 MiB
 * pages, built in the pool so that nothing firmware left behind is used
 * once partitions are carved from the memory firmware had. */
#include "../hv/arch.h"
#include "../hv/pagetable.h"
#include "../hv/param.h"
#include "../hv/pool.h"
#include "paging.h"
#include "x86.h"


const struct pt_format paging_x86_format = {
    .table = PTE_P | PTE_RW,
    .leaf_2m = PTE_P | PTE_RW | PTE_PS,
    .leaf_4k = PTE_P | PTE_RW,
    .large = PTE_PS,
};

uint64_t paging_pool_page(void *arg)
{
    (void)arg;
    return pool_alloc_pages(1);
}

uint64_t *paging_identity_table(void *arg, uint64_t addr)
{
    (void)arg;
    return (uint64_t *)(uintptr_t)addr;
}

/* Device memory (a BAR above the identity map): uncached, 2 MiB pages. */
static const struct pt_format paging_x86_device_format = {
    .table = PTE_P | PTE_RW,
    .leaf_2m = PTE_P | PTE_RW | PTE_PS | PTE_PWT | PTE_PCD,
    .leaf_4k = PTE_P | PTE_RW | PTE_PWT | PTE_PCD,
    .large = PTE_PS,
};

static struct pt_ctx host_tables;
static uint64_t identity_top;

int paging_arch_init(uint64_t max_addr)
{
    struct pt_ctx c = { .fmt = &paging_x86_format, .alloc = paging_pool_page,
                         .table_ptr = paging_identity_table };

    identity_top = (max_addr + PAGE_2M - 1) & ~(PAGE_2M - 1);
    if (pt_init(&c) < 0 || pt_map(&c, 0, 0, identity_top, PAGE_2M) < 0)
        return -1;
    host_tables = c;
    write_cr3(c.root);
    return 0;
}

uint64_t paging_arch_identity_top(void)
{
    return identity_top;
}

/* Only above the identity map (below it everything is mapped already);
 * the TLB holds no entry for an address that was never mapped. */
int paging_arch_map_device(uint64_t base, uint64_t size)
{
    uint64_t lo = base & ~(PAGE_2M - 1), hi;

    if (!size || base + size < base || !host_tables.root)
        return -1;
    hi = (base + size + PAGE_2M - 1) & ~(PAGE_2M - 1);
    if (hi <= identity_top)
        return 0;
    if (lo < identity_top)
        lo = identity_top;
    host_tables.fmt = &paging_x86_device_format;
    for (uint64_t va = lo; va < hi; va += PAGE_2M) {
        /* A page an earlier call mapped (another structure in the same
         * BAR) is there already, at its own address. */
        if (pt_lookup(&host_tables, va) == va)
            continue;
        if (pt_map(&host_tables, va, va, PAGE_2M, PAGE_2M) < 0) {
            host_tables.fmt = &paging_x86_format;
            return -1;
        }
    }
    host_tables.fmt = &paging_x86_format;
    return 0;
}
