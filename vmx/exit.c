/*
 * VM exits. The table routes each basic exit reason to one handler; any
 * reason without one ends the guest with its number. Nothing here skips
 * an instruction and resumes by default: only CPUID (emulated), VMCALL
 * (to the core), the preemption timer, and host NMIs and interrupts
 * resume the guest.
 */
#include <stdarg.h>

#include "../hv/arch.h"
#include "../hv/fmt.h"
#include "cpu.h"
#include "exit.h"
#include "vmcs.h"
#include "vmx.h"
#include "x86.h"

typedef int (*exit_handler)(struct vcpu_arch *v, struct vm_exit *exit);

static int kill(struct vm_exit *exit, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int kill(struct vm_exit *exit, const char *fmt, ...)
{
    va_list ap;

    exit->action = VMEXIT_KILL;
    va_start(ap, fmt);
    fmt_vsnprintf(exit->why, sizeof(exit->why), fmt, ap);
    va_end(ap);
    return 1;
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
    if (type == 2)                      /* an NMI for the host: nothing to do */
        return 0;
    if (vector == 14)
        return kill(exit, "guest exception %s at rip 0x%llx (address 0x%llx, error 0x%llx)",
                    name, (unsigned long long)guest_rip(),
                    (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION),
                    (unsigned long long)vmread(VMCS_EXIT_INTERRUPTION_ERROR));
    return kill(exit, "guest exception %s (vector %u) at rip 0x%llx", name, vector,
                (unsigned long long)guest_rip());
}

static int on_resume(struct vcpu_arch *v, struct vm_exit *exit)
{
    (void)v;
    (void)exit;
    return 0;
}

static int on_triple_fault(struct vcpu_arch *v, struct vm_exit *exit)
{
    (void)v;
    return kill(exit, "triple fault at rip 0x%llx", (unsigned long long)guest_rip());
}

/* CPUID is the one instruction we emulate: the host's answer with VMX,
 * XSAVE and OSXSAVE hidden and the hypervisor bit set. */
static int on_cpuid(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
    struct cpuid_regs r = cpuid(leaf, sub);

    (void)exit;
    if (leaf == 1) {
        r.ecx &= ~(CPUID_1_ECX_VMX | (1u << 26) | (1u << 27));
        r.ecx |= 1u << 31;
    } else if (leaf == 0x40000000) {
        r.eax = 0x40000000;
        r.ebx = 0x6679614d;             /* "Mayf" */
        r.ecx = 0x0000796c;             /* "ly" */
        r.edx = 0;
    } else if (leaf == 0xd) {
        r.eax = r.ebx = r.ecx = r.edx = 0;
    }
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
    return kill(exit, "HLT with interrupts off at rip 0x%llx: it could never wake "
                "(use the wait hypercall)", (unsigned long long)guest_rip());
}

static int on_vmcall(struct vcpu_arch *v, struct vm_exit *exit)
{
    exit->action = VMEXIT_HYPERCALL;
    exit->nr = v->regs.rax;
    exit->args[0] = v->regs.rdi;
    exit->args[1] = v->regs.rsi;
    exit->args[2] = v->regs.rdx;
    exit->args[3] = v->regs.r10;
    exit->args[4] = v->regs.r8;
    skip_instruction();
    return 1;
}

static int on_cr_access(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    static const char *const access[4] = { "write to", "read from", "CLTS on", "LMSW on" };

    (void)v;
    return kill(exit, "%s CR%llu denied at rip 0x%llx (control registers are the "
                "hypervisor's)", access[(q >> 4) & 3], (unsigned long long)(q & 15),
                (unsigned long long)guest_rip());
}

static int on_io(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);

    (void)v;
    return kill(exit, "I/O port 0x%llx %s denied at rip 0x%llx", (unsigned long long)(q >> 16),
                (q & 8) ? "read" : "write", (unsigned long long)guest_rip());
}

static int on_msr(struct vcpu_arch *v, struct vm_exit *exit)
{
    int write = (vmread(VMCS_EXIT_REASON) & 0xffff) == EXIT_REASON_WRMSR;

    return kill(exit, "%s of MSR 0x%llx denied at rip 0x%llx (only FS and GS base are "
                "allowed)", write ? "WRMSR" : "RDMSR", (unsigned long long)(uint32_t)v->regs.rcx,
                (unsigned long long)guest_rip());
}

static int on_ept_violation(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    const char *what = (q & 2) ? "write" : (q & 4) ? "instruction fetch" : "read";

    (void)v;
    return kill(exit, "memory access outside its partition: %s at guest-physical 0x%llx "
                "(rip 0x%llx)", what, (unsigned long long)vmread(VMCS_GUEST_PHYSICAL_ADDRESS),
                (unsigned long long)guest_rip());
}

static int on_preemption_timer(struct vcpu_arch *v, struct vm_exit *exit)
{
    (void)v;
    exit->action = VMEXIT_PREEMPTED;
    return 1;
}

static int on_invalid_state(struct vcpu_arch *v, struct vm_exit *exit)
{
    (void)v;
    return kill(exit, "VM entry failed: invalid guest state (exit reason 0x%llx, "
                "qualification 0x%llx)", (unsigned long long)vmread(VMCS_EXIT_REASON),
                (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
}

static const exit_handler handlers[EXIT_REASON_COUNT] = {
    [EXIT_REASON_EXCEPTION_NMI] = on_exception,
    [EXIT_REASON_EXTERNAL_INTERRUPT] = on_resume,
    [EXIT_REASON_TRIPLE_FAULT] = on_triple_fault,
    [EXIT_REASON_CPUID] = on_cpuid,
    [EXIT_REASON_HLT] = on_hlt,
    [EXIT_REASON_VMCALL] = on_vmcall,
    [EXIT_REASON_CR_ACCESS] = on_cr_access,
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
    return kill(exit, "unexpected VM exit %u at rip 0x%llx (qualification 0x%llx)", reason,
                (unsigned long long)guest_rip(),
                (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
}

void exit_entry_failed(struct vcpu_arch *v, struct vm_exit *exit)
{
    (void)v;
    kill(exit, "VM entry failed: VM-instruction error %llu",
         (unsigned long long)vmread(VMCS_VM_INSTRUCTION_ERROR));
}
