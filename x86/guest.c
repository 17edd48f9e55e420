/* A Mayfly guest's long-mode setup inside its own memory: the flat GDT
 * and the identity page tables, the same under every backend. */
#include "../hv/pagetable.h"
#include "../hv/param.h"
#include "../include/mayfly/abi.h"
#include "guest.h"
#include "paging.h"

/* The partition is all zeroes here (scrubbed before the previous tenant
 * left, or at this launch), so table pages need no clearing. */
struct guest_tables {
    uint8_t *mem;
    uint64_t next;
};

static uint64_t guest_table_alloc(void *arg)
{
    struct guest_tables *t = arg;
    uint64_t gpa = t->next;

    if (gpa >= MF_PAGE_TABLE_END)
        return 0;
    t->next += PAGE_SIZE;
    return gpa;
}

static uint64_t *guest_table_ptr(void *arg, uint64_t gpa)
{
    struct guest_tables *t = arg;
    return (uint64_t *)(void *)(t->mem + gpa);
}

int x86_guest_tables(uint8_t *mem, uint64_t size, uint64_t *cr3)
{
    struct guest_tables t = { mem, MF_PAGE_TABLE_GPA };
    struct pt_ctx c = { .fmt = &paging_x86_format, .alloc = guest_table_alloc,
                        .table_ptr = guest_table_ptr, .arg = &t };
    uint64_t *gdt = (uint64_t *)(void *)(mem + MF_GDT_GPA);

    gdt[0] = 0;
    gdt[1] = 0x00af9b000000ffffULL;     /* 0x08: 64-bit code */
    gdt[2] = 0x00cf93000000ffffULL;     /* 0x10: data */
    if (pt_init(&c) < 0 || pt_map(&c, PAGE_SIZE, PAGE_SIZE, PAGE_2M - PAGE_SIZE, PAGE_SIZE) < 0)
        return -1;
    if (size > PAGE_2M && pt_map(&c, PAGE_2M, PAGE_2M, size - PAGE_2M, PAGE_2M) < 0)
        return -1;
    *cr3 = c.root;
    return 0;
}

