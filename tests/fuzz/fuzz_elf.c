/*
 * libFuzzer target for hv/elf.c: elf_validate() on arbitrary bytes for a
 * 2 MiB and a 64 MiB guest; an image accepted for 2 MiB is then loaded
 * into a 2 MiB buffer, so a check that lets a segment escape the
 * partition shows up as an ASan report. Every rejection reason must fit
 * ELF_REASON_MAX bytes (no caller's buffer cuts it). Seeds:
 * tests/fuzz/corpus/elf/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf.h"
#include "../../include/mayfly/abi.h"

#define MIB (1024ULL * 1024ULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_image(const struct elf_image *img, uint64_t mem_limit, size_t size)
{
    if (img->file_size != size || img->phnum == 0 || img->phnum > ELF_MAX_PHNUM ||
        img->phoff > size || (uint64_t)img->phnum * 56 > size - img->phoff)
        abort();
    if (img->segment_count == 0 || img->segment_count > ELF_MAX_SEGMENTS ||
        img->lowest < MF_IMAGE_BASE || img->highest > mem_limit - MF_STACK_RESERVE ||
        img->abi_version != MF_ABI_VERSION || elf_memory_needed(img) > mem_limit)
        abort();
    for (uint32_t i = 1; i < img->segment_count; i++)
        if (img->segments[i - 1].vaddr + img->segments[i - 1].memsz > img->segments[i].vaddr)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct elf_image img;
    char err[2 * ELF_REASON_MAX];

    if (elf_validate(data, size, 64 * MIB, &img, err, sizeof(err)) == 0)
        check_image(&img, 64 * MIB, size);
    else if (strlen(err) == 0 || strlen(err) >= ELF_REASON_MAX || memchr(err, '\n', strlen(err)))
        abort();
    if (elf_validate(data, size, 2 * MIB, &img, err, sizeof(err)) == 0) {
        uint8_t *mem = calloc(1, 2 * MIB);
        if (!mem)
            abort();
        check_image(&img, 2 * MIB, size);
        elf_load(&img, data, mem);
        free(mem);
    }
    return 0;
}
