/* The run loop: schedules the guests on the boot CPU and runs the
 * pollers between them. */
#ifndef HV_RUN_H
#define HV_RUN_H

#include <stdint.h>

/* Something the run loop serves between guests and while it idles, at
 * most every RUN_POLL_US (hv/param.h), rate-limited by the TSC: the
 * console's transmit ring, the control channel, NIC drivers. */
struct run_poller {
    void (*poll)(void);         /* does what is due; never blocks for long */
    int (*wanted)(void);        /* whether it has work (or always looks) now */
    int keeps_alive;            /* it may bring guests: never power off when idle */
};

#define RUN_POLLERS_MAX 8

/* Registers p (it must stay valid). */
void run_add_poller(const struct run_poller *p);

/* Schedules until the machine powers off. */
void run_loop(void) __attribute__((noreturn));

#endif
