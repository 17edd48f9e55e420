/*
 * Unit tests of vmx/exit_decode.c: an I/O exit becomes a VM_EXIT_IO with
 * the port, size, direction and value the qualification and RAX say
 * (SDM Vol. 3 Table 28-5), and a size the SDM leaves undefined is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../vmx/exit_decode.h"

#define RAX_PATTERN 0x1122334455667788ULL

/* The qualification of an I/O exit: size in bytes, IN or OUT, port. */
static uint64_t qualification(unsigned size, int in, uint16_t port)
{
    return (uint64_t)(size - 1) | (in ? 1ULL << 3 : 0) | (uint64_t)port << 16;
}

static struct vm_exit decoded(uint64_t q, uint64_t rax, int want)
{
    struct vm_exit e;

    memset(&e, 0xa5, sizeof(e));
    assert_int_equal(exit_decode_io(q, rax, 0x1234, &e), want);
    return e;
}

static void test_out_byte(void **state)
{
    struct vm_exit e = decoded(qualification(1, 0, 0x80), RAX_PATTERN, 0);

    (void)state;
    assert_int_equal(e.kind, VM_EXIT_IO);
    assert_int_equal(e.io.port, 0x80);
    assert_int_equal(e.io.size, 1);
    assert_int_equal(e.io.is_in, 0);
    assert_int_equal(e.io.is_string, 0);
    assert_int_equal(e.io.value, 0x88);             /* AL only */
    assert_int_equal(e.io.rip, 0x1234);
}

static void test_out_word_and_dword(void **state)
{
    struct vm_exit w = decoded(qualification(2, 0, 0x500), RAX_PATTERN, 0);
    struct vm_exit d = decoded(qualification(4, 0, 0xffff), RAX_PATTERN, 0);

    (void)state;
    assert_int_equal(w.io.size, 2);
    assert_int_equal(w.io.value, 0x7788);           /* AX */
    assert_int_equal(d.io.size, 4);
    assert_int_equal(d.io.port, 0xffff);            /* the top port, not cut */
    assert_int_equal(d.io.value, 0x55667788);       /* EAX, not RAX */
}

static void test_in_has_no_value(void **state)
{
    struct vm_exit e = decoded(qualification(1, 1, 0x3f8), RAX_PATTERN, 0);

    (void)state;
    assert_int_equal(e.kind, VM_EXIT_IO);
    assert_int_equal(e.io.port, 0x3f8);
    assert_int_equal(e.io.is_in, 1);
    assert_int_equal(e.io.value, 0);
}

/* OUTS and INS (with or without REP) take their data from guest memory:
 * RAX is not the value. */
static void test_string_forms(void **state)
{
    uint64_t rep_outs = qualification(2, 0, 0x60) | 1ULL << 4 | 1ULL << 5;
    uint64_t ins = qualification(4, 1, 0x61) | 1ULL << 4;
    struct vm_exit o = decoded(rep_outs, RAX_PATTERN, 0);
    struct vm_exit i = decoded(ins, RAX_PATTERN, 0);

    (void)state;
    assert_int_equal(o.io.is_string, 1);
    assert_int_equal(o.io.is_in, 0);
    assert_int_equal(o.io.value, 0);
    assert_int_equal(o.io.port, 0x60);
    assert_int_equal(i.io.is_string, 1);
    assert_int_equal(i.io.is_in, 1);
    assert_int_equal(i.io.size, 4);
}

/* Immediate-operand encoding (bit 6) changes nothing we report. */
static void test_immediate_operand(void **state)
{
    struct vm_exit e = decoded(qualification(1, 0, 0x80) | 1ULL << 6, 0x42, 0);

    (void)state;
    assert_int_equal(e.io.port, 0x80);
    assert_int_equal(e.io.value, 0x42);
}

/* Size codes 2 and 4..7 are not used by the SDM: no exit is made up. */
static void test_undefined_sizes_refused(void **state)
{
    static const uint64_t codes[] = { 2, 4, 5, 6, 7 };

    (void)state;
    for (size_t k = 0; k < sizeof(codes) / sizeof(codes[0]); k++) {
        struct vm_exit e = decoded(codes[k] | 0x80ULL << 16, RAX_PATTERN, -1);
        assert_int_equal(e.kind, 0xa5a5a5a5);       /* left alone */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_byte),
        cmocka_unit_test(test_out_word_and_dword),
        cmocka_unit_test(test_in_has_no_value),
        cmocka_unit_test(test_string_forms),
        cmocka_unit_test(test_immediate_operand),
        cmocka_unit_test(test_undefined_sizes_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
