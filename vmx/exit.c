/*
 * VM exits. The table routes each basic exit reason to one handler; any
 * reason without one ends the guest with its number and name. Nothing
 * here skips an instruction and resumes by default: only CPUID
 * (emulated), VMCALL (to the core), the preemption timer, and host NMIs
 * and interrupts (handed to vmx/irq.c) resume the guest. Port I/O goes
 * to the core decoded, which decides (today: it ends the guest).
 */
#include <stdarg.h>

#include "../hv/arch.h"
#include "../hv/fmt.h"
#include "../x86/cpu.h"
#include "../x86/cpuid.h"
#include "exit.h"
#include "exit_decode.h"
#include "irq.h"
#include "../x86/lapic.h"
#include "../x86/percpu.h"
#include "vmcs.h"
#include "vmx.h"
#include "../x86/backend.h"
#include "../x86/x86.h"

typedef int (*exit_handler)(struct vcpu_arch *v, struct vm_exit *exit);

/* Every basic exit reason by its SDM name (Vol. 3 Appendix C). */
static const char *const exit_names[EXIT_REASON_COUNT] = {
    "exception or NMI", "external interrupt", "triple fault", "INIT signal",
    "start-up IPI", "I/O SMI", "other SMI", "interrupt window", "NMI window",
    "task switch", "CPUID", "GETSEC", "HLT", "INVD", "INVLPG", "RDPMC", "RDTSC", "RSM",
    "VMCALL", "VMCLEAR", "VMLAUNCH", "VMPTRLD", "VMPTRST", "VMREAD", "VMRESUME",
    "VMWRITE", "VMXOFF", "VMXON", "control-register access", "MOV DR", "I/O instruction",
    "RDMSR", "WRMSR", "VM-entry failure: invalid guest state",
    "VM-entry failure: MSR loading", "reserved (35)", "MWAIT", "monitor trap flag",
    "reserved (38)", "MONITOR", "PAUSE", "VM-entry failure: machine-check event",
    "reserved (42)", "TPR below threshold", "APIC access", "virtualized EOI",
    "access to GDTR or IDTR", "access to LDTR or TR", "EPT violation",
    "EPT misconfiguration", "INVEPT", "RDTSCP", "VMX-preemption timer expired", "INVVPID",
    "WBINVD or WBNOINVD", "XSETBV", "APIC write", "RDRAND", "INVPCID", "VMFUNC", "ENCLS",
    "RDSEED", "page-modification log full", "XSAVES", "XRSTORS", "PCONFIG",
    "SPP-related event", "UMWAIT", "TPAUSE", "LOADIWKEY", "ENCLV", "reserved (71)",
    "ENQCMD PASID translation failure", "ENQCMDS PASID translation failure", "bus lock",
    "instruction timeout", "SEAMCALL", "TDCALL", "RDMSRLIST", "WRMSRLIST",
};
_Static_assert(sizeof(exit_names) / sizeof(exit_names[0]) == EXIT_REASON_COUNT,
               "one name per exit reason");

static const char *exit_name(uint32_t reason)
{
    return reason < EXIT_REASON_COUNT && exit_names[reason] ? exit_names[reason]
                                                            : "not in the SDM";
}


static uint64_t guest_rip(void)
{
    return vmread(VMCS_GUEST_RIP);
}

static void skip_instruction(void)
{
    vmwrite(VMCS_GUEST_RIP, guest_rip() + vmread(VMCS_EXIT_INSTRUCTION_LENGTH));
}

static int on_exception(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTERRUPTION_INFO);
    uint32_t vector = info & 0xff, type = (info >> 8) & 7;
    const char *name = cpu_exception_name(vector, "exception");
    (void)v;
    if (type == INTR_TYPE_NMI) {        /* the host's NMI, not the guest's */
        irq_nmi_from_guest();
        return 0;
    }
    if (vector == 14)
        return vm_exit_kill(exit, VM_KILL_EXCEPTION,
                    "guest exception %s at rip 0x%llx (address 0x%llx, error 0x%llx)",
                    name, (unsigned long long)guest_rip(),
                    (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION),
                    (unsigned long long)vmread(VMCS_EXIT_INTERRUPTION_ERROR));
    return vm_exit_kill(exit, VM_KILL_EXCEPTION,
                "guest exception %s (vector %u) at rip 0x%llx", name, vector,
                (unsigned long long)guest_rip());
}

/* The exit acknowledged the interrupt ("acknowledge interrupt on exit"):
 * the host ends it, then the guest resumes, except after a kick from
 * another CPU (cpu_arch_kick): then the run ends, as if preempted, so
 * that the run loop looks at its queues. */
static int on_external_interrupt(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTERRUPTION_INFO);

    (void)v;
    if (!(info & INTR_INFO_VALID))
        return 0;
    irq_from_guest(INTR_INFO_VECTOR(info));
    if (INTR_INFO_VECTOR(info) != LAPIC_KICK_VECTOR)
        return 0;
    x86_cpu_take_kick();
    exit->kind = VM_EXIT_PREEMPTED;
    return 1;
}

static int on_triple_fault(struct vcpu_arch *v, struct vm_exit *exit)
{
    (void)v;
    return vm_exit_kill(exit, VM_KILL_TRIPLE_FAULT,
                "triple fault at rip 0x%llx", (unsigned long long)guest_rip());
}

/* CPUID is the one instruction we emulate: the host's answer through
 * the guest policy (x86/cpuid.c). */
static int on_cpuid(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
    struct cpuid_regs r = cpuid(leaf, sub);
    uint32_t features = (vmx_setup.proc2 & PROC2_ENABLE_RDTSCP) ? CPUID_GUEST_RDTSCP : 0;

    (void)exit;
    cpuid_guest_view(leaf, sub, features, &r);
    v->regs.rax = r.eax;
    v->regs.rbx = r.ebx;
    v->regs.rcx = r.ecx;
    v->regs.rdx = r.edx;
    skip_instruction();
    return 0;
}

static int on_hlt(struct vcpu_arch *v, struct vm_exit *exit)
{
    (void)v;
    return vm_exit_kill(exit, VM_KILL_DENIED_INSN,
                "HLT with interrupts off at rip 0x%llx: it could never wake "
                "(use the wait hypercall)", (unsigned long long)guest_rip());
}

static int on_vmcall(struct vcpu_arch *v, struct vm_exit *exit)
{
    exit->kind = VM_EXIT_HYPERCALL;
    exit->hypercall.nr = v->regs.rax;
    exit->hypercall.args[0] = v->regs.rdi;
    exit->hypercall.args[1] = v->regs.rsi;
    exit->hypercall.args[2] = v->regs.rdx;
    exit->hypercall.args[3] = v->regs.r10;
    exit->hypercall.args[4] = v->regs.r8;
    skip_instruction();
    return 1;
}

static int on_cr_access(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    static const char *const access[4] = { "write to", "read from", "CLTS on", "LMSW on" };

    (void)v;
    return vm_exit_kill(exit, VM_KILL_DENIED_INSN,
                "%s CR%llu denied at rip 0x%llx (control registers are the "
                "hypervisor's)", access[(q >> 4) & 3], (unsigned long long)(q & 15),
                (unsigned long long)guest_rip());
}

static int on_dr_access(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);

    (void)v;
    return vm_exit_kill(exit, VM_KILL_DENIED_INSN,
                "MOV %s DR%llu denied at rip 0x%llx (debug registers are the "
                "hypervisor's)", (q & 16) ? "from" : "to", (unsigned long long)(q & 7),
                (unsigned long long)guest_rip());
}

/* Cache flushes reach every guest's cache lines: a noisy neighbour. */
static int on_cache_flush(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON) & 0xffff;

    (void)v;
    return vm_exit_kill(exit, VM_KILL_DENIED_INSN,
                "%s denied at rip 0x%llx (it would flush caches every guest shares)",
                reason == EXIT_REASON_INVD ? "INVD" : "WBINVD",
                (unsigned long long)guest_rip());
}

static int on_xsetbv(struct vcpu_arch *v, struct vm_exit *exit)
{
    (void)v;
    return vm_exit_kill(exit, VM_KILL_DENIED_INSN,
                "XSETBV denied at rip 0x%llx (XSAVE is not offered to guests)",
                (unsigned long long)guest_rip());
}

/* Port I/O goes to the core decoded, RIP still at the instruction: which
 * ports a guest may use is its personality's business, not the arch's. */
static int on_io(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);

    if (exit_decode_io(q, v->regs.rax, guest_rip(), exit))
        return vm_exit_kill(exit, VM_KILL_UNKNOWN_EXIT, "I/O exit with an access size the SDM does "
                    "not define at rip 0x%llx (qualification 0x%llx)",
                    (unsigned long long)guest_rip(), (unsigned long long)q);
    v->io_in = exit->io.is_in;
    v->io_size = exit->io.size;
    v->io_next_rip = exit->io.rip + vmread(VMCS_EXIT_INSTRUCTION_LENGTH);
    return 1;
}

static int on_msr(struct vcpu_arch *v, struct vm_exit *exit)
{
    int write = (vmread(VMCS_EXIT_REASON) & 0xffff) == EXIT_REASON_WRMSR;

    return vm_exit_kill(exit, VM_KILL_DENIED_MSR,
                "%s of MSR 0x%llx denied at rip 0x%llx (only FS and GS base are "
                "allowed)", write ? "WRMSR" : "RDMSR", (unsigned long long)(uint32_t)v->regs.rcx,
                (unsigned long long)guest_rip());
}

static int on_ept_violation(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    const char *what = (q & 2) ? "write" : (q & 4) ? "instruction fetch" : "read";

    (void)v;
    return vm_exit_kill(exit, VM_KILL_EPT_VIOLATION,
                "memory access outside its partition: %s at guest-physical 0x%llx "
                "(rip 0x%llx)", what, (unsigned long long)vmread(VMCS_GUEST_PHYSICAL_ADDRESS),
                (unsigned long long)guest_rip());
}

static int on_preemption_timer(struct vcpu_arch *v, struct vm_exit *exit)
{
    (void)v;
    exit->kind = VM_EXIT_PREEMPTED;
    return 1;
}

static int on_invalid_state(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint64_t reason = vmread(VMCS_EXIT_REASON);

    (void)v;
    return vm_exit_kill(exit, VM_KILL_BAD_ENTRY, "%s (exit reason 0x%llx, qualification 0x%llx)",
                exit_name((uint32_t)reason & 0xffff), (unsigned long long)reason,
                (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
}

static const exit_handler handlers[EXIT_REASON_COUNT] = {
    [EXIT_REASON_EXCEPTION_NMI] = on_exception,
    [EXIT_REASON_EXTERNAL_INTERRUPT] = on_external_interrupt,
    [EXIT_REASON_TRIPLE_FAULT] = on_triple_fault,
    [EXIT_REASON_CPUID] = on_cpuid,
    [EXIT_REASON_HLT] = on_hlt,
    [EXIT_REASON_VMCALL] = on_vmcall,
    [EXIT_REASON_CR_ACCESS] = on_cr_access,
    [EXIT_REASON_DR_ACCESS] = on_dr_access,
    [EXIT_REASON_INVD] = on_cache_flush,
    [EXIT_REASON_WBINVD] = on_cache_flush,
    [EXIT_REASON_XSETBV] = on_xsetbv,
    [EXIT_REASON_IO] = on_io,
    [EXIT_REASON_RDMSR] = on_msr,
    [EXIT_REASON_WRMSR] = on_msr,
    [EXIT_REASON_INVALID_GUEST_STATE] = on_invalid_state,
    [EXIT_REASON_MSR_LOADING] = on_invalid_state,
    [EXIT_REASON_EPT_VIOLATION] = on_ept_violation,
    [EXIT_REASON_PREEMPTION_TIMER] = on_preemption_timer,
};

int exit_dispatch(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON) & 0xffff;

    if (reason < EXIT_REASON_COUNT && handlers[reason])
        return handlers[reason](v, exit);
    return vm_exit_kill(exit, VM_KILL_UNKNOWN_EXIT,
                "unexpected VM exit %u (%s) at rip 0x%llx (qualification 0x%llx)",
                reason, exit_name(reason), (unsigned long long)guest_rip(),
                (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
}

void exit_entry_failed(struct vcpu_arch *v, struct vm_exit *exit)
{
    (void)v;
    vm_exit_kill(exit, VM_KILL_BAD_ENTRY, "VM entry failed: VM-instruction error %llu",
         (unsigned long long)vmread(VMCS_VM_INSTRUCTION_ERROR));
}
