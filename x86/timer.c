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
#include "../hv/lib.h"
#include "lapic.h"
#include "percpu.h"
#include "rtc.h"
#include "smp.h"
#include "x86.h"

#define PIT_HZ              1193182ULL
#define PIT_CH2             0x42
#define PIT_MODE            0x43
#define PIT_GATE            0x61
#define CALIBRATE_MS        10
#define PIC1_DATA           0x21
#define PIC2_DATA           0xa1

#define MSR_IA32_TSC_DEADLINE   0x6e0
#define APIC_TIMER_DIVIDE_REG   0x3e0
#define APIC_TIMER_TSC_DEADLINE (2u << 17)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

static uint64_t tsc_hz;
static int deadline_timer;

static void deadline_timer_init(void)
{
    if (!(cpuid(1, 0).ecx & CPUID_1_ECX_TSC_DEADLINE))
        return;
    lapic_enable();
    lapic_write(APIC_LVT_TIMER, APIC_TIMER_TSC_DEADLINE | LAPIC_TIMER_VECTOR);
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
        deadline_timer_init();
    }
    return tsc_hz;
}

/* A kick (another CPU queued work here) ends the wait early. */
void time_arch_idle_until(uint64_t deadline)
{
    while ((int64_t)(rdtsc() - deadline) < 0 && !x86_cpu_take_kick()) {
        if (!deadline_timer) {
            __asm__ volatile("pause");
            continue;
        }
        wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
        /* STI's one-instruction shadow makes "sti; hlt" atomic: the timer
         * or a kick cannot fire between them and be missed. */
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        wrmsr(MSR_IA32_TSC_DEADLINE, 0);    /* disarmed before any guest runs */
    }
}

/* An application processor's local APIC timer in the boot CPU's mode,
 * for its idle loop (and AMD-V's alarm): the LVT and divide values the
 * boot CPU left, read by x86/smp.c before the APs start. */
void time_ap_init(uint32_t lvt_timer, uint32_t divide)
{
    lapic_write(APIC_TIMER_DIVIDE_REG, divide);
    lapic_write(APIC_LVT_TIMER, lvt_timer);
}

void mem_arch_zero(void *p, uint64_t n)
{
    uint64_t count = n / 8;
    __asm__ volatile("rep stosq" : "+D"(p), "+c"(count) : "a"(0ULL) : "memory");
}

/* The CMOS clock, read once at boot. */
#define CMOS_INDEX          0x70
#define CMOS_DATA           0x71
#define CMOS_STATUS_A       0x0a
#define CMOS_UPDATING       0x80
#define RTC_READ_TRIES      1000000u

static uint64_t wall_ns, wall_tsc;

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static void cmos_snapshot(struct rtc_regs *r)
{
    r->sec = cmos_read(0x00);
    r->min = cmos_read(0x02);
    r->hour = cmos_read(0x04);
    r->day = cmos_read(0x07);
    r->month = cmos_read(0x08);
    r->year = cmos_read(0x09);
    r->century = cmos_read(0x32);
    r->status_b = cmos_read(0x0b);
}

/* Two equal snapshots outside an update: the clock did not tick between
 * the reads of one. */
void time_arch_wall_init(void)
{
    struct rtc_regs a, b;
    int64_t s;

    for (uint32_t i = 0; i < RTC_READ_TRIES; i++) {
        if (cmos_read(CMOS_STATUS_A) & CMOS_UPDATING)
            continue;
        cmos_snapshot(&a);
        wall_tsc = rdtsc();
        cmos_snapshot(&b);
        if (!memcmp(&a, &b, sizeof(a)))
            break;
    }
    s = rtc_unix_seconds(&a);
    wall_ns = s > 0 ? (uint64_t)s * 1000000000ULL : 0;
}

uint64_t time_arch_wall_ns_at(uint64_t *tsc)
{
    *tsc = wall_tsc;
    return wall_ns;
}
