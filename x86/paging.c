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

int paging_arch_init(uint64_t max_addr)
{
    struct pt_ctx c = { .fmt = &paging_x86_format, .alloc = paging_pool_page,
                         .table_ptr = paging_identity_table };

    if (pt_init(&c) < 0 ||
        pt_map(&c, 0, 0, (max_addr + PAGE_2M - 1) & ~(PAGE_2M - 1), PAGE_2M) < 0)
        return -1;
    write_cr3(c.root);
    return 0;
}
