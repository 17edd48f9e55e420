/*
 * Host interrupts while guests run. External interrupts and NMIs exit
 * the guest (pin-based controls); the exit acknowledges the interrupt, so
 * the host ends it here instead of re-entering a guest that would exit
 * again at once until its quantum ran out. An NMI exit is re-raised on
 * the host, whose NMI handler returns.
 *
 * The "selftest=irq" boot option (tests/system/cpu_state.sh) makes such
 * events on a machine that has none while guests run: a fixed self-IPI
 * before every IRQ_SELFTEST_EVERY-th VM entry (pending with interrupts
 * off, it is taken by that entry's guest as an exit) and, every fourth
 * time instead, a self-NMI (which the host takes at once: nothing blocks
 * NMIs in the host). One console line reports the counts.
 */
#include "../hv/arch.h"
#include "vcpu.h"
#include "../hv/console.h"
#include "../hv/lib.h"
#include "irq.h"
#include "../x86/cpu.h"
#include "../x86/lapic.h"
#include "vmcs.h"
#include "../x86/x86.h"

#define IRQ_SELFTEST_EVERY  4       /* VM entries between two self-interrupts */
#define IRQ_SELFTEST_IPIS   24
#define IRQ_SELFTEST_NMIS   8

static struct {
    int on, reported, due;
    uint32_t entries, ipis_sent, nmis_sent;
} selftest;

int irq_selftest_active;

/* Written by the NMI handler too: read and written as whole words. */
static volatile uint64_t guest_irqs, selftest_irqs, guest_nmis;

void irq_from_guest(uint32_t vector)
{
    guest_irqs++;
    if (vector == LAPIC_SELFTEST_VECTOR)
        selftest_irqs++;
    if (vector != LAPIC_SPURIOUS_VECTOR && lapic_ready())
        lapic_eoi();
}

void irq_nmi_from_guest(void)
{
    guest_nmis++;
    __asm__ volatile("int $2" ::: "memory");
}

/* True when word is one of the space-separated words of line. */
static int has_word(const char *line, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = line; *p; p++) {
        if ((p == line || p[-1] == ' ') && !strncmp(p, word, n) && (p[n] == ' ' || !p[n]))
            return 1;
    }
    return 0;
}

void vmx_selftest(const char *cmdline)
{
    if (!has_word(cmdline, "selftest=irq"))
        return;
    time_arch_tsc_hz();                 /* brings the local APIC up if it was not yet */
    selftest.on = lapic_ready();
    irq_selftest_active = selftest.on;
    kprintf("mayfly: selftest irq: %s\n", selftest.on ?
            "self-interrupts before VM entries (boot option selftest=irq)" :
            "off: this CPU's local APIC is not in use");
}

static void selftest_report(void)
{
    kprintf("mayfly: selftest irq: %u self-IPIs sent, %llu handled, in %llu external-interrupt "
            "exits; %u self-NMIs sent, %llu handled (%llu exited a guest); %u VM entries\n",
            selftest.ipis_sent, (unsigned long long)selftest_irqs,
            (unsigned long long)guest_irqs, selftest.nmis_sent, (unsigned long long)x86_host_nmis,
            (unsigned long long)guest_nmis, selftest.entries);
    selftest.reported = 1;
    irq_selftest_active = 0;
}

/* Bochs 2.7 takes an external-interrupt exit only from a guest whose
 * RFLAGS.IF is set (it re-evaluates interrupt masking when IF changes,
 * not at VM entry), where hardware exits regardless: a self-IPI is sent
 * only before entering such a guest, so that this entry takes it. */
static int guest_interrupts_on(void)
{
    return (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) != 0;
}

static void selftest_send(void)
{
    if ((selftest.ipis_sent + selftest.nmis_sent) % 4 == 3) {
        selftest.nmis_sent++;
        lapic_send_self_nmi();
        selftest.due = 0;
    } else if (guest_interrupts_on()) {
        selftest.ipis_sent++;
        lapic_send_self(LAPIC_SELFTEST_VECTOR);
        selftest.due = 0;
    }
}

void irq_selftest_before_entry(void)
{
    if (!selftest.on || selftest.reported)
        return;
    if (++selftest.entries % IRQ_SELFTEST_EVERY == 0)
        selftest.due = 1;
    if (selftest.ipis_sent < IRQ_SELFTEST_IPIS || selftest.nmis_sent < IRQ_SELFTEST_NMIS) {
        if (selftest.due)
            selftest_send();
        return;
    }
    if (selftest_irqs == selftest.ipis_sent && x86_host_nmis == selftest.nmis_sent)
        selftest_report();
}
