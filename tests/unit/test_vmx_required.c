/*
 * Unit tests of vmx/vmx_required.c: the VMX controls Mayfly cannot run
 * without, checked as they come out of the adjust helper. No Bochs model
 * with EPT lacks any of them (all have the preemption timer and EFER
 * load/save), so a CPU without one is built here from capability values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv.h"
#include "../../vmx/vmx.h"

/* Allowed-1 everywhere, nothing forced to 1; EPT with 4-level walks and
 * write-back memory. */
static struct vmx_caps full_caps(void)
{
    struct vmx_caps c;

    memset(&c, 0, sizeof(c));
    c.pinbased = c.procbased = c.procbased2 = c.exit = c.entry = 0xffffffffULL << 32;
    c.ept_vpid = EPT_CAP_WALK_4 | EPT_CAP_WB | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE;
    return c;
}

static void without(uint64_t *cap, uint32_t bit)
{
    *cap &= ~((uint64_t)bit << 32);
}

static void check_refused(const struct vmx_caps *c, const char *name)
{
    char buf[256];

    assert_int_equal(vmx_check_required(c, buf, sizeof(buf)), HV_VIRT_INCOMPLETE);
    if (!strstr(buf, name))
        fail_msg("'%s' does not name '%s'", buf, name);
}

static void test_full_cpu_passes(void **state)
{
    struct vmx_caps c = full_caps();
    char buf[256] = "";

    (void)state;
    assert_int_equal(vmx_check_required(&c, buf, sizeof(buf)), HV_OK);
}

/* A required-1 bit in the low half costs nothing: adjust sets it. */
static void test_forced_bits_pass(void **state)
{
    struct vmx_caps c = full_caps();

    (void)state;
    c.pinbased |= PIN_PREEMPTION_TIMER;
    c.exit |= EXIT_SAVE_IA32_EFER;
    assert_int_equal(vmx_check_required(&c, NULL, 0), HV_OK);
}

static void test_no_preemption_timer(void **state)
{
    struct vmx_caps c = full_caps();

    (void)state;
    without(&c.pinbased, PIN_PREEMPTION_TIMER);
    check_refused(&c, "pin-based control 'activate VMX-preemption timer' (bit 6)");
}

static void test_no_save_preemption_timer(void **state)
{
    struct vmx_caps c = full_caps();

    (void)state;
    without(&c.exit, EXIT_SAVE_PREEMPTION_TIMER);
    check_refused(&c, "VM-exit control 'save VMX-preemption timer value' (bit 22)");
}

static void test_no_exit_efer(void **state)
{
    struct vmx_caps c = full_caps();

    (void)state;
    without(&c.exit, EXIT_SAVE_IA32_EFER);
    check_refused(&c, "VM-exit control 'save IA32_EFER' (bit 20)");
    c = full_caps();
    without(&c.exit, EXIT_LOAD_IA32_EFER);
    check_refused(&c, "VM-exit control 'load IA32_EFER' (bit 21)");
}

static void test_no_entry_efer(void **state)
{
    struct vmx_caps c = full_caps();

    (void)state;
    without(&c.entry, ENTRY_LOAD_IA32_EFER);
    check_refused(&c, "VM-entry control 'load IA32_EFER' (bit 15)");
}

static void test_no_64bit_or_bitmaps(void **state)
{
    struct vmx_caps c = full_caps();

    (void)state;
    without(&c.entry, ENTRY_IA32E_MODE_GUEST);
    check_refused(&c, "'IA-32e mode guest'");
    c = full_caps();
    without(&c.exit, EXIT_HOST_ADDR_SPACE_SIZE);
    check_refused(&c, "'host address-space size'");
    c = full_caps();
    without(&c.procbased, PROC_USE_MSR_BITMAPS);
    check_refused(&c, "'use MSR bitmaps'");
    c = full_caps();
    without(&c.procbased, PROC_USE_IO_BITMAPS);
    check_refused(&c, "'use I/O bitmaps'");
}

static void test_no_ept(void **state)
{
    struct vmx_caps c = full_caps();
    char buf[256];

    (void)state;
    without(&c.procbased2, PROC2_ENABLE_EPT);
    assert_int_equal(vmx_check_required(&c, buf, sizeof(buf)), HV_NO_NESTED_PAGING);
    c = full_caps();
    c.ept_vpid = EPT_CAP_WALK_4;
    assert_int_equal(vmx_check_required(&c, buf, sizeof(buf)), HV_NO_NESTED_PAGING);
}

/* Without INVEPT the shared EPT roots could carry one partition's
 * cached translations to the next; either flush type will do. */
static void test_no_invept(void **state)
{
    struct vmx_caps c = full_caps();
    char buf[256];

    (void)state;
    c.ept_vpid &= ~EPT_CAP_INVEPT;
    assert_int_equal(vmx_check_required(&c, buf, sizeof(buf)), HV_NO_NESTED_PAGING);
    assert_non_null(strstr(buf, "INVEPT"));
    c = full_caps();
    c.ept_vpid &= ~EPT_CAP_INVEPT_SINGLE;
    assert_int_equal(vmx_check_required(&c, buf, sizeof(buf)), HV_NO_NESTED_PAGING);
    c.ept_vpid |= EPT_CAP_INVEPT_ALL;
    assert_int_equal(vmx_check_required(&c, buf, sizeof(buf)), HV_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_cpu_passes),
        cmocka_unit_test(test_forced_bits_pass),
        cmocka_unit_test(test_no_preemption_timer),
        cmocka_unit_test(test_no_save_preemption_timer),
        cmocka_unit_test(test_no_exit_efer),
        cmocka_unit_test(test_no_entry_efer),
        cmocka_unit_test(test_no_64bit_or_bitmaps),
        cmocka_unit_test(test_no_ept),
        cmocka_unit_test(test_no_invept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
