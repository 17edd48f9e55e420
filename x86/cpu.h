/* Descriptor-table selectors and the exception frame isr.S builds. */
#ifndef X86_CPU_H
#define X86_CPU_H

#define GDT_CODE        0x08
#define GDT_DATA        0x10
#define GDT_TSS         0x18
#define ISR_STUB_SIZE   16
#define CPU_TABLES_BYTES 160    /* one application processor's GDT and TSS */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* What LGDT/LIDT take and SGDT/SIDT give. */
struct table_register {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* Pushed by isr.S: general registers, then vector and error code, then
 * what the CPU pushed. */
struct exception_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

void cpu_exception(const struct exception_frame *f) __attribute__((noreturn));

/* On an application processor: builds its GDT and TSS in the
 * CPU_TABLES_BYTES at mem (16-byte aligned, never freed) with ist_top as
 * the top of its NMI, double fault and machine check stack, loads them,
 * and loads the boot CPU's IDT. */
void cpu_ap_tables_load(void *mem, uint64_t ist_top);

/* "#PF page fault" and so on for an architectural exception vector;
 * otherwise for vectors without a name. */
const char *cpu_exception_name(uint32_t vector, const char *otherwise);
#endif

#ifndef __ASSEMBLER__
/* The host's NMI handler (isr.S): counts and returns. A backend that
 * re-raises an NMI that exited a guest finds it counted here. */
void x86_host_nmi(void);
extern volatile uint64_t x86_host_nmis;
#endif

#endif
