/* Exception entry stubs, ISR_STUB_SIZE bytes apart so C finds stub n at
 * isr_stubs + n * ISR_STUB_SIZE without a relocated address table. */
#include "cpu.h"

    .text
    .p2align 4
    .globl isr_stubs
isr_stubs:
    vector = 0
    .rept 33
    .p2align 4
    /* Vectors 8, 10-14, 17, 21, 29 and 30 push an error code; the
     * others get a zero so that every frame has the same shape. */
    .if !(vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30)
    pushq $0
    .endif
    pushq $vector
    jmp isr_common
    vector = vector + 1
    .endr

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
