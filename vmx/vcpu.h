/* The VT-x vCPU: saved guest registers (offsets used by vmentry.S), the
 * VMCS and EPT of its partition, and the guest-visible state the VMCS
 * does not switch (x87/SSE, CR2, KERNEL_GS_BASE). */
#ifndef VMX_VCPU_H
#define VMX_VCPU_H

#include "../x86/vcpu_regs.h"

/* How long the preemption timer may go without being armed again while
 * hypercalls are served in place (vcpu_arch_run). */
#define VCPU_REARM_SLACK_US 50

/* The null-hypercall fast path in vmentry.S (docs/architecture.md):
 * struct vcpu_arch's fields right after the registers, and what it
 * compares with (checked against vmcs.h and the ABI in vcpu.c). */
#define VCPU_FAST_UNTIL     120
#define VCPU_FAST_CALLS     128
#define FAST_HC_NR          6           /* MF_HC_NULL */
#define FAST_EXIT_VMCALL    18          /* EXIT_REASON_VMCALL */
#define FAST_VMCS_EXIT_REASON   0x4402
#define FAST_VMCS_INSN_LENGTH   0x440c
#define FAST_VMCS_GUEST_RIP     0x681e

#ifndef __ASSEMBLER__
#include <stdint.h>
#include "../hv/arch.h"
#include "../x86/nested_root.h"


struct vcpu_arch {
    struct vcpu_regs regs;          /* first: vmentry.S indexes from here */
    /* The fast path answers a Mayfly guest's null hypercall at the exit
     * while the TSC is below fast_until (0: never) and counts it. */
    uint64_t fast_until;
    uint64_t fast_calls;
    uint64_t vmcs;                  /* physical address of the VMCS region */
    struct nested_dirs ept;         /* its EPT directories; the root is the CPU's */
    uint64_t eptp;                  /* the EPT pointer in its VMCS now (0: none yet) */
    uint16_t vpid;                  /* 0 when VPIDs are not in use */
    uint8_t launched;
    uint8_t fresh;                  /* reset: the guest state is written at the next run */
    uint8_t io_in, io_size;         /* the last I/O exit: IN?, bytes */
    uint32_t host_cpu;              /* 1 + the CPU whose host state the VMCS holds; 0 none */
    const void *ready_on;           /* the CPU (struct x86_cpu) it last entered on since reset */
    uint64_t boot_cr3;              /* fresh: the first CR3 ... */
    struct vcpu_boot boot;          /* ... and the rest of the first state */
    uint64_t io_next_rip;           /* and the RIP past its instruction */
    /* Loaded into the CPU only while this vCPU owns it (vcpu.c,
     * switch_cpu_state); zeroed for every new tenant. */
    uint64_t cr2;
    uint64_t kernel_gs_base;
    uint8_t fxsave[512] __attribute__((aligned(16)));
};

/* Enters the guest (VMLAUNCH when launched is 0, else VMRESUME) and
 * returns 0 at the next VM exit, or 1 when the entry itself failed. */
int vmx_enter(struct vcpu_regs *regs, int launched);

/* hv/arch.h's vcpu_arch_* for VT-x (x86/virt.h: vmx_backend). */
struct vcpu_arch *vmx_vcpu_create(uint32_t index, uint64_t base, uint64_t size);
int vmx_vcpu_reset(struct vcpu_arch *v, uint8_t *mem, const struct vcpu_boot *b);
void vmx_vcpu_run(struct vcpu_arch *v, uint64_t deadline, vm_hypercall_fn on_hypercall,
                  void *ctx, struct vm_exit *exit);
void vmx_vcpu_complete_io(struct vcpu_arch *v, uint32_t value);
void vmx_vcpu_set_result(struct vcpu_arch *v, int64_t value);
void vmx_vcpu_release(struct vcpu_arch *v);
uint64_t vmx_vcpu_footprint(uint64_t partition_size);

/* hv/arch.h's virt_arch_* for VT-x. */
int vmx_probe(char *buf, size_t size);
int vmx_cpu_init(char *buf, size_t size);
struct x86_cpu;
int vmx_cpu_prepare(struct x86_cpu *c);
int vmx_cpu_init_ap(char *buf, size_t size);
void vmx_selftest(const char *cmdline);

/* Controls and shared bitmaps, set up once by virt_arch_cpu_init. */
struct vmx_setup {
    uint32_t pin, proc, proc2, exit, entry;
    uint64_t msr_bitmap, io_bitmap_a, io_bitmap_b;
    uint32_t preemption_shift;      /* timer ticks = TSC >> shift */
    uint64_t rearm_slack;           /* VCPU_REARM_SLACK_US in TSC ticks */
    int use_vpid;
    int invvpid_single;
    int invept_single;              /* else INVEPT all-context */
};

extern struct vmx_setup vmx_setup;

void vmx_setup_controls(void);
#endif

#endif
