/*
 * The arch contract: everything the core needs from the CPU architecture
 * and its virtualisation extension. vmx/ implements it for Intel VT-x; an
 * AMD-V backend implements the same functions. The core includes no arch
 * header but this one.
 */
#ifndef HV_ARCH_H
#define HV_ARCH_H

#include <stddef.h>
#include <stdint.h>

/* Serial console. */
void console_arch_init(void);
void console_arch_putc(char c);
void console_arch_flush(void);          /* waits until every byte has left */

/* Descriptor tables and exception handling: an exception in the
 * hypervisor is reported on the console, then the machine powers off. */
void cpu_arch_init(void);

/* Identity-maps [0, max_addr) with page tables taken from the pool and
 * switches to them. Returns 0, or -1 when the pool is too small. */
int paging_arch_init(uint64_t max_addr);

/* Powers the machine off (QEMU, Bochs) or halts it (hardware). */
void power_arch_off(int status) __attribute__((noreturn));

/* Reads the CPU's virtualisation features. Returns HV_OK with a one-line
 * summary in buf, or a fatal hv_status with the reason and fix in buf. */
int virt_arch_probe(char *buf, size_t size);

/* Turns virtualisation on for this CPU (VMXON). Returns HV_OK, or a fatal
 * hv_status with the reason in buf. */
int virt_arch_cpu_init(char *buf, size_t size);

/* Time-stamp counter. */
uint64_t time_arch_tsc(void);

#endif
