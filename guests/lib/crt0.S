/*
 * Guest entry. The hypervisor starts us in 64-bit mode with identity
 * paging, interrupts off, RSP at the top of guest memory and RDI holding
 * the boot-info address. .bss is not cleared here: the ABI promises that
 * every byte of guest memory the image's file bytes do not fill is zero
 * at entry (docs/guest-abi.md: the partition is scrubbed before every
 * launch), and clearing it again cost a guest with a large .bss (a TCP
 * pool) about a million instructions before its first line of C.
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
    cld
    movq %r8, mf_entry_tsc(%rip)
    call mf_start                   /* RDI: the boot info */
    ud2                             /* mf_start does not return */
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
