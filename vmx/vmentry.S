/*
 * VM entry and exit. vmx_enter(regs, launched) saves the host's
 * callee-saved registers, points HOST_RSP at its frame, loads the guest's
 * general registers and enters. A VM exit lands at vmx_exit (HOST_RIP)
 * with that frame on the stack, saves the guest's registers and returns
 * 0 to the caller of vmx_enter. A failed entry falls through and
 * returns 1.
 *
 * The fast path: a VMCALL with RAX = MF_HC_NULL while the TSC is below
 * the vCPU's fast_until (vcpu.c sets it to the run's deadline or the
 * timer's next re-arm, whichever comes first, and to 0 for guests whose
 * personality is not Mayfly's) is answered here: RIP past the VMCALL,
 * RAX = 0, the call counted, VMRESUME. It saves and restores RCX and RDX
 * only, the registers it uses besides RAX and RDI; nothing else has
 * changed since the exit (same VMCS, same CPU state, same frame), so it
 * is what the slow path would have done for this call without its
 * trip through exit_dispatch, the core and the entry checks.
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
    jmp entry_failed
1:  vmresume
entry_failed:
    /* The guest's values are in our registers. */
    popq %rdi
    pop_host_callee_saved
    movl $1, %eax
    ret

    .globl vmx_exit
vmx_exit:
    xchgq %rdi, (%rsp)              /* rdi = regs; the guest's rdi on the stack */
    cmpq $FAST_HC_NR, %rax
    je fast_null
slow:
    movq %rax, VCPU_RAX(%rdi)
    save_guest_gprs
    popq %rax
    movq %rax, VCPU_RDI(%rdi)
    pop_host_callee_saved
    xorl %eax, %eax
    ret

fast_null:
    movq %rcx, VCPU_RCX(%rdi)
    movq %rdx, VCPU_RDX(%rdi)
    movl $FAST_VMCS_EXIT_REASON, %ecx
    vmread %rcx, %rdx
    cmpq $FAST_EXIT_VMCALL, %rdx    /* all 32 bits: no entry-failure or other flag */
    jne 2f
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    cmpq VCPU_FAST_UNTIL(%rdi), %rax
    jae 1f
    movl $FAST_VMCS_GUEST_RIP, %edx
    vmread %rdx, %rax
    movl $FAST_VMCS_INSN_LENGTH, %ecx
    vmread %rcx, %rcx
    addq %rcx, %rax
    vmwrite %rax, %rdx
    incq VCPU_FAST_CALLS(%rdi)
    movq VCPU_RCX(%rdi), %rcx
    movq VCPU_RDX(%rdi), %rdx
    xorl %eax, %eax                 /* the null hypercall's result */
    xchgq %rdi, (%rsp)              /* the frame as vmx_enter left it */
    vmresume
    jmp entry_failed
1:  movl $FAST_HC_NR, %eax          /* the guest's RAX again */
2:  movq VCPU_RCX(%rdi), %rcx
    movq VCPU_RDX(%rdi), %rdx
    jmp slow
    .section .note.GNU-stack,"",@progbits
