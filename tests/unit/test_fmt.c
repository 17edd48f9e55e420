/* Unit tests of hv/fmt.c. Each expected string is written out by hand and,
 * where C defines the result, also checked against the host's snprintf so
 * a wrong expectation cannot hide a wrong formatter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <cmocka.h>

#include "fmt.h"

static char buf[256];

static void check_result(const char *want, size_t ret, const char *got)
{
    if (strcmp(got, want) != 0)
        fail_msg("got \"%s\", expected \"%s\"", got, want);
    if (ret != strlen(want))
        fail_msg("returned %zu for \"%s\", expected %zu", ret, want, strlen(want));
}

/* Same output as C's snprintf, which is checked too. */
#define CHECK(want, ...) do {                                           \
        char libc_[256];                                                \
        int n_ = snprintf(libc_, sizeof(libc_), __VA_ARGS__);           \
        check_result(want, (size_t)n_, libc_);                          \
        memset(buf, 0x55, sizeof(buf));                                 \
        check_result(want, fmt_snprintf(buf, sizeof(buf), __VA_ARGS__), buf); \
    } while (0)

/* For what C leaves undefined: no format checking, no libc oracle. */
static size_t fmt_loose(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    size_t n;
    va_start(ap, fmt);
    n = fmt_vsnprintf(dst, size, fmt, ap);
    va_end(ap);
    return n;
}

static void test_plain_and_percent(void **state)
{
    (void)state;
    CHECK("", "%s", "");
    CHECK("hello", "hello");
    CHECK("100%", "100%%");
    CHECK("%%", "%%%%");
    CHECK("a%b", "a%%%c", 'b');
}

static void test_strings(void **state)
{
    const char *volatile null_str = NULL;
    (void)state;
    CHECK("[abc]", "[%s]", "abc");
    CHECK("  abc", "%5s", "abc");
    CHECK("abc  |", "%-5s|", "abc");
    CHECK("abcdef", "%3s", "abcdef");
    CHECK("x=1,y=two", "x=%s,y=%s", "1", "two");
    check_result("(null)", fmt_snprintf(buf, sizeof(buf), "%s", null_str), buf);
}

static void test_chars(void **state)
{
    (void)state;
    CHECK("hi", "%c%c", 'h', 'i');
    CHECK("  x", "%3c", 'x');
    CHECK("x  |", "%-3c|", 'x');
}

static void test_signed(void **state)
{
    (void)state;
    CHECK("0", "%d", 0);
    CHECK("42 -42", "%d %i", 42, -42);
    CHECK("2147483647", "%d", INT_MAX);
    CHECK("-2147483648", "%d", INT_MIN);
    CHECK("-1", "%d", -1);
    CHECK("9223372036854775807", "%ld", LONG_MAX);
    CHECK("-9223372036854775808", "%lld", LLONG_MIN);
    CHECK("-9223372036854775808", "%li", LONG_MIN);
    CHECK("-5", "%zd", (ssize_t)-5);
}

static void test_signed_width_and_flags(void **state)
{
    (void)state;
    CHECK("   42", "%5d", 42);
    CHECK("42   |", "%-5d|", 42);
    CHECK("00042", "%05d", 42);
    CHECK("-0042", "%05d", -42);
    CHECK("  -42", "%5d", -42);
    CHECK("-42  |", "%-5d|", -42);
    /* '-' overrides '0' (gcc warns about the pair, so no format check). */
    assert_int_equal(fmt_loose(buf, sizeof(buf), "%-05d|", -42), 6);
    assert_string_equal(buf, "-42  |");
    CHECK("-42", "%3d", -42);
    CHECK("-42", "%2d", -42);
    CHECK("12345", "%2d", 12345);
    CHECK("0", "%0d", 0);
    CHECK("                  7", "%19d", 7);
}

static void test_unsigned(void **state)
{
    (void)state;
    CHECK("0", "%u", 0u);
    CHECK("4294967295", "%u", UINT_MAX);
    CHECK("4294967295", "%u", (unsigned)-1);
    CHECK("18446744073709551615", "%lu", ULONG_MAX);
    CHECK("18446744073709551615", "%llu", ULLONG_MAX);
    CHECK("18446744073709551615", "%zu", SIZE_MAX);
    CHECK("0000000123", "%010u", 123u);
    CHECK("123       |", "%-10u|", 123u);
}

static void test_hex(void **state)
{
    (void)state;
    CHECK("0", "%x", 0u);
    CHECK("deadbeef", "%x", 0xdeadbeefu);
    CHECK("DEADBEEF", "%X", 0xdeadbeefu);
    CHECK("ffffffff", "%x", -1);
    CHECK("ffffffffffffffff", "%lx", -1L);
    CHECK("123456789abcdef0", "%llx", 0x123456789abcdef0ULL);
    CHECK("000000000000ABCD", "%016llX", 0xabcdULL);
    CHECK("0000001f", "%08x", 0x1fu);
    CHECK("    1f", "%6x", 0x1fu);
    CHECK("1f    |", "%-6x|", 0x1fu);
    CHECK("fff", "%zx", (size_t)0xfff);
}

static void test_pointer(void **state)
{
    (void)state;
    CHECK("0x1234", "%p", (void *)0x1234);
    CHECK("0xffff800000001000", "%p", (void *)0xffff800000001000ULL);
    CHECK("at 0xabc.", "at %p.", (void *)0xabc);
}

/* The field width covers the whole of "0x...", as in C. */
static void test_pointer_width(void **state)
{
    (void)state;
    CHECK("    0x1234", "%10p", (void *)0x1234);
    CHECK("0x1234    |", "%-10p|", (void *)0x1234);
}

static void test_length_modifiers_read_right_width(void **state)
{
    (void)state;
    /* A wrongly sized va_arg would shift every later argument. */
    CHECK("1 2 3 4 5", "%d %ld %lld %zu %u", 1, 2L, 3LL, (size_t)4, 5u);
    CHECK("-1 ffffffffffffffff 7", "%lld %llx %d", -1LL, ~0ULL, 7);
    CHECK("a1b2", "%c%lu%c%zu", 'a', 1UL, 'b', (size_t)2);
}

static void test_truncation(void **state)
{
    char small[8];
    (void)state;
    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, sizeof(small), "hello %s", "world"), 11);
    assert_string_equal(small, "hello w");
    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, sizeof(small), "%d", 123456789), 9);
    assert_string_equal(small, "1234567");
    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, sizeof(small), "%7d", 1), 7);   /* exact fit */
    assert_string_equal(small, "      1");
    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, 1, "abc"), 3);
    assert_int_equal(small[0], '\0');
    assert_int_equal(small[1], 'Z');
    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, 0, "abc%d", 42), 5);
    assert_int_equal(small[0], 'Z');                 /* size 0: nothing written */
    assert_int_equal(fmt_snprintf(NULL, 0, "%s-%s", "ab", "cd"), 5);
    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, 4, "%-6s|", "ab"), 7);
    assert_string_equal(small, "ab ");
    assert_int_equal(small[4], 'Z');                 /* nothing past size */
}

static void test_unknown_conversions(void **state)
{
    (void)state;
    /* Not C: the formatter echoes what it does not know. */
    assert_int_equal(fmt_loose(buf, sizeof(buf), "a%qb"), 4);
    assert_string_equal(buf, "a%qb");
    assert_int_equal(fmt_loose(buf, sizeof(buf), "end%"), 4);
    assert_string_equal(buf, "end%");
    assert_int_equal(fmt_loose(buf, sizeof(buf), "%y%d", 5), 3);
    assert_string_equal(buf, "%y5");
}

static void test_mac(void **state)
{
    const uint8_t m[6] = { 0x52, 0x54, 0x00, 0xab, 0x0c, 0xff };
    char text[FMT_MAC_LEN];
    (void)state;
    assert_ptr_equal(fmt_mac(text, m), text);
    assert_string_equal(text, "52:54:00:ab:0c:ff");
}

static void test_ipv4(void **state)
{
    const uint8_t widest[4] = { 255, 255, 255, 255 }, mixed[4] = { 10, 0, 2, 15 };
    char text[FMT_IPV4_LEN];
    (void)state;
    assert_ptr_equal(fmt_ipv4(text, widest), text);
    assert_string_equal(text, "255.255.255.255");
    assert_string_equal(fmt_ipv4(text, mixed), "10.0.2.15");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mac),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_plain_and_percent),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_chars),
        cmocka_unit_test(test_signed),
        cmocka_unit_test(test_signed_width_and_flags),
        cmocka_unit_test(test_unsigned),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_pointer_width),
        cmocka_unit_test(test_length_modifiers_read_right_width),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_unknown_conversions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
