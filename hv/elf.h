/*
 * Guest ELF images: validation and loading. A guest image is a static
 * ELF64 x86-64 executable carrying either a Mayfly ABI note
 * (include/mayfly/abi.h: the Mayfly personality) or Solo5's ABI1 note
 * for target hvt with an MFT1 manifest (include/mayfly/hvt.h: the Solo5
 * personality); the note decides which personality runs it.
 * elf_validate() checks everything, with no side effects, before
 * elf_load() touches the partition. Pure logic: compiles freestanding and
 * on the host (unit tests, fuzzing).
 */
#ifndef HV_ELF_H
#define HV_ELF_H

#include <stddef.h>
#include <stdint.h>
#include "mft.h"

#define ELF_MAX_SEGMENTS 16         /* loadable segments with memsz > 0 */
#define ELF_MAX_PHNUM    32         /* program headers in one image */
/* Bytes of a buffer that holds every reason elf_validate() gives, with the
 * longest values it can substitute (tests/unit/test_elf.c checks each). */
#define ELF_REASON_MAX   200

/* Which personality an image's note claims it for. */
enum elf_personality {
    ELF_MAYFLY = 1,                 /* a "Mayfly" ABI note */
    ELF_SOLO5_HVT = 2,              /* "Solo5" ABI1 (target hvt) and MFT1 notes */
};

struct elf_segment {
    uint64_t offset, vaddr, filesz, memsz;
    uint32_t flags;                 /* PF_X, PF_W, PF_R as in the file */
};

/*
 * What elf_validate() approved. Every header field is read from the image
 * once, into this structure or a local, and checked there; nothing after
 * the check (the rest of validation, elf_load) reads that field again, so
 * bytes that change after they were read cannot change what is loaded.
 */
struct elf_image {
    uint64_t entry;
    uint32_t segment_count;         /* PT_LOAD segments, sorted by vaddr */
    struct elf_segment segments[ELF_MAX_SEGMENTS];
    uint64_t lowest, highest;       /* loaded range [lowest, highest) */
    uint32_t personality;           /* enum elf_personality */
    uint32_t abi_version;           /* Mayfly: MF_ABI_VERSION; Solo5: hvt ABI 1 or 2 */
    uint64_t kernel_end;            /* Solo5: highest, rounded up to 4 KiB (hvt_boot_info) */
    struct mft_info mft;            /* Solo5: the validated manifest; Mayfly: zeroed */
    uint64_t phoff;                 /* program header table: e_phoff, */
    uint32_t phnum;                 /* e_phnum entries, inside the file */
    uint64_t file_size;             /* bytes of the image validated */
};

/*
 * Validates the whole image (size bytes at data) for a guest of mem_limit
 * bytes of guest-physical memory, before anything is loaded. Returns 0 and
 * fills *out, or -1 with a one-line reason in err (what is wrong and, where
 * it helps, what to do). err may be null or err_size 0.
 */
int elf_validate(const uint8_t *data, size_t size, uint64_t mem_limit,
                 struct elf_image *out, char *err, size_t err_size);

/* Guest memory the image needs: highest + MF_STACK_RESERVE, rounded up to
 * 2 MiB. img must have passed elf_validate(). */
uint64_t elf_memory_needed(const struct elf_image *img);

/*
 * Copies each segment's file bytes to dst + vaddr and zeroes the rest of
 * its memsz, from img's segment list only: it reads no header of data, so
 * it writes exactly the ranges validation approved. img must come from
 * elf_validate() on the same data (file bytes are copied as they are now);
 * dst is the host pointer of guest-physical 0 and spans the mem_limit bytes
 * validated against.
 */
void elf_load(const struct elf_image *img, const uint8_t *data, uint8_t *dst);

/* The same into memory known to be all zero (a scrubbed partition):
 * only the file bytes are written, the zero tails (.bss) are already
 * there. A launch's partition is always scrubbed first, so this is what
 * a launch uses: a guest with a large .bss (a TCP connection pool)
 * starts without the hypervisor zeroing it twice. */
void elf_load_zeroed(const struct elf_image *img, const uint8_t *data, uint8_t *dst);

#endif
