/*
 * vCPU lifecycle on AMD-V: create (VMCB and nested page tables at boot),
 * reset (a fresh 64-bit guest in the VMCB's save area), run (VMRUN until
 * an exit the core must see). Exit handling lives in svm/exit.c, the
 * VMRUN sequence in svm/vmrun.S. The structure follows vmx/vcpu.c.
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
#include "../x86/paging.h"
#include "../x86/backend.h"
#include "../x86/virt.h"
#include "../x86/x86.h"
#include "npt.h"
#include "svm.h"
#include "../x86/percpu.h"
#include "vcpu.h"

/* Segment attributes: descriptor bits 47:40 in 7:0, bits 55:52 in 11:8. */
#define ATTR_CODE64     0x0a9b      /* present, DPL 0, execute/read, accessed, L, G */
#define ATTR_DATA       0x0c93      /* present, DPL 0, read/write, accessed, D/B, G */
#define ATTR_TSS_BUSY   0x008b      /* present, 64-bit busy TSS */
#define PAT_POWER_ON    0x0007040600070406ULL

/* Per CPU (x86/percpu.h): the vCPU whose x87/SSE state is in its
 * registers (state_owner); per ASID, the vCPU that last ran with it
 * there, since another one's TLB entries may still be tagged with it
 * (fewer ASIDs than vCPUs; asid_user); the VMCB it ran last, the only
 * one whose cached state it may keep (clean bits; last_vmcb). A vCPU
 * runs on one CPU from its reset until svm_vcpu_release. */

_Static_assert(FAST_VMCB_TLB_CONTROL == offsetof(struct vmcb, control.tlb_control) &&
                   FAST_VMCB_EXITCODE == offsetof(struct vmcb, control.exitcode) &&
                   FAST_VMCB_RIP == offsetof(struct vmcb, save.rip) &&
                   FAST_VMCB_RAX == offsetof(struct vmcb, save.rax),
               "the fast path's VMCB offsets (vcpu.h)");
_Static_assert(FAST_EXIT_VMMCALL == SVM_EXIT_VMMCALL && FAST_HC_NR == MF_HC_NULL,
               "the fast path's constants (vcpu.h)");

static uint64_t pa(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

uint64_t svm_vcpu_footprint(uint64_t partition_size)
{
    uint64_t pds = (partition_size + (1ULL << 30) - 1) >> 30;
    /* VMCB, one NPT directory per GiB (the PML4 and PDPT above them
     * are the CPU's: x86/nested_root.h), and the vcpu structure. */
    return (1 + pds) * PAGE_SIZE + sizeof(struct vcpu_arch);
}

/* Intercepts, deny by default: what a guest may do without an exit is
 * compute in its own memory, touch FS/GS base, RDTSC(P), CPUID's answer
 * comes from the policy. Exceptions are set at reset (per layout). */
static void write_controls(struct vmcb_control *c, uint32_t asid)
{
    /* CR0, CR4 and CR8 writes and CR8 reads exit; CR3 is the guest's own. */
    c->intercept_cr = (1u << 8) | (1u << 16) | (1u << 20) | (1u << 24);
    c->intercept_dr = 0xffffffffu;
    c->intercept_misc1 = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI | INTERCEPT_INIT |
                         INTERCEPT_RDPMC | INTERCEPT_CPUID | INTERCEPT_INVD | INTERCEPT_HLT |
                         INTERCEPT_INVLPGA | INTERCEPT_IOIO_PROT | INTERCEPT_MSR_PROT |
                         INTERCEPT_TASK_SWITCH | INTERCEPT_FERR_FREEZE | INTERCEPT_SHUTDOWN;
    c->intercept_misc2 = INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD |
                         INTERCEPT_VMSAVE | INTERCEPT_STGI | INTERCEPT_CLGI | INTERCEPT_SKINIT |
                         INTERCEPT_ICEBP | INTERCEPT_WBINVD | INTERCEPT_MONITOR |
                         INTERCEPT_MWAIT | INTERCEPT_MWAIT_ARMED | INTERCEPT_XSETBV |
                         INTERCEPT_RDPRU;
    c->intercept_misc3 = INTERCEPT_INVLPGB | INTERCEPT_INVLPGB_BAD | INTERCEPT_INVPCID |
                         INTERCEPT_MCOMMIT | INTERCEPT_TLBSYNC;
    c->iopm_base_pa = svm_setup.iopm;
    c->msrpm_base_pa = svm_setup.msrpm;
    c->tsc_offset = 0;
    c->asid = asid;
    /* Physical interrupts are masked by the host's IF, not the guest's:
     * they exit the guest whatever its RFLAGS.IF. */
    c->int_control = INT_CONTROL_V_INTR_MASKING;
    c->np_control = NP_ENABLE;
    c->n_cr3 = 0;                   /* a root of the CPU it runs on, at each VMRUN */
    c->event_inject = 0;
}

struct vcpu_arch *svm_vcpu_create(uint32_t index, uint64_t base, uint64_t size)
{
    struct vcpu_arch *v = pool_alloc_bytes(sizeof(*v), 64);

    if (!v || !svm_setup.guest_asids)
        return NULL;
    v->vmcb = (struct vmcb *)(uintptr_t)pool_alloc_pages(1);
    if (!v->vmcb || nested_dirs_build(&v->npt, &npt_format, base, size) < 0)
        return NULL;
    /* ASIDs 1..guest_asids in turn: shared where there are fewer. */
    v->asid = 1 + index % svm_setup.guest_asids;
    write_controls(&v->vmcb->control, v->asid);
    return v;
}

static void write_segment(struct vmcb_segment *s, uint16_t selector, uint16_t attrib)
{
    s->selector = selector;
    s->attrib = attrib;
    s->limit = attrib == ATTR_TSS_BUSY ? 0x67 : 0xffffffffu;
    s->base = 0;
}

/* Exceptions that exit: every one for Mayfly guests; for hvt guests,
 * which handle their own, only machine checks (the host's business). */
static uint32_t exception_intercepts(enum vcpu_layout layout)
{
    return layout == VCPU_LAYOUT_HVT ? 1u << 18 : 0xffffffffu;
}

static void write_guest_state(struct vmcb_save *s, uint64_t cr3, const struct vcpu_boot *b)
{
    memset(s, 0, sizeof(*s));
    write_segment(&s->cs, 0x08, ATTR_CODE64);
    write_segment(&s->ss, 0x10, ATTR_DATA);
    write_segment(&s->ds, 0x10, ATTR_DATA);
    write_segment(&s->es, 0x10, ATTR_DATA);
    write_segment(&s->fs, 0x10, ATTR_DATA);
    write_segment(&s->gs, 0x10, ATTR_DATA);
    write_segment(&s->tr, 0, ATTR_TSS_BUSY);
    /* LDTR stays null: selector 0, not present. IDTR stays 0/0. */
    s->gdtr.base = b->layout == VCPU_LAYOUT_HVT ? HVT_GDT_GPA : MF_GDT_GPA;
    s->gdtr.limit = 3 * 8 - 1;
    s->cpl = 0;
    /* EFER.SVME must be 1 for VMRUN; the guest cannot read EFER (RDMSR
     * exits) nor see SVM in CPUID. */
    s->efer = EFER_LME | EFER_LMA | EFER_SVME;
    s->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG | (b->layout == VCPU_LAYOUT_HVT ? CR0_WP : 0);
    s->cr3 = cr3;
    s->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    s->dr7 = 0x400;
    s->dr6 = 0xffff0ff0;
    s->rflags = 0x2;                /* interrupts off */
    s->rip = b->entry;
    s->rsp = b->rsp;
    s->g_pat = PAT_POWER_ON;
    /* CR2, KERNEL_GS_BASE, FS/GS base, the SYSCALL and SYSENTER MSRs
     * and RAX: 0 for every new tenant (the memset). */
}

/* A new tenant starts with the x87/SSE state of a CPU after FNINIT and
 * reset MXCSR. Dropping the ownership makes the next run load it even
 * when this vCPU ran last. */
static void reset_fpu_state(struct vcpu_arch *v)
{
    fxsave_init(v->fxsave);
}

/* Memory only: svm_vcpu_reset may run on any CPU, and the tenant's
 * first VMRUN flushes its ASID on the CPU it runs on (new_tenant). */
void svm_vcpu_release(struct vcpu_arch *v)
{
    struct x86_cpu *c = x86_cpu_self();

    if (c->state_owner == v)
        c->state_owner = NULL;
    if (c->last_vmcb == v->vmcb)
        c->last_vmcb = NULL;
}

int svm_vcpu_reset(struct vcpu_arch *v, uint8_t *mem, const struct vcpu_boot *b)
{
    uint64_t cr3;
    int r = b->layout == VCPU_LAYOUT_HVT ? x86_hvt_tables(mem, b->mapped, &cr3)
                                         : x86_guest_tables(mem, b->mapped, &cr3);

    if (r < 0)
        return -1;
    write_guest_state(&v->vmcb->save, cr3, b);
    v->vmcb->control.intercept_exceptions = exception_intercepts(b->layout);
    v->mayfly_abi = b->layout == VCPU_LAYOUT_MAYFLY;
    memset(&v->regs, 0, sizeof(v->regs));
    v->regs.rdi = b->arg;
    reset_fpu_state(v);
    /* The previous tenant's translations are tagged with this ASID:
     * flushed at the next VMRUN, with every cached VMCB field. */
    v->new_tenant = 1;
    return 0;
}

/* x87/SSE belongs to whichever guest ran last: VMRUN does not switch it
 * and the host uses none of it, so it is switched only when another
 * vCPU runs. (CR2 and KERNEL_GS_BASE are in the VMCB.) */
static void switch_fpu_state(struct x86_cpu *c, struct vcpu_arch *v)
{
    if (c->state_owner == v)
        return;
    if (c->state_owner)
        __asm__ volatile("fxsave64 %0" : "=m"(c->state_owner->fxsave));
    __asm__ volatile("fxrstor64 %0" ::"m"(v->fxsave));
    c->state_owner = v;
}

/* Nested root, TLB and VMCB caching before a VMRUN. The nested root is
 * one of this CPU's, pointed at v's directories: only this function
 * takes roots, and it makes v the last VMCB, so while v ran last here
 * its root is still its own. The TLB is flushed when the vCPU has a new
 * tenant, its ASID was last used by another vCPU or its root was
 * pointed at it from another's (by ASID where the CPU can, else all of
 * it); clean bits are set only when this VMCB ran last on this CPU and
 * nothing changed since. */
static void prepare_entry(struct x86_cpu *cpu, struct vcpu_arch *v)
{
    struct vmcb_control *c = &v->vmcb->control;
    int ran_last = cpu->last_vmcb == v->vmcb, repointed = 0;
    int flush, cached;

    /* Not cached when it did not run last: a new n_cr3 is always seen. */
    if (!ran_last)
        c->n_cr3 = nested_root_take(cpu->index, v, &v->npt, &repointed);
    flush = v->new_tenant || repointed || cpu->asid_user[v->asid] != v;
    cached = !v->new_tenant && ran_last;

    c->tlb_control = !flush ? TLB_CONTROL_NOTHING
                     : (svm_caps.features & SVM_FEATURE_FLUSH_ASID) ? TLB_CONTROL_FLUSH_ASID
                                                                    : TLB_CONTROL_FLUSH_ALL;
    c->clean = cached && (svm_caps.features & SVM_FEATURE_VMCB_CLEAN) ? VMCB_CLEAN_ALL : 0;
    cpu->asid_user[v->asid] = v;
    cpu->last_vmcb = v->vmcb;
    v->new_tenant = 0;
}

void svm_vcpu_run(struct vcpu_arch *v, uint64_t deadline, vm_hypercall_fn on_hypercall,
                  void *ctx, struct vm_exit *exit)
{
    uint64_t now = rdtsc();
    struct x86_cpu *cpu = x86_cpu_self();

    /* Only the Mayfly ABI has the null hypercall; an hvt guest's VMMCALL
     * goes to its personality, which ends it. */
    uint64_t fast = v->mayfly_abi;

    exit->fast_hypercalls = 0;
    v->deadline = deadline;
    /* The alarm is absolute: armed once, it also counts the time spent
     * serving hypercalls in place, as the quantum does. */
    if (now < deadline)
        svm_alarm_arm(deadline);
    for (;;) {
        /* Time the hypervisor spent since the last exit counts: a
         * deadline that has passed ends the run before the guest runs. */
        if (now >= deadline) {
            exit->kind = VM_EXIT_PREEMPTED;
            break;
        }
        /* The hypercall may have touched other vCPUs (results of woken
         * guests): the FPU owner is looked at again. */
        switch_fpu_state(cpu, v);
        do {
            prepare_entry(cpu, v);
            exit->fast_hypercalls += svm_enter(&v->regs, pa(v->vmcb), cpu->host_vmcb, fast);
        } while (!svm_exit_dispatch(v, exit));
        if ((exit->kind != VM_EXIT_HYPERCALL && exit->kind != VM_EXIT_IO) ||
            !on_hypercall(ctx, exit))
            break;
        now = rdtsc();
    }
    svm_alarm_disarm();
}

void svm_vcpu_complete_io(struct vcpu_arch *v, uint32_t value)
{
    struct vmcb_save *s = &v->vmcb->save;

    if (v->io_in) {
        /* IN to AL or AX keeps the rest of RAX; to EAX it zero-extends. */
        uint64_t keep = v->io_size == 1 ? ~0xffULL : v->io_size == 2 ? ~0xffffULL : 0;
        uint64_t mask = ~keep & 0xffffffffULL;
        s->rax = (s->rax & keep) | (value & mask);
    }
    s->rip = v->io_next_rip;
}

void svm_vcpu_set_result(struct vcpu_arch *v, int64_t value)
{
    v->vmcb->save.rax = (uint64_t)value;
}

/* The irq self-test (vmx/irq.c) is VT-x's: it exercises the
 * external-interrupt and NMI exits of Bochs's VMX. Under AMD-V the alarm
 * exercises the INTR exit on every quantum, so "selftest=irq" does
 * nothing here. */
static void svm_selftest(const char *cmdline)
{
    (void)cmdline;
}

const struct virt_backend svm_backend = {
    .name = "AMD-V",
    .hypercall_vmmcall = 1,
    .probe = svm_probe,
    .cpu_init = svm_cpu_init,
    .selftest = svm_selftest,
    .vcpu_create = svm_vcpu_create,
    .vcpu_reset = svm_vcpu_reset,
    .vcpu_run = svm_vcpu_run,
    .vcpu_complete_io = svm_vcpu_complete_io,
    .vcpu_set_result = svm_vcpu_set_result,
    .vcpu_release = svm_vcpu_release,
    .cpu_prepare = svm_cpu_prepare,
    .cpu_init_ap = svm_cpu_init_ap,
    .vcpu_footprint = svm_vcpu_footprint,
};
