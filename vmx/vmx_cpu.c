/* Per-CPU VMX bring-up: CR0/CR4 fixed bits, VMXON region, VMXON. */
#include "../hv/arch.h"
#include "../hv/fmt.h"
#include "../hv/hv.h"
#include "../hv/pool.h"
#include "ept.h"
#include "vcpu.h"
#include "vmx.h"
#include "../x86/percpu.h"
#include "../x86/x86.h"

static uint64_t fixed_bits(uint64_t value, uint32_t msr_fixed0, uint32_t msr_fixed1)
{
    return (value | rdmsr(msr_fixed0)) & rdmsr(msr_fixed1);
}

int vmx_cpu_prepare(struct x86_cpu *c)
{
    c->vmxon = pool_alloc_pages(1);
    if (!c->vmxon || nested_roots_prepare(c->index, &ept_format) < 0)
        return -1;
    *(uint32_t *)(uintptr_t)c->vmxon = (uint32_t)(vmx_caps.basic & 0x7fffffff);
    return 0;
}

/* VMXON on this CPU with the region cpu_prepare gave it. */
static int vmxon_here(char *buf, size_t size)
{
    uint64_t region = x86_cpu_self()->vmxon;
    uint8_t failed;

    write_cr0(fixed_bits(read_cr0(), MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1));
    /* OSFXSR: FXSAVE/FXRSTOR must carry the guests' SSE registers. */
    write_cr4(fixed_bits(read_cr4() | CR4_VMXE | CR4_OSFXSR | CR4_OSXMMEXCPT,
                         MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1));
    __asm__ volatile("vmxon %1; setna %0" : "=q"(failed) : "m"(region) : "cc", "memory");
    if (failed)
        return fmt_error(buf, size, HV_VIRT_INCOMPLETE, "VMXON failed: VT-x could not be "
                         "turned on (another hypervisor running, or firmware left VMX in use)");
    return HV_OK;
}

int vmx_cpu_init_ap(char *buf, size_t size)
{
    return vmxon_here(buf, size);
}

int vmx_cpu_init(char *buf, size_t size)
{
    int status;

    if (vmx_cpu_prepare(x86_cpu_self()) < 0)
        return fmt_error(buf, size, HV_NO_MEMORY, "no pool page for the VMXON region");
    status = vmxon_here(buf, size);
    if (status != HV_OK)
        return status;
    vmx_setup_controls();
    if (!vmx_setup.msr_bitmap || !vmx_setup.io_bitmap_b) {
        fmt_snprintf(buf, size, "no pool pages for the MSR and I/O bitmaps");
        return HV_NO_MEMORY;
    }
    fmt_snprintf(buf, size, "VMXON ok on the boot CPU; VPID %s, preemption timer 1/%u TSC",
                 vmx_setup.use_vpid ? "on" : "off", 1u << vmx_setup.preemption_shift);
    return HV_OK;
}
