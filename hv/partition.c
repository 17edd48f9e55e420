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
    c->dirty_head = PARTITION_NONE;
    c->free_count = 0;
    c->dirty_count = 0;
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
        p->dirty = 1;                   /* firmware's or the loader's bytes */
        p->zeroed = 0;
        p->scrubbing = 0;
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

static void push(struct partition_table *t, uint32_t *head, uint32_t index)
{
    t->parts[index].next_free = *head;
    *head = index;
}

static uint32_t pop(struct partition_table *t, uint32_t *head)
{
    uint32_t index = *head;

    *head = t->parts[index].next_free;
    t->parts[index].next_free = PARTITION_NONE;
    return index;
}

/* Builds each class's free list so the lowest address is handed out
 * first: every partition dirty (nothing has zeroed it since boot). */
static void link_free_lists(struct partition_table *t)
{
    for (uint32_t ci = 0; ci < t->class_count; ci++) {
        struct partition_class *c = &t->classes[ci];
        for (uint32_t k = c->count; k-- > 0;) {
            push(t, &c->dirty_head, c->first + k);
            c->free_count++;
            c->dirty_count++;
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
    t->scrubbing = 0;
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

/* Whether class c has a free partition that is not being zeroed now. */
static int takeable(const struct partition_class *c)
{
    return c->free_head != PARTITION_NONE || c->dirty_head != PARTITION_NONE;
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
            if (c->size >= min_size && takeable(c) && (!best || c->size < best->size))
                best = c;
        }
    }
    if (!best || !takeable(best))
        return PARTITION_NONE;
    if (best->free_head != PARTITION_NONE) {
        idx = pop(t, &best->free_head);
    } else {
        idx = pop(t, &best->dirty_head);
        best->dirty_count--;
    }
    best->free_count--;
    t->parts[idx].in_use = 1;
    return idx;
}

/* An allocated partition back on its class's clean list (zeroed whole
 * by the caller) or dirty list. */
static void give_back(struct partition_table *t, uint32_t index, int zeroed)
{
    struct partition *p;
    struct partition_class *c;

    if (index >= t->count || !t->parts[index].in_use)
        return;
    p = &t->parts[index];
    c = &t->classes[p->class_index];
    p->in_use = 0;
    if (zeroed) {
        partition_clean(t, index);
        push(t, &c->free_head, index);
    } else {
        p->dirty = 1;
        p->zeroed = 0;
        push(t, &c->dirty_head, index);
        c->dirty_count++;
    }
    c->free_count++;
}

void partition_free(struct partition_table *t, uint32_t index)
{
    give_back(t, index, 0);
}

void partition_free_zeroed(struct partition_table *t, uint32_t index)
{
    give_back(t, index, 1);
}

uint64_t partition_dirty_from(const struct partition_table *t, uint32_t index)
{
    const struct partition *p = &t->parts[index];

    return p->dirty ? p->zeroed : t->classes[p->class_index].size;
}

void partition_clean(struct partition_table *t, uint32_t index)
{
    t->parts[index].dirty = 0;
    t->parts[index].zeroed = 0;
}

uint32_t partition_scrub_take(struct partition_table *t, uint64_t slice, uint64_t *from,
                              uint64_t *len)
{
    for (uint32_t ci = 0; ci < t->class_count; ci++) {
        struct partition_class *c = &t->classes[ci];
        struct partition *p;
        uint32_t idx;

        if (c->dirty_head == PARTITION_NONE)
            continue;
        idx = pop(t, &c->dirty_head);
        p = &t->parts[idx];
        p->scrubbing = 1;
        t->scrubbing++;
        *from = p->zeroed;
        *len = c->size - p->zeroed < slice ? c->size - p->zeroed : slice;
        /* Zero by the time it is given back, and nobody looks meanwhile. */
        p->zeroed += *len;
        return idx;
    }
    return PARTITION_NONE;
}

void partition_scrub_give(struct partition_table *t, uint32_t index)
{
    struct partition *p;
    struct partition_class *c;

    if (index >= t->count || !t->parts[index].scrubbing)
        return;
    p = &t->parts[index];
    c = &t->classes[p->class_index];
    p->scrubbing = 0;
    t->scrubbing--;
    if (p->zeroed < c->size) {
        push(t, &c->dirty_head, index);     /* the next slice goes on with it */
        return;
    }
    partition_clean(t, index);
    push(t, &c->free_head, index);
    c->dirty_count--;
}

uint32_t partition_scrubbing(const struct partition_table *t)
{
    return t->scrubbing;
}

/* The length of a free list whose members all have dirty == want_dirty
 * and are free; count + 1 when one is not (or the list runs on). */
static uint32_t list_length(const struct partition_table *t, uint32_t head, uint8_t want_dirty)
{
    uint32_t n = 0;

    for (uint32_t i = head; i != PARTITION_NONE; i = t->parts[i].next_free) {
        const struct partition *p = &t->parts[i];
        if (i >= t->count || n == t->count || p->in_use || p->scrubbing || p->dirty != want_dirty)
            return t->count + 1;
        n++;
    }
    return n;
}

int partition_lists_agree(const struct partition_table *t)
{
    uint32_t scrubbing = 0;

    for (uint32_t ci = 0; ci < t->class_count; ci++) {
        const struct partition_class *c = &t->classes[ci];
        uint32_t clean = list_length(t, c->free_head, 0);
        uint32_t dirty = list_length(t, c->dirty_head, 1), busy = 0;

        for (uint32_t k = 0; k < c->count; k++)
            busy += t->parts[c->first + k].scrubbing;
        scrubbing += busy;
        if (clean + dirty + busy != c->free_count || dirty + busy != c->dirty_count)
            return 0;
    }
    return scrubbing == t->scrubbing;
}
