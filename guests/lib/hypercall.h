/*
 * Raw hypercalls: VMCALL (VT-x) or VMMCALL (AMD-V), whichever the boot
 * info's MF_FEATURE_VMMCALL names (mf_start sets mf_use_vmmcall), with the
 * number in RAX and arguments in RDI, RSI, RDX, R10, R8; the result comes
 * back in RAX. The hypervisor preserves
 * every other register, so only RAX (and memory, which a hypercall may read
 * or write) is clobbered. Most guests use the wrappers in mf.h instead;
 * these are for code that must issue arbitrary, even invalid, calls.
 */
#ifndef GUESTS_HYPERCALL_H
#define GUESTS_HYPERCALL_H

#include <stdint.h>

/* 1 when hypercalls are VMMCALL (set by mf_start before any call). */
extern uint8_t mf_use_vmmcall;

/* The hypercall instruction the boot info chose: one test and a jump. */
#define MF_HC_INSN "testb $1, mf_use_vmmcall(%%rip)\n\tjnz 1f\n\tvmcall\n\tjmp 2f\n1:\tvmmcall\n2:"

static inline long mf_hypercall0(uint64_t nr)
{
    long ret;

    __asm__ volatile(MF_HC_INSN : "=a"(ret) : "a"(nr) : "cc", "memory");
    return ret;
}

static inline long mf_hypercall1(uint64_t nr, uint64_t a0)
{
    long ret;

    __asm__ volatile(MF_HC_INSN : "=a"(ret) : "a"(nr), "D"(a0) : "cc", "memory");
    return ret;
}

static inline long mf_hypercall2(uint64_t nr, uint64_t a0, uint64_t a1)
{
    long ret;

    __asm__ volatile(MF_HC_INSN : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1) : "cc", "memory");
    return ret;
}

static inline long mf_hypercall3(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
    long ret;

    __asm__ volatile(MF_HC_INSN
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2)
                     : "cc", "memory");
    return ret;
}

static inline long mf_hypercall5(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
                                 uint64_t a3, uint64_t a4)
{
    register uint64_t r10 __asm__("r10") = a3;
    register uint64_t r8 __asm__("r8") = a4;
    long ret;

    __asm__ volatile(MF_HC_INSN
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8)
                     : "cc", "memory");
    return ret;
}

#endif
