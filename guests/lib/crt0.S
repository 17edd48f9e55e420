/*
 * Guest entry. The hypervisor starts us in 64-bit mode with identity
 * paging, interrupts off, RSP at the top of guest memory and RDI holding
 * the boot-info address. .bss is cleared here so a guest does not depend
 * on the loader having zeroed the bytes past each segment's file size.
 */
    .section .text.entry, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    rdtsc                           /* first thing: launch benchmarks read it */
    movl %eax, %r8d
    shlq $32, %rdx
    orq %rdx, %r8
    xorl %ebp, %ebp                 /* end of the frame-pointer chain */
    andq $-16, %rsp                 /* SysV: 16-byte aligned before a call */
    movq %rdi, %rdx                 /* rep stos uses RDI */
    leaq __bss_start(%rip), %rdi
    leaq __bss_end(%rip), %rcx
    subq %rdi, %rcx
    xorl %eax, %eax
    cld
    rep stosb
    movq %r8, mf_entry_tsc(%rip)    /* after .bss is cleared */
    movq %rdx, %rdi
    call mf_start
    ud2                             /* mf_start does not return */
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
