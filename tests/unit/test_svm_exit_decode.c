/*
 * Unit tests of svm/exit_decode.c: an IOIO exit becomes a VM_EXIT_IO
 * with the port, size, direction and value EXITINFO1 and RAX say (APM
 * vol. 2, 15.10.2), an EXITINFO1 without exactly one size is refused,
 * nested page faults name their access, and EXITCODEs their APM names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../svm/svm.h"

#define RAX_PATTERN 0x1122334455667788ULL

/* EXITINFO1 of an IOIO exit: size in bytes, IN or OUT, port. */
static uint64_t exitinfo1(unsigned size, int in, uint16_t port)
{
    return (size == 1 ? IOIO_SIZE8 : size == 2 ? IOIO_SIZE16 : IOIO_SIZE32) |
           (in ? IOIO_IN : 0) | (uint64_t)port << 16;
}

static struct vm_exit decoded(uint64_t info, uint64_t rax, int want)
{
    struct vm_exit e;

    memset(&e, 0xa5, sizeof(e));
    assert_int_equal(svm_decode_io(info, rax, 0x1234, &e), want);
    return e;
}

static void test_out_sizes(void **state)
{
    static const struct { unsigned size; uint32_t value; } cases[] = {
        { 1, 0x88 }, { 2, 0x7788 }, { 4, 0x55667788 },
    };

    (void)state;
    for (unsigned i = 0; i < 3; i++) {
        struct vm_exit e = decoded(exitinfo1(cases[i].size, 0, 0x80), RAX_PATTERN, 0);
        assert_int_equal(e.kind, VM_EXIT_IO);
        assert_int_equal(e.io.port, 0x80);
        assert_int_equal(e.io.size, cases[i].size);
        assert_int_equal(e.io.is_in, 0);
        assert_int_equal(e.io.is_string, 0);
        assert_int_equal(e.io.value, cases[i].value);
        assert_int_equal(e.io.rip, 0x1234);
    }
}

/* An IN has no value yet; the Solo5 hypercall port (outl to 0x500 + n) and the top port. */
static void test_in_and_ports(void **state)
{
    struct vm_exit e = decoded(exitinfo1(4, 1, 0x3f8), RAX_PATTERN, 0);

    (void)state;
    assert_int_equal(e.io.is_in, 1);
    assert_int_equal(e.io.value, 0);
    assert_int_equal(e.io.port, 0x3f8);
    e = decoded(exitinfo1(4, 0, 0x501), RAX_PATTERN, 0);
    assert_int_equal(e.io.port, 0x501);
    e = decoded(exitinfo1(1, 0, 0xffff), RAX_PATTERN, 0);
    assert_int_equal(e.io.port, 0xffff);
}

/* INS/OUTS, with or without REP, carry their data in memory; the
 * address-size and segment bits do not change the decoding. */
static void test_string_forms(void **state)
{
    uint64_t extra = (1u << 8) | (3u << 10);        /* A32, segment DS */
    struct vm_exit e = decoded(exitinfo1(2, 0, 0x60) | IOIO_STRING | IOIO_REP | extra,
                               RAX_PATTERN, 0);

    (void)state;
    assert_int_equal(e.io.is_string, 1);
    assert_int_equal(e.io.is_in, 0);
    assert_int_equal(e.io.value, 0);
    assert_int_equal(e.io.size, 2);
    assert_int_equal(e.io.port, 0x60);
    e = decoded(exitinfo1(1, 1, 0x61) | IOIO_STRING, RAX_PATTERN, 0);
    assert_int_equal(e.io.is_string, 1);
    assert_int_equal(e.io.is_in, 1);
}

/* No size bit, or two: refused, *exit untouched. */
static void test_bad_sizes_refused(void **state)
{
    static const uint64_t bad[] = {
        0, IOIO_SIZE8 | IOIO_SIZE16, IOIO_SIZE16 | IOIO_SIZE32,
        IOIO_SIZE8 | IOIO_SIZE16 | IOIO_SIZE32, IOIO_SIZE8 | IOIO_SIZE32,
    };

    (void)state;
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct vm_exit e = decoded(bad[i] | 0x800000, RAX_PATTERN, -1);
        assert_int_equal(e.io.port, 0xa5a5);
    }
}

/* EXITINFO1 values QEMU TCG gives (docs: EMULATORS.md). */
static void test_npf_access(void **state)
{
    (void)state;
    assert_string_equal(svm_npf_access(0x100000004ULL), "read");
    assert_string_equal(svm_npf_access(0x100000007ULL), "write");
    assert_string_equal(svm_npf_access(0x200000006ULL), "write");
    assert_string_equal(svm_npf_access(0x100000014ULL), "instruction fetch");
    assert_string_equal(svm_npf_access(0x100000015ULL), "instruction fetch");
}

static void test_exit_names(void **state)
{
    (void)state;
    assert_string_equal(svm_exit_name(0x04), "CR read");
    assert_string_equal(svm_exit_name(0x14), "CR write");
    assert_string_equal(svm_exit_name(0x27), "DR read");
    assert_string_equal(svm_exit_name(0x30), "DR write");
    assert_string_equal(svm_exit_name(0x4e), "exception");
    assert_string_equal(svm_exit_name(SVM_EXIT_INTR), "INTR");
    assert_string_equal(svm_exit_name(SVM_EXIT_RDPMC), "RDPMC");
    assert_string_equal(svm_exit_name(SVM_EXIT_CPUID), "CPUID");
    assert_string_equal(svm_exit_name(SVM_EXIT_IOIO), "IOIO");
    assert_string_equal(svm_exit_name(SVM_EXIT_SHUTDOWN), "shutdown");
    assert_string_equal(svm_exit_name(0x80), "VMRUN");
    assert_string_equal(svm_exit_name(SVM_EXIT_VMMCALL), "VMMCALL");
    assert_string_equal(svm_exit_name(0x87), "RDTSCP");
    assert_string_equal(svm_exit_name(SVM_EXIT_XSETBV), "XSETBV");
    assert_string_equal(svm_exit_name(0x90), "CR0 write trap");
    assert_string_equal(svm_exit_name(SVM_EXIT_LAST_NAMED), "TLBSYNC");
    assert_string_equal(svm_exit_name(SVM_EXIT_NPF), "nested page fault");
    assert_string_equal(svm_exit_name(0xa5), "not in the APM");
    assert_string_equal(svm_exit_name(0x3ff), "not in the APM");
    /* VMEXIT_INVALID as QEMU writes it (low 32 bits) and as the APM does. */
    assert_string_equal(svm_exit_name(0x00000000ffffffffULL), "invalid guest state");
    assert_string_equal(svm_exit_name(~0ULL), "invalid guest state");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_sizes),
        cmocka_unit_test(test_in_and_ports),
        cmocka_unit_test(test_string_forms),
        cmocka_unit_test(test_bad_sizes_refused),
        cmocka_unit_test(test_npf_access),
        cmocka_unit_test(test_exit_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
