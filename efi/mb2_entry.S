/*
 * Multiboot2 entry: GRUB jumps here in 32-bit protected mode with paging
 * off, EAX = magic and EBX = boot information. We clear .bss, identity-map
 * the first 4 GiB with 2 MiB pages, enter long mode and call mb2_main().
 */
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386    0
#define COM1             0x3f8

    .section .multiboot2, "a"
    .p2align 3
mb2_header:
    .long MB2_HEADER_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    .short 0, 0                     /* end tag */
    .long 8
mb2_header_end:

    .section .text.boot, "ax"
    .code32
    .globl mb2_start
mb2_start:
    cli
    cld
    movl %eax, %ebp                 /* keep magic and info across the setup */
    movl %ebx, %esi                 /* (CPUID below clobbers EBX) */
    movl $boot_stack_top, %esp

    /* No long mode: say so on COM1 and stop (there is nothing else we can do). */
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb no_long_mode
    movl $0x80000001, %eax
    cpuid
    btl $29, %edx
    jnc no_long_mode

    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    /* PML4[0] -> PDPT; PDPT[0..3] -> 4 page directories of 2 MiB leaves. */
    movl $boot_pdpt, %eax
    orl $3, %eax
    movl %eax, boot_pml4
    movl $boot_pd, %eax
    orl $3, %eax
    movl $boot_pdpt, %edi
    movl $4, %ecx
1:  movl %eax, (%edi)
    addl $4096, %eax
    addl $8, %edi
    loop 1b
    movl $boot_pd, %edi
    movl $0x83, %eax                /* present, writable, 2 MiB */
    xorl %edx, %edx
    movl $2048, %ecx
2:  movl %eax, (%edi)
    movl %edx, 4(%edi)
    addl $0x200000, %eax
    adcl $0, %edx
    addl $8, %edi
    loop 2b

    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl $boot_pml4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx          /* IA32_EFER.LME */
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax           /* PG | PE */
    movl %eax, %cr0
    lgdt boot_gdt_ptr
    ljmp $0x08, $long_mode

no_long_mode:
    movl $no_long_mode_msg, %esi
3:  movb (%esi), %al
    testb %al, %al
    jz 5f
    movw $COM1 + 5, %dx
4:  inb %dx, %al
    testb $0x20, %al
    jz 4b
    movb (%esi), %al
    movw $COM1, %dx
    outb %al, %dx
    incl %esi
    jmp 3b
5:  hlt
    jmp 5b

    .code64
long_mode:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movq $boot_stack_top, %rsp
    movl %ebp, %edi
    call mb2_main
6:  cli
    hlt
    jmp 6b

    .section .rodata
    .p2align 3
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
boot_gdt_ptr:
    .short boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt
no_long_mode_msg:
    .asciz "mayfly: fatal: this CPU has no 64-bit long mode; Mayfly needs an x86-64 CPU\r\n"

    .bss
    .p2align 12
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4 * 4096
boot_stack:
    .skip 65536
boot_stack_top:
    .section .note.GNU-stack,"",@progbits
