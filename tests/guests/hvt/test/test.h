/* hvt-test: the modes, one function each (main.c dispatches). */
#ifndef TESTS_GUESTS_HVT_TEST_H
#define TESTS_GUESTS_HVT_TEST_H

#include "hvtlib.h"

/* Each returns the exit status (modes that must not return end in a
 * fault or are ended by the host; if they do return, it is 1). */
int test_hello(const struct hvt_boot_info *bi);
int test_data(const struct hvt_boot_info *bi);
int test_tls(const struct hvt_boot_info *bi);
int test_sse(const struct hvt_boot_info *bi);
int test_time(const struct hvt_boot_info *bi);
int test_trap_pf(const struct hvt_boot_info *bi);
int test_trap_null(const struct hvt_boot_info *bi);
int test_ssp(const struct hvt_boot_info *bi);
int test_ud(const struct hvt_boot_info *bi);
int test_bad_struct(const struct hvt_boot_info *bi);
int test_puts_wrap(const struct hvt_boot_info *bi);
int test_bad_handle(const struct hvt_boot_info *bi);
int test_bad_port(const struct hvt_boot_info *bi);
int test_spin(const struct hvt_boot_info *bi);
int test_in_port(const struct hvt_boot_info *bi);

/* An address the compiler cannot see through (so that a null or wild
 * access is compiled as written, not as a trap of its own). */
static inline uintptr_t test_opaque(uintptr_t a)
{
    __asm__ volatile("" : "+r"(a));
    return a;
}

#endif
