/*
 * The log: the recent lines of the hypervisor (id 0) and of every guest
 * (its id), one ring owned here. The console writes the hypervisor's
 * lines as it prints them (id 0), the guest module each guest's; the
 * control channel only reads (LOGS). Each line is stored once, under the
 * id of whoever wrote it. Before log_init, lines are not kept. Safe from
 * any CPU (one lock, taken last: nothing is locked under it).
 */
#ifndef HV_LOG_H
#define HV_LOG_H

#include <stdint.h>

/* Takes LOG_RING_BYTES of storage (hv/param.h). */
void log_init(void *storage);

/* Stores one line (len bytes, no newline) for id; a guest holding its
 * share of the ring pushes out only its own older lines. */
void log_line(uint32_t id, const char *text, uint32_t len);
void log_printf(uint32_t id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The newest lines of id that fit in max bytes, each ending in '\n';
 * *truncated when older ones were lost or did not fit. */
uint32_t log_read(uint32_t id, char *out, uint32_t max, int *truncated);

#endif
