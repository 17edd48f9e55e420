/*
 * Static partitions: carved once at boot from usable RAM, 2 MiB aligned,
 * in classes declared by the config. They never grow, shrink, split, merge
 * or move; a guest takes a whole partition and gives it back scrubbed.
 * Allocation and release are O(1) per class (a free list each).
 */
#ifndef HV_PARTITION_H
#define HV_PARTITION_H

#include <stdint.h>
#include "boot_info.h"
#include "config.h"

#define PARTITION_NONE 0xffffffffu

struct partition {
    uint64_t base;
    uint32_t class_index;
    uint32_t next_free;            /* free-list link, PARTITION_NONE at the end */
    uint32_t in_use;
};

struct partition_class {
    char name[CONFIG_NAME_MAX];
    uint64_t size;
    uint32_t count;
    uint32_t first;                /* index of the class's first partition */
    uint32_t free_head;
    uint32_t free_count;
    uint64_t lowest;               /* address range the class spans */
    uint64_t highest_end;
};

struct partition_table {
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
 * otherwise of the smallest class of at least min_size with one free.
 * Returns its index, or PARTITION_NONE.
 */
uint32_t partition_alloc(struct partition_table *t, int class_index, uint64_t min_size);

/* Returns partition index to its class's free list. The caller has scrubbed it. */
void partition_free(struct partition_table *t, uint32_t index);

#endif
