/* The local APIC (xAPIC registers, or x2APIC MSRs where firmware left
 * that mode on): enabled once by the timer code, then used for its EOIs,
 * the idle timer and the self-interrupts of the irq self-test. */
#ifndef X86_LAPIC_H
#define X86_LAPIC_H

#include <stdint.h>

#define LAPIC_TIMER_VECTOR      0x40
#define LAPIC_SELFTEST_VECTOR   0x41
#define LAPIC_KICK_VECTOR       0x42    /* cpu_arch_kick: another CPU has work for this one */
#define LAPIC_SPURIOUS_VECTOR   0xff

#define APIC_EOI                0x0b0
#define APIC_SVR                0x0f0
#define APIC_LVT_TIMER          0x320

/* Software-enables the local APIC with the spurious vector. */
void lapic_enable(void);
/* True once lapic_enable has run: before that nothing may touch it. */
int lapic_ready(void);

void lapic_write(uint32_t reg, uint32_t value);
uint32_t lapic_read(uint32_t reg);
/* Ends the interrupt in service (not for the spurious vector). */
void lapic_eoi(void);

/* A fixed interrupt with vector to this CPU, and an NMI to this CPU; they
 * stay pending while interrupts are off (or until the next VM entry). */
void lapic_send_self(uint32_t vector);
void lapic_send_self_nmi(void);

/* A fixed interrupt with vector to the CPU with apic_id. */
void lapic_send_fixed(uint32_t apic_id, uint32_t vector);

/* This CPU's local APIC id (8 bits in xAPIC mode, 32 in x2APIC). */
uint32_t lapic_id(void);

/* Starting an application processor (after lapic_enable): INIT (assert
 * and de-assert) to apic_id, and a start-up IPI that runs it in real
 * mode at page * 4 KiB. */
void lapic_send_init(uint32_t apic_id);
void lapic_send_startup(uint32_t apic_id, uint8_t page);

/* On an application processor: enables its local APIC in the boot CPU's
 * mode (lapic_enable must have run there first). */
void lapic_ap_enable(void);

#endif
