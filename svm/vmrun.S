/*
 * svm_enter(regs, guest_vmcb, host_vmcb): one VMRUN and its #VMEXIT.
 * Under CLGI (no interrupt or NMI reaches the host until STGI) it sets
 * the host's IF, which V_INTR_MASKING makes the mask of physical
 * interrupts while the guest runs: a host interrupt then exits the
 * guest (INTR intercept) instead of waiting. VMSAVE/VMLOAD switch what
 * VMRUN does not (FS, GS, TR, LDTR with their hidden parts,
 * KERNEL_GS_BASE, the SYSCALL and SYSENTER MSRs). VMRUN itself keeps the
 * host's RAX (the guest VMCB's address), RSP and the rest in the host
 * save area (VM_HSAVE_PA). After the host's state is back, STGI lets the
 * interrupt that ended the guest in; the host's handler takes it, and
 * CLI returns to the host's usual interrupts-off state.
 */
#include "vcpu.h"

    .text
    .globl svm_enter
svm_enter:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushq %rdx                      /* host VMCB, for the VMLOAD after the exit */
    pushq %rdi                      /* regs, found again at the exit */
    clgi
    sti                             /* blocked by GIF = 0 until STGI */
    movq %rdx, %rax
    vmsave                          /* the host's FS, GS, TR, LDTR and MSRs */
    movq %rsi, %rax
    vmload                          /* the guest's */
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
    vmrun                           /* RAX: the guest VMCB */
    vmsave                          /* RAX is the guest VMCB again */
    xchgq %rdi, (%rsp)              /* rdi = regs; the guest's rdi on the stack */
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
    popq %rax                       /* host VMCB */
    vmload
    stgi                            /* IF is 1 (VMRUN saved it): the interrupt is taken */
    nop
    cli
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .section .note.GNU-stack,"",@progbits
