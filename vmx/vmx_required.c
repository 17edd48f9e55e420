/* The VMX features Mayfly cannot run without, checked against the
 * capability MSRs before VMXON. Pure logic: it compiles on the host and
 * tests/unit/test_vmx_required.c feeds it capability values that no
 * emulator model offers (every Bochs model with EPT has all of these). */
#include "../hv/fmt.h"
#include "../hv/hv.h"
#include "vmx.h"

enum control_word { WORD_PIN, WORD_PROC, WORD_EXIT, WORD_ENTRY };

struct required_control {
    enum control_word word;
    uint32_t bit;
    const char *name;               /* the SDM's name of the control */
    const char *why;                /* what Mayfly would lose without it */
};

static const char *const word_names[] = {
    [WORD_PIN] = "pin-based", [WORD_PROC] = "processor-based",
    [WORD_EXIT] = "VM-exit", [WORD_ENTRY] = "VM-entry",
};

static const struct required_control required[] = {
    { WORD_PIN, PIN_PREEMPTION_TIMER, "activate VMX-preemption timer",
      "end a spinning guest's quantum" },
    { WORD_EXIT, EXIT_SAVE_PREEMPTION_TIMER, "save VMX-preemption timer value",
      "keep a quantum across hypercalls" },
    { WORD_EXIT, EXIT_HOST_ADDR_SPACE_SIZE, "host address-space size",
      "return to its 64-bit host" },
    { WORD_EXIT, EXIT_SAVE_IA32_EFER, "save IA32_EFER", "keep each guest's EFER" },
    { WORD_EXIT, EXIT_LOAD_IA32_EFER, "load IA32_EFER", "restore the host's EFER" },
    { WORD_ENTRY, ENTRY_IA32E_MODE_GUEST, "IA-32e mode guest", "run 64-bit guests" },
    { WORD_ENTRY, ENTRY_LOAD_IA32_EFER, "load IA32_EFER", "give each guest its own EFER" },
    { WORD_PROC, PROC_USE_MSR_BITMAPS, "use MSR bitmaps", "deny guests the host's MSRs" },
    { WORD_PROC, PROC_USE_IO_BITMAPS, "use I/O bitmaps", "deny guests the host's ports" },
};

static uint64_t control_cap(const struct vmx_caps *c, enum control_word w)
{
    switch (w) {
    case WORD_PIN:
        return c->pinbased;
    case WORD_PROC:
        return c->procbased;
    case WORD_EXIT:
        return c->exit;
    case WORD_ENTRY:
        return c->entry;
    default:        /* not a control word: it allows no bit */
        return 0;
    }
}

/* True when bit is still set after the one adjust helper: what
 * vmx_setup_controls will really get. */
static int survives_adjust(uint64_t cap, uint32_t bit)
{
    return (vmx_adjust_controls(cap, bit) & bit) == bit;
}

static int check_controls(const struct vmx_caps *c, char *buf, size_t size)
{
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        const struct required_control *r = &required[i];
        unsigned bit = 0;

        if (survives_adjust(control_cap(c, r->word), r->bit))
            continue;
        while (!(r->bit & (1u << bit)))
            bit++;
        return fmt_error(buf, size, HV_VIRT_INCOMPLETE, "VT-x lacks the %s control '%s' "
                         "(bit %u): Mayfly needs it to %s; use a CPU (or emulator model) "
                         "that has it", word_names[r->word], r->name, bit, r->why);
    }
    return HV_OK;
}

int vmx_check_required(const struct vmx_caps *c, char *buf, size_t size)
{
    if (!vmx_allowed1(c->procbased2, PROC2_ENABLE_EPT))
        return fmt_error(buf, size, HV_NO_NESTED_PAGING, "VT-x without EPT (extended page tables): Mayfly "
                         "needs EPT to isolate guests; use a CPU from Nehalem (2008) on");
    if (!(c->ept_vpid & EPT_CAP_WALK_4) || !(c->ept_vpid & EPT_CAP_WB))
        return fmt_error(buf, size, HV_NO_NESTED_PAGING, "EPT lacks 4-level walks or write-back memory: "
                         "Mayfly needs both; use a newer CPU");
    /* Each CPU's EPT roots are pointed at one partition after another
     * (x86/nested_root.h): what it cached under one must be flushed. */
    if (!(c->ept_vpid & EPT_CAP_INVEPT) ||
        !(c->ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
        return fmt_error(buf, size, HV_NO_NESTED_PAGING, "EPT without INVEPT (single-context "
                         "or all-context): Mayfly needs it to reuse EPT roots between "
                         "partitions; use a newer CPU");
    return check_controls(c, buf, size);
}
