/* AMD-V discovery and per-CPU bring-up: CPUID and VM_CR (the decision is
 * svm/svm_required.c), then EFER.SVME, the host save area, the host
 * VMCB and the permission maps every vCPU shares. */
#include "../hv/arch.h"
#include "../hv/fmt.h"
#include "../hv/hv.h"
#include "../hv/lib.h"
#include "../hv/param.h"
#include "../hv/pool.h"
#include "../x86/cpuid.h"
#include "../x86/nested_root.h"
#include "../x86/percpu.h"
#include "../x86/x86.h"
#include "npt.h"
#include "svm.h"
#include "vcpu.h"

struct svm_caps svm_caps;
struct svm_setup svm_setup;

#define IOPM_PAGES      3           /* 64K ports, one bit each, and the wrap-around */
#define MSRPM_PAGES     2
/* The MSRPM's second 2 KiB cover MSRs 0xc0000000-0xc0001fff, two bits
 * (read, write) per MSR. */
#define MSRPM_C0000000  0x800

static void read_caps(struct svm_caps *c)
{
    uint32_t max_ext = cpuid(0x80000000u, 0).eax;

    memset(c, 0, sizeof(*c));
    c->svm = max_ext >= 0x80000001u && (cpuid(0x80000001u, 0).ecx & CPUID_EXT1_ECX_SVM);
    if (!c->svm)
        return;
    c->vm_cr = rdmsr(MSR_VM_CR);
    if (max_ext >= 0x8000000au) {
        struct cpuid_regs r = cpuid(0x8000000au, 0);
        c->revision = r.eax & 0xff;
        c->asids = r.ebx;
        c->features = r.edx;
    }
}

int svm_probe(char *buf, size_t size)
{
    read_caps(&svm_caps);
    return svm_check_required(&svm_caps, buf, size);
}

/* count pages, every bit set: everything intercepted. */
static uint64_t filled_pages(uint64_t count)
{
    uint64_t p = pool_alloc_pages(count);

    if (p)
        memset((void *)(uintptr_t)p, 0xff, count * PAGE_SIZE);
    return p;
}

/* Guests may read and write one MSR of 0xc0000000-0xc0001fff without an
 * exit: FS and GS base, which the guest's VMCB holds (VMLOAD/VMSAVE). */
static void allow_msr(uint8_t *msrpm, uint32_t msr)
{
    uint32_t bit = (msr - 0xc0000000u) * 2;

    msrpm[MSRPM_C0000000 + bit / 8] &= (uint8_t)~(3u << (bit % 8));
}

static uint32_t cpuid_features(void)
{
    uint32_t max_ext = cpuid(0x80000000u, 0).eax;

    /* RDTSCP is not intercepted: the guest sees it where the CPU has it. */
    return max_ext >= 0x80000001u && (cpuid(0x80000001u, 0).edx & CPUID_EXT1_EDX_RDTSCP)
               ? CPUID_GUEST_RDTSCP : 0;
}

/* The host save area, host VMCB, ASID table and nested roots of one CPU. */
int svm_cpu_prepare(struct x86_cpu *c)
{
    c->hsave = pool_alloc_pages(1);
    c->host_vmcb = pool_alloc_pages(1);
    c->asid_user = pool_alloc_bytes((svm_setup.guest_asids + 1) * sizeof(*c->asid_user), 8);
    return c->hsave && c->host_vmcb && c->asid_user &&
                   nested_roots_prepare(c->index, &npt_format) == 0
               ? 0
               : -1;
}

/* AMD-V on for this CPU, with the areas svm_cpu_prepare gave it. */
static void svm_on_here(void)
{
    /* OSFXSR: FXSAVE/FXRSTOR must carry the guests' SSE registers. */
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, x86_cpu_self()->hsave);
}

int svm_cpu_init_ap(char *buf, size_t size)
{
    (void)buf;
    (void)size;
    svm_on_here();
    return HV_OK;
}

int svm_cpu_init(char *buf, size_t size)
{
    struct svm_setup *s = &svm_setup;

    /* ASID 0 is the host's; a CPU with more than there can be vCPUs
     * gives each its own. */
    s->guest_asids = svm_caps.asids - 1 < PARTITION_MAX ? svm_caps.asids - 1 : PARTITION_MAX;
    s->iopm = filled_pages(IOPM_PAGES);
    s->msrpm = filled_pages(MSRPM_PAGES);
    if (svm_cpu_prepare(x86_cpu_self()) < 0 || !s->iopm || !s->msrpm)
        return fmt_error(buf, size, HV_NO_MEMORY, "no pool pages for the AMD-V host save "
                         "area, host VMCB and permission maps");
    allow_msr((uint8_t *)(uintptr_t)s->msrpm, MSR_IA32_FS_BASE);
    allow_msr((uint8_t *)(uintptr_t)s->msrpm, MSR_IA32_GS_BASE);
    s->cpuid_features = cpuid_features();
    svm_on_here();
    fmt_snprintf(buf, size, "AMD-V enabled on the boot CPU (EFER.SVME); %u guest ASIDs, "
                 "TLB flush %s, preemption by the local APIC timer (%s)",
                 (unsigned)s->guest_asids,
                 (svm_caps.features & SVM_FEATURE_FLUSH_ASID) ? "by ASID" : "of all ASIDs",
                 svm_alarm_init());
    return HV_OK;
}
