/*
 * Unit tests of svm/svm_required.c: what the AMD-V probe refuses, in
 * which order, with which status and words, and the summary line of a
 * CPU it accepts. QEMU offers SVM with and without NPT; SVM disabled by
 * the firmware and a CPU without ASIDs exist only here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv.h"
#include "../../svm/svm.h"

/* QEMU 7.2's -cpu max: revision 1, 16 ASIDs, NPT, VGIF, VMCB address check. */
static struct svm_caps qemu_max(void)
{
    struct svm_caps c;

    memset(&c, 0, sizeof(c));
    c.svm = 1;
    c.revision = 1;
    c.asids = 16;
    c.features = 0x10010001u;
    return c;
}

static void check_refused(const struct svm_caps *c, int status, const char *words)
{
    char buf[256] = "";

    assert_int_equal(svm_check_required(c, buf, sizeof(buf)), status);
    if (!strstr(buf, words))
        fail_msg("'%s' does not say '%s'", buf, words);
}

static void test_qemu_max_passes_with_summary(void **state)
{
    struct svm_caps c = qemu_max();
    char buf[256] = "";

    (void)state;
    assert_int_equal(svm_check_required(&c, buf, sizeof(buf)), HV_OK);
    assert_string_equal(buf, "AMD-V: revision 1, 16 ASIDs, NPT yes, NRIP save no, "
                        "flush-by-ASID no, VMCB clean bits no, decode assists no, VGIF yes");
}

static void test_summary_names_features(void **state)
{
    struct svm_caps c = qemu_max();
    char buf[256] = "";

    (void)state;
    c.asids = 32768;
    c.features = SVM_FEATURE_NP | SVM_FEATURE_NRIPS | SVM_FEATURE_FLUSH_ASID |
                 SVM_FEATURE_VMCB_CLEAN | SVM_FEATURE_DECODE;
    assert_int_equal(svm_check_required(&c, buf, sizeof(buf)), HV_OK);
    assert_string_equal(buf, "AMD-V: revision 1, 32768 ASIDs, NPT yes, NRIP save yes, "
                        "flush-by-ASID yes, VMCB clean bits yes, decode assists yes, VGIF no");
}

static void test_no_svm(void **state)
{
    struct svm_caps c = qemu_max();

    (void)state;
    c.svm = 0;
    check_refused(&c, HV_NO_VIRT, "AMD-V (SVM) not available: ");
}

static void test_svm_disabled_by_firmware(void **state)
{
    struct svm_caps c = qemu_max();

    (void)state;
    c.vm_cr = VM_CR_SVMDIS;
    check_refused(&c, HV_VIRT_DISABLED, "AMD-V is disabled by the firmware (VM_CR.SVMDIS): "
                  "enable SVM in the BIOS setup");
    c.vm_cr = ~VM_CR_SVMDIS;        /* the other bits (lock, ...) do not matter */
    assert_int_equal(svm_check_required(&c, NULL, 0), HV_OK);
}

/* QEMU's -cpu EPYC has NPT only: enough. Without NPT: refused. */
static void test_nested_paging(void **state)
{
    struct svm_caps c = qemu_max();

    (void)state;
    c.features = SVM_FEATURE_NP;
    assert_int_equal(svm_check_required(&c, NULL, 0), HV_OK);
    c.features = ~SVM_FEATURE_NP;
    check_refused(&c, HV_NO_NESTED_PAGING, "AMD-V without nested paging (NPT): ");
}

static void test_no_guest_asid(void **state)
{
    struct svm_caps c = qemu_max();

    (void)state;
    c.asids = 1;
    check_refused(&c, HV_VIRT_INCOMPLETE, "1 ASIDs");
    c.asids = 0;
    check_refused(&c, HV_VIRT_INCOMPLETE, "0 ASIDs");
    c.asids = 2;
    assert_int_equal(svm_check_required(&c, NULL, 0), HV_OK);
}

/* The first missing thing is named: no SVM before disabled before no NPT. */
static void test_order(void **state)
{
    struct svm_caps c = qemu_max();

    (void)state;
    c.svm = 0;
    c.vm_cr = VM_CR_SVMDIS;
    c.features = 0;
    c.asids = 0;
    assert_int_equal(svm_check_required(&c, NULL, 0), HV_NO_VIRT);
    c.svm = 1;
    assert_int_equal(svm_check_required(&c, NULL, 0), HV_VIRT_DISABLED);
    c.vm_cr = 0;
    assert_int_equal(svm_check_required(&c, NULL, 0), HV_NO_NESTED_PAGING);
    c.features = SVM_FEATURE_NP;
    assert_int_equal(svm_check_required(&c, NULL, 0), HV_VIRT_INCOMPLETE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_max_passes_with_summary),
        cmocka_unit_test(test_summary_names_features),
        cmocka_unit_test(test_no_svm),
        cmocka_unit_test(test_svm_disabled_by_firmware),
        cmocka_unit_test(test_nested_paging),
        cmocka_unit_test(test_no_guest_asid),
        cmocka_unit_test(test_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
