/*
 * hvt unikernel entry and exception stubs. The host starts us in 64-bit
 * mode with identity paging, SSE enabled, interrupts off, RSP at the top
 * of guest memory and RDI holding the struct hvt_boot_info address; .bss
 * and memory above the image are already zero (the ABI's promise, which
 * hvt-test's data mode checks, so we do not clear .bss ourselves).
 */
    .section .text.entry, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    /* The guard first: every C function may check it on return. Its low
     * byte is 0 so that a string overrun cannot write it back intact. */
    rdtsc                           /* also the first instruction's TSC, for benchmarks */
    shlq $32, %rdx
    orq %rdx, %rax
    movq %rax, hvt_entry_tsc(%rip)
    shlq $8, %rax
    movq %rax, __stack_chk_guard(%rip)
    xorl %ebp, %ebp                 /* end of the frame-pointer chain */
    andq $-16, %rsp                 /* SysV: 16-byte aligned before a call */
    call hvt_start                  /* RDI: the boot info */
    ud2                             /* hvt_start does not return */
    .size _start, . - _start

/*
 * Exception stubs, vectors 0..31. Each pushes a 0 error code where the CPU
 * pushes none, then its vector, so every frame reads (from RSP up)
 * vector, error code, RIP, CS, RFLAGS, RSP, SS; hvt_trap never returns,
 * so no register is saved.
 */
    .text
.macro trap_stub vector, has_error_code
    .p2align 4
trap_stub_\vector:
    .if \has_error_code == 0
    pushq $0
    .endif
    pushq $\vector
    jmp trap_common
.endm

trap_stub 0, 0
trap_stub 1, 0
trap_stub 2, 0
trap_stub 3, 0
trap_stub 4, 0
trap_stub 5, 0
trap_stub 6, 0
trap_stub 7, 0
trap_stub 8, 1
trap_stub 9, 0
trap_stub 10, 1
trap_stub 11, 1
trap_stub 12, 1
trap_stub 13, 1
trap_stub 14, 1
trap_stub 15, 0
trap_stub 16, 0
trap_stub 17, 1
trap_stub 18, 0
trap_stub 19, 0
trap_stub 20, 0
trap_stub 21, 1
trap_stub 22, 0
trap_stub 23, 0
trap_stub 24, 0
trap_stub 25, 0
trap_stub 26, 0
trap_stub 27, 0
trap_stub 28, 0
trap_stub 29, 1
trap_stub 30, 1
trap_stub 31, 0

trap_common:
    cld
    movq %rsp, %rdi
    andq $-16, %rsp
    call hvt_trap
    ud2

/* The stubs' addresses, for the IDT (cpu.c). */
    .section .rodata
    .globl hvt_trap_stubs
    .p2align 3
hvt_trap_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad trap_stub_\v
    .endr

    .section .note.GNU-stack, "", @progbits
