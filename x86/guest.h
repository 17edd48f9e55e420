/* A Mayfly guest's long-mode setup, shared by the backends. */
#ifndef X86_GUEST_H
#define X86_GUEST_H

#include <stdint.h>

/* Builds the guest's GDT (0x08: 64-bit code, 0x10: data) at MF_GDT_GPA
 * and identity page tables over [0, size) at MF_PAGE_TABLE_GPA inside
 * its memory (mem is guest-physical 0), page 0 left unmapped so that
 * null pointers fault. 0 with the root in *cr3, or -1 when the
 * partition is too large for the page-table area. */
int x86_guest_tables(uint8_t *mem, uint64_t size, uint64_t *cr3);

/* The same for a Solo5 hvt guest, in the hvt layout (include/mayfly/hvt.h):
 * GDT at HVT_GDT_GPA, tables from HVT_PAGE_TABLE_GPA, nothing mapped below
 * HVT_BOOT_INFO_GPA, [HVT_BOOT_INFO_GPA, HVT_IMAGE_BASE) read-only, the rest
 * of [0, size) read-write (size a multiple of 2 MiB, at most HVT_MEM_MAX).
 * 0 with the root in *cr3, or -1. */
int x86_hvt_tables(uint8_t *mem, uint64_t size, uint64_t *cr3);

#endif
