/* The CMOS real-time clock's registers turned into Unix time (pure: unit
 * tested on the host). */
#ifndef X86_RTC_H
#define X86_RTC_H

#include <stdint.h>

/* Registers as read: 0x00 seconds, 0x02 minutes, 0x04 hours, 0x07 day,
 * 0x08 month, 0x09 year, 0x32 century (0: the machine has none), and
 * status B (0x0b: bit 2 binary, bit 1 24-hour). */
struct rtc_regs {
    uint8_t sec, min, hour, day, month, year, century, status_b;
};

/* Seconds since 1970-01-01 00:00 UTC (the RTC is taken to run in UTC),
 * or -1 when a field is out of range. Years without a century register
 * are 2000 + year. */
int64_t rtc_unix_seconds(const struct rtc_regs *r);

#endif
