/*
 * Application processors (issue 12, first step): found in the ACPI MADT,
 * started with INIT and start-up IPIs into a real-mode trampoline copied
 * to SMP_TRAMPOLINE_BASE, brought to long mode on the hypervisor's page
 * tables with their own GDT, TSS, stacks and per-CPU state, with
 * virtualisation on; they sleep until smp_arch_release, then run guests.
 */
#ifndef X86_SMP_H
#define X86_SMP_H

/* The trampoline page (below 1 MiB, page aligned, not the BIOS's own AP
 * page 0x9f000) and, after it, the three pages of its own page tables
 * (PML4, PDPT, PD mapping [0, 2 MiB)): the hypervisor's tables may lie
 * above 4 GiB, out of reach of a 32-bit CR3 load. Low memory is never
 * handed out (LOW_MEMORY_LIMIT in hv/param.h), so nothing else uses them. */
#define SMP_TRAMPOLINE_BASE     0x8000
#define SMP_TRAMPOLINE_PAGES    4
#define SMP_TRAMPOLINE_VECTOR   (SMP_TRAMPOLINE_BASE >> 12)

/* Offsets in the trampoline's data block (struct smp_trampoline_data). */
#define SMP_TD_CR3      0
#define SMP_TD_STACK    8
#define SMP_TD_ENTRY    16
#define SMP_TD_ARG      24
#define SMP_TD_PML4     32
#define SMP_TD_SIZE     40

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Written by the boot CPU before each AP start. The AP takes arg with
 * an atomic exchange (leaving 0), so one fill starts at most one AP: a
 * late AP that finds 0 parks in the trampoline. */
struct smp_trampoline_data {
    uint64_t cr3;               /* the hypervisor's page tables */
    uint64_t stack;             /* top of the AP's stack */
    uint64_t entry;             /* void entry(struct smp_cpu *) */
    uint64_t arg;               /* the AP's struct smp_cpu */
    uint32_t pml4;              /* the trampoline's own tables, below 1 MiB */
    uint32_t reserved;
};

/* x86/timer.c: an AP's local APIC timer set as the boot CPU's is. */
void time_ap_init(uint32_t lvt_timer, uint32_t divide);

/* The trampoline (x86/trampoline.S) as assembled; copied, never run in
 * place. trampoline_data lies inside it. */
extern const char trampoline_start[], trampoline_end[], trampoline_data[];
#endif

#endif
