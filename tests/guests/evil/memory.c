/* Evil modes that reach for memory: outside the partition, or memory a
 * previous guest may have left behind. */
#include "evil.h"

#define PTE_PRESENT     (1ULL << 0)
#define PTE_WRITE       (1ULL << 1)
#define PTE_LARGE       (1ULL << 7)     /* PS: a 2 MiB or 1 GiB page */

#define GIB             (1ULL << 30)
#define MIB2            (1ULL << 21)

/* Page tables of our own: the hypervisor's map only [0, mem_size). */
static uint64_t map_pml4[512] __attribute__((aligned(4096)));
static uint64_t map_pdpt[512] __attribute__((aligned(4096)));
static uint64_t map_pd[4][512] __attribute__((aligned(4096)));

/* The pattern is kept inverted (and read through volatile) so that the
 * image itself never contains it and a scan finds only what was written. */
static const volatile uint64_t pattern_inverted = ~EVIL_PATTERN;

static uint64_t pattern(void)
{
    return ~pattern_inverted;
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(0));
}

/* Physical address bits and whether 1 GiB pages exist, from CPUID. */
static void cpu_paging(unsigned *phys_bits, int *gib_pages)
{
    uint32_t r[4];
    uint32_t max_ext;

    *phys_bits = 36;
    *gib_pages = 0;
    cpuid(0x80000000, r);
    max_ext = r[0];
    if (max_ext >= 0x80000001) {
        cpuid(0x80000001, r);
        *gib_pages = (r[3] >> 26) & 1;
    }
    if (max_ext >= 0x80000008) {
        cpuid(0x80000008, r);
        *phys_bits = r[0] & 0xff;
    }
}

/*
 * Switches to page tables that identity-map every guest-physical address
 * the CPU allows, up to 512 GiB with 1 GiB pages or 4 GiB with 2 MiB
 * pages. Returns the end of the mapped range.
 */
static uint64_t map_everything(void)
{
    unsigned phys_bits;
    int gib_pages;
    uint64_t limit, i, top;

    cpu_paging(&phys_bits, &gib_pages);
    limit = phys_bits >= 39 ? 512 * GIB : 1ULL << phys_bits;
    if (gib_pages) {
        for (i = 0; (i + 1) * GIB <= limit; i++)
            map_pdpt[i] = i * GIB | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
        top = i * GIB;
    } else {
        if (limit > 4 * GIB)
            limit = 4 * GIB;
        for (i = 0; (i + 1) * MIB2 <= limit; i++)
            map_pd[i / 512][i % 512] = i * MIB2 | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
        top = i * MIB2;
        for (i = 0; i < 4; i++)
            map_pdpt[i] = (uint64_t)map_pd[i] | PTE_PRESENT | PTE_WRITE;
    }
    map_pml4[0] = (uint64_t)map_pdpt | PTE_PRESENT | PTE_WRITE;
    mf_printf("evil: mapped [0, 0x%lx) with %s pages (%u physical address bits)\n",
              top, gib_pages ? "1 GiB" : "2 MiB", phys_bits);
    __asm__ volatile("mov %0, %%cr3" : : "r"((uint64_t)map_pml4) : "memory");
    return top;
}

int evil_past_end(uint64_t unused)
{
    uint64_t gpa = mf_mem_size();

    (void)unused;
    mf_printf("evil: past-end: writing one byte at 0x%lx (mem_size)\n", gpa);
    if (map_everything() <= gpa)
        return EVIL_USAGE;
    __asm__ volatile("movb $0x5a, (%0)" : : "r"(gpa) : "memory");
    return evil_survived("past-end");
}

int evil_write(uint64_t gpa)
{
    mf_printf("evil: write: writing 8 bytes at 0x%lx (mem_size 0x%lx)\n", gpa, mf_mem_size());
    if (gpa > UINT64_MAX - 8 || map_everything() < gpa + 8) {
        mf_puts("evil: write: that address cannot be mapped\n");
        return EVIL_USAGE;
    }
    __asm__ volatile("movq %1, (%0)" : : "r"(gpa), "r"(0xbadc0ffee0ddf00dULL) : "memory");
    return evil_survived("write");
}

static uint64_t read_rsp(void)
{
    uint64_t rsp;

    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    return rsp;
}

static uint64_t fill(uint64_t start, uint64_t end, uint64_t value)
{
    volatile uint64_t *p = (volatile uint64_t *)start;
    volatile uint64_t *e = (volatile uint64_t *)end;

    for (; p < e; p++)
        *p = value;
    return start < end ? end - start : 0;
}

/* Leaves the pattern in all the memory it can spare: between the
 * hypervisor's page tables and the image, and from the image's end up to
 * 512 bytes below the stack pointer (the frames fill and the console
 * calls use), the stack area near the top of the partition included, so
 * that a scrub which left the top out would leave the pattern there. */
int evil_secret(uint64_t unused)
{
    uint64_t rsp = read_rsp() & ~7ULL;
    uint64_t low_start = MF_PAGE_TABLE_END, low_end = MF_IMAGE_BASE;
    uint64_t high_start = (uint64_t)__image_end;
    uint64_t high_end = rsp - 512;
    uint64_t bytes;

    (void)unused;
    mf_printf("evil: secret: filling [0x%lx, 0x%lx) and [0x%lx, 0x%lx) with the pattern\n",
              low_start, low_end, high_start, high_end);
    bytes = fill(low_start, low_end, pattern());
    bytes += fill(high_start, high_end, pattern());
    mf_printf("evil: secret: wrote %lu MiB (%lu KiB)\n", bytes >> 20, bytes >> 10);
    return EVIL_OK;
}

/* Looks for the pattern in all of memory but page 0, up to the top of
 * the partition: its own stack included, which never holds the pattern
 * (it compares inverted words with the inverted pattern, the only form
 * this image and its registers ever have). */
int evil_scan(uint64_t unused)
{
    uint64_t start = 0x1000, end = mf_mem_size();
    const volatile uint64_t *p;
    uint64_t found = 0, first = 0;

    (void)unused;
    mf_printf("evil: scan: looking for the pattern in [0x%lx, 0x%lx)\n", start, end);
    for (p = (const volatile uint64_t *)start; p < (const volatile uint64_t *)end; p++) {
        if (~*p != pattern_inverted)
            continue;
        if (found++ == 0)
            first = (uint64_t)p;
    }
    mf_printf("scan: %lu words of the pattern found\n", found);
    if (found == 0)
        return EVIL_OK;
    mf_printf("scan: the first at 0x%lx\n", first);
    return EVIL_WRONG;
}
