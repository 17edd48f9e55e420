/*
 * The boot log on the serial console. Output goes into a transmit ring
 * that console_poll() drains without waiting (the run loop calls it while
 * guests run and while it idles), so no line stalls the CPU once guests
 * run. Before that (boot) and at power-off it is written out at once.
 *
 * Hypervisor lines always get in: if the ring is full they wait for
 * room. Safe from any CPU: each CPU's output is gathered into whole
 * lines, which go out under one lock, never interleaved mid-line. A guest's lines are held to a share of the ring (its quota):
 * what does not fit is dropped and counted, never waited for.
 */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include <stdarg.h>
#include <stdint.h>

/* One writer's share of the transmit ring (a guest's). */
struct console_quota {
    uint32_t owner;             /* the guest id the queued bytes belong to */
    uint32_t queued;            /* its bytes in the ring not yet sent */
    uint32_t dropped_lines;     /* lines that did not fit its share */
};

void console_init(void);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

/* From now on output is buffered and drained by console_poll(). */
void console_start_buffering(void);

/* Prints "[prefix] text" as one line for the writer of q (q->owner set),
 * or drops it (counted in q) when it would exceed the writer's share or
 * the ring. The line is not stored in the hypervisor's log (id 0): the
 * caller logs it under its own id. */
void console_guest_line(struct console_quota *q, const char *prefix, const char *text,
                        uint32_t len);

/* A new tenant's share: nothing queued, nothing dropped, owned by owner
 * (under the console lock: another CPU may be retiring old lines). */
void console_quota_reset(struct console_quota *q, uint32_t owner);

/* Sends what the UART takes now. Whether bytes are still waiting. */
int console_poll(void);

/* Whether bytes wait to be sent (cheap: no UART access). */
int console_pending(void);

/* Writes out everything waiting and waits until it has left the UART. */
void console_flush(void);

/* Prints "mayfly: fatal: <why>" and powers off with status. For conditions
 * outside the hypervisor (bad config, missing hardware feature). */
void fatal(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* For broken hypervisor invariants only: never for guest or user input. */
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Prints the final status line, drains the console and powers off. */
void hv_power_off(int status) __attribute__((noreturn));

#endif
