/*
 * #VMEXITs. Each EXITCODE Mayfly expects has one handler; any other ends
 * the guest with its code and APM name. Only CPUID (emulated), VMMCALL
 * (to the core), port I/O (to the core, decoded) and host events (INTR,
 * NMI, SMI, INIT: the host takes them itself in svm_enter's STGI window)
 * go on; everything else is the guest doing what it may not, in the same
 * words as vmx/exit.c so that logs and tests read alike on both backends.
 */
#include <stdarg.h>

#include "../hv/arch.h"
#include "../hv/fmt.h"
#include "../x86/cpu.h"
#include "../x86/cpuid.h"
#include "../x86/backend.h"
#include "../x86/x86.h"
#include "svm.h"
#include "../x86/percpu.h"
#include "vcpu.h"

/* Instruction lengths for CPUs without NRIP save (QEMU's software CPU). */
#define LEN_VMMCALL     3
#define LEN_CPUID       2


static unsigned long long guest_rip(const struct vcpu_arch *v)
{
    return (unsigned long long)v->vmcb->save.rip;
}

/* Past the intercepted instruction: where NRIP save gives the next RIP,
 * that; otherwise the instruction's known length. */
static void skip_instruction(struct vcpu_arch *v, uint64_t length)
{
    struct vmcb *m = v->vmcb;

    m->save.rip = (svm_caps.features & SVM_FEATURE_NRIPS) && m->control.next_rip
                      ? m->control.next_rip : m->save.rip + length;
}

/* An exception raised while the CPU delivered an architectural
 * exception through the guest's IDT is reported as that first one: the
 * one the guest caused. (QEMU's software CPU delivers INT3 as a software
 * interrupt past the #BP intercept; a Mayfly guest's empty IDT then
 * makes it a #GP whose EXITINTINFO names vector 3.) */
static uint32_t reported_vector(const struct vmcb *m, uint32_t vector)
{
    uint64_t e = m->control.exitintinfo;
    uint32_t type = EVENT_TYPE(e);

    if ((e & EVENT_VALID) && EVENT_VECTOR(e) < 32 &&
        (type == EVENT_TYPE_EXCEPTION || type == EVENT_TYPE_SOFT_INT))
        return EVENT_VECTOR(e);
    return vector;
}

static int on_exception(struct vcpu_arch *v, struct vm_exit *exit, uint32_t vector)
{
    const struct vmcb *m = v->vmcb;
    const char *name;

    vector = reported_vector(m, vector);
    name = cpu_exception_name(vector, "exception");
    if (vector == 14)
        return vm_exit_kill(exit, VM_KILL_EXCEPTION,
                    "guest exception %s at rip 0x%llx (address 0x%llx, error 0x%llx)",
                    name, guest_rip(v), (unsigned long long)m->control.exitinfo2,
                    (unsigned long long)m->control.exitinfo1);
    return vm_exit_kill(exit, VM_KILL_EXCEPTION, "guest exception %s (vector %u) at rip 0x%llx",
                name, vector, guest_rip(v));
}

/* The alarm (or another host interrupt) ended the guest; the host's
 * handler took it after STGI. Preempted when the deadline has come;
 * otherwise the alarm is set again (it may have been spent early, or
 * this was another interrupt) and the guest goes on. */
static int on_interrupt(struct vcpu_arch *v, struct vm_exit *exit)
{
    /* A kick from another CPU (cpu_arch_kick) ends the run as well. */
    if (x86_cpu_take_kick() || rdtsc() >= v->deadline) {
        exit->kind = VM_EXIT_PREEMPTED;
        return 1;
    }
    svm_alarm_arm(v->deadline);
    return 0;
}

/* CPUID is the one instruction we emulate: the host's answer through
 * the guest policy (x86/cpuid.c), which hides SVM as it hides VMX. */
static int on_cpuid(struct vcpu_arch *v, struct vm_exit *exit)
{
    struct vmcb *m = v->vmcb;
    uint32_t leaf = (uint32_t)m->save.rax, sub = (uint32_t)v->regs.rcx;
    struct cpuid_regs r = cpuid(leaf, sub);

    (void)exit;
    cpuid_guest_view(leaf, sub, svm_setup.cpuid_features, &r);
    m->save.rax = r.eax;
    v->regs.rbx = r.ebx;
    v->regs.rcx = r.ecx;
    v->regs.rdx = r.edx;
    skip_instruction(v, LEN_CPUID);
    return 0;
}

static int on_hlt(struct vcpu_arch *v, struct vm_exit *exit)
{
    return vm_exit_kill(exit, VM_KILL_DENIED_INSN,
                "HLT with interrupts off at rip 0x%llx: it could never wake "
                "(use the wait hypercall)", guest_rip(v));
}

static int on_vmmcall(struct vcpu_arch *v, struct vm_exit *exit)
{
    exit->kind = VM_EXIT_HYPERCALL;
    exit->hypercall.nr = v->vmcb->save.rax;
    exit->hypercall.args[0] = v->regs.rdi;
    exit->hypercall.args[1] = v->regs.rsi;
    exit->hypercall.args[2] = v->regs.rdx;
    exit->hypercall.args[3] = v->regs.r10;
    exit->hypercall.args[4] = v->regs.r8;
    skip_instruction(v, LEN_VMMCALL);
    return 1;
}

static int on_cr_access(struct vcpu_arch *v, struct vm_exit *exit, uint64_t code)
{
    return vm_exit_kill(exit, VM_KILL_DENIED_INSN,
                "%s CR%u denied at rip 0x%llx (control registers are the hypervisor's)",
                code >= SVM_EXIT_CR_WRITE ? "write to" : "read from", (unsigned)(code & 15),
                guest_rip(v));
}

static int on_dr_access(struct vcpu_arch *v, struct vm_exit *exit, uint64_t code)
{
    return vm_exit_kill(exit, VM_KILL_DENIED_INSN,
                "MOV %s DR%u denied at rip 0x%llx (debug registers are the hypervisor's)",
                code >= SVM_EXIT_DR_WRITE ? "to" : "from", (unsigned)(code & 15),
                guest_rip(v));
}

/* Cache flushes reach every guest's cache lines: a noisy neighbour. */
static int on_cache_flush(struct vcpu_arch *v, struct vm_exit *exit, uint64_t code)
{
    return vm_exit_kill(exit, VM_KILL_DENIED_INSN,
                "%s denied at rip 0x%llx (it would flush caches every guest shares)",
                code == SVM_EXIT_INVD ? "INVD" : "WBINVD", guest_rip(v));
}

static int on_xsetbv(struct vcpu_arch *v, struct vm_exit *exit)
{
    return vm_exit_kill(exit, VM_KILL_DENIED_INSN,
                "XSETBV denied at rip 0x%llx (XSAVE is not offered to guests)", guest_rip(v));
}

/* Port I/O goes to the core decoded, RIP still at the instruction: which
 * ports a guest may use is its personality's business, not the arch's.
 * EXITINFO2 is the RIP past the instruction. */
static int on_io(struct vcpu_arch *v, struct vm_exit *exit)
{
    const struct vmcb *m = v->vmcb;
    uint64_t info = m->control.exitinfo1;

    if (svm_decode_io(info, m->save.rax, m->save.rip, exit))
        return vm_exit_kill(exit, VM_KILL_UNKNOWN_EXIT, "I/O exit with an access size the APM does "
                    "not define at rip 0x%llx (EXITINFO1 0x%llx)", guest_rip(v),
                    (unsigned long long)info);
    v->io_in = exit->io.is_in;
    v->io_size = exit->io.size;
    v->io_next_rip = m->control.exitinfo2;
    return 1;
}

static int on_msr(struct vcpu_arch *v, struct vm_exit *exit)
{
    return vm_exit_kill(exit, VM_KILL_DENIED_MSR,
                "%s of MSR 0x%llx denied at rip 0x%llx (only FS and GS base are allowed)",
                v->vmcb->control.exitinfo1 ? "WRMSR" : "RDMSR",
                (unsigned long long)(uint32_t)v->regs.rcx, guest_rip(v));
}

static int on_npf(struct vcpu_arch *v, struct vm_exit *exit)
{
    const struct vmcb *m = v->vmcb;

    return vm_exit_kill(exit, VM_KILL_EPT_VIOLATION,
                "memory access outside its partition: %s at guest-physical 0x%llx "
                "(rip 0x%llx)", svm_npf_access(m->control.exitinfo1),
                (unsigned long long)m->control.exitinfo2, guest_rip(v));
}

static int on_shutdown(struct vcpu_arch *v, struct vm_exit *exit)
{
    return vm_exit_kill(exit, VM_KILL_TRIPLE_FAULT, "triple fault at rip 0x%llx", guest_rip(v));
}

static int on_invalid(struct vcpu_arch *v, struct vm_exit *exit)
{
    return vm_exit_kill(exit, VM_KILL_BAD_ENTRY, "VM entry failed: VMRUN found the guest state "
                "invalid (VMEXIT_INVALID, EXITCODE 0x%llx) at rip 0x%llx",
                (unsigned long long)v->vmcb->control.exitcode, guest_rip(v));
}

int svm_exit_dispatch(struct vcpu_arch *v, struct vm_exit *exit)
{
    uint64_t code = v->vmcb->control.exitcode;

    if (code >= SVM_EXIT_EXCEPTION && code < SVM_EXIT_INTR)
        return on_exception(v, exit, (uint32_t)(code - SVM_EXIT_EXCEPTION));
    if (code < SVM_EXIT_DR_READ)
        return on_cr_access(v, exit, code);
    if (code < SVM_EXIT_EXCEPTION)
        return on_dr_access(v, exit, code);
    switch (code) {
    case SVM_EXIT_INTR:
        return on_interrupt(v, exit);
    case SVM_EXIT_NMI:      /* delivered to x86_host_nmi after STGI */
    case SVM_EXIT_SMI:      /* the firmware's, after STGI */
    case SVM_EXIT_INIT:     /* held until STGI, then the host's business */
        return 0;
    case SVM_EXIT_CPUID:
        return on_cpuid(v, exit);
    case SVM_EXIT_HLT:
        return on_hlt(v, exit);
    case SVM_EXIT_VMMCALL:
        return on_vmmcall(v, exit);
    case SVM_EXIT_INVD:
    case SVM_EXIT_WBINVD:
        return on_cache_flush(v, exit, code);
    case SVM_EXIT_XSETBV:
        return on_xsetbv(v, exit);
    case SVM_EXIT_IOIO:
        return on_io(v, exit);
    case SVM_EXIT_MSR:
        return on_msr(v, exit);
    case SVM_EXIT_NPF:
        return on_npf(v, exit);
    case SVM_EXIT_SHUTDOWN:
        return on_shutdown(v, exit);
    default:
        break;
    }
    if ((uint32_t)code == SVM_EXIT_INVALID)
        return on_invalid(v, exit);
    return vm_exit_kill(exit, VM_KILL_UNKNOWN_EXIT,
                "unexpected VM exit 0x%llx (%s) at rip 0x%llx (EXITINFO1 0x%llx)",
                (unsigned long long)code, svm_exit_name(code), guest_rip(v),
                (unsigned long long)v->vmcb->control.exitinfo1);
}
