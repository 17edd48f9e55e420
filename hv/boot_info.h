/*
 * The contract between a boot entry (UEFI or Multiboot2) and the core.
 * An entry fills one struct boot_info and calls hv_main(); the core never
 * calls firmware. When hv_main() runs, the CPU is in 64-bit mode with all
 * RAM identity mapped, interrupts off, on a stack inside the hypervisor
 * image.
 */
#ifndef HV_BOOT_INFO_H
#define HV_BOOT_INFO_H

#include <stdint.h>
#include "param.h"

/* A range of physical memory, [base, base + size). */
struct mem_range {
    uint64_t base;
    uint64_t size;
};

/* A firmware memory-map entry before normalisation. */
enum mem_type { MEM_USABLE = 1, MEM_RESERVED = 2 };

struct mem_entry {
    uint64_t base;
    uint64_t size;
    uint32_t type;          /* enum mem_type */
};

/* A file the loader brought into memory (config text or a guest image). */
struct boot_file {
    char name[BOOT_NAME_MAX];
    uint64_t addr;
    uint64_t size;
};

struct boot_info {
    const char *entry_name;              /* "uefi" or "multiboot2" */
    uint32_t range_count;                /* usable RAM, sorted, merged, page aligned */
    struct mem_range ranges[BOOT_MAX_RANGES];
    uint64_t image_base;                 /* the hypervisor's own image */
    uint64_t image_end;
    uint32_t file_count;
    struct boot_file files[BOOT_MAX_FILES];
    uint64_t rsdp;                       /* ACPI RSDP physical address, 0 if none */
    uint8_t rsdp_copy[36];               /* where an entry only had a copy (Multiboot2) */
    char cmdline[BOOT_CMDLINE_MAX];
    uint32_t dropped;                    /* files or ranges that did not fit */
};

/* Called by both entries; never returns. */
void hv_main(const struct boot_info *info) __attribute__((noreturn));

/* Looks a loaded file up by name; NULL when there is none. */
const struct boot_file *boot_find_file(const struct boot_info *info, const char *name);

#endif
