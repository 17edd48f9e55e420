/*
 * libFuzzer target for pci_mcfg_segment0() (hv/pci.c): the ACPI MCFG
 * table, firmware input. The input is the whole table, header included
 * (the checksum is the caller's). An accepted table must give what the
 * contract promises: an entry of PCI segment 0 that is in the table, its
 * base non-zero and 1 MiB aligned, its buses in order and its window
 * not wrapping. A refusal must be one NUL-terminated line starting
 * "ACPI MCFG: " with *out zeroed.
 * Seeds: tests/fuzz/corpus/mcfg/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pci.h"

#define ENTRIES_AT  44u
#define ENTRY_SIZE  16u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether the table has a segment-0 entry giving exactly e. */
static int in_table(const uint8_t *t, size_t len, const struct pci_ecam *e)
{
    for (size_t off = ENTRIES_AT; len >= off + ENTRY_SIZE; off += ENTRY_SIZE) {
        uint64_t base;
        uint16_t seg;
        memcpy(&base, t + off, 8);
        memcpy(&seg, t + off + 8, 2);
        if (seg == 0)
            return base == e->base && t[off + 10] == e->start_bus && t[off + 11] == e->end_bus;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pci_ecam e;
    char why[160];
    uint8_t *copy = malloc(size ? size : 1);    /* exact size: ASan sees overreads */

    if (!copy)
        return 0;
    memcpy(copy, data, size);
    memset(why, 0x5a, sizeof(why));
    memset(&e, 0xa5, sizeof(e));
    if (pci_mcfg_segment0(copy, size, &e, why, sizeof(why)) == 0) {
        if (e.base == 0 || (e.base & 0xfffff) != 0 || e.start_bus > e.end_bus ||
            e.base + ((uint64_t)e.end_bus + 1) * (1ull << 20) < e.base ||
            !in_table(copy, size, &e))
            abort();
    } else {
        if (e.base != 0 || e.start_bus != 0 || e.end_bus != 0)
            abort();
        if (!memchr(why, 0, sizeof(why)) || strncmp(why, "ACPI MCFG: ", 11) != 0 ||
            strchr(why, '\n'))
            abort();
    }
    free(copy);
    return 0;
}
