#include "pagetable.h"
#include "param.h"

#define PT_PRESENT_MASK 0x7ULL      /* any of P/R, W, X/U: the entry is in use */
#define PT_LEVELS 4

static unsigned index_at(uint64_t va, int level)
{
    return (unsigned)((va >> (12 + 9 * (level - 1))) & 511);
}

int pt_init(struct pt_ctx *c)
{
    c->tables = 0;
    c->root = c->alloc(c->arg);
    if (!c->root)
        return -1;
    c->tables = 1;
    return 0;
}

/* Returns the entry for va at leaf_level, creating tables above it. */
static uint64_t *walk_create(struct pt_ctx *c, uint64_t va, int leaf_level)
{
    uint64_t addr = c->root;

    for (int level = PT_LEVELS; level > leaf_level; level--) {
        uint64_t *e = &c->table_ptr(c->arg, addr)[index_at(va, level)];
        if (!(*e & PT_PRESENT_MASK)) {
            uint64_t page = c->alloc(c->arg);
            if (!page)
                return 0;
            c->tables++;
            *e = (page & PT_ADDR_MASK) | c->fmt->table;
        } else if (level <= 2 && (*e & c->fmt->large)) {
            return 0;                   /* a large leaf is in the way */
        }
        addr = *e & PT_ADDR_MASK;
    }
    return &c->table_ptr(c->arg, addr)[index_at(va, leaf_level)];
}

int pt_map(struct pt_ctx *c, uint64_t va, uint64_t pa, uint64_t size, uint64_t page_size)
{
    int level = page_size == PAGE_2M ? 2 : 1;
    uint64_t leaf = level == 2 ? c->fmt->leaf_2m : c->fmt->leaf_4k;
    uint64_t off = 0;

    if ((page_size != PAGE_2M && page_size != PAGE_SIZE) ||
        ((va | pa | size) & (page_size - 1)) || va + size < va || pa + size < pa ||
        ((va + size - 1) >> 48) || ((pa + size - 1) >> 52))
        return -1;
    while (off < size) {
        /* One walk per table, then fill its entries in a row. */
        uint64_t *e = walk_create(c, va + off, level);
        unsigned first = index_at(va + off, level);
        if (!e)
            return -1;
        for (unsigned i = first; i < 512 && off < size; i++, e++, off += page_size) {
            if (*e & PT_PRESENT_MASK)
                return -1;
            *e = ((pa + off) & PT_ADDR_MASK) | leaf;
        }
    }
    return 0;
}

uint64_t pt_lookup(struct pt_ctx *c, uint64_t va)
{
    uint64_t addr = c->root;

    for (int level = PT_LEVELS; level >= 1; level--) {
        uint64_t e = c->table_ptr(c->arg, addr)[index_at(va, level)];
        if (!(e & PT_PRESENT_MASK))
            return ~0ULL;
        if (level == 1 || (level == 2 && (e & c->fmt->large))) {
            uint64_t span = level == 1 ? PAGE_SIZE : PAGE_2M;
            return (e & PT_ADDR_MASK & ~(span - 1)) | (va & (span - 1));
        }
        addr = e & PT_ADDR_MASK;
    }
    return ~0ULL;
}
