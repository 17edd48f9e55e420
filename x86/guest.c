/* A guest's long-mode setup inside its own memory: the flat GDT and the
 * identity page tables, in the layout of its personality (Mayfly or
 * Solo5 hvt), the same under every backend. */
#include "../hv/lib.h"
#include "../hv/pagetable.h"
#include "../hv/param.h"
#include "../include/mayfly/abi.h"
#include "../include/mayfly/hvt.h"
#include "guest.h"
#include "paging.h"

/* The partition is all zeroes here (scrubbed before the previous tenant
 * left, or at this launch), so table pages need no clearing. */
struct guest_tables {
    uint8_t *mem;
    uint64_t next, end;             /* table pages come from [next, end) */
};

static uint64_t guest_table_alloc(void *arg)
{
    struct guest_tables *t = arg;
    uint64_t gpa = t->next;

    if (gpa >= t->end)
        return 0;
    t->next += PAGE_SIZE;
    return gpa;
}

static uint64_t *guest_table_ptr(void *arg, uint64_t gpa)
{
    struct guest_tables *t = arg;
    return (uint64_t *)(void *)(t->mem + gpa);
}

/* Read-only 4 KiB leaves (the tables above them stay writable). */
static const struct pt_format hvt_read_only = {
    .table = PTE_P | PTE_RW,
    .leaf_2m = PTE_P | PTE_PS,
    .leaf_4k = PTE_P,
    .large = PTE_PS,
};

static void write_gdt(uint8_t *mem, uint64_t gpa)
{
    uint64_t *gdt = (uint64_t *)(void *)(mem + gpa);

    gdt[0] = 0;
    gdt[1] = 0x00af9b000000ffffULL;     /* 0x08: 64-bit code */
    gdt[2] = 0x00cf93000000ffffULL;     /* 0x10: data */
}

int x86_hvt_tables(uint8_t *mem, uint64_t size, uint64_t *cr3)
{
    struct guest_tables t = { mem, HVT_PAGE_TABLE_GPA, HVT_BOOT_INFO_GPA };
    struct pt_ctx c = { .fmt = &hvt_read_only, .alloc = guest_table_alloc,
                        .table_ptr = guest_table_ptr, .arg = &t };

    if (size < PAGE_2M || size % PAGE_2M || size > HVT_MEM_MAX)
        return -1;
    write_gdt(mem, HVT_GDT_GPA);
    if (pt_init(&c) < 0 ||
        pt_map(&c, HVT_BOOT_INFO_GPA, HVT_BOOT_INFO_GPA, HVT_IMAGE_BASE - HVT_BOOT_INFO_GPA,
               PAGE_SIZE) < 0)
        return -1;
    c.fmt = &paging_x86_format;
    if (pt_map(&c, HVT_IMAGE_BASE, HVT_IMAGE_BASE, PAGE_2M - HVT_IMAGE_BASE, PAGE_SIZE) < 0 ||
        (size > PAGE_2M && pt_map(&c, PAGE_2M, PAGE_2M, size - PAGE_2M, PAGE_2M) < 0))
        return -1;
    *cr3 = c.root;
    return 0;
}

/* The leaves of a Mayfly guest's first 2 MiB, the same in every guest:
 * 4 KiB pages mapped to themselves with paging_x86_format's leaf bits,
 * page 0 absent. A launch copies the table whole (a REP MOVSQ: 512
 * steps, where pt_map's loop took 13 instructions an entry, 6,600 of a
 * small launch's 9,900 beyond the image copy: issue 15). */
#define LEAF_4K(i) ((i) ? (uint64_t)(i) << 12 | PTE_P | PTE_RW : 0)
#define LEAVES_8(i) LEAF_4K(i), LEAF_4K((i) + 1), LEAF_4K((i) + 2), LEAF_4K((i) + 3), \
                    LEAF_4K((i) + 4), LEAF_4K((i) + 5), LEAF_4K((i) + 6), LEAF_4K((i) + 7)
#define LEAVES_64(i) LEAVES_8(i), LEAVES_8((i) + 8), LEAVES_8((i) + 16), LEAVES_8((i) + 24), \
                     LEAVES_8((i) + 32), LEAVES_8((i) + 40), LEAVES_8((i) + 48), \
                     LEAVES_8((i) + 56)
static const uint64_t first_2m_leaves[512] = {
    LEAVES_64(0), LEAVES_64(64), LEAVES_64(128), LEAVES_64(192),
    LEAVES_64(256), LEAVES_64(320), LEAVES_64(384), LEAVES_64(448),
};
_Static_assert(sizeof(first_2m_leaves) == PAGE_SIZE, "one table of 4 KiB leaves");

/* The leaf table under entry 0 of every level: the one pt_map made for
 * guest-physical page 1. */
static uint64_t *first_leaf_table(const struct pt_ctx *c)
{
    uint64_t addr = c->root;

    for (int level = 4; level > 1; level--)
        addr = c->table_ptr(c->arg, addr)[0] & PT_ADDR_MASK;
    return c->table_ptr(c->arg, addr);
}

int x86_guest_tables(uint8_t *mem, uint64_t size, uint64_t *cr3)
{
    struct guest_tables t = { mem, MF_PAGE_TABLE_GPA, MF_PAGE_TABLE_END };
    struct pt_ctx c = { .fmt = &paging_x86_format, .alloc = guest_table_alloc,
                        .table_ptr = guest_table_ptr, .arg = &t };
    write_gdt(mem, MF_GDT_GPA);
    if (pt_init(&c) < 0 || pt_map(&c, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE) < 0)
        return -1;
    memcpy(first_leaf_table(&c), first_2m_leaves, sizeof(first_2m_leaves));
    if (size > PAGE_2M && pt_map(&c, PAGE_2M, PAGE_2M, size - PAGE_2M, PAGE_2M) < 0)
        return -1;
    *cr3 = c.root;
    return 0;
}

