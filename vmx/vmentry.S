/*
 * VM entry and exit. vmx_enter(regs, launched) saves the host's
 * callee-saved registers, points HOST_RSP at its frame, loads the guest's
 * general registers and enters. A VM exit lands at vmx_exit (HOST_RIP)
 * with that frame on the stack, saves the guest's registers and returns
 * 0 to the caller of vmx_enter. A failed entry falls through and
 * returns 1.
 */
#include "vcpu.h"

#define VMCS_HOST_RSP 0x6c14

    .text
    .globl vmx_enter
vmx_enter:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushq %rdi                      /* regs, found again at exit */
    movq $VMCS_HOST_RSP, %rax
    vmwrite %rsp, %rax
    cmpl $0, %esi                   /* flags survive the moves below */
    movq VCPU_RAX(%rdi), %rax
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
    movq VCPU_RDI(%rdi), %rdi
    jne 1f
    vmlaunch
    jmp 2f
1:  vmresume
2:  /* Entry failed: the guest's values are in our registers. */
    popq %rdi
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    movl $1, %eax
    ret

    .globl vmx_exit
vmx_exit:
    xchgq %rdi, (%rsp)              /* rdi = regs; the guest's rdi on the stack */
    movq %rax, VCPU_RAX(%rdi)
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
    popq %rax
    movq %rax, VCPU_RDI(%rdi)
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    xorl %eax, %eax
    ret
    .section .note.GNU-stack,"",@progbits
