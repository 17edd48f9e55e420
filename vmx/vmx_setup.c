/* Control words and the bitmaps every vCPU shares: computed once after
 * VMXON. The MSR and I/O bitmaps deny everything by default; the only
 * MSRs a guest may touch without an exit are FS and GS base (unikernels
 * use them for thread-local storage), whose values the VMCS switches. */
#include "../hv/arch.h"
#include "../hv/pool.h"
#include "../hv/lib.h"
#include "../hv/param.h"
#include "vcpu.h"
#include "vmx.h"
#include "../x86/x86.h"

struct vmx_setup vmx_setup;

#define MSR_BITMAP_READ_HIGH  1024
#define MSR_BITMAP_WRITE_HIGH 3072

static void allow_msr(uint8_t *bitmap, uint32_t msr)
{
    uint32_t bit = msr - 0xc0000000u;
    bitmap[MSR_BITMAP_READ_HIGH + bit / 8] &= (uint8_t)~(1u << (bit % 8));
    bitmap[MSR_BITMAP_WRITE_HIGH + bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

static uint64_t filled_page(void)
{
    uint64_t p = pool_alloc_pages(1);
    if (p)
        memset((void *)(uintptr_t)p, 0xff, PAGE_SIZE);
    return p;
}

void vmx_setup_controls(void)
{
    const struct vmx_caps *c = &vmx_caps;
    struct vmx_setup *s = &vmx_setup;

    s->use_vpid = vmx_allowed1(c->procbased2, PROC2_ENABLE_VPID) &&
                  (c->ept_vpid & EPT_CAP_INVVPID);
    s->invvpid_single = (c->ept_vpid & (1ULL << 41)) != 0;
    s->invept_single = (c->ept_vpid & EPT_CAP_INVEPT_SINGLE) != 0;
    s->pin = vmx_adjust_controls(c->pinbased, PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING |
                                 PIN_PREEMPTION_TIMER);
    s->proc = vmx_adjust_controls(c->procbased, PROC_HLT_EXITING | PROC_MWAIT_EXITING |
                                  PROC_RDPMC_EXITING | PROC_MOV_DR_EXITING |
                                  PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
                                  PROC_MONITOR_EXITING | PROC_SECONDARY_CONTROLS |
                                  PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING);
    /* CR3 loads and stores stay in the guest: its page tables are its own. */
    s->proc &= ~(PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING) | (uint32_t)c->procbased;
    /* WBINVD exits where the CPU can make it (INVD always does). */
    s->proc2 = vmx_adjust_controls(c->procbased2, PROC2_ENABLE_EPT | PROC2_WBINVD_EXITING |
                                   (s->use_vpid ? PROC2_ENABLE_VPID : 0) |
                                   (vmx_allowed1(c->procbased2, PROC2_ENABLE_RDTSCP)
                                        ? PROC2_ENABLE_RDTSCP : 0));
    /* Acknowledging on exit hands a host interrupt's vector to vmx/irq.c
     * instead of leaving it pending to exit the guest again and again.
     * Debug controls: the guest's DR7 and DEBUGCTL come from its VMCS. */
    s->exit = vmx_adjust_controls(c->exit, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER |
                                  EXIT_LOAD_IA32_EFER | EXIT_SAVE_PREEMPTION_TIMER |
                                  EXIT_ACK_INTERRUPT_ON_EXIT | EXIT_SAVE_DEBUG_CONTROLS);
    s->entry = vmx_adjust_controls(c->entry, ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER |
                                   ENTRY_LOAD_DEBUG_CONTROLS);
    s->preemption_shift = (uint32_t)(c->misc & 0x1f);
    s->rearm_slack = time_arch_tsc_hz() / 1000000 * VCPU_REARM_SLACK_US;
    s->msr_bitmap = filled_page();
    s->io_bitmap_a = filled_page();
    s->io_bitmap_b = filled_page();
    if (s->msr_bitmap) {
        allow_msr((uint8_t *)(uintptr_t)s->msr_bitmap, MSR_IA32_FS_BASE);
        allow_msr((uint8_t *)(uintptr_t)s->msr_bitmap, MSR_IA32_GS_BASE);
    }
}
