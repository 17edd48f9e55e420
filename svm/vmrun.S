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
    push_host_callee_saved
    pushq %rdx                      /* host VMCB, for the VMLOAD after the exit */
    pushq %rdi                      /* regs, found again at the exit */
    clgi
    sti                             /* blocked by GIF = 0 until STGI */
    movq %rdx, %rax
    vmsave                          /* the host's FS, GS, TR, LDTR and MSRs */
    movq %rsi, %rax
    vmload                          /* the guest's */
    load_guest_gprs
    movq VCPU_RDI(%rdi), %rdi
    vmrun                           /* RAX: the guest VMCB */
    vmsave                          /* RAX is the guest VMCB again */
    xchgq %rdi, (%rsp)              /* rdi = regs; the guest's rdi on the stack */
    save_guest_gprs
    popq %rax
    movq %rax, VCPU_RDI(%rdi)
    popq %rax                       /* host VMCB */
    vmload
    stgi                            /* IF is 1 (VMRUN saved it): the interrupt is taken */
    nop
    cli
    pop_host_callee_saved
    ret
    .section .note.GNU-stack,"",@progbits
