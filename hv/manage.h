/*
 * Management: what an operator asks of a running hypervisor (start,
 * stop, list, stats), over the core's own types. The control channel
 * converts its wire requests into these calls and their results into
 * replies; nothing here knows the wire format. Every operation checks
 * the whole request before it changes anything, and returns 0 or
 * -MF_E* with the reason in why.
 */
#ifndef HV_MANAGE_H
#define HV_MANAGE_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "fleet.h"

enum manage_state { MANAGE_RUNNING = 1, MANAGE_WAITING, MANAGE_PENDING };

struct manage_entry {
    uint32_t id;
    enum manage_state state;
    char name[GUEST_NAME_MAX];
    const char *image, *class_name;     /* valid until the next operation */
    const char *personality;            /* "mayfly" or "solo5-hvt" */
    const char *service;                /* a summoned instance: its service; else NULL */
    uint32_t service_slot;              /* and its instance slot there */
    uint64_t mem_size, uptime_tsc, hypercalls;     /* 0 for pending instances */
};

struct manage_guest_stats {
    enum manage_state state;
    uint64_t uptime_tsc, hypercalls, preemptions;   /* 0 for pending instances */
    uint64_t rx_frames, tx_frames, drops;           /* its ports */
};

struct manage_stats {
    struct fleet_counts counts;
    uint64_t uptime_tsc;            /* since boot */
    uint64_t partitions_free;
    uint64_t frames, drops;         /* over every switch */
};

struct manage_started {
    uint32_t started, pending, first_id;    /* ids first_id .. first_id + count - 1 */
};

/* Sets the clock the uptimes count from. */
void manage_init(void);

/* Starts c->count instances of the image (size bytes): c is checked by
 * the config module's rules, the image by the ELF validator, and the
 * whole request refused when it would leave more instances waiting for
 * a partition than allowed or start instances without the network ports
 * they need. files finds what the line names besides its image (Solo5
 * block devices' backing files). */
int manage_start(const struct config_guest *c, const uint8_t *image, uint64_t size,
                 const struct fleet_files *files, uint64_t request_tsc,
                 struct manage_started *out, char *why, size_t why_size);

/* The same in two steps, for a line started again and again (a
 * summoned service's instances): manage_check_template runs every check
 * of manage_start but the capacity one on tmpl (tmpl->cfg set by the
 * caller, kept with tmpl) once; manage_start_from starts tmpl->cfg's
 * instances as manage_start would, from a copy of the template and its
 * cfg as they are at the call, without checking the image again. */
int manage_check_template(struct guest_line *tmpl, const uint8_t *image, uint64_t size,
                          const struct fleet_files *files, char *why, size_t why_size);
int manage_start_from(const struct guest_line *tmpl, uint64_t request_tsc,
                      struct manage_started *out, char *why, size_t why_size);

/* Stops a guest (ended, partition scrubbed and free, before this
 * returns) or cancels an instance still waiting for a partition. */
int manage_stop(uint32_t id, char *why, size_t why_size);

/* The same for a guest the hypervisor ends on purpose (an idle summoned
 * instance): logged as retired for reason (kept by pointer until it has
 * ended) and counted apart from kills, not as a failure. */
int manage_retire(uint32_t id, const char *reason, char *why, size_t why_size);

/* Calls emit for up to max guests from index first: the live guests in
 * partition order, then the pending instances; returns how many, with
 * the number there are in *total. */
uint32_t manage_list(uint32_t first, uint32_t max, uint32_t *total,
                     void (*emit)(const struct manage_entry *e, void *arg), void *arg);

int manage_guest_stats(uint32_t id, struct manage_guest_stats *out, char *why, size_t why_size);
void manage_stats(struct manage_stats *out);

/* Whether an image (by address) is still used by instances running or
 * waiting; an image the boot loader brought, by name (0, or -1); the
 * largest partition a guest can get. */
int manage_image_in_use(const uint8_t *image);
int manage_boot_image(const struct boot_info *info, const char *name, const uint8_t **data,
                      uint64_t *size);
uint64_t manage_largest_partition(void);

#endif
