/* Tables the hypervisor builds for itself in its pool (its own page
 * tables, every partition's EPT): pages from the pool, reached through
 * the identity map. The pt_ctx callbacks for hv/pagetable.c. */
#ifndef X86_PAGING_H
#define X86_PAGING_H

#include <stdint.h>
#include "../hv/pagetable.h"

/* Page-table entry bits (SDM Vol. 3 4.5). */
#define PTE_P   (1ULL << 0)         /* present */
#define PTE_RW  (1ULL << 1)         /* writable */
#define PTE_PWT (1ULL << 3)         /* write-through */
#define PTE_PCD (1ULL << 4)         /* cache disabled */
#define PTE_PS  (1ULL << 7)         /* a 2 MiB leaf in a directory */

/* x86-64 4-level paging, present and writable: the hypervisor's own
 * identity map and every guest's. */
extern const struct pt_format paging_x86_format;

uint64_t paging_pool_page(void *arg);
uint64_t *paging_identity_table(void *arg, uint64_t addr);

#endif
