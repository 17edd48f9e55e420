/* Exception entry stubs, ISR_STUB_SIZE bytes apart so C finds stub n at
 * isr_stubs + n * ISR_STUB_SIZE without a relocated address table. The
 * interrupt handler calls through lapic_eoi_hook (a function pointer in
 * C, set once the local APIC is in use). Every exception but the NMI
 * ends in cpu_exception (a panic); the NMI handler returns. */
#include "cpu.h"

/* The caller-saved registers but RAX, around a call into C. */
.macro push_scratch
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
.endm

.macro pop_scratch
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
.endm

    .text
    .p2align 4
    .globl isr_stubs
isr_stubs:
    vector = 0
    .rept 32
    .p2align 4
    /* Vectors 8, 10-14, 17, 21, 29 and 30 push an error code; the
     * others get a zero so that every frame has the same shape. */
    .if !(vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30)
    pushq $0
    .endif
    pushq $vector
    .if vector == 2
    jmp isr_nmi
    .else
    jmp isr_common
    .endif
    vector = vector + 1
    .endr

/* Device interrupts (vector 32 to 254): only the local APIC timer that
 * wakes the idle loop is expected; any of them is acknowledged and
 * dropped. Vector 255 is the APIC's spurious vector: no EOI. */
    .p2align 4
    .globl isr_irq
isr_irq:
    pushq %rax
    movq lapic_eoi_hook(%rip), %rax
    testq %rax, %rax
    jz 1f
    push_scratch
    call *%rax
    pop_scratch
1:  popq %rax
    iretq

/* NMIs (vector 2, on the IST stack): a host NMI, or one that exited a
 * guest and was raised again with INT 2. Counted, then the frame and
 * its vector and error code are dropped; IRET ends NMI blocking. */
isr_nmi:
    pushq %rax
    push_scratch
    call x86_host_nmi               /* the IST stack is 16-byte aligned here */
    pop_scratch
    popq %rax
    addq $16, %rsp
    iretq

    .p2align 4
    .globl isr_spurious
isr_spurious:
    iretq

isr_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    andq $-16, %rsp
    call cpu_exception
1:  cli
    hlt
    jmp 1b
    .section .note.GNU-stack,"",@progbits
