/* VT-x discovery: CPUID, IA32_FEATURE_CONTROL and the VMX capability
 * MSRs. Every missing feature Mayfly relies on is a fatal boot error that
 * names the feature and what to do about it. */
#include "../hv/arch.h"
#include "vcpu.h"
#include "../hv/fmt.h"
#include "../hv/hv.h"
#include "vmx.h"
#include "../x86/x86.h"

struct vmx_caps vmx_caps;

/* Feature control: VMX outside SMX must be on; when firmware left the MSR
 * unlocked we turn VMX on and lock it ourselves. */
static int check_feature_control(char *buf, size_t size)
{
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

    if (!(fc & FEATURE_CONTROL_LOCK)) {
        fc |= FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
        wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
    }
    if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
        return fmt_error(buf, size, HV_VIRT_DISABLED, "VT-x is disabled by the firmware "
                         "(IA32_FEATURE_CONTROL locked without VMX): enable Intel Virtualization "
                         "Technology in the firmware setup");
    return HV_OK;
}

static void read_caps(struct vmx_caps *c)
{
    int true_ctls;

    c->basic = rdmsr(MSR_IA32_VMX_BASIC);
    true_ctls = (c->basic & VMX_BASIC_TRUE_CTLS) != 0;
    c->pinbased = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
    c->procbased = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
                                   : MSR_IA32_VMX_PROCBASED_CTLS);
    c->exit = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
    c->entry = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
    c->misc = rdmsr(MSR_IA32_VMX_MISC);
    c->procbased2 = 0;
    c->ept_vpid = 0;
    if (vmx_allowed1(c->procbased, PROC_SECONDARY_CONTROLS)) {
        c->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
        if (vmx_allowed1(c->procbased2, PROC2_ENABLE_EPT))
            c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
    }
}

static const char *yes_no(int v)
{
    return v ? "yes" : "no";
}

int vmx_probe(char *buf, size_t size)
{
    struct cpuid_regs r = cpuid(1, 0);
    int status;

    if (!(r.ecx & CPUID_1_ECX_VMX))
        return fmt_error(buf, size, HV_NO_VIRT, "VT-x not available: this CPU has no Intel VMX (on "
                         "an emulator, use Bochs with a VMX CPU model or KVM with nested VT-x)");
    status = check_feature_control(buf, size);
    if (status != HV_OK)
        return status;
    read_caps(&vmx_caps);
    status = vmx_check_required(&vmx_caps, buf, size);
    if (status != HV_OK)
        return status;
    fmt_snprintf(buf, size, "VT-x: revision 0x%x, EPT yes (2M %s, 1G %s, A/D %s), VPID %s, "
                 "unrestricted guest %s, preemption timer %s",
                 (unsigned)(vmx_caps.basic & 0x7fffffff),
                 yes_no(vmx_caps.ept_vpid & EPT_CAP_2M), yes_no(vmx_caps.ept_vpid & EPT_CAP_1G),
                 yes_no(vmx_caps.ept_vpid & EPT_CAP_AD),
                 yes_no(vmx_allowed1(vmx_caps.procbased2, PROC2_ENABLE_VPID)),
                 yes_no(vmx_allowed1(vmx_caps.procbased2, PROC2_UNRESTRICTED_GUEST)),
                 yes_no(vmx_allowed1(vmx_caps.pinbased, PIN_PREEMPTION_TIMER)));
    return HV_OK;
}
