/*
 * Static partitions: carved once at boot from usable RAM, 2 MiB aligned,
 * in classes declared by the config. They never grow, shrink, split, merge
 * or move; a guest takes a whole partition and gives it back dirty (its
 * bytes still there) or zeroed. A free partition is clean (all zero) or
 * dirty; allocation prefers a clean one, and dirty ones are zeroed at idle in
 * slices (hv/fleet.c, fleet_scrub_idle) or, when no clean one is free,
 * by the launch that takes one. Allocation and release are O(1) per
 * class (two free lists each).
 */
#ifndef HV_PARTITION_H
#define HV_PARTITION_H

#include <stdint.h>
#include "boot_info.h"
#include "config.h"

#define PARTITION_NONE 0xffffffffu

struct partition {
    uint64_t base;
    uint64_t zeroed;               /* dirty: bytes from base zeroed since (idle slices) */
    uint32_t class_index;
    uint32_t next_free;            /* free-list link, PARTITION_NONE at the end */
    uint8_t in_use;
    uint8_t dirty;                 /* may hold a tenant's or the firmware's bytes */
    uint8_t scrubbing;             /* off its free list for one slice of idle zeroing */
};

struct partition_class {
    char name[CONFIG_NAME_MAX];
    uint64_t size;
    uint32_t count;
    uint32_t first;                /* index of the class's first partition */
    uint32_t free_head;            /* clean free partitions */
    uint32_t dirty_head;           /* dirty free partitions, not being zeroed */
    uint32_t free_count;           /* all free: clean, dirty and being zeroed */
    uint32_t dirty_count;          /* dirty among them (being zeroed included) */
    uint64_t lowest;               /* address range the class spans */
    uint64_t highest_end;
};

struct partition_table {
    uint32_t scrubbing;            /* partitions taken for a slice of idle zeroing */
    uint32_t class_count;
    struct partition_class classes[CONFIG_MAX_CLASSES];
    uint32_t count;
    struct partition parts[PARTITION_MAX];
};

/* What did not fit when carving failed. */
struct carve_shortfall {
    uint64_t needed;               /* bytes all classes need */
    uint64_t available;            /* usable bytes offered */
    uint64_t missing;              /* bytes of partitions that found no place */
    uint32_t missing_partitions;
    int first_class;               /* first class (config order) that came up short */
};

/*
 * Carves every class of cfg out of the usable ranges (which shrink
 * accordingly), largest class first, lowest address first. Returns 0, or
 * -1 with *shortfall filled when the partitions do not fit.
 */
int partition_carve(struct partition_table *t, const struct config *cfg,
                    struct mem_range *ranges, uint32_t *range_count, uint32_t max,
                    struct carve_shortfall *shortfall);

/*
 * Takes a free partition: of class class_index when that is >= 0,
 * otherwise of the smallest class of at least min_size with one free;
 * a clean one when its class has one, else a dirty one (the caller
 * zeroes what partition_dirty_from says, then partition_clean). A
 * partition being zeroed for a slice is not taken (it is back on its
 * list when the slice ends). Returns its index, or PARTITION_NONE.
 */
uint32_t partition_alloc(struct partition_table *t, int class_index, uint64_t min_size);

/* Returns partition index to its class's dirty list: the tenant's bytes
 * are still in it. */
void partition_free(struct partition_table *t, uint32_t index);

/* The same for a partition the caller has zeroed whole: to the clean list. */
void partition_free_zeroed(struct partition_table *t, uint32_t index);

/* Where the bytes of an allocated partition that may not be zero begin
 * (offset from its base; its size when it is clean). */
uint64_t partition_dirty_from(const struct partition_table *t, uint32_t index);

/* The caller zeroed what partition_dirty_from said: the partition is clean. */
void partition_clean(struct partition_table *t, uint32_t index);

/*
 * Idle zeroing, one slice at a time: takes a dirty free partition off
 * its list (the one the last slice worked on first, then the lowest
 * class's), so that nobody allocates it while the caller zeroes
 * [*from, *from + *len) of it without the lock; PARTITION_NONE when
 * none is dirty. Each slice is at most slice bytes.
 */
uint32_t partition_scrub_take(struct partition_table *t, uint64_t slice, uint64_t *from,
                              uint64_t *len);

/* The slice that partition_scrub_take gave is zeroed: back on its class's
 * clean list when that was the last of it, else on its dirty list. */
void partition_scrub_give(struct partition_table *t, uint32_t index);

/* Free partitions being zeroed now (taken by partition_scrub_take). */
uint32_t partition_scrubbing(const struct partition_table *t);

/* Whether every class's two free lists hold what its counts say: clean
 * free partitions on one, dirty ones on the other, those being zeroed
 * on neither (the resource check, hv/fleet.c). */
int partition_lists_agree(const struct partition_table *t);

#endif
