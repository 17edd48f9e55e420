/* Local APIC access: xAPIC through its MMIO page (identity mapped), or
 * x2APIC through MSRs 0x800 + reg/16. */
#include "lapic.h"
#include "x86.h"

#define MSR_IA32_APIC_BASE      0x01b
#define APIC_BASE_ENABLE        (1ULL << 11)
#define APIC_BASE_X2APIC        (1ULL << 10)
#define APIC_ID                 0x020
#define APIC_ICR_LOW            0x300
#define APIC_ICR_HIGH           0x310
#define APIC_SVR_ENABLE         (1u << 8)
#define ICR_DELIVERY_NMI        (4u << 8)
#define ICR_DELIVERY_INIT       (5u << 8)
#define ICR_DELIVERY_STARTUP    (6u << 8)
#define ICR_LEVEL_TRIGGER       (1u << 15)
#define ICR_PENDING             (1u << 12)
#define ICR_ASSERT              (1u << 14)
#define ICR_TO_SELF             (1u << 18)
#define MSR_X2APIC_ICR          0x830

static volatile uint32_t *lapic;        /* xAPIC registers, NULL in x2APIC mode */
static int enabled;

/* Called from isr.S for every device interrupt while the host idles;
 * NULL until the local APIC is in use. */
void (*lapic_eoi_hook)(void);

void lapic_write(uint32_t reg, uint32_t value)
{
    if (lapic)
        lapic[reg / 4] = value;
    else
        wrmsr(0x800 + reg / 16, value);
}

uint32_t lapic_read(uint32_t reg)
{
    return lapic ? lapic[reg / 4] : (uint32_t)rdmsr(0x800 + reg / 16);
}

void lapic_eoi(void)
{
    lapic_write(APIC_EOI, 0);
}

void lapic_enable(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

    if (!(base & APIC_BASE_ENABLE))
        wrmsr(MSR_IA32_APIC_BASE, base |= APIC_BASE_ENABLE);
    lapic = (base & APIC_BASE_X2APIC) ? 0 : (volatile uint32_t *)(uintptr_t)(base & ~0xfffULL);
    lapic_write(APIC_SVR, APIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
    lapic_eoi_hook = lapic_eoi;
    enabled = 1;
}

int lapic_ready(void)
{
    return enabled;
}

/* Sends an IPI; the xAPIC takes the destination first and is waited on
 * until it has sent the message. */
static void send_ipi(uint32_t destination, uint32_t command)
{
    if (!lapic) {
        wrmsr(MSR_X2APIC_ICR, ((uint64_t)destination << 32) | command);
        return;
    }
    lapic[APIC_ICR_HIGH / 4] = destination << 24;
    lapic[APIC_ICR_LOW / 4] = command;
    while (lapic[APIC_ICR_LOW / 4] & ICR_PENDING)
        __asm__ volatile("pause");
}

void lapic_send_self(uint32_t vector)
{
    send_ipi(0, ICR_TO_SELF | ICR_ASSERT | (vector & 0xff));
}

void lapic_send_fixed(uint32_t apic_id, uint32_t vector)
{
    send_ipi(apic_id, ICR_ASSERT | (vector & 0xff));
}

uint32_t lapic_id(void)
{
    return lapic ? lapic_read(APIC_ID) >> 24 : lapic_read(APIC_ID);
}

/* The "self" shorthand is for fixed interrupts only: an NMI names this
 * CPU's own APIC ID instead. */
void lapic_send_self_nmi(void)
{
    send_ipi(lapic_id(), ICR_DELIVERY_NMI | ICR_ASSERT);
}

/* INIT assert, then INIT de-assert (level-triggered, as the MP spec's
 * start sequence has it; newer CPUs ignore the de-assert). */
void lapic_send_init(uint32_t apic_id)
{
    send_ipi(apic_id, ICR_DELIVERY_INIT | ICR_LEVEL_TRIGGER | ICR_ASSERT);
    send_ipi(apic_id, ICR_DELIVERY_INIT | ICR_LEVEL_TRIGGER);
}

void lapic_send_startup(uint32_t apic_id, uint8_t page)
{
    send_ipi(apic_id, ICR_DELIVERY_STARTUP | ICR_ASSERT | page);
}

/* Runs on an application processor after lapic_enable ran on the boot
 * CPU: the same mode (xAPIC at the same address, or x2APIC), software
 * enabled with the spurious vector. Touches no shared state. */
void lapic_ap_enable(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE), want = base | APIC_BASE_ENABLE;

    if (!lapic)
        want |= APIC_BASE_X2APIC;
    if (want != base)
        wrmsr(MSR_IA32_APIC_BASE, want);
    lapic_write(APIC_SVR, APIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
}
