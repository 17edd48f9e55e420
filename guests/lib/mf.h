/*
 * The Mayfly guest runtime: what a guest's main() may use.
 *
 * A guest defines `int main(const struct mf_boot_info *bi)`; crt0 calls it
 * through mf_start() and passes its return value to mf_exit(). Guests
 * include this header and include/mayfly/, never anything under hv/.
 */
#ifndef GUESTS_MF_H
#define GUESTS_MF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <mayfly/abi.h>

#include "hypercall.h"

int main(const struct mf_boot_info *bi);

/* Entry from crt0: records the boot info, parses the command line, runs
 * main() and exits with its result. */
__attribute__((noreturn)) void mf_start(const struct mf_boot_info *bi);

/* --- hypercalls (guests/lib/runtime.c) --- */

/* Writes all of buf (in MF_CONSOLE_WRITE_MAX pieces); returns the bytes
 * written or the first -MF_E* error. */
long mf_console_write(const void *buf, size_t len);
long mf_puts(const char *s);
/* Formats into a stack buffer (longer output is cut at MF_PRINTF_MAX - 1
 * bytes) and writes it; returns what mf_console_write returned. */
#define MF_PRINTF_MAX 512
long mf_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
long mf_vprintf(const char *fmt, va_list ap);
__attribute__((noreturn)) void mf_exit(uint64_t status);
/* Blocks until a notification arrives or the TSC reaches deadline_tsc:
 * returns the fired notification bits, 0 on timeout, or -MF_E*. */
long mf_wait_until(uint64_t deadline_tsc);
long mf_yield(void);
long mf_info(struct mf_info *info);

/* --- time --- */
static inline uint64_t mf_tsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
/* The TSC at the guest's first instruction (read by crt0). */
extern uint64_t mf_entry_tsc;
/* TSC ticks in ns nanoseconds at the boot-info frequency. */
uint64_t mf_ns_to_tsc(uint64_t ns);
/* Returns once at least ns nanoseconds have passed, blocked in
 * MF_HC_WAIT (waiting again if a notification ends a wait early). */
void mf_sleep_ns(uint64_t ns);

/* --- boot info (valid once mf_start has run) --- */
const struct mf_boot_info *mf_boot_info(void);
const char *mf_name(void);
uint32_t mf_instance(void);
uint32_t mf_guest_id(void);
const char *mf_cmdline(void);
uint64_t mf_mem_size(void);
uint64_t mf_tsc_hz(void);

/* --- arguments (guests/lib/args.c) --- */
#define MF_ARGS_MAX 32

struct mf_args {
    int argc;
    char *argv[MF_ARGS_MAX];
    char buf[MF_CMDLINE_MAX];
};

/* Splits line at spaces and tabs into a->argv (copied into a->buf, cut
 * at MF_CMDLINE_MAX - 1 bytes); words past MF_ARGS_MAX are dropped.
 * Returns a->argc. */
int mf_args_split(struct mf_args *a, const char *line);
/* The boot command line, split by mf_start. mf_arg returns NULL past the
 * last argument. */
int mf_argc(void);
const char *mf_arg(int i);

/* Decimal, or hex after "0x"/"0X". Returns 0, -MF_EINVAL for a malformed
 * number, or -MF_ERANGE if it does not fit in 64 bits. */
int mf_parse_u64(const char *s, uint64_t *out);
/* Hex with or without the "0x" prefix; same results. */
int mf_parse_hex(const char *s, uint64_t *out);

/* --- strings (guests/lib/string.c) --- */
#include "cstring.h"

/* --- formatting: hv/fmt.c, compiled into the guest library --- */
size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- linker-script symbols (guests/lib/guest.ld) --- */
extern char __image_start[], __image_end[];

#endif
