/* Picks the virtualisation backend at boot and forwards hv/arch.h's
 * virt_arch_* and vcpu_arch_* calls to it. */
#include "../hv/lib.h"
#include "cpu.h"
#include "virt.h"
#include "x86.h"

#define CPUID_1_ECX_VMX         (1u << 5)
#define CPUID_EXT1_ECX_SVM      (1u << 2)

enum virt_kind virt_pick(const char vendor[12], uint32_t leaf1_ecx, uint32_t ext1_ecx)
{
    if (!memcmp(vendor, "AuthenticAMD", 12) || !memcmp(vendor, "HygonGenuine", 12))
        return VIRT_SVM;
    if (!memcmp(vendor, "GenuineIntel", 12))
        return VIRT_VMX;
    if (!(leaf1_ecx & CPUID_1_ECX_VMX) && (ext1_ecx & CPUID_EXT1_ECX_SVM))
        return VIRT_SVM;
    return VIRT_VMX;
}

static const struct virt_backend *backend;

/* CPUID once: the pool is sized (vcpu_arch_footprint) before the probe. */
static const struct virt_backend *pick(void)
{
    struct cpuid_regs r0, r1, e0;
    uint32_t ext1_ecx;
    char vendor[12];

    if (backend)
        return backend;
    r0 = cpuid(0, 0);
    r1 = cpuid(1, 0);
    e0 = cpuid(0x80000000u, 0);
    ext1_ecx = e0.eax >= 0x80000001u ? cpuid(0x80000001u, 0).ecx : 0;
    memcpy(vendor, &r0.ebx, 4);
    memcpy(vendor + 4, &r0.edx, 4);
    memcpy(vendor + 8, &r0.ecx, 4);
    backend = virt_pick(vendor, r1.ecx, ext1_ecx) == VIRT_SVM ? &svm_backend : &vmx_backend;
    return backend;
}

int virt_arch_probe(char *buf, size_t size)
{
    return pick()->probe(buf, size);
}

int virt_arch_hypercall_vmmcall(void)
{
    return backend->hypercall_vmmcall;
}

int virt_arch_cpu_init(char *buf, size_t size)
{
    return backend->cpu_init(buf, size);
}

int virt_cpu_prepare(struct x86_cpu *c)
{
    return backend->cpu_prepare(c);
}

int virt_cpu_init_ap(char *buf, size_t size)
{
    return backend->cpu_init_ap(buf, size);
}

void vcpu_arch_release(struct vcpu_arch *v)
{
    backend->vcpu_release(v);
}

void virt_arch_selftest(const char *cmdline)
{
    backend->selftest(cmdline);
}

struct vcpu_arch *vcpu_arch_create(uint32_t index, uint64_t base, uint64_t size)
{
    return backend->vcpu_create(index, base, size);
}

int vcpu_arch_reset(struct vcpu_arch *v, uint8_t *mem, const struct vcpu_boot *b)
{
    return backend->vcpu_reset(v, mem, b);
}

void vcpu_arch_run(struct vcpu_arch *v, uint64_t deadline, vm_hypercall_fn on_hypercall,
                   void *ctx, struct vm_exit *exit)
{
    backend->vcpu_run(v, deadline, on_hypercall, ctx, exit);
}

void vcpu_arch_complete_io(struct vcpu_arch *v, uint32_t value)
{
    backend->vcpu_complete_io(v, value);
}

void vcpu_arch_set_result(struct vcpu_arch *v, int64_t value)
{
    backend->vcpu_set_result(v, value);
}

uint64_t vcpu_arch_footprint(uint64_t partition_size)
{
    return pick()->vcpu_footprint(partition_size);
}
