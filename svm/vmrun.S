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
 *
 * svm_enter(regs, guest_vmcb, host_vmcb, fast) returns how many null
 * hypercalls its fast path answered: with fast set, a #VMEXIT for
 * VMMCALL with the guest's RAX = MF_HC_NULL is answered right after
 * VMRUN (RIP past the VMMCALL, RAX = 0, no TLB flush) and the guest
 * entered again, still under CLGI with the guest's VMLOAD state in
 * place, touching no guest register but what the VMCB holds. The
 * deadline needs no check there: the preemption alarm is absolute, and
 * once it fires the pending interrupt exits the next VMRUN at once (the
 * INTR intercept), as a kick from another CPU does.
 */
#include "vcpu.h"

    .text
    .globl svm_enter
svm_enter:
    push_host_callee_saved
    pushq %rcx                      /* fast: 24(%rsp) at the exit */
    pushq $0                        /* null hypercalls answered: 16(%rsp) */
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
    cmpq $FAST_EXIT_VMMCALL, FAST_VMCB_EXITCODE(%rax)
    je fast_null
slow:
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
    popq %rax                       /* the count, returned */
    addq $8, %rsp                   /* fast */
    pop_host_callee_saved
    ret

fast_null:
    cmpq $FAST_HC_NR, FAST_VMCB_RAX(%rax)
    jne slow
    cmpq $0, 24(%rsp)
    je slow
    addq $FAST_VMMCALL_LENGTH, FAST_VMCB_RIP(%rax)
    movq $0, FAST_VMCB_RAX(%rax)    /* the null hypercall's result */
    movb $0, FAST_VMCB_TLB_CONTROL(%rax)    /* flushed, if at all, on the first VMRUN */
    incq 16(%rsp)
    vmrun
    cmpq $FAST_EXIT_VMMCALL, FAST_VMCB_EXITCODE(%rax)
    je fast_null
    jmp slow
    .section .note.GNU-stack,"",@progbits
