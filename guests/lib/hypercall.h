/*
 * Raw hypercalls: VMCALL with the number in RAX and arguments in RDI, RSI,
 * RDX, R10, R8; the result comes back in RAX. The hypervisor preserves
 * every other register, so only RAX (and memory, which a hypercall may read
 * or write) is clobbered. Most guests use the wrappers in mf.h instead;
 * these are for code that must issue arbitrary, even invalid, calls.
 */
#ifndef GUESTS_HYPERCALL_H
#define GUESTS_HYPERCALL_H

#include <stdint.h>

static inline long mf_hypercall0(uint64_t nr)
{
    long ret;

    __asm__ volatile("vmcall" : "=a"(ret) : "a"(nr) : "memory");
    return ret;
}

static inline long mf_hypercall1(uint64_t nr, uint64_t a0)
{
    long ret;

    __asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a0) : "memory");
    return ret;
}

static inline long mf_hypercall2(uint64_t nr, uint64_t a0, uint64_t a1)
{
    long ret;

    __asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1) : "memory");
    return ret;
}

static inline long mf_hypercall3(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
    long ret;

    __asm__ volatile("vmcall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2)
                     : "memory");
    return ret;
}

static inline long mf_hypercall5(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
                                 uint64_t a3, uint64_t a4)
{
    register uint64_t r10 __asm__("r10") = a3;
    register uint64_t r8 __asm__("r8") = a4;
    long ret;

    __asm__ volatile("vmcall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8)
                     : "memory");
    return ret;
}

#endif
