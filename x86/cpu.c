/* GDT, TSS and IDT of the hypervisor. Every CPU exception in the
 * hypervisor is reported with vector, error code, RIP and CR2, then the
 * machine powers off: never a silent triple fault. An NMI is not an
 * error: isr.S counts it (vmx/irq.c) and returns. */
#include "../hv/arch.h"
#include "../hv/console.h"
#include "../hv/hv.h"
#include "../hv/lib.h"
#include "cpu.h"
#include "percpu.h"
#include "x86.h"

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "TSS layout");

struct idt_entry {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_entry) == 16, "IDT entry layout");

#define IDT_INTERRUPT_GATE 0x8e        /* present, DPL 0, 64-bit interrupt gate */
#define IST_STACK_SIZE     8192

static uint64_t gdt[5] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static struct idt_entry idt[256] __attribute__((aligned(16)));
static uint8_t ist_stack[IST_STACK_SIZE] __attribute__((aligned(16)));

/* Stubs in isr.S: exceptions ISR_STUB_SIZE bytes apart, then one stub
 * for device interrupts and one for the APIC's spurious vector. */
extern char isr_stubs[], isr_irq[], isr_spurious[];

static const char *const exception_names[32] = {
    [0] = "#DE divide error", [1] = "#DB debug", [2] = "NMI", [3] = "#BP breakpoint",
    [4] = "#OF overflow", [5] = "#BR bound range", [6] = "#UD invalid opcode",
    [7] = "#NM device not available", [8] = "#DF double fault", [10] = "#TS invalid TSS",
    [11] = "#NP segment not present", [12] = "#SS stack fault",
    [13] = "#GP general protection", [14] = "#PF page fault", [16] = "#MF x87 error",
    [17] = "#AC alignment check", [18] = "#MC machine check", [19] = "#XM SIMD error",
    [20] = "#VE virtualization", [21] = "#CP control protection",
};

const char *cpu_exception_name(uint32_t vector, const char *otherwise)
{
    return vector < 32 && exception_names[vector] ? exception_names[vector] : otherwise;
}

/* Fills a GDT (code, data, TSS) for the TSS t, whose NMI, double fault
 * and machine check stack ends at ist_top. */
static void gdt_init(uint64_t *g, struct tss64 *t, uint64_t ist_top)
{
    uint64_t base = (uint64_t)(uintptr_t)t, limit = sizeof(*t) - 1;

    g[0] = 0;
    g[GDT_CODE / 8] = 0x00af9a000000ffffULL;    /* 64-bit code, DPL 0 */
    g[GDT_DATA / 8] = 0x00cf92000000ffffULL;    /* data, DPL 0 */
    /* 64-bit available TSS: a 16-byte descriptor in two slots. */
    g[GDT_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
                     ((limit >> 16) << 48) | (((base >> 24) & 0xff) << 56);
    g[GDT_TSS / 8 + 1] = base >> 32;
    t->ist[0] = ist_top;
    t->iomap_base = sizeof(*t);
}

/* Loads the 5-entry GDT at g, reloads every segment register and TR. */
static void gdt_load(const uint64_t *g)
{
    struct table_register r = { 5 * 8 - 1, (uint64_t)(uintptr_t)g };

    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw %w2, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "movw %%ax, %%fs\n\t"
        "movw %%ax, %%gs\n\t"
        "ltr %w3"
        :
        : "m"(r), "i"(GDT_CODE), "r"(GDT_DATA), "r"(GDT_TSS)
        : "rax", "memory");
}

static void idt_set(unsigned vector, uint64_t handler, uint8_t ist)
{
    struct idt_entry *e = &idt[vector];

    e->offset_low = (uint16_t)handler;
    e->selector = GDT_CODE;
    e->ist = ist;
    e->type_attr = IDT_INTERRUPT_GATE;
    e->offset_mid = (uint16_t)(handler >> 16);
    e->offset_high = (uint32_t)(handler >> 32);
    e->reserved = 0;
}

static void idt_load(void)
{
    struct table_register r = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

    __asm__ volatile("lidt %0" ::"m"(r));
}

static void idt_init(void)
{
    uint64_t stubs = (uint64_t)(uintptr_t)isr_stubs;

    for (unsigned v = 0; v < 32; v++) {
        /* Double fault, NMI and machine check run on their own stack. */
        uint8_t ist = (v == 2 || v == 8 || v == 18) ? 1 : 0;
        idt_set(v, stubs + v * ISR_STUB_SIZE, ist);
    }
    for (unsigned v = 32; v < 255; v++)
        idt_set(v, (uint64_t)(uintptr_t)isr_irq, 0);
    idt_set(255, (uint64_t)(uintptr_t)isr_spurious, 0);
    idt_load();
}

/* The GS base last: loading the GDT reloads GS, which clears it. */
void cpu_arch_init(void)
{
    gdt_init(gdt, &tss, (uint64_t)(uintptr_t)(ist_stack + IST_STACK_SIZE));
    gdt_load(gdt);
    idt_init();
    x86_cpu_install_boot();
}

/* An application processor's own GDT and TSS (a busy TSS cannot be
 * shared), and the boot CPU's IDT: the IDT is never written after boot,
 * and its handlers only use the stack and IST the CPU's own TSS names. */
struct cpu_tables {
    uint64_t gdt[6];                    /* 5 used; 6 keeps the TSS 16-byte aligned */
    struct tss64 tss;
};
_Static_assert(sizeof(struct cpu_tables) <= CPU_TABLES_BYTES, "CPU_TABLES_BYTES");

void cpu_ap_tables_load(void *mem, uint64_t ist_top)
{
    struct cpu_tables *t = mem;

    gdt_init(t->gdt, &t->tss, ist_top);
    gdt_load(t->gdt);
    idt_load();
}

/* Called from isr.S with the saved registers; never returns. */
void cpu_exception(const struct exception_frame *f)
{
    const char *name = cpu_exception_name((uint32_t)f->vector, "unexpected interrupt");

    kprintf("mayfly: panic: CPU exception %llu (%s), error code 0x%llx\n",
            (unsigned long long)f->vector, name, (unsigned long long)f->error);
    kprintf("mayfly:   rip %016llx  cs %llx  rflags %016llx  rsp %016llx\n",
            (unsigned long long)f->rip, (unsigned long long)f->cs,
            (unsigned long long)f->rflags, (unsigned long long)f->rsp);
    kprintf("mayfly:   cr2 %016llx  cr3 %016llx  rax %016llx  rbx %016llx\n",
            (unsigned long long)read_cr2(), (unsigned long long)read_cr3(),
            (unsigned long long)f->rax, (unsigned long long)f->rbx);
    hv_power_off(HV_PANIC);
}

volatile uint64_t x86_host_nmis;

void x86_host_nmi(void)
{
    x86_host_nmis++;
}
