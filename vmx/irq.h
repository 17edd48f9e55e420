/* Host interrupts and NMIs that arrive while a guest runs, and the
 * "selftest=irq" boot hook that makes some on purpose (docs/decisions.md,
 * "Host interrupts while guests run"). */
#ifndef VMX_IRQ_H
#define VMX_IRQ_H

#include <stdint.h>

/* An external interrupt the VM exit acknowledged (vector from the exit
 * interruption information): counted and ended at the local APIC. */
void irq_from_guest(uint32_t vector);

/* An NMI that caused a VM exit: re-raised on the host (INT 2), whose
 * handler is x86_host_nmi (x86/cpu.c). */
void irq_nmi_from_guest(void);

/* Reads the boot command line: "selftest=irq" turns the hook on. */
void virt_arch_selftest(const char *cmdline);

/* Called before every VM entry: with the hook on, sends this CPU a fixed
 * interrupt or an NMI before every IRQ_SELFTEST_EVERY-th entry, and says
 * on the console once all of them were handled. */
void irq_selftest_before_entry(void);

/* Whether the hook is on: checked inline before every entry, so that the
 * entry path pays a load and a branch, not a call. */
extern int irq_selftest_active;

#endif
