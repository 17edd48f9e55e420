/* libFuzzer target: mb2_parse on raw bytes (libFuzzer hands over an
 * exact-size buffer, so ASan sees any read past len). Whatever the input,
 * the boot_info must stay within its limits and hold a normalised map. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mb2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct boot_info bi;

    memset(&bi, 0, sizeof(bi));
    mb2_parse(data, size, &bi);
    check(bi.range_count <= BOOT_MAX_RANGES);
    for (uint32_t i = 0; i < bi.range_count; i++) {
        const struct mem_range *r = &bi.ranges[i];
        check(r->size != 0 && r->base % PAGE_SIZE == 0 && r->size % PAGE_SIZE == 0);
        check(r->size <= UINT64_MAX - r->base);
        if (i > 0)
            check(r->base > bi.ranges[i - 1].base + bi.ranges[i - 1].size);
    }
    check(bi.file_count <= BOOT_MAX_FILES);
    for (uint32_t i = 0; i < bi.file_count; i++)
        check(memchr(bi.files[i].name, '\0', sizeof(bi.files[i].name)) != NULL);
    check(memchr(bi.cmdline, '\0', sizeof(bi.cmdline)) != NULL);
    check(bi.rsdp == 0 || bi.rsdp == (uint64_t)(uintptr_t)bi.rsdp_copy);
    return 0;
}
