/*
 * vCPU lifecycle on VT-x: create (VMCS and EPT at boot), reset (a fresh
 * 64-bit guest), run (enter until an exit the core must see). Exit
 * handling lives in vmx/exit.c.
 */
#include "../hv/arch.h"
#include "../hv/lib.h"
#include "../hv/pagetable.h"
#include "../hv/param.h"
#include "../hv/pool.h"
#include "../include/mayfly/abi.h"
#include "../include/mayfly/hvt.h"
#include "../x86/cpu.h"
#include "../x86/guest.h"
#include "../x86/backend.h"
#include "../x86/virt.h"
#include "ept.h"
#include "../x86/paging.h"
#include "../x86/percpu.h"
#include "exit.h"
#include "irq.h"
#include "vcpu.h"
#include "vmcs.h"
#include "vmx.h"
#include "../x86/x86.h"

/* Access rights of the guest's flat segments (SDM 24.4.1). */
#define AR_CODE64       0xa09b
#define AR_DATA         0xc093
#define AR_TSS_BUSY     0x008b
#define AR_UNUSABLE     0x10000

_Static_assert(__builtin_offsetof(struct vcpu_arch, fast_until) == VCPU_FAST_UNTIL &&
                   __builtin_offsetof(struct vcpu_arch, fast_calls) == VCPU_FAST_CALLS,
               "the fast path's offsets (vcpu.h)");
_Static_assert(FAST_HC_NR == MF_HC_NULL && FAST_EXIT_VMCALL == EXIT_REASON_VMCALL &&
                   FAST_VMCS_EXIT_REASON == VMCS_EXIT_REASON &&
                   FAST_VMCS_INSN_LENGTH == VMCS_EXIT_INSTRUCTION_LENGTH &&
                   FAST_VMCS_GUEST_RIP == VMCS_GUEST_RIP,
               "the fast path's constants (vcpu.h)");

/* Per CPU (x86/percpu.h): the VMCS current on it (vmcs_owner) and the
 * vCPU whose x87/SSE, CR2 and KERNEL_GS_BASE are in its registers
 * (state_owner). A vCPU runs on one CPU from its reset until
 * vmx_vcpu_release, which VMCLEARs it there: then it is active on no
 * CPU and its next tenant may run on any. */

static int vmptrld(uint64_t vmcs)
{
    uint8_t failed;
    __asm__ volatile("vmptrld %1; setna %0" : "=q"(failed) : "m"(vmcs) : "cc", "memory");
    return failed ? -1 : 0;
}

static int vmclear(uint64_t vmcs)
{
    uint8_t failed;
    __asm__ volatile("vmclear %1; setna %0" : "=q"(failed) : "m"(vmcs) : "cc", "memory");
    return failed ? -1 : 0;
}

/* Flushes what this CPU cached under an EPT root (x86/nested_root.h). */
static void invept_root(uint64_t eptp)
{
    struct {
        uint64_t eptp;
        uint64_t reserved;
    } desc = { eptp, 0 };
    uint64_t type = vmx_setup.invept_single ? 1 : 2;

    __asm__ volatile("invept %0, %1" ::"m"(desc), "r"(type) : "cc", "memory");
}

/* Makes v's VMCS current on CPU c with one of c's EPT roots pointed at
 * v's directories. Only this function takes roots, and it makes the
 * taker the VMCS owner: while v owns the VMCS, nobody has taken its
 * root here since, so the shortcut skips the look. */
static void make_current_on(struct x86_cpu *c, struct vcpu_arch *v)
{
    uint64_t eptp;
    int repointed;

    if (c->vmcs_owner == v)
        return;
    vmptrld(v->vmcs);
    c->vmcs_owner = v;
    /* Most switches find the root still held here: no call for those
     * (the VMCS may still hold another CPU's root: compared below). */
    if (nested_root_held(c->index, v, &v->ept)) {
        repointed = 0;
        eptp = nested_roots[c->index].slot[v->ept.slot].root | EPTP_WALK_4 | EPTP_WB;
    } else {
        eptp = nested_root_take(c->index, v, &v->ept, &repointed) | EPTP_WALK_4 | EPTP_WB;
    }
    /* The root's last holder's translations go before v runs on it. */
    if (repointed)
        invept_root(eptp);
    if (eptp != v->eptp) {
        vmwrite(VMCS_EPT_POINTER, eptp);
        v->eptp = eptp;
    }
}

static void make_current(struct vcpu_arch *v)
{
    make_current_on(x86_cpu_self(), v);
}

/* Host state: this CPU's own descriptor tables, TSS and per-CPU GS base;
 * written when a vCPU first runs on this CPU. */
static void write_host_state(void)
{
    struct table_register gdtr, idtr;
    uint64_t tr_base;
    const uint64_t *gdt;

    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    __asm__ volatile("sidt %0" : "=m"(idtr));
    gdt = (const uint64_t *)(uintptr_t)gdtr.base;
    tr_base = ((gdt[GDT_TSS / 8] >> 16) & 0xffffff) | (((gdt[GDT_TSS / 8] >> 56) & 0xff) << 24) |
              (gdt[GDT_TSS / 8 + 1] << 32);
    vmwrite(VMCS_HOST_CR0, read_cr0());
    vmwrite(VMCS_HOST_CR3, read_cr3());
    vmwrite(VMCS_HOST_CR4, read_cr4());
    vmwrite(VMCS_HOST_CS_SELECTOR, GDT_CODE);
    vmwrite(VMCS_HOST_SS_SELECTOR, GDT_DATA);
    vmwrite(VMCS_HOST_DS_SELECTOR, GDT_DATA);
    vmwrite(VMCS_HOST_ES_SELECTOR, GDT_DATA);
    vmwrite(VMCS_HOST_FS_SELECTOR, GDT_DATA);
    vmwrite(VMCS_HOST_GS_SELECTOR, GDT_DATA);
    vmwrite(VMCS_HOST_TR_SELECTOR, GDT_TSS);
    vmwrite(VMCS_HOST_FS_BASE, 0);
    vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_IA32_GS_BASE));
    vmwrite(VMCS_HOST_TR_BASE, tr_base);
    vmwrite(VMCS_HOST_GDTR_BASE, gdtr.base);
    vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
    vmwrite(VMCS_HOST_IA32_SYSENTER_CS, 0);
    vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
    vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
    vmwrite(VMCS_HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
    vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit);
}

/* Execution controls: deny by default, every guest exception exits. */
static void write_controls(const struct vcpu_arch *v)
{
    const struct vmx_setup *s = &vmx_setup;

    vmwrite(VMCS_PIN_BASED_CONTROLS, s->pin);
    vmwrite(VMCS_PROC_BASED_CONTROLS, s->proc);
    vmwrite(VMCS_PROC_BASED_CONTROLS2, s->proc2);
    vmwrite(VMCS_EXIT_CONTROLS, s->exit);
    vmwrite(VMCS_ENTRY_CONTROLS, s->entry);
    vmwrite(VMCS_EXCEPTION_BITMAP, 0xffffffff);
    vmwrite(VMCS_PAGE_FAULT_ERROR_MASK, 0);
    vmwrite(VMCS_PAGE_FAULT_ERROR_MATCH, 0);
    vmwrite(VMCS_CR3_TARGET_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, 0);
    vmwrite(VMCS_IO_BITMAP_A, s->io_bitmap_a);
    vmwrite(VMCS_IO_BITMAP_B, s->io_bitmap_b);
    vmwrite(VMCS_MSR_BITMAP, s->msr_bitmap);
    vmwrite(VMCS_TSC_OFFSET, 0);
    if (s->use_vpid)
        vmwrite(VMCS_VPID, v->vpid);
    /* The host owns every CR0 and CR4 bit: a guest write that changes
     * one exits; reads see the shadows (CR4 without VMXE). */
    vmwrite(VMCS_CR0_GUEST_HOST_MASK, ~0ULL);
    vmwrite(VMCS_CR4_GUEST_HOST_MASK, ~0ULL);
    vmwrite(VMCS_LINK_POINTER, ~0ULL);
}

uint64_t vmx_vcpu_footprint(uint64_t partition_size)
{
    uint64_t pds = (partition_size + (1ULL << 30) - 1) >> 30;
    /* VMCS, one EPT directory per GiB (the PML4 and PDPT above them
     * are the CPU's: x86/nested_root.h), and the vcpu structure. */
    return (1 + pds) * PAGE_SIZE + sizeof(struct vcpu_arch);
}

struct vcpu_arch *vmx_vcpu_create(uint32_t index, uint64_t base, uint64_t size)
{
    struct vcpu_arch *v = pool_alloc_bytes(sizeof(*v), 64);

    if (!v)
        return NULL;
    v->vmcs = pool_alloc_pages(1);
    if (!v->vmcs || nested_dirs_build(&v->ept, &ept_format, base, size) < 0)
        return NULL;
    v->vpid = vmx_setup.use_vpid ? (uint16_t)(index + 1) : 0;
    *(uint32_t *)(uintptr_t)v->vmcs = (uint32_t)(vmx_caps.basic & 0x7fffffff);
    if (vmclear(v->vmcs) < 0 || vmptrld(v->vmcs) < 0)
        return NULL;
    write_controls(v);
    /* Active on no CPU: the first one to run it loads it. */
    vmclear(v->vmcs);
    x86_cpu_self()->vmcs_owner = NULL;
    return v;
}

static void write_segment(uint32_t selector_field, uint16_t selector, uint32_t ar)
{
    /* The fields of one segment are laid out at fixed distances from
     * its selector field (SDM Appendix B). */
    uint32_t n = (selector_field - VMCS_GUEST_ES_SELECTOR) / 2;
    vmwrite(selector_field, selector);
    vmwrite(VMCS_GUEST_ES_BASE + 2 * n, 0);
    vmwrite(VMCS_GUEST_ES_LIMIT + 2 * n, ar == AR_TSS_BUSY ? 0x67 : 0xffffffff);
    vmwrite(VMCS_GUEST_ES_ACCESS + 2 * n, ar);
}

/* Exceptions that exit: every one for Mayfly guests; for hvt guests,
 * which handle their own, only machine checks (the host's business). */
static uint32_t exception_bitmap(enum vcpu_layout layout)
{
    return layout == VCPU_LAYOUT_HVT ? 1u << 18 : 0xffffffffu;
}

static void write_guest_state(uint64_t cr3, const struct vcpu_boot *b)
{
    uint64_t cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG | (b->layout == VCPU_LAYOUT_HVT ? CR0_WP : 0);
    uint64_t cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;

    cr0 = (cr0 | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) & rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    vmwrite(VMCS_GUEST_CR0, cr0);
    vmwrite(VMCS_CR0_READ_SHADOW, cr0);
    vmwrite(VMCS_CR4_READ_SHADOW, cr4);
    cr4 = (cr4 | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) & rdmsr(MSR_IA32_VMX_CR4_FIXED1);
    vmwrite(VMCS_GUEST_CR4, cr4);
    vmwrite(VMCS_GUEST_CR3, cr3);
    vmwrite(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);
    write_segment(VMCS_GUEST_CS_SELECTOR, 0x08, AR_CODE64);
    write_segment(VMCS_GUEST_SS_SELECTOR, 0x10, AR_DATA);
    write_segment(VMCS_GUEST_DS_SELECTOR, 0x10, AR_DATA);
    write_segment(VMCS_GUEST_ES_SELECTOR, 0x10, AR_DATA);
    write_segment(VMCS_GUEST_FS_SELECTOR, 0x10, AR_DATA);
    write_segment(VMCS_GUEST_GS_SELECTOR, 0x10, AR_DATA);
    write_segment(VMCS_GUEST_TR_SELECTOR, 0, AR_TSS_BUSY);
    write_segment(VMCS_GUEST_LDTR_SELECTOR, 0, AR_UNUSABLE);
    vmwrite(VMCS_GUEST_GDTR_BASE, b->layout == VCPU_LAYOUT_HVT ? HVT_GDT_GPA : MF_GDT_GPA);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, 3 * 8 - 1);
    vmwrite(VMCS_GUEST_IDTR_BASE, 0);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, 0);
    vmwrite(VMCS_GUEST_DR7, 0x400);
    vmwrite(VMCS_GUEST_IA32_DEBUGCTL, 0);
    vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
    vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
    vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
    vmwrite(VMCS_GUEST_RSP, b->rsp);
    vmwrite(VMCS_GUEST_RIP, b->entry);
    vmwrite(VMCS_EXCEPTION_BITMAP, exception_bitmap(b->layout));
    vmwrite(VMCS_GUEST_RFLAGS, 0x2);    /* interrupts off */
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, 0);
    vmwrite(VMCS_GUEST_PENDING_DBG, 0);
}

/* Flushes what the previous tenant may have left in the TLB under this VPID. */
static void flush_vpid(const struct vcpu_arch *v)
{
    struct {
        uint64_t vpid;
        uint64_t address;
    } desc = { v->vpid, 0 };
    uint64_t type = vmx_setup.invvpid_single ? 1 : 2;

    if (vmx_setup.use_vpid)
        __asm__ volatile("invvpid %0, %1" ::"m"(desc), "r"(type) : "cc", "memory");
}

/* A new tenant starts with the x87/SSE state of a CPU after FNINIT and
 * reset MXCSR, and CR2 and KERNEL_GS_BASE zero. No CPU owns them now
 * (vmx_vcpu_release dropped it), so the next run loads these values. */
static void reset_cpu_state(struct vcpu_arch *v)
{
    fxsave_init(v->fxsave);
    v->cr2 = 0;
    v->kernel_gs_base = 0;
}

/* Memory only, so that it may run on any CPU: the VMCS is written by
 * the CPU that runs the new tenant (first_entry). */
int vmx_vcpu_reset(struct vcpu_arch *v, uint8_t *mem, const struct vcpu_boot *b)
{
    uint64_t cr3;
    int r = b->layout == VCPU_LAYOUT_HVT ? x86_hvt_tables(mem, b->mapped, &cr3)
                                         : x86_guest_tables(mem, b->mapped, &cr3);

    if (r < 0)
        return -1;
    v->boot = *b;
    v->boot_cr3 = cr3;
    v->fresh = 1;
    v->ready_on = NULL;
    memset(&v->regs, 0, sizeof(v->regs));
    v->regs.rdi = b->arg;
    reset_cpu_state(v);
    return 0;
}

/* The first entry of v on this CPU since its reset or since it last ran
 * elsewhere: this CPU's host state in the VMCS, and for a new tenant its
 * first state (VMLAUNCH, and the TLB entries of the VPID flushed here:
 * the tenant runs nowhere else). */
static void first_entry_here(struct x86_cpu *c, struct vcpu_arch *v)
{
    if (v->host_cpu != c->index + 1) {
        write_host_state();
        v->host_cpu = c->index + 1;
    }
    if (v->fresh) {
        write_guest_state(v->boot_cr3, &v->boot);
        flush_vpid(v);
        v->launched = 0;
        v->fresh = 0;
    }
    v->ready_on = c;
}

/* Before an entry on CPU c: the VMCS current, and the rest on its first. */
static inline void prepare_entry(struct x86_cpu *c, struct vcpu_arch *v)
{
    if (c->vmcs_owner != v)     /* here, not in the call: the usual case */
        make_current_on(c, v);
    if (__builtin_expect(v->ready_on != c, 0))
        first_entry_here(c, v);
}

void vmx_vcpu_release(struct vcpu_arch *v)
{
    struct x86_cpu *c = x86_cpu_self();

    vmclear(v->vmcs);
    v->launched = 0;
    if (c->vmcs_owner == v)
        c->vmcs_owner = NULL;
    if (c->state_owner == v)
        c->state_owner = NULL;
}

/* The guest-visible registers that VM entry and exit do not switch
 * belong to whichever guest ran last: x87/SSE (FXSAVE), CR2 (a guest may
 * write it; VT-x never loads it) and KERNEL_GS_BASE (a guest reaches it
 * with SWAPGS after writing its GS base). The host uses none of them, so
 * they are switched only when another vCPU runs. */
static void switch_cpu_state(struct x86_cpu *c, struct vcpu_arch *v)
{
    struct vcpu_arch *owner = c->state_owner;

    if (owner == v)
        return;
    if (owner) {
        __asm__ volatile("fxsave64 %0" : "=m"(owner->fxsave));
        owner->cr2 = read_cr2();
        owner->kernel_gs_base = rdmsr(MSR_IA32_KERNEL_GS_BASE);
    }
    __asm__ volatile("fxrstor64 %0" ::"m"(v->fxsave));
    write_cr2(v->cr2);
    wrmsr(MSR_IA32_KERNEL_GS_BASE, v->kernel_gs_base);
    c->state_owner = v;
}

/* Arms the preemption timer for what is left from now until deadline. */
static void arm_timer(uint64_t now, uint64_t deadline)
{
    uint64_t ticks = (deadline - now) >> vmx_setup.preemption_shift;

    vmwrite(VMCS_PREEMPTION_TIMER_VALUE, ticks ? (ticks > 0xffffffffULL ? 0xffffffffULL : ticks)
                                               : 1);
}

/* The run of vmx_vcpu_run, which counts the null hypercalls the fast
 * path answered meanwhile. */
static void run(struct vcpu_arch *v, uint64_t deadline, vm_hypercall_fn on_hypercall,
                void *ctx, struct vm_exit *exit)
{
    uint64_t now = rdtsc(), armed_at = now - vmx_setup.rearm_slack - 1;
    struct x86_cpu *c = x86_cpu_self();
    /* Only the Mayfly ABI has the null hypercall; an hvt guest's VMCALL
     * goes to its personality, which ends it. */
    int fast = v->boot.layout == VCPU_LAYOUT_MAYFLY;

    /* The interrupt self-test (off unless asked for) sends before the
     * first entry of a run, never on the path that serves hypercalls. */
    if (irq_selftest_active)
        irq_selftest_before_entry();
    for (;;) {
        /* Time the hypervisor spent since the last exit counts: a
         * deadline that has passed ends the run before the guest runs. */
        if (now >= deadline) {
            exit->kind = VM_EXIT_PREEMPTED;
            return;
        }
        prepare_entry(c, v);
        /* The guest's timer counts only its own time: while hypercalls
         * are served in place it is armed again only every rearm_slack
         * ticks, so a run may end up to that long after the deadline. */
        if (now - armed_at > vmx_setup.rearm_slack) {
            arm_timer(now, deadline);
            armed_at = now;
            /* The fast path stops where this loop would act: at the
             * deadline, or when the timer is due to be armed again. */
            v->fast_until = !fast ? 0
                            : armed_at + vmx_setup.rearm_slack < deadline
                                ? armed_at + vmx_setup.rearm_slack
                                : deadline;
        }
        switch_cpu_state(c, v);
        do {
            if (vmx_enter(&v->regs, v->launched)) {
                exit_entry_failed(v, exit);
                return;
            }
            v->launched = 1;
        } while (!exit_dispatch(v, exit));
        /* The hypercall may have touched other vCPUs (results of woken
         * guests): make_current and switch_cpu_state look again. */
        if ((exit->kind != VM_EXIT_HYPERCALL && exit->kind != VM_EXIT_IO) ||
            !on_hypercall(ctx, exit))
            return;
        now = rdtsc();
    }
}

void vmx_vcpu_run(struct vcpu_arch *v, uint64_t deadline, vm_hypercall_fn on_hypercall,
                  void *ctx, struct vm_exit *exit)
{
    v->fast_calls = 0;
    run(v, deadline, on_hypercall, ctx, exit);
    exit->fast_hypercalls = v->fast_calls;
}

void vmx_vcpu_complete_io(struct vcpu_arch *v, uint32_t value)
{
    if (v->io_in) {
        /* IN to AL or AX keeps the rest of RAX; to EAX it zero-extends. */
        uint64_t keep = v->io_size == 1 ? ~0xffULL : v->io_size == 2 ? ~0xffffULL : 0;
        uint64_t mask = ~keep & 0xffffffffULL;
        v->regs.rax = (v->regs.rax & keep) | (value & mask);
    }
    make_current(v);
    vmwrite(VMCS_GUEST_RIP, v->io_next_rip);
}

void vmx_vcpu_set_result(struct vcpu_arch *v, int64_t value)
{
    v->regs.rax = (uint64_t)value;
}

const struct virt_backend vmx_backend = {
    .name = "VT-x",
    .probe = vmx_probe,
    .cpu_init = vmx_cpu_init,
    .selftest = vmx_selftest,
    .vcpu_create = vmx_vcpu_create,
    .vcpu_reset = vmx_vcpu_reset,
    .vcpu_run = vmx_vcpu_run,
    .vcpu_complete_io = vmx_vcpu_complete_io,
    .vcpu_set_result = vmx_vcpu_set_result,
    .vcpu_release = vmx_vcpu_release,
    .cpu_prepare = vmx_cpu_prepare,
    .cpu_init_ap = vmx_cpu_init_ap,
    .vcpu_footprint = vmx_vcpu_footprint,
};
