/* EPT over a partition: pure logic (no VT-x instructions), so it is unit
 * tested on the host against a host-side page allocator. */
#ifndef VMX_EPT_H
#define VMX_EPT_H

#include <stdint.h>
#include "../hv/pagetable.h"

#define EPT_READ        (1ULL << 0)
#define EPT_WRITE       (1ULL << 1)
#define EPT_EXECUTE     (1ULL << 2)
#define EPT_MEMTYPE_WB  (6ULL << 3)
#define EPT_LARGE       (1ULL << 7)
#define EPTP_WB         6ULL
#define EPTP_WALK_4     (3ULL << 3)

extern const struct pt_format ept_format;

/*
 * Builds EPT tables in c (whose alloc and table_ptr the caller set) that
 * map guest-physical [0, size) to host-physical [base, base + size) with
 * 2 MiB pages, and nothing else. base and size must be 2 MiB aligned.
 * Returns the EPT pointer (root, 4-level walk, write-back), or 0.
 */
uint64_t ept_build(struct pt_ctx *c, uint64_t base, uint64_t size);

#endif
