/*
 * The virtualisation backends behind hv/arch.h's virt_arch_* and
 * vcpu_arch_* functions: VT-x (vmx/) and AMD-V (svm/). One hypervisor
 * image carries both; x86/virt.c picks one at boot from CPUID and
 * forwards every call to it. A backend's vCPU is its own type; the core
 * sees only the opaque struct vcpu_arch.
 */
#ifndef X86_VIRT_H
#define X86_VIRT_H

#include <stddef.h>
#include <stdint.h>
#include "../hv/arch.h"

struct x86_cpu;

struct virt_backend {
    const char *name;               /* "VT-x", "AMD-V": for the log */
    int hypercall_vmmcall;          /* guests' hypercall instruction: 1 VMMCALL, 0 VMCALL */
    /* hv/arch.h's functions of the same names, without the prefix. */
    int (*probe)(char *buf, size_t size);
    int (*cpu_init)(char *buf, size_t size);
    /* On the boot CPU, for an AP before it starts: the pool memory it
     * needs (VMXON region, host save area). 0, or -1 when the pool is
     * out. Then on that AP: virtualisation on, as cpu_init did on the
     * boot CPU; HV_OK or a status with the reason in buf. */
    int (*cpu_prepare)(struct x86_cpu *c);
    int (*cpu_init_ap)(char *buf, size_t size);
    void (*selftest)(const char *cmdline);
    struct vcpu_arch *(*vcpu_create)(uint32_t index, uint64_t base, uint64_t size);
    int (*vcpu_reset)(struct vcpu_arch *v, uint8_t *mem, const struct vcpu_boot *b);
    void (*vcpu_run)(struct vcpu_arch *v, uint64_t deadline, vm_hypercall_fn on_hypercall,
                     void *ctx, struct vm_exit *exit);
    void (*vcpu_complete_io)(struct vcpu_arch *v, uint32_t value);
    void (*vcpu_set_result)(struct vcpu_arch *v, int64_t value);
    void (*vcpu_release)(struct vcpu_arch *v);
    uint64_t (*vcpu_footprint)(uint64_t partition_size);
};

/* The backend's cpu_prepare and cpu_init_ap, for x86/smp.c. */
int virt_cpu_prepare(struct x86_cpu *c);
int virt_cpu_init_ap(char *buf, size_t size);

extern const struct virt_backend vmx_backend;
extern const struct virt_backend svm_backend;

/* The backend this CPU gets: AMD-V on AMD (and Hygon) CPUs, VT-x on
 * Intel; on other vendors the one whose CPUID feature bit is set (VT-x
 * when neither is). Pure over the CPUID values, for unit tests. */
enum virt_kind { VIRT_VMX, VIRT_SVM };
enum virt_kind virt_pick(const char vendor[12], uint32_t leaf1_ecx, uint32_t ext1_ecx);

#endif
