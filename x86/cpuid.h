/* What CPUID tells a guest: the host's answer filtered through one
 * allow-list (x86/cpuid.c; the policy is in docs/decisions.md). */
#ifndef X86_CPUID_H
#define X86_CPUID_H

#include <stdint.h>

#include "x86.h"

/* Features the policy offers only where the VMX setup enabled them. */
#define CPUID_GUEST_RDTSCP  (1u << 0)   /* "enable RDTSCP" is on */

/* Leaf 1. */
#define CPUID_1_ECX_SSE3        (1u << 0)
#define CPUID_1_ECX_PCLMULQDQ   (1u << 1)
#define CPUID_1_ECX_MONITOR     (1u << 3)
#define CPUID_1_ECX_SSSE3       (1u << 9)
#define CPUID_1_ECX_CX16        (1u << 13)
#define CPUID_1_ECX_PCID        (1u << 17)
#define CPUID_1_ECX_SSE41       (1u << 19)
#define CPUID_1_ECX_SSE42       (1u << 20)
#define CPUID_1_ECX_X2APIC      (1u << 21)
#define CPUID_1_ECX_MOVBE       (1u << 22)
#define CPUID_1_ECX_POPCNT      (1u << 23)
#define CPUID_1_ECX_TSC_DEADLINE_TIMER (1u << 24)
#define CPUID_1_ECX_AES         (1u << 25)
#define CPUID_1_ECX_XSAVE       (1u << 26)
#define CPUID_1_ECX_OSXSAVE     (1u << 27)
#define CPUID_1_ECX_AVX         (1u << 28)
#define CPUID_1_ECX_RDRAND      (1u << 30)
#define CPUID_1_ECX_HYPERVISOR  (1u << 31)

/* Leaf 7, subleaf 0. */
#define CPUID_7_EBX_FSGSBASE    (1u << 0)
#define CPUID_7_EBX_AVX2        (1u << 5)
#define CPUID_7_EBX_AVX512F     (1u << 16)
#define CPUID_7_ECX_PKU         (1u << 3)

/* Leaf 0x80000001. */
#define CPUID_80000001_EDX_RDTSCP (1u << 27)

/* Rewrites *r, the host's answer to CPUID(leaf, subleaf), into what a
 * guest may see; features is a set of CPUID_GUEST_* flags. Pure. */
void cpuid_guest_view(uint32_t leaf, uint32_t subleaf, uint32_t features,
                      struct cpuid_regs *r);

#endif
