/* The AMD-V features Mayfly cannot run without, decided from what CPUID
 * and VM_CR said, and the probe's one-line summary. Pure logic: it
 * compiles on the host and tests/unit/test_svm_required.c feeds it CPUs
 * no emulator offers (SVM disabled by firmware, no ASIDs). */
#include "../hv/fmt.h"
#include "../hv/hv.h"
#include "svm.h"

static const char *yes_no(uint32_t v)
{
    return v ? "yes" : "no";
}

int svm_check_required(const struct svm_caps *c, char *buf, size_t size)
{
    uint32_t f = c->features;

    if (!c->svm)
        return fmt_error(buf, size, HV_NO_VIRT, "AMD-V (SVM) not available: this CPU has no "
                         "AMD SVM (on an emulator, use QEMU with -cpu max or -cpu EPYC)");
    if (c->vm_cr & VM_CR_SVMDIS)
        return fmt_error(buf, size, HV_VIRT_DISABLED, "AMD-V is disabled by the firmware "
                         "(VM_CR.SVMDIS): enable SVM in the BIOS setup");
    if (!(f & SVM_FEATURE_NP))
        return fmt_error(buf, size, HV_NO_NESTED_PAGING, "AMD-V without nested paging (NPT): "
                         "Mayfly needs NPT to isolate guests; use a CPU from Barcelona (2007) "
                         "on, or QEMU with -cpu max or -cpu EPYC");
    if (c->asids < 2)
        return fmt_error(buf, size, HV_VIRT_INCOMPLETE, "AMD-V reports %u ASIDs: Mayfly "
                         "needs one for its guests besides the host's ASID 0; use a CPU "
                         "(or emulator model) that has them", (unsigned)c->asids);
    fmt_snprintf(buf, size, "AMD-V: revision %u, %u ASIDs, NPT yes, NRIP save %s, "
                 "flush-by-ASID %s, VMCB clean bits %s, decode assists %s, VGIF %s",
                 (unsigned)c->revision, (unsigned)c->asids, yes_no(f & SVM_FEATURE_NRIPS),
                 yes_no(f & SVM_FEATURE_FLUSH_ASID), yes_no(f & SVM_FEATURE_VMCB_CLEAN),
                 yes_no(f & SVM_FEATURE_DECODE), yes_no(f & SVM_FEATURE_VGIF));
    return HV_OK;
}
