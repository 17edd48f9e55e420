/* CMOS clock registers to Unix time. */
#include "rtc.h"

#define RTC_B_BINARY    0x04
#define RTC_B_24H       0x02
#define RTC_HOUR_PM     0x80

static int decode(uint8_t v, int binary)
{
    if (binary)
        return v;
    if ((v & 0x0f) > 9 || (v >> 4) > 9)
        return -1;
    return (v >> 4) * 10 + (v & 0x0f);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar:
 * the year is counted from March, so that the leap day comes last. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t rtc_unix_seconds(const struct rtc_regs *r)
{
    int binary = (r->status_b & RTC_B_BINARY) != 0;
    int pm = !(r->status_b & RTC_B_24H) && (r->hour & RTC_HOUR_PM);
    int sec = decode(r->sec, binary), min = decode(r->min, binary);
    int hour = decode((uint8_t)(r->hour & ~RTC_HOUR_PM), binary);
    int day = decode(r->day, binary), month = decode(r->month, binary);
    int year = decode(r->year, binary);
    int century = r->century ? decode(r->century, binary) : 20;

    if (sec < 0 || sec > 59 || min < 0 || min > 59 || hour < 0 || hour > 23 || day < 1 ||
        day > 31 || month < 1 || month > 12 || year < 0 || year > 99 || century < 19 ||
        century > 99)
        return -1;
    if (!(r->status_b & RTC_B_24H)) {
        if (hour < 1 || hour > 12)
            return -1;
        hour = hour % 12 + (pm ? 12 : 0);
    }
    return days_from_civil(century * 100 + year, month, day) * 86400 + hour * 3600 +
           min * 60 + sec;
}
