/*
 * Time: the TSC, its frequency measured against the PIT at boot, and the
 * idle loop: HLT with the local APIC timer in TSC-deadline mode as the
 * alarm (a PAUSE loop where the CPU has no TSC-deadline timer). The PIT
 * is read through channel 2 and its gate (port 0x61), without
 * interrupts; the legacy PICs are masked so that no device interrupt
 * reaches the CPU. The APIC timer is armed only while the CPU idles, so
 * it never fires while a guest runs.
 */
#include "../hv/arch.h"
#include "x86.h"

#define PIT_HZ              1193182ULL
#define PIT_CH2             0x42
#define PIT_MODE            0x43
#define PIT_GATE            0x61
#define CALIBRATE_MS        10
#define PIC1_DATA           0x21
#define PIC2_DATA           0xa1

#define MSR_IA32_APIC_BASE      0x01b
#define MSR_IA32_TSC_DEADLINE   0x6e0
#define APIC_BASE_ENABLE        (1ULL << 11)
#define APIC_BASE_X2APIC        (1ULL << 10)
#define APIC_EOI                0x0b0
#define APIC_SVR                0x0f0
#define APIC_LVT_TIMER          0x320
#define APIC_SVR_ENABLE         (1u << 8)
#define APIC_TIMER_TSC_DEADLINE (2u << 17)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define TIMER_VECTOR            0x40
#define SPURIOUS_VECTOR         0xff

static uint64_t tsc_hz;
static volatile uint32_t *lapic;        /* xAPIC registers, NULL in x2APIC mode */
static int deadline_timer;

/* Called from isr.S for every device interrupt. */
void (*lapic_eoi_hook)(void);

static void lapic_write(uint32_t reg, uint32_t value)
{
    if (lapic)
        lapic[reg / 4] = value;
    else
        wrmsr(0x800 + reg / 16, value);
}

static void lapic_eoi(void)
{
    lapic_write(APIC_EOI, 0);
}

static void lapic_init(void)
{
    uint64_t base;

    if (!(cpuid(1, 0).ecx & CPUID_1_ECX_TSC_DEADLINE))
        return;
    base = rdmsr(MSR_IA32_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE))
        wrmsr(MSR_IA32_APIC_BASE, base |= APIC_BASE_ENABLE);
    lapic = (base & APIC_BASE_X2APIC) ? 0 : (volatile uint32_t *)(uintptr_t)(base & ~0xfffULL);
    lapic_write(APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VECTOR);
    lapic_write(APIC_LVT_TIMER, APIC_TIMER_TSC_DEADLINE | TIMER_VECTOR);
    lapic_eoi_hook = lapic_eoi;
    deadline_timer = 1;
}

static uint64_t calibrate(void)
{
    uint16_t latch = (uint16_t)(PIT_HZ * CALIBRATE_MS / 1000);
    uint64_t t0, t1;
    uint32_t spins = 0;

    outb(PIT_GATE, (uint8_t)((inb(PIT_GATE) & ~0x02) | 0x01));  /* gate on, speaker off */
    outb(PIT_MODE, 0xb0);               /* channel 2, lobyte/hibyte, mode 0 */
    outb(PIT_CH2, (uint8_t)latch);
    outb(PIT_CH2, (uint8_t)(latch >> 8));
    t0 = rdtsc();
    while (!(inb(PIT_GATE) & 0x20) && ++spins < 100000000u)
        ;
    t1 = rdtsc();
    return (t1 - t0) * (1000 / CALIBRATE_MS);
}

uint64_t time_arch_tsc_hz(void)
{
    if (!tsc_hz) {
        outb(PIC1_DATA, 0xff);
        outb(PIC2_DATA, 0xff);
        tsc_hz = calibrate();
        if (!tsc_hz)
            tsc_hz = 1000000000ULL;     /* no PIT: assume 1 GHz rather than divide by 0 */
        lapic_init();
    }
    return tsc_hz;
}

void time_arch_idle_until(uint64_t deadline)
{
    while ((int64_t)(rdtsc() - deadline) < 0) {
        if (!deadline_timer) {
            __asm__ volatile("pause");
            continue;
        }
        wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
        /* STI's one-instruction shadow makes "sti; hlt" atomic: the timer
         * cannot fire between them and be missed. */
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        wrmsr(MSR_IA32_TSC_DEADLINE, 0);    /* disarmed before any guest runs */
    }
}

void mem_arch_zero(void *p, uint64_t n)
{
    uint64_t count = n / 8;
    __asm__ volatile("rep stosq" : "+D"(p), "+c"(count) : "a"(0ULL) : "memory");
}
