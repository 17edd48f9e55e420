/*
 * A guest's general registers as both backends keep them: the struct
 * the C side sees, the offsets the entry code indexes, and the moves
 * between the two (assembler macros, for vmx/vmentry.S and svm/vmrun.S).
 * RAX and RDI are left to the caller: VT-x saves RAX here, AMD-V keeps
 * it in the VMCB, and RDI points at the registers until the last move.
 */
#ifndef X86_VCPU_REGS_H
#define X86_VCPU_REGS_H

#define VCPU_RAX  0
#define VCPU_RBX  8
#define VCPU_RCX  16
#define VCPU_RDX  24
#define VCPU_RSI  32
#define VCPU_RDI  40
#define VCPU_RBP  48
#define VCPU_R8   56
#define VCPU_R9   64
#define VCPU_R10  72
#define VCPU_R11  80
#define VCPU_R12  88
#define VCPU_R13  96
#define VCPU_R14  104
#define VCPU_R15  112

#ifdef __ASSEMBLER__
/* The guest's RBX..R15 but RDI from the registers at %rdi. */
.macro load_guest_gprs
    movq VCPU_RBX(%rdi), %rbx
    movq VCPU_RCX(%rdi), %rcx
    movq VCPU_RDX(%rdi), %rdx
    movq VCPU_RSI(%rdi), %rsi
    movq VCPU_RBP(%rdi), %rbp
    movq VCPU_R8(%rdi), %r8
    movq VCPU_R9(%rdi), %r9
    movq VCPU_R10(%rdi), %r10
    movq VCPU_R11(%rdi), %r11
    movq VCPU_R12(%rdi), %r12
    movq VCPU_R13(%rdi), %r13
    movq VCPU_R14(%rdi), %r14
    movq VCPU_R15(%rdi), %r15
.endm

/* The same, stored back. */
.macro save_guest_gprs
    movq %rbx, VCPU_RBX(%rdi)
    movq %rcx, VCPU_RCX(%rdi)
    movq %rdx, VCPU_RDX(%rdi)
    movq %rsi, VCPU_RSI(%rdi)
    movq %rbp, VCPU_RBP(%rdi)
    movq %r8, VCPU_R8(%rdi)
    movq %r9, VCPU_R9(%rdi)
    movq %r10, VCPU_R10(%rdi)
    movq %r11, VCPU_R11(%rdi)
    movq %r12, VCPU_R12(%rdi)
    movq %r13, VCPU_R13(%rdi)
    movq %r14, VCPU_R14(%rdi)
    movq %r15, VCPU_R15(%rdi)
.endm

/* The host's callee-saved registers around an entry. */
.macro push_host_callee_saved
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm

.macro pop_host_callee_saved
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
.endm
#else
#include <stdint.h>

struct vcpu_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};
_Static_assert(sizeof(struct vcpu_regs) == VCPU_R15 + 8, "vcpu_regs layout");
#endif

#endif
