/*
 * Start-up after start.S, and what the boot info tells: command line,
 * the manifest copy, the TSC's frequency.
 */
#include "hvtlib.h"

#define NS_PER_SEC 1000000000ull

const struct hvt_boot_info *hvt_boot_info;

uint64_t hvt_entry_tsc;

void hvt_start(const struct hvt_boot_info *bi)
{
    hvt_boot_info = bi;
    hvt_cpu_init();
    hvt_halt(main(bi));
}

const char *hvt_cmdline(void)
{
    return hvt_boot_info->cmdline ? (const char *)(uintptr_t)hvt_boot_info->cmdline : "";
}

const struct hvt_mft_entry *hvt_device(const char *name, uint32_t type, uint64_t *handle)
{
    const struct hvt_mft *m = (const struct hvt_mft *)(uintptr_t)hvt_boot_info->mft;
    const struct hvt_mft_entry *e;

    if (m == NULL || m->version != HVT_MFT_VERSION || m->entries > HVT_MFT_ENTRIES_MAX)
        return NULL;
    e = (const struct hvt_mft_entry *)(m + 1);
    for (uint32_t i = 1; i < m->entries; i++) {
        if (e[i].type == type && strncmp(e[i].name, name, HVT_MFT_NAME_SIZE) == 0) {
            *handle = i;
            return &e[i];
        }
    }
    return NULL;
}

uint64_t hvt_tsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* Split into whole seconds and the rest so that nothing overflows 64 bits
 * (no 128-bit division in a freestanding build) for rates below 18 GHz. */
uint64_t hvt_tsc_to_ns(uint64_t ticks)
{
    uint64_t f = hvt_boot_info->cpu_cycle_freq;

    if (f == 0)
        return 0;
    return ticks / f * NS_PER_SEC + ticks % f * NS_PER_SEC / f;
}

uint64_t hvt_ns_to_tsc(uint64_t ns)
{
    uint64_t f = hvt_boot_info->cpu_cycle_freq;

    return ns / NS_PER_SEC * f + ns % NS_PER_SEC * f / NS_PER_SEC;
}
