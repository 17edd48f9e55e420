/*
 * The CPUID a guest sees: an allow-list per leaf and register. A bit is
 * shown only when the guest can use the feature as it runs here (CR4 is
 * the hypervisor's, XSAVE is off, MSRs other than FS/GS base are denied,
 * the guest has no APIC and takes no interrupts); a leaf not listed reads
 * as zeroes. Pure logic: compiled on the host by tests/unit/test_cpuid.c.
 * The policy in words is in docs/decisions.md ("CPUID").
 */
#include <stddef.h>

#include "cpuid.h"

#define ALL     0xffffffffu
#define BIT(n)  (1u << (n))

struct cpuid_allow {
    uint32_t leaf;
    uint32_t eax, ebx, ecx, edx;    /* the host bits that pass */
};

static const struct cpuid_allow allow[] = {
    { 0x0, ALL, ALL, ALL, ALL },                    /* max leaf, vendor */
    /* Family/model and CLFLUSH size/APIC ID pass. ECX: SSE3, PCLMULQDQ,
     * SSSE3, CX16, SSE4.1, SSE4.2, MOVBE, POPCNT, AES, RDRAND. EDX: FPU,
     * PSE, TSC, MSR, PAE, CX8, CMOV, PSE-36, CLFSH, MMX, FXSR, SSE, SSE2,
     * SS. Not MONITOR, VMX, PCID, x2APIC, TSC-deadline, XSAVE, OSXSAVE,
     * AVX, FMA, F16C, APIC, SEP, MTRR, PGE, MCE/MCA, PAT, DE, ACPI, TM... */
    { 0x1, ALL, ALL,
      CPUID_1_ECX_SSE3 | CPUID_1_ECX_PCLMULQDQ | CPUID_1_ECX_SSSE3 | CPUID_1_ECX_CX16 |
          CPUID_1_ECX_SSE41 | CPUID_1_ECX_SSE42 | CPUID_1_ECX_MOVBE | CPUID_1_ECX_POPCNT |
          CPUID_1_ECX_AES | CPUID_1_ECX_RDRAND,
      BIT(0) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(8) | BIT(15) | BIT(17) | BIT(19) |
          BIT(23) | BIT(24) | BIT(25) | BIT(26) | BIT(27) },
    { 0x2, ALL, ALL, ALL, ALL },                    /* caches and TLBs */
    { 0x4, ALL, ALL, ALL, ALL },                    /* cache parameters */
    /* Subleaf 0 only, max subleaf 0. EBX: BMI1, FDP_EXCPTN_ONLY, BMI2,
     * ERMS, FPU CS/DS deprecated, RDSEED, ADX, CLFLUSHOPT, CLWB, SHA.
     * EDX: FSRM, MD_CLEAR, SERIALIZE. Not FSGSBASE, SMEP, SMAP, INVPCID,
     * AVX2, AVX-512, PKU, UMIP, WAITPKG, LA57, CET, RTM, PT, SGX, or the
     * speculation-control MSRs. */
    { 0x7, 0, BIT(3) | BIT(6) | BIT(8) | BIT(9) | BIT(13) | BIT(18) | BIT(19) | BIT(23) |
          BIT(24) | BIT(29), 0, BIT(4) | BIT(10) | BIT(14) },
    { 0xb, ALL, ALL, ALL, ALL },                    /* topology */
    { 0x15, ALL, ALL, ALL, ALL },                   /* TSC/crystal ratio */
    { 0x16, ALL, ALL, ALL, ALL },                   /* nominal frequencies */
    { 0x18, ALL, ALL, ALL, ALL },                   /* TLB parameters */
    { 0x1f, ALL, ALL, ALL, ALL },                   /* topology v2 */
    { 0x80000000, ALL, ALL, ALL, ALL },             /* max extended leaf */
    /* ECX: LAHF/SAHF, LZCNT, PREFETCHW. EDX: 1 GiB pages, RDTSCP (only
     * where enabled), long mode. Not SYSCALL (EFER.SCE is off) nor NX
     * (EFER.NXE is off: the XD bit would be a reserved-bit fault). */
    { 0x80000001, ALL, 0, BIT(0) | BIT(5) | BIT(8),
      BIT(26) | CPUID_80000001_EDX_RDTSCP | BIT(29) },
    { 0x80000002, ALL, ALL, ALL, ALL },             /* brand string */
    { 0x80000003, ALL, ALL, ALL, ALL },
    { 0x80000004, ALL, ALL, ALL, ALL },
    { 0x80000005, ALL, ALL, ALL, ALL },             /* caches (AMD) */
    { 0x80000006, ALL, ALL, ALL, ALL },             /* L2 cache */
    { 0x80000007, 0, 0, 0, BIT(8) },                /* invariant TSC only */
    { 0x80000008, ALL, 0, 0, 0 },                   /* address sizes only */
};

static const struct cpuid_allow *find_leaf(uint32_t leaf)
{
    for (unsigned i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
        if (allow[i].leaf == leaf)
            return &allow[i];
    return NULL;
}

/* "Mayfly" in the hypervisor leaf; nothing above it. */
static void hypervisor_leaf(struct cpuid_regs *r)
{
    r->eax = 0x40000000;
    r->ebx = 0x6679614d;                /* "Mayf" */
    r->ecx = 0x0000796c;                /* "ly" */
    r->edx = 0;
}

void cpuid_guest_view(uint32_t leaf, uint32_t subleaf, uint32_t features,
                      struct cpuid_regs *r)
{
    const struct cpuid_allow *a = find_leaf(leaf);

    if (leaf == 0x40000000) {
        hypervisor_leaf(r);
        return;
    }
    if (!a || (leaf == 0x7 && subleaf != 0)) {
        r->eax = r->ebx = r->ecx = r->edx = 0;
        return;
    }
    r->eax &= a->eax;
    r->ebx &= a->ebx;
    r->ecx &= a->ecx;
    r->edx &= a->edx;
    if (leaf == 0x1)
        r->ecx |= CPUID_1_ECX_HYPERVISOR;
    if (leaf == 0x80000001 && !(features & CPUID_GUEST_RDTSCP))
        r->edx &= ~CPUID_80000001_EDX_RDTSCP;
}
