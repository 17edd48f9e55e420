/*
 * The preemption alarm: SVM has no preemption timer, so the local APIC
 * timer interrupts the guest at the run's deadline. The guest runs with
 * V_INTR_MASKING and the INTR intercept, so the interrupt makes it exit;
 * the host's handler (x86/isr.S, isr_irq) takes and acknowledges it in
 * the STGI window after the exit. Where the CPU has the TSC-deadline
 * timer, x86/timer.c left the timer in that mode (it idles with it) and
 * the alarm is the deadline itself; elsewhere (QEMU's software CPU) the
 * timer counts down in one-shot mode, its rate measured against the TSC
 * once at boot.
 */
#include "../hv/arch.h"
#include "../x86/lapic.h"
#include "../x86/x86.h"
#include "vcpu.h"

#define MSR_IA32_TSC_DEADLINE   0x6e0
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define APIC_TIMER_INITIAL      0x380
#define APIC_TIMER_CURRENT      0x390
#define APIC_TIMER_DIVIDE       0x3e0
#define APIC_DIVIDE_BY_1        0xb
#define APIC_LVT_MASKED         (1u << 16)
#define CALIBRATE_DIVISOR       1000    /* measure over 1 ms of TSC */

static int deadline_mode;
/* APIC timer ticks per TSC tick, 32.32 fixed point (count mode). */
static uint64_t apic_per_tsc;

static void calibrate(void)
{
    uint64_t t0, t1, span = time_arch_tsc_hz() / CALIBRATE_DIVISOR;
    uint32_t left;

    lapic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_BY_1);
    lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | LAPIC_TIMER_VECTOR);
    lapic_write(APIC_TIMER_INITIAL, 0xffffffffu);
    t0 = rdtsc();
    do
        t1 = rdtsc();
    while (t1 - t0 < span);
    left = lapic_read(APIC_TIMER_CURRENT);
    lapic_write(APIC_TIMER_INITIAL, 0);
    /* At most 32 bits of ticks: the shift fits in 64. */
    apic_per_tsc = ((uint64_t)(0xffffffffu - left) << 32) / (t1 - t0);
    /* One-shot mode (bits 18:17 zero), unmasked. */
    lapic_write(APIC_LVT_TIMER, LAPIC_TIMER_VECTOR);
}

const char *svm_alarm_init(void)
{
    time_arch_tsc_hz();         /* brings the local APIC up where TSC-deadline exists */
    if (cpuid(1, 0).ecx & CPUID_1_ECX_TSC_DEADLINE) {
        deadline_mode = 1;
        return "TSC-deadline";
    }
    if (!lapic_ready())
        lapic_enable();
    calibrate();
    return apic_per_tsc ? "one-shot, calibrated against the TSC"
                        : "one-shot, but it does not count: guests are not preempted";
}

void svm_alarm_arm(uint64_t deadline)
{
    uint64_t now, count;

    if (deadline_mode) {
        wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
        return;
    }
    now = rdtsc();
    count = deadline > now ? (uint64_t)(((unsigned __int128)(deadline - now) * apic_per_tsc) >> 32)
                           : 0;
    lapic_write(APIC_TIMER_INITIAL, count ? (count > 0xffffffffu ? 0xffffffffu : (uint32_t)count)
                                          : 1);
}

/* Stopped, and an alarm that fired while the host served a hypercall
 * (pending: the host runs with interrupts off) is taken now, not at the
 * next guest's entry. */
void svm_alarm_disarm(void)
{
    if (deadline_mode)
        wrmsr(MSR_IA32_TSC_DEADLINE, 0);
    else
        lapic_write(APIC_TIMER_INITIAL, 0);
    __asm__ volatile("sti; nop; cli" ::: "memory");
}
