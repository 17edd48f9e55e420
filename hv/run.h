/* The scheduler loop: every guest on the boot CPU, round-robin, with the
 * preemption timer as quantum; waiting guests leave the run queue until
 * their deadline; the CPU idles when nothing can run. */
#ifndef HV_RUN_H
#define HV_RUN_H

#include "../include/mayfly/control.h"
#include "guest.h"

/* Guest lifecycle steps used by the loop (hv/guest.c). */
int guest_line_check(struct guest_line *l, const struct config *cfg,
                     const struct partition_table *parts, const uint8_t *image, uint64_t size,
                     char *why, size_t why_size);
void guest_line_activate(struct guest_line *l, const struct partition_table *parts);
void guest_start_pending(struct guest_line *lines, uint32_t count, struct guest *guests,
                         struct partition_table *parts, const struct config *cfg);
void guest_end(struct guest *g, struct guest_line *l, struct partition_table *parts,
               int killed, const char *why);

/* Guest lines: the config's, then up to as many started over the
 * control channel. */
#define RUN_LINES_MAX (2 * CONFIG_MAX_GUESTS)

/* Control-channel operations (hv/control.c validates the request first).
 * Each returns 0 or -MF_E* with why filled. */
int run_start(const struct mf_ctl_start *req, const uint8_t *image, uint64_t size,
              uint64_t request_tsc, struct mf_ctl_start_reply *out, char *why,
              size_t why_size);
/* Stops a guest (it is ended, its partition scrubbed and free, before
 * this returns) or cancels an instance still waiting for a partition. */
int run_stop(uint32_t id, char *why, size_t why_size);
/* Fills up to max entries for the alive guests from index first; returns
 * how many, with the number alive in *total. */
uint32_t run_list(uint32_t first, struct mf_ctl_guest_entry *out, uint32_t max,
                  uint32_t *total);
int run_stats(uint32_t id, struct mf_ctl_stats_reply *out, char *why, size_t why_size);
/* Whether an image (by address) is still needed by a line with instances
 * running or waiting for a partition. */
int run_image_in_use(const uint8_t *image);
/* An image the boot loader brought, by name: 0 with its bytes, or -1. */
int run_boot_image(const char *name, const uint8_t **data, uint64_t *size);

/* The largest partition a guest can get, for validating uploads. */
uint64_t run_largest_partition(void);

/* Hypervisor bytes per partition beyond the partition itself, and pool
 * bytes the network needs for this config. */
uint64_t run_footprint(uint64_t partition_size);
uint64_t run_pool_extra(const struct config *cfg, uint32_t partitions);

/* Boots the guest side: vCPUs for every partition, images validated,
 * autostart instances started; then schedules until the machine powers
 * off. Never returns. */
void run_all(struct config *cfg, struct partition_table *parts, const struct boot_info *info)
    __attribute__((noreturn));

#endif
