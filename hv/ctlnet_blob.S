/*
 * The network control guest's image (build/guests/ctlnet.elf), built
 * into the hypervisor so that 'control net' needs no file beside
 * mayfly.conf (hv/ctlnet.c). CTLNET_ELF is its path, from the Makefile.
 * In .rodata: the Multiboot2 image keeps it there, the UEFI one in .data.
 */
    .section .rodata
    .balign 4096
    .globl ctlnet_image_start
    .hidden ctlnet_image_start
    .globl ctlnet_image_end
    .hidden ctlnet_image_end
ctlnet_image_start:
    .incbin CTLNET_ELF
ctlnet_image_end:
    .section .note.GNU-stack, "", @progbits
