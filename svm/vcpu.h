/* The AMD-V vCPU: saved guest registers (offsets used by vmrun.S; RAX
 * and RSP live in the VMCB), the VMCB and nested page tables of its
 * partition, its ASID, and the x87/SSE state VMRUN does not switch. */
#ifndef SVM_VCPU_H
#define SVM_VCPU_H

#include "../x86/vcpu_regs.h"

/* The null-hypercall fast path in vmrun.S: the VMCB fields it reads and
 * writes, and what it compares with (checked in vcpu.c). */
#define FAST_VMCB_TLB_CONTROL   0x05c
#define FAST_VMCB_EXITCODE      0x070
#define FAST_VMCB_RIP           0x578
#define FAST_VMCB_RAX           0x5f8
#define FAST_EXIT_VMMCALL       0x081   /* SVM_EXIT_VMMCALL */
#define FAST_HC_NR              6       /* MF_HC_NULL */
#define FAST_VMMCALL_LENGTH     3

#ifndef __ASSEMBLER__
#include <stdint.h>
#include "../hv/arch.h"
#include "vmcb.h"
#include "../x86/nested_root.h"


struct vcpu_arch {
    struct vcpu_regs regs;          /* first: vmrun.S indexes from here */
    struct vmcb *vmcb;              /* its page; physical = virtual */
    struct nested_dirs npt;         /* its NPT directories; the root is the CPU's */
    uint64_t deadline;              /* of the run in progress (the INTR exit's) */
    uint64_t io_next_rip;           /* the last I/O exit: RIP past its instruction */
    uint32_t asid;
    uint8_t io_in, io_size;         /* and IN?, bytes */
    uint8_t new_tenant;             /* reset since the last VMRUN: flush, all dirty */
    uint8_t mayfly_abi;             /* its tenant is a Mayfly guest: the fast path may serve it */
    uint8_t fxsave[512] __attribute__((aligned(16)));
};

/* Enters the guest of guest_vmcb (physical) under CLGI with the host's
 * VMSAVE/VMLOAD state in host_vmcb, and returns at its #VMEXIT once the
 * host's interrupts were let in (STGI). With fast set, null hypercalls
 * are answered inside (vmrun.S); returns how many. */
uint64_t svm_enter(struct vcpu_regs *regs, uint64_t guest_vmcb, uint64_t host_vmcb,
                   uint64_t fast);

/* What every vCPU shares, set up once by svm_cpu_init. */
struct svm_setup {
    uint64_t iopm, msrpm;           /* permission maps: deny all but FS/GS base */
    uint32_t guest_asids;           /* ASIDs 1..guest_asids for guests */
    uint32_t cpuid_features;        /* CPUID_GUEST_* the policy may show */
};

extern struct svm_setup svm_setup;

/* hv/arch.h's virt_arch_* and vcpu_arch_* for AMD-V (x86/virt.h: svm_backend). */
int svm_probe(char *buf, size_t size);
int svm_cpu_init(char *buf, size_t size);
struct x86_cpu;
int svm_cpu_prepare(struct x86_cpu *c);
int svm_cpu_init_ap(char *buf, size_t size);
void svm_vcpu_release(struct vcpu_arch *v);
struct vcpu_arch *svm_vcpu_create(uint32_t index, uint64_t base, uint64_t size);
int svm_vcpu_reset(struct vcpu_arch *v, uint8_t *mem, const struct vcpu_boot *b);
void svm_vcpu_run(struct vcpu_arch *v, uint64_t deadline, vm_hypercall_fn on_hypercall,
                  void *ctx, struct vm_exit *exit);
void svm_vcpu_complete_io(struct vcpu_arch *v, uint32_t value);
void svm_vcpu_set_result(struct vcpu_arch *v, int64_t value);
uint64_t svm_vcpu_footprint(uint64_t partition_size);

/* Handles the #VMEXIT that just happened (svm/exit.c). Returns 0 to
 * enter the guest again, 1 when *exit holds something for the core. */
int svm_exit_dispatch(struct vcpu_arch *v, struct vm_exit *exit);

/* The preemption alarm (svm/alarm.c): the local APIC timer, in
 * TSC-deadline mode where the CPU has it, else one-shot count mode
 * calibrated against the TSC. Its interrupt makes the guest exit (INTR
 * intercept) and is then taken and acknowledged by the host's handler. */
const char *svm_alarm_init(void);       /* returns its mode, for the log */
void svm_alarm_arm(uint64_t deadline);
void svm_alarm_disarm(void);
#endif

#endif
