/* Nested page tables over a partition: pure logic (no SVM instructions),
 * unit-tested on the host like vmx/ept.c. NPT entries are x86-64 page
 * table entries, and every nested walk is a user access, so each level
 * has the user bit besides present and writable. */
#ifndef SVM_NPT_H
#define SVM_NPT_H

#include <stdint.h>
#include "../hv/pagetable.h"

#define NPT_P   (1ULL << 0)
#define NPT_RW  (1ULL << 1)
#define NPT_US  (1ULL << 2)
#define NPT_PS  (1ULL << 7)         /* a 2 MiB leaf in a directory */

extern const struct pt_format npt_format;

/* Builds nested tables in c (whose alloc and table_ptr the caller set)
 * that map guest-physical [0, size) to host-physical [base, base + size)
 * with 2 MiB pages, and nothing else. base and size must be 2 MiB
 * aligned. Returns the root for N_CR3 (write-back: PWT and PCD clear),
 * or 0. */
uint64_t npt_build(struct pt_ctx *c, uint64_t base, uint64_t size);

#endif
