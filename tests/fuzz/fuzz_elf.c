/*
 * libFuzzer target for hv/elf.c: elf_validate() on arbitrary bytes for a
 * 2 MiB and a 64 MiB guest; an image accepted for 2 MiB is then loaded
 * into a 2 MiB buffer, so a check that lets a segment escape the
 * partition shows up as an ASan report. Both personalities: an accepted
 * image is either a Mayfly one (its ABI version, no manifest) or a Solo5
 * hvt one (ABI 1 or 2, a valid manifest, no writable and executable
 * segment, kernel_end the image's end rounded up to 4 KiB). Every
 * rejection reason must fit ELF_REASON_MAX bytes (no caller's buffer cuts
 * it). Seeds: tests/fuzz/corpus/elf/ (the hvt_* ones from
 * tests/fuzz/make_corpus.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf.h"
#include "../../include/mayfly/abi.h"
#include "../../include/mayfly/hvt.h"

#define MIB (1024ULL * 1024ULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_personality(const struct elf_image *img)
{
    static const struct mft_info no_manifest;

    if (img->personality == ELF_MAYFLY) {
        if (img->abi_version != MF_ABI_VERSION || img->kernel_end != 0 ||
            memcmp(&img->mft, &no_manifest, sizeof(no_manifest)) != 0)
            abort();
        return;
    }
    if (img->personality != ELF_SOLO5_HVT || img->abi_version < HVT_ABI_VERSION_MIN ||
        img->abi_version > HVT_ABI_VERSION_MAX)
        abort();
    if (img->kernel_end < img->highest || img->kernel_end % 4096 != 0 ||
        img->kernel_end - img->highest >= 4096)
        abort();
    if (img->mft.entries < 1 || img->mft.entries > 1 + MFT_DEVICES_MAX ||
        img->mft.e[0].type != HVT_MFT_RESERVED_FIRST)
        abort();
    for (uint32_t i = 1; i < img->mft.entries; i++)
        if (memchr(img->mft.e[i].name, 0, HVT_MFT_NAME_SIZE) == NULL ||
            mft_find(&img->mft, img->mft.e[i].name) != (int)i)
            abort();
    for (uint32_t i = 0; i < img->segment_count; i++)
        if ((img->segments[i].flags & 3u) == 3u)    /* PF_W | PF_X */
            abort();
}

static void check_image(const struct elf_image *img, uint64_t mem_limit, size_t size)
{
    if (img->file_size != size || img->phnum == 0 || img->phnum > ELF_MAX_PHNUM ||
        img->phoff > size || (uint64_t)img->phnum * 56 > size - img->phoff)
        abort();
    if (img->segment_count == 0 || img->segment_count > ELF_MAX_SEGMENTS ||
        img->lowest < MF_IMAGE_BASE || img->highest > mem_limit - MF_STACK_RESERVE ||
        elf_memory_needed(img) > mem_limit)
        abort();
    check_personality(img);
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
