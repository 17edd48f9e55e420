/* Unit tests of x86/rtc.c: CMOS clock registers to Unix time, in BCD and
 * binary, 12- and 24-hour modes, with and without a century register,
 * and refusals of values a clock cannot show. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../x86/rtc.h"

#define BCD_24H 0x02
#define BIN_24H 0x06

static void bcd_and_binary_agree(void **state)
{
    /* 2026-12-01 15:33:06 UTC = 1796139186 */
    struct rtc_regs bcd = { 0x06, 0x33, 0x15, 0x01, 0x12, 0x26, 0x20, BCD_24H };
    struct rtc_regs bin = { 6, 33, 15, 1, 12, 26, 20, BIN_24H };
    (void)state;

    assert_int_equal(rtc_unix_seconds(&bcd), 1796139186);
    assert_int_equal(rtc_unix_seconds(&bin), 1796139186);
}

static void epoch_leap_days_and_no_century(void **state)
{
    struct rtc_regs epoch = { 0, 0, 0, 1, 1, 0x70, 0x19, BCD_24H };
    struct rtc_regs leap = { 0, 0, 0, 0x29, 0x02, 0x24, 0, BCD_24H };   /* 2024-02-29 */
    struct rtc_regs y2k = { 0x59, 0x59, 0x23, 0x31, 0x12, 0x99, 0x19, BCD_24H };
    (void)state;

    assert_int_equal(rtc_unix_seconds(&epoch), 0);
    assert_int_equal(rtc_unix_seconds(&leap), 1709164800);
    assert_int_equal(rtc_unix_seconds(&y2k), 946684799);
}

static void twelve_hour_mode(void **state)
{
    struct rtc_regs pm = { 0, 0, 0x80 | 0x03, 1, 1, 0x20, 0x20, 0x00 };    /* 3 PM */
    struct rtc_regs midnight = { 0, 0, 0x12, 1, 1, 0x20, 0x20, 0x00 };     /* 12 AM */
    struct rtc_regs noon = { 0, 0, 0x80 | 0x12, 1, 1, 0x20, 0x20, 0x00 };  /* 12 PM */
    int64_t day = 1577836800;                       /* 2020-01-01 */
    (void)state;

    assert_int_equal(rtc_unix_seconds(&pm), day + 15 * 3600);
    assert_int_equal(rtc_unix_seconds(&midnight), day);
    assert_int_equal(rtc_unix_seconds(&noon), day + 12 * 3600);
}

static void impossible_values_are_refused(void **state)
{
    struct rtc_regs bad[] = {
        { 0x60, 0, 0, 1, 1, 0x20, 0x20, BCD_24H },  /* second 60 */
        { 0, 0, 0x24, 1, 1, 0x20, 0x20, BCD_24H },  /* hour 24 */
        { 0, 0, 0, 0, 1, 0x20, 0x20, BCD_24H },     /* day 0 */
        { 0, 0, 0, 1, 0x13, 0x20, 0x20, BCD_24H },  /* month 13 */
        { 0x0a, 0, 0, 1, 1, 0x20, 0x20, BCD_24H },  /* not BCD */
        { 0, 0, 0, 1, 1, 0x20, 0x20, 0x00 },        /* 12-hour 0 o'clock */
        { 0, 0, 0, 1, 1, 100, 20, BIN_24H },        /* year 100 */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(rtc_unix_seconds(&bad[i]), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bcd_and_binary_agree),
        cmocka_unit_test(epoch_leap_days_and_no_century),
        cmocka_unit_test(twelve_hour_mode),
        cmocka_unit_test(impossible_values_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
