/* The run loop: one per CPU, each scheduling the guests admitted to it
 * (hv/lifecycle.h) and running the pollers between them. */
#ifndef HV_RUN_H
#define HV_RUN_H

#include <stdint.h>

/* Something the run loop serves between guests and while it idles, at
 * most every RUN_POLL_US (hv/param.h), rate-limited by the TSC: the
 * console's transmit ring, the control channel, NIC drivers. A poller
 * runs on the boot CPU only, unless every_cpu: then each CPU runs it (it
 * must be safe to run on several at once). */
struct run_poller {
    void (*poll)(void);         /* does what is due; never blocks for long */
    int (*wanted)(void);        /* whether it has work (or always looks) now */
    int keeps_alive;            /* it may bring guests: never power off when idle */
    int every_cpu;
    void (*report)(void);       /* its lines for the final report (after the fleet's), or NULL */
};

#define RUN_POLLERS_MAX 8

/* Registers p (it must stay valid), before the APs run. */
void run_add_poller(const struct run_poller *p);

/* The quantum and poll period, from the TSC rate: before any run_loop. */
void run_init(void);

/* From any CPU: the boot CPU's pollers run as soon as it is between
 * guests (it is kicked out of an idle wait or a guest), not at their next
 * RUN_POLL_US (bytes for the control channel have arrived). */
void run_poll_soon(void);

/* Schedules this CPU (cpu: its index) until the machine powers off. */
void run_loop(uint32_t cpu) __attribute__((noreturn));

#endif
