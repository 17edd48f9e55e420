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
    push_host_callee_saved
    pushq %rdi                      /* regs, found again at exit */
    movq $VMCS_HOST_RSP, %rax
    vmwrite %rsp, %rax
    cmpl $0, %esi                   /* flags survive the moves below */
    movq VCPU_RAX(%rdi), %rax
    load_guest_gprs
    movq VCPU_RDI(%rdi), %rdi
    jne 1f
    vmlaunch
    jmp 2f
1:  vmresume
2:  /* Entry failed: the guest's values are in our registers. */
    popq %rdi
    pop_host_callee_saved
    movl $1, %eax
    ret

    .globl vmx_exit
vmx_exit:
    xchgq %rdi, (%rsp)              /* rdi = regs; the guest's rdi on the stack */
    movq %rax, VCPU_RAX(%rdi)
    save_guest_gprs
    popq %rax
    movq %rax, VCPU_RDI(%rdi)
    pop_host_callee_saved
    xorl %eax, %eax
    ret
    .section .note.GNU-stack,"",@progbits
