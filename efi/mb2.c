#include "mb2.h"
#include "../hv/lib.h"
#include "../hv/memmap.h"

#define MB2_MAX_RAW_ENTRIES 256

/* Copies a string field of at most max bytes (not necessarily terminated). */
static void copy_string(char *dst, size_t size, const uint8_t *src, size_t max)
{
    size_t n = 0;
    while (n < max && n + 1 < size && src[n]) {
        dst[n] = (char)src[n];
        n++;
    }
    dst[n] = '\0';
}

static int parse_module(const uint8_t *tag, uint32_t size, struct boot_info *bi)
{
    struct boot_file *f;
    uint32_t start, end;

    if (size < 16)
        return -1;
    start = load_u32(tag + 8);
    end = load_u32(tag + 12);
    if (end < start)
        return -1;
    if (bi->file_count == BOOT_MAX_FILES) {
        bi->dropped++;
        return 0;
    }
    f = &bi->files[bi->file_count++];
    copy_string(f->name, sizeof(f->name), tag + 16, size - 16);
    f->addr = start;
    f->size = end - start;
    return 0;
}

static int parse_mmap(const uint8_t *tag, uint32_t size, struct boot_info *bi)
{
    static struct mem_entry raw[MB2_MAX_RAW_ENTRIES];
    uint32_t entry_size, n = 0;

    if (size < 16)
        return -1;
    entry_size = load_u32(tag + 8);
    if (entry_size < 24 || entry_size % 8)
        return -1;
    /* size - off cannot underflow (off <= size) and cannot wrap. */
    for (uint32_t off = 16; off <= size && size - off >= entry_size; off += entry_size) {
        const uint8_t *e = tag + off;
        if (n == MB2_MAX_RAW_ENTRIES) {
            bi->dropped++;
            break;
        }
        raw[n].base = load_u64(e);
        raw[n].size = load_u64(e + 8);
        raw[n].type = load_u32(e + 16) == MB2_MMAP_AVAILABLE ? MEM_USABLE : MEM_RESERVED;
        n++;
    }
    bi->range_count = memmap_normalise(raw, n, bi->ranges, BOOT_MAX_RANGES, &bi->dropped);
    return 0;
}

static void parse_acpi(const uint8_t *tag, uint32_t size, struct boot_info *bi)
{
    size_t n = size - 8 < sizeof(bi->rsdp_copy) ? size - 8 : sizeof(bi->rsdp_copy);

    /* GRUB hands over a copy of the RSDP, which lives in memory the core may
     * reuse: keep the copy and point at it. The new (ACPI 2.0) tag wins. */
    if (bi->rsdp && tag[0] == MB2_TAG_ACPI_OLD)
        return;
    memcpy(bi->rsdp_copy, tag + 8, n);
    bi->rsdp = (uint64_t)(uintptr_t)bi->rsdp_copy;
}

static int parse_tag(const uint8_t *tag, uint32_t type, uint32_t size, struct boot_info *bi)
{
    switch (type) {
    case MB2_TAG_CMDLINE:
        copy_string(bi->cmdline, sizeof(bi->cmdline), tag + 8, size - 8);
        return 0;
    case MB2_TAG_MODULE:
        return parse_module(tag, size, bi);
    case MB2_TAG_MMAP:
        return parse_mmap(tag, size, bi);
    case MB2_TAG_ACPI_OLD:
    case MB2_TAG_ACPI_NEW:
        parse_acpi(tag, size, bi);
        return 0;
    default:
        return 0;               /* tags we do not need are skipped */
    }
}

int mb2_parse(const uint8_t *info, size_t len, struct boot_info *bi)
{
    uint32_t total;
    size_t off = 8;

    if (len < 8)
        return -1;
    total = load_u32(info);
    if (total < 8 || total > len)
        return -1;
    while (off + 8 <= total) {
        uint32_t type = load_u32(info + off), size = load_u32(info + off + 4);
        if (size < 8 || size > total - off)
            return -1;
        if (type == MB2_TAG_END)
            return 0;
        if (parse_tag(info + off, type, size, bi) < 0)
            return -1;
        off += (size + 7) & ~7u;
    }
    return -1;                  /* no end tag */
}
