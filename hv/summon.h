/*
 * Summoning (issue 14, docs/summon.md): each summon line of the config
 * is a service address on a switch, answered by a front port
 * (hv/service.h) from boot on. Its instances are started here, on the
 * boot CPU, when the front holds a frame for one, and stopped when they
 * have been idle for the line's idle= (their partitions are scrubbed and
 * free again before the stop returns).
 */
#ifndef HV_SUMMON_H
#define HV_SUMMON_H

#include <stdint.h>
#include "boot_info.h"
#include "config.h"
#include "port.h"

/* Brings every summon line's front up (after net_init and the fleet),
 * a line each; a line whose image was not loaded or whose switch has no
 * room is logged and left out. Adds the summoner's poller. */
void summon_init(const struct config *cfg, const struct boot_info *info);

/* Port p was just taken for guest line c: if c is a summoned instance,
 * the port joins its service (under the switch's lock). */
void summon_join(const struct config_guest *c, struct port *p);

/* What the control channel reports of a service (mfctl stats). */
struct summon_info {
    const char *name;
    uint32_t ip;                    /* a << 24 | ... */
    uint16_t port;                  /* 0: any */
    uint32_t max, running, idle_ms;
    uint64_t summoned, idled, ended, launch_failures, flows;
    uint64_t held, flushed, hold_drops, no_instance_drops, arp_answered;
    uint64_t latency_avg, latency_min, latency_max, latency_count;  /* first frame -> first
                                                                       reply, TSC ticks */
};

/* Services brought up; service i's figures (0, or -1 past the end). */
uint32_t summon_services(void);
int summon_info(uint32_t i, struct summon_info *out);

/* One line per service with its counts, for the report. */
void summon_report(void);

#endif
