/*
 * The application processors' way from a start-up IPI to the hypervisor:
 * copied to SMP_TRAMPOLINE_BASE and entered there in real mode at CS =
 * SMP_TRAMPOLINE_VECTOR << 8, IP 0. Real mode, protected mode with a flat
 * GDT of its own, long mode on its own page tables (below 1 MiB), then the
 * hypervisor's CR3, stack and C entry handed over in trampoline_data.
 * Every address is TR(label), the label's address in the copy: no
 * relocations, so the same bytes work in the Multiboot2 ELF and the
 * relocatable UEFI application.
 */
#include "smp.h"

#define TR(x) ((x) - trampoline_start + SMP_TRAMPOLINE_BASE)
#define MSR_EFER        0xc0000080

    .text
    .balign 16
    .globl trampoline_start, trampoline_end, trampoline_data
    .code16
trampoline_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl TR(tramp_gdt_ptr)
    movl %cr0, %eax
    orl $1, %eax                    /* PE */
    movl %eax, %cr0
    ljmpl $0x08, $TR(tramp_32)

    .code32
tramp_32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl TR(trampoline_data) + SMP_TD_PML4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $0x100, %eax                /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax           /* PG | PE */
    movl %eax, %cr0
    ljmp $0x18, $TR(tramp_64)

    .code64
tramp_64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    /* Claim this start: a second AP woken by a late SIPI finds 0. */
    xorl %eax, %eax
    lock xchgq %rax, TR(trampoline_data) + SMP_TD_ARG
    testq %rax, %rax
    jz tramp_park
    movq %rax, %rdi
    movq TR(trampoline_data) + SMP_TD_CR3, %rax
    movq %rax, %cr3                 /* identity maps this page too */
    movq TR(trampoline_data) + SMP_TD_STACK, %rsp
    movq TR(trampoline_data) + SMP_TD_ENTRY, %rax
    xorl %ebp, %ebp
    call *%rax                      /* never returns */
tramp_park:
    cli
    hlt
    jmp tramp_park

    .balign 8
tramp_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
    .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
tramp_gdt_ptr:
    .word tramp_gdt_ptr - tramp_gdt - 1
    .long TR(tramp_gdt)

    .balign 8
trampoline_data:
    .fill SMP_TD_SIZE, 1, 0
trampoline_end:
