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

/* One line per service with its counts, for the report. */
void summon_report(void);

#endif
