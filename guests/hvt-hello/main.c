/*
 * hvt-hello: the demo's Solo5 hvt unikernel (make demo).
 *
 * Protocol: any args. Prints
 *   hvt-hello: hello from a Solo5 hvt unikernel on Mayfly
 *   hvt-hello: command line "<args>"
 *   hvt-hello: walltime year <YYYY>
 * and exits 0 (1 if WALLTIME is before 2020).
 */
#include "hvtlib.h"

HVT_MANIFEST(0);

#define SECONDS_PER_DAY 86400u

/* The Gregorian year of a day count since 1970-01-01. */
static unsigned year_of(uint64_t days)
{
    unsigned year = 1970;

    for (;;) {
        unsigned len = (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 366 : 365;

        if (days < len)
            return year;
        days -= len;
        year++;
    }
}

int main(const struct hvt_boot_info *bi)
{
    uint64_t secs = hvt_walltime() / 1000000000u;
    unsigned year = year_of(secs / SECONDS_PER_DAY);

    (void)bi;
    hvt_puts("hvt-hello: hello from a Solo5 hvt unikernel on Mayfly\n");
    hvt_printf("hvt-hello: command line \"%s\"\n", hvt_cmdline());
    hvt_printf("hvt-hello: walltime year %u\n", year);
    return year >= 2020 ? HVT_EXIT_SUCCESS : HVT_EXIT_FAILURE;
}
