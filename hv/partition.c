#include "partition.h"
#include "lib.h"
#include "memmap.h"

static void class_init(struct partition_class *c, const struct config_class *cc,
                       uint32_t first)
{
    str_copy(c->name, cc->name, sizeof(c->name));
    c->size = cc->size;
    c->count = cc->count;
    c->first = first;
    c->free_head = PARTITION_NONE;
    c->free_count = 0;
    c->lowest = UINT64_MAX;
    c->highest_end = 0;
}

/* Carves one class; returns how many partitions found no place. */
static uint32_t carve_class(struct partition_table *t, uint32_t ci,
                            struct mem_range *ranges, uint32_t *range_count, uint32_t max)
{
    struct partition_class *c = &t->classes[ci];
    uint32_t missing = 0;

    for (uint32_t k = 0; k < c->count; k++) {
        struct partition *p = &t->parts[c->first + k];
        uint64_t base;

        p->class_index = ci;
        p->in_use = 0;
        p->next_free = PARTITION_NONE;
        if (memmap_take(ranges, range_count, max, c->size, PARTITION_ALIGN, &base) < 0) {
            missing++;
            p->base = 0;
            continue;
        }
        p->base = base;
        if (base < c->lowest)
            c->lowest = base;
        if (base + c->size > c->highest_end)
            c->highest_end = base + c->size;
    }
    return missing;
}

/* Builds each class's free list so the lowest address is handed out first. */
static void link_free_lists(struct partition_table *t)
{
    for (uint32_t ci = 0; ci < t->class_count; ci++) {
        struct partition_class *c = &t->classes[ci];
        for (uint32_t k = c->count; k-- > 0;) {
            t->parts[c->first + k].next_free = c->free_head;
            c->free_head = c->first + k;
            c->free_count++;
        }
    }
}

static int cmp_parts(const struct partition *a, const struct partition *b)
{
    return a->base < b->base ? -1 : a->base > b->base;
}

/* Sorts one class's slice of the table by address (insertion sort). */
static void sort_class(struct partition_table *t, const struct partition_class *c)
{
    struct partition *p = &t->parts[c->first];
    for (uint32_t i = 1; i < c->count; i++) {
        struct partition v = p[i];
        uint32_t j = i;
        while (j > 0 && cmp_parts(&p[j - 1], &v) > 0) {
            p[j] = p[j - 1];
            j--;
        }
        p[j] = v;
    }
}

int partition_carve(struct partition_table *t, const struct config *cfg,
                    struct mem_range *ranges, uint32_t *range_count, uint32_t max,
                    struct carve_shortfall *sf)
{
    uint32_t order[CONFIG_MAX_CLASSES], first = 0;

    memset(sf, 0, sizeof(*sf));
    sf->first_class = -1;
    sf->available = memmap_total(ranges, *range_count);
    t->class_count = cfg->class_count;
    for (uint32_t i = 0; i < cfg->class_count; i++) {
        class_init(&t->classes[i], &cfg->classes[i], first);
        first += cfg->classes[i].count;
        sf->needed += cfg->classes[i].size * cfg->classes[i].count;
        order[i] = i;
    }
    t->count = first;
    /* Largest class first: big blocks are placed before small ones fragment RAM. */
    for (uint32_t i = 1; i < cfg->class_count; i++)
        for (uint32_t j = i; j > 0 && cfg->classes[order[j]].size > cfg->classes[order[j - 1]].size; j--) {
            uint32_t tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    for (uint32_t i = 0; i < cfg->class_count; i++) {
        uint32_t ci = order[i];
        uint32_t miss = carve_class(t, ci, ranges, range_count, max);
        if (!miss)
            continue;
        sf->missing_partitions += miss;
        sf->missing += miss * t->classes[ci].size;
        if (sf->first_class < 0 || (int)ci < sf->first_class)
            sf->first_class = (int)ci;
    }
    if (sf->missing_partitions)
        return -1;
    for (uint32_t ci = 0; ci < t->class_count; ci++)
        sort_class(t, &t->classes[ci]);
    link_free_lists(t);
    return 0;
}

uint32_t partition_alloc(struct partition_table *t, int class_index, uint64_t min_size)
{
    struct partition_class *best = NULL;
    uint32_t idx;

    if (class_index >= 0) {
        if ((uint32_t)class_index < t->class_count)
            best = &t->classes[class_index];
    } else {
        for (uint32_t i = 0; i < t->class_count; i++) {
            struct partition_class *c = &t->classes[i];
            if (c->size >= min_size && c->free_count && (!best || c->size < best->size))
                best = c;
        }
    }
    if (!best || best->free_head == PARTITION_NONE)
        return PARTITION_NONE;
    idx = best->free_head;
    best->free_head = t->parts[idx].next_free;
    best->free_count--;
    t->parts[idx].next_free = PARTITION_NONE;
    t->parts[idx].in_use = 1;
    return idx;
}

void partition_free(struct partition_table *t, uint32_t index)
{
    struct partition *p;
    struct partition_class *c;

    if (index >= t->count || !t->parts[index].in_use)
        return;
    p = &t->parts[index];
    c = &t->classes[p->class_index];
    p->in_use = 0;
    p->next_free = c->free_head;
    c->free_head = index;
    c->free_count++;
}
