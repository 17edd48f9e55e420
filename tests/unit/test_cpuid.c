/*
 * Unit tests of x86/cpuid.c: with a host that claims every feature, a
 * guest sees none of those it cannot use (docs/decisions.md, "CPUID"),
 * keeps the ones it can, and unknown or dangerous leaves read as zero.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../x86/cpuid.h"

static struct cpuid_regs view(uint32_t leaf, uint32_t subleaf, uint32_t features)
{
    struct cpuid_regs r = { 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu };

    cpuid_guest_view(leaf, subleaf, features, &r);
    return r;
}

static void test_leaf1_hides_unusable(void **state)
{
    struct cpuid_regs r = view(1, 0, 0);

    (void)state;
    assert_int_equal(r.ecx & (CPUID_1_ECX_MONITOR | (1u << 5) | CPUID_1_ECX_PCID |
                              CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE_TIMER |
                              CPUID_1_ECX_XSAVE | CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_AVX |
                              (1u << 12) | (1u << 29)), 0);
    assert_int_equal(r.edx & ((1u << 9) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 7)),
                     0);
    assert_true(r.ecx & CPUID_1_ECX_HYPERVISOR);
    assert_true(r.ecx & CPUID_1_ECX_SSE42);
    assert_true(r.edx & (1u << 26));                        /* SSE2 */
    assert_int_equal(r.eax, 0xffffffffu);                   /* family/model pass */
}

static void test_leaf7_allow_list(void **state)
{
    struct cpuid_regs r = view(7, 0, 0);

    (void)state;
    assert_int_equal(r.eax, 0);                             /* no subleaf above 0 */
    assert_int_equal(r.ebx & (CPUID_7_EBX_FSGSBASE | CPUID_7_EBX_AVX2 | CPUID_7_EBX_AVX512F |
                              (1u << 7) | (1u << 10) | (1u << 20)), 0);
    assert_int_equal(r.ecx, 0);                             /* PKU, UMIP, LA57, ... */
    assert_true(r.ebx & (1u << 3));                         /* BMI1 */
    for (uint32_t sub = 1; sub < 4; sub++) {
        struct cpuid_regs s = view(7, sub, 0);
        assert_int_equal(s.eax | s.ebx | s.ecx | s.edx, 0);
    }
}

static void test_zero_leaves(void **state)
{
    static const uint32_t leaves[] = { 0x3, 0x5, 0x6, 0x9, 0xa, 0xd, 0xf, 0x10, 0x12, 0x14,
                                       0x19, 0x1b, 0x1d, 0x40000001, 0x4000ffff, 0x8000000a,
                                       0x8000001f, 0x12345678 };

    (void)state;
    for (unsigned i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        struct cpuid_regs r = view(leaves[i], 0, CPUID_GUEST_RDTSCP);
        if (r.eax | r.ebx | r.ecx | r.edx)
            fail_msg("leaf 0x%x is not zero", leaves[i]);
    }
}

static void test_extended_leaf(void **state)
{
    struct cpuid_regs r = view(0x80000001, 0, 0);

    (void)state;
    assert_int_equal(r.edx & ((1u << 11) | (1u << 20) | CPUID_80000001_EDX_RDTSCP), 0);
    assert_true(r.edx & (1u << 29));                        /* long mode */
    r = view(0x80000001, 0, CPUID_GUEST_RDTSCP);
    assert_true(r.edx & CPUID_80000001_EDX_RDTSCP);
    r = view(0x80000008, 0, 0);
    assert_int_equal(r.eax, 0xffffffffu);
    assert_int_equal(r.ebx | r.ecx | r.edx, 0);
}

static void test_hypervisor_leaf(void **state)
{
    struct cpuid_regs r = view(0x40000000, 0, 0);
    char sig[9];

    (void)state;
    memcpy(sig, &r.ebx, 4);
    memcpy(sig + 4, &r.ecx, 4);
    sig[8] = 0;
    assert_string_equal(sig, "Mayfly");
    assert_int_equal(r.eax, 0x40000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf1_hides_unusable),
        cmocka_unit_test(test_leaf7_allow_list),
        cmocka_unit_test(test_zero_leaves),
        cmocka_unit_test(test_extended_leaf),
        cmocka_unit_test(test_hypervisor_leaf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
