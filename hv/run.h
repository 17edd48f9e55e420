/* The scheduler loop: every guest on the boot CPU, round-robin, with the
 * preemption timer as quantum; waiting guests leave the run queue until
 * their deadline; the CPU idles when nothing can run. */
#ifndef HV_RUN_H
#define HV_RUN_H

#include "guest.h"

#define RUN_QUANTUM_MS 10

/* Puts g on the run queue. */
void run_enqueue(struct guest *g);

/* Guest lifecycle steps used by the loop (hv/guest.c). */
int guest_line_prepare(struct guest_line *l, const struct config *cfg,
                       const struct partition_table *parts, const struct boot_info *info);
void guest_start_pending(struct guest_line *lines, uint32_t count, struct guest *guests,
                         struct partition_table *parts, const struct config *cfg);
void guest_end(struct guest *g, struct partition_table *parts, int killed, const char *why);

/* Hypervisor bytes per partition beyond the partition itself, and pool
 * bytes the network needs for this config. */
uint64_t run_footprint(uint64_t partition_size);
uint64_t run_pool_extra(const struct config *cfg, uint32_t partitions);

#endif
