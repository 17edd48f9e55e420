/*
 * The upper levels of the nested page tables (EPT on VT-x, NPT on
 * AMD-V), shared per CPU. A partition's guest-physical [0, size) maps
 * with 2 MiB leaves that only its own directories hold (one per GiB);
 * the PML4 and PDPT above them differ between partitions only in the
 * PDPT entries that point at those directories. So a vCPU owns its
 * directories alone, and each CPU keeps NESTED_ROOT_SLOTS pairs of PML4
 * and PDPT (roots), each pointed at the directories of the vCPU that
 * took it last there (its holder). A vCPU that finds its slot held by
 * another takes the next one in turn, and the caller flushes what the
 * CPU cached under that root (the old holder's translations) before the
 * guest runs. Two pages per partition saved for 2 * NESTED_ROOT_SLOTS
 * per CPU (issue 15: memory per guest).
 */
#ifndef X86_NESTED_ROOT_H
#define X86_NESTED_ROOT_H

#include <stdint.h>
#include "../hv/pagetable.h"
#include "../hv/param.h"

/* Four: guests that take turns on one CPU (a ping-pong pair, a few
 * services) keep their roots; more flush on a switch. */
#define NESTED_ROOT_SLOTS   4
/* What nested_roots_prepare takes from the pool for one CPU: inside the
 * CPU_POOL_BYTES of an AP (stacks, tables and VMXON or host areas take
 * under 10 pages of it), in POOL_FIXED_BYTES for the boot CPU. */
#define NESTED_ROOT_BYTES   (2 * NESTED_ROOT_SLOTS * PAGE_SIZE)
_Static_assert(NESTED_ROOT_BYTES + 12 * PAGE_SIZE <= CPU_POOL_BYTES,
               "an AP's pool share must hold its nested roots");

/* A vCPU's own part: its directories, and the slot it took last. */
struct nested_dirs {
    uint64_t pd;            /* physical address of the first directory */
    uint32_t count;         /* directories, one per GiB of the partition */
    uint32_t slot;          /* index of the slot it took last (on any CPU) */
};

struct nested_slot {
    uint64_t root;          /* physical address of the PML4 */
    uint64_t *pdpt;         /* its PDPT, entries 0..count-1 in use */
    uint32_t count;
    const void *holder;     /* the vCPU whose directories it points at */
};

struct nested_roots {
    struct nested_slot slot[NESTED_ROOT_SLOTS];
    uint64_t table_bits;    /* the format's bits of an entry that points at a table */
    uint32_t next;          /* the slot handed out next when one must be taken */
};

/* Per CPU index, filled by nested_roots_prepare. */
extern struct nested_roots nested_roots[CPU_MAX];

/* Takes CPU cpu's roots from the pool (table entries in format f).
 * Returns 0, or -1 when the pool is out of pages. */
int nested_roots_prepare(uint32_t cpu, const struct pt_format *f);

/* Allocates and fills the directories that map guest-physical [0, size)
 * to [base, base + size) with 2 MiB leaves of format f. base and size
 * must be 2 MiB aligned, size at most 512 GiB. Returns 0 or -1. */
int nested_dirs_build(struct nested_dirs *d, const struct pt_format *f, uint64_t base,
                      uint64_t size);

/* Points a root of CPU cpu at holder's directories and returns it;
 * *repointed is 1 when the slot held another vCPU's (or none), so the
 * caller must flush what the CPU cached under the root before entry. */
uint64_t nested_root_take(uint32_t cpu, const void *holder, struct nested_dirs *d,
                          int *repointed);

/* Whether holder still holds the slot it took last on CPU cpu. */
static inline int nested_root_held(uint32_t cpu, const void *holder, const struct nested_dirs *d)
{
    return nested_roots[cpu].slot[d->slot].holder == holder;
}

#endif
