/* The boot log: formatted output on the serial console. */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include <stdarg.h>

void console_init(void);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

/* Prints "mayfly: fatal: <why>" and powers off with status. For conditions
 * outside the hypervisor (bad config, missing hardware feature). */
void fatal(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* For broken hypervisor invariants only: never for guest or user input. */
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Prints the final status line, drains the console and powers off. */
void hv_power_off(int status) __attribute__((noreturn));

#endif
