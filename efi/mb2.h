/* Multiboot2 boot information, as GRUB hands it over. */
#ifndef EFI_MB2_H
#define EFI_MB2_H

#include <stddef.h>
#include <stdint.h>
#include "../hv/boot_info.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

#define MB2_TAG_END          0
#define MB2_TAG_CMDLINE      1
#define MB2_TAG_MODULE       3
#define MB2_TAG_MMAP         6
#define MB2_TAG_ACPI_OLD     14
#define MB2_TAG_ACPI_NEW     15

#define MB2_MMAP_AVAILABLE   1

/*
 * Parses the boot information at info (len readable bytes) into *bi:
 * memory map (normalised), modules as files named by their module2
 * argument, command line and ACPI RSDP. Every tag is bounds-checked
 * against both len and the total size the information claims. Returns 0,
 * or -1 when the information is malformed (bi then holds what was read
 * before the fault).
 */
int mb2_parse(const uint8_t *info, size_t len, struct boot_info *bi);

#endif
