/* A small printf-style formatter: %s %c %d %i %u %x %X %p %%, flags '-'
 * and '0', a field width, and the length modifiers l, ll and z. */
#ifndef HV_FMT_H
#define HV_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Writes at most size - 1 characters and a NUL (size > 0); returns the
 * length the full output would have had, like C's vsnprintf. */
size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats a reason into buf (when buf is not NULL and size > 0) and
 * returns err: the one helper behind every "fail with why" path. */
/* "52:54:00:12:34:56" into buf (FMT_MAC_LEN bytes); returns buf. */
#define FMT_MAC_LEN 18
char *fmt_mac(char buf[FMT_MAC_LEN], const uint8_t mac[6]);

/* "10.0.0.1" into buf (FMT_IPV4_LEN bytes) from an address in network
 * order (ip[0] first); returns buf. */
#define FMT_IPV4_LEN 16
char *fmt_ipv4(char buf[FMT_IPV4_LEN], const uint8_t ip[4]);

int fmt_error(char *buf, size_t size, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
