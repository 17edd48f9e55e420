/* Multiboot2 entry, C part: turns GRUB's information into a boot_info. */
#include "../hv/boot_info.h"
#include "../hv/lib.h"
#include "mb2.h"

void mb2_main(uint32_t magic, uint32_t info_addr) __attribute__((noreturn));

extern char __image_start[], __image_end[];

static struct boot_info boot_info;

void mb2_main(uint32_t magic, uint32_t info_addr)
{
    const uint8_t *info = (const uint8_t *)(uintptr_t)info_addr;

    boot_info.entry_name = "multiboot2";
    boot_info.image_base = (uint64_t)(uintptr_t)__image_start;
    boot_info.image_end = (uint64_t)(uintptr_t)__image_end;
    /* An unusable hand-over leaves the map empty; hv_main says so. */
    if (magic != MB2_BOOTLOADER_MAGIC || mb2_parse(info, *(const uint32_t *)info, &boot_info) < 0) {
        boot_info.entry_name = "multiboot2 (bad boot information)";
        boot_info.range_count = 0;
    }
    hv_main(&boot_info);
}
