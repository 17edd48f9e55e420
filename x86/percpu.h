/*
 * Per-CPU state of the x86 layer (issue 12). Each CPU's IA32_GS_BASE
 * points at its own struct x86_cpu, whose first word points at itself,
 * so that "this CPU" is one load from %gs:0. The hypervisor never loads
 * GS otherwise; VM exits give the host its GS base back (VT-x from the
 * VMCS host area, written by the CPU that runs the vCPU; AMD-V by VMLOAD
 * of this CPU's host VMCB).
 *
 * Everything here is written only by its own CPU, except kicked (set by
 * the CPU that sends a kick) and the fields the boot CPU fills before
 * the CPU starts.
 */
#ifndef X86_PERCPU_H
#define X86_PERCPU_H

#include <stdint.h>
#include "../hv/param.h"

struct vcpu_arch;

struct x86_cpu {
    struct x86_cpu *self;               /* %gs:0 */
    uint32_t index;                     /* 0: the boot CPU; APs 1.. in start order */
    uint32_t apic_id;
    volatile uint32_t kicked;           /* a kick was sent and not yet seen */
    /* VT-x: the VMXON region, the VMCS current on this CPU, and the
     * vCPU whose x87/SSE, CR2 and KERNEL_GS_BASE are in its registers. */
    uint64_t vmxon;
    struct vcpu_arch *vmcs_owner, *state_owner;
    /* AMD-V: the host save area, the host VMCB (VMSAVE/VMLOAD), the
     * VMCB this CPU ran last, and per ASID the vCPU that last used it
     * on this CPU (CPU_ASIDS_MAX + 1 entries, from the pool). */
    uint64_t hsave, host_vmcb;
    const void *last_vmcb;
    struct vcpu_arch **asid_user;
};

/* Every CPU up, by index; cpu_count of them. */
extern struct x86_cpu *x86_cpus[CPU_MAX];
extern uint32_t x86_cpu_count;

/* This CPU's state: valid from cpu_arch_init (boot CPU) or the AP's
 * first C code on. */
static inline struct x86_cpu *x86_cpu_self(void)
{
    struct x86_cpu *c;

    __asm__ volatile("movq %%gs:0, %0" : "=r"(c));
    return c;
}

/* Makes c this CPU's (IA32_GS_BASE) and lists it under c->index. */
void x86_cpu_install(struct x86_cpu *c);

/* Installs the boot CPU's (index 0); its APIC id is filled in later. */
void x86_cpu_install_boot(void);

/* Whether a kick reached this CPU since the last call (and clears it). */
int x86_cpu_take_kick(void);

#endif
