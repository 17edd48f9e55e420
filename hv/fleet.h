/*
 * The fleet: the table of guests (one slot per partition), the guest
 * lines (the config's, then up to as many started over the control
 * channel), guest ids and the counts of guests started and ended. The
 * one owner of all of them; everyone else asks through these functions.
 *
 * A guest line asks for count instances; each gets a free partition of
 * its class (or the smallest class that fits) and its id (instance k of
 * a line is its first_id + k, reserved when the line is accepted). When
 * a guest ends, its partition goes back dirty (zeroed by the teardown
 * only when its class has no other clean partition free) and the next
 * instance waiting for one starts in it; a dirty partition nobody waits
 * for is zeroed when a CPU has nothing to run (fleet_scrub_idle), so
 * that a launch normally finds a clean one.
 *
 * With several CPUs (issue 12) the fleet lock guards the table's slots,
 * the lines, the partitions and the counts: fleet_finish takes it
 * itself; every other caller outside boot (hv/manage.c, for the control
 * channel) holds it around its calls. A new instance goes to the CPU
 * its line pins (cpu=) or the least loaded one.
 */
#ifndef HV_FLEET_H
#define HV_FLEET_H

#include <stdint.h>
#include "boot_info.h"
#include "config.h"
#include "guest.h"
#include "partition.h"

/* Guest lines: the config's, then as many started over the control channel. */
#define FLEET_LINES_MAX (2 * CONFIG_MAX_GUESTS)

struct fleet_counts {
    uint32_t started;           /* instances started since boot */
    uint32_t running;           /* alive now (ready, running or waiting) */
    uint32_t peak;              /* most alive at once */
    uint32_t exited_ok, failed, killed;     /* how they ended: 0, other status, killed */
    uint32_t retired;           /* stopped on purpose by the hypervisor (idle summoned ones) */
    uint32_t launch_failures;   /* instances that could not be started */
    uint32_t pending;           /* instances waiting for a partition */
};

/* Pool bytes per partition beyond the partition itself, and for the
 * network of this config. */
uint64_t fleet_footprint(uint64_t partition_size);
uint64_t fleet_pool_extra(const struct config *cfg, uint32_t partitions);

/* vCPUs for every partition, the network, the config's lines (their
 * images validated); then the autostart instances are started. */
void fleet_init(const struct config *cfg, struct partition_table *parts,
                const struct boot_info *info);

/* Called once the boot has set everything up (the control channel and
 * uplinks too): what the resource check compares with from then on. */
void fleet_booted(void);

/* The fleet lock (see above). */
void fleet_lock(void);
void fleet_unlock(void);

/* Starts as many instances waiting for a partition as free partitions
 * allow, in line order. */
void fleet_start_pending(void);

/* Ends g (in any live state) as exited or killed (why), then starts what
 * waited for its partition. On g's own CPU, without the fleet lock. */
void fleet_finish(struct guest *g, int killed, const char *why);

/* The live guest with this id, or NULL; a pending (not started, not
 * cancelled) instance with this id: 0 with its line and instance, or -1. */
struct guest *fleet_find(uint32_t id);
int fleet_find_pending(uint32_t id, struct guest_line **line, uint32_t *instance);

/* Cancels pending instance k of l: it never starts. */
void fleet_cancel(struct guest_line *l, uint32_t k);

/* Whether instance k of line l was cancelled before it started. */
int fleet_cancelled(const struct guest_line *l, uint32_t k);

/* Where the files a line names besides its image come from (the
 * backing of a Solo5 block device): find returns the bytes of the file
 * called name and its size, or NULL when there is none. The bytes must
 * stay put while a line uses them (fleet_image_in_use). */
struct fleet_files {
    const uint8_t *(*find)(void *arg, const char *name, uint64_t *size);
    void *arg;
};

/* A new line for cfg_line (copied) with its image checked, not yet
 * accepted: NULL with why (-MF_E* in *status) when no line is free or
 * the image is bad. fleet_accept makes it live (ids reserved; its
 * instances start at the next fleet_start_pending); fleet_abandon drops
 * it. */
struct guest_line *fleet_new_line(const struct config_guest *cfg_line, const uint8_t *image,
                                  uint64_t size, const struct fleet_files *files,
                                  uint64_t request_tsc, int *status, char *why, size_t why_size);
void fleet_accept(struct guest_line *l);
void fleet_abandon(struct guest_line *l);

/* A line checked once and kept by its caller (a summoned service's), so
 * that each start of it skips the image checks: fleet_check_template
 * runs fleet_new_line's checks on *out for out->cfg (the caller's, kept
 * as long as out is) and image, and sets out->valid when they pass
 * (0, else -1 with why); fleet_new_line_from is fleet_new_line
 * for a copy of a template that passed (with its cfg copied as it is
 * now). Both take the fleet lock as fleet_new_line does: the caller
 * holds it for fleet_new_line_from, fleet_check_template takes it. */
int fleet_check_template(struct guest_line *out, const uint8_t *image, uint64_t size,
                         const struct fleet_files *files, char *why, size_t why_size);
struct guest_line *fleet_new_line_from(const struct guest_line *tmpl, uint64_t request_tsc,
                                       int *status, char *why, size_t why_size);

/* Free partitions line l could get now. */
uint32_t fleet_partitions_for(const struct guest_line *l);

/* Instances waiting for a partition: over all lines, or over lines
 * started over the control channel only. */
uint32_t fleet_pending(int dynamic_only);

/* The counts; and the live guest count alone (for MF_HC_INFO). */
void fleet_counts(struct fleet_counts *out);
uint32_t fleet_running_count(void);

/* Walks the table and the lines: slot i (i < fleet_slots()), line i
 * (i < FLEET_LINES_MAX). */
uint32_t fleet_slots(void);
struct guest *fleet_slot(uint32_t i);
const struct guest_line *fleet_line(uint32_t i);

/* Whether a file (by address: an image, or a block device's backing) is
 * used by a line with instances running or waiting. */
int fleet_image_in_use(const uint8_t *image);

/* The config and partitions the fleet was set up with. */
const struct config *fleet_config(void);
const struct partition_table *fleet_partitions(void);

/* One slice (FLEET_SCRUB_SLICE bytes at most) of zeroing a dirty free
 * partition, for a CPU with nothing to run: 1 when it zeroed one, 0 when
 * no partition is dirty. The partition is off its free list (no launch
 * takes it) while the slice is zeroed without the fleet lock, so each
 * is zeroed by one CPU at a time and a launch waits one slice at most;
 * instances waiting for a partition are started after the slice. */
int fleet_scrub_idle(void);

/* Prints the end-of-run summary (counts, pending instances never
 * started, switch counters) and the resource check: one line, "mayfly:
 * resource check after N guests ended: ...: ok" or "...: WRONG: what",
 * saying whether every partition, port, switch slot and pool byte is
 * where its owner says. The check also runs every FLEET_CHECK_EVERY
 * ends. */
void fleet_report(void);

#endif
