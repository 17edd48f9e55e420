/*
 * The CPU state an hvt unikernel owns: its GDT (the host's at
 * HVT_GDT_GPA is not mapped for us), a TSS whose IST1 stack every
 * exception runs on (so a fault on a broken stack is still reported), and
 * an IDT whose handlers print Solo5's trap line and halt with
 * HVT_EXIT_ABORT. Interrupts stay off: nothing here expects one.
 */
#include "hvtlib.h"

#define SEL_CODE        0x08
#define SEL_DATA        0x10
#define SEL_TSS         0x18
#define TRAP_VECTORS    32
#define IST_STACK_SIZE  16384

struct hvt_trap_frame {
    uint64_t vector, error_code, rip, cs, rflags, rsp, ss;
};

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

struct idt_gate {
    uint16_t offset_low, selector;
    uint8_t ist, type_attr;
    uint16_t offset_mid;
    uint32_t offset_high, reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

struct table_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

extern const uint64_t hvt_trap_stubs[TRAP_VECTORS];

static struct tss64 tss;
static struct idt_gate idt[TRAP_VECTORS];
static uint8_t ist_stack[IST_STACK_SIZE] __attribute__((aligned(16)));
/* null, 64-bit code, data, and the TSS's two slots (filled at run time:
 * LTR marks it busy, so the table must be writable). */
static uint64_t gdt[5] = {
    0,
    0x00af9a000000ffffULL,      /* 0x08: present, DPL 0, code, L=1 */
    0x00cf92000000ffffULL,      /* 0x10: present, DPL 0, data, writable */
    0, 0,
};

static const char *const trap_names[TRAP_VECTORS] = {
    "#DE", "#DB", "#NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

static void gdt_set_tss(void)
{
    uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof(tss) - 1;

    gdt[3] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ULL << 40 |
             ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
    gdt[4] = base >> 32;
}

static void cpu_load_gdt(void)
{
    struct table_pointer p = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };

    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movl %2, %%eax\n\t"
                     "movl %%eax, %%ds\n\t"
                     "movl %%eax, %%es\n\t"
                     "movl %%eax, %%ss\n\t"
                     "ltr %w3"
                     : : "m"(p), "i"(SEL_CODE), "i"(SEL_DATA), "r"(SEL_TSS)
                     : "rax", "memory");
}

static void cpu_load_idt(void)
{
    struct table_pointer p = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

    for (unsigned v = 0; v < TRAP_VECTORS; v++) {
        uint64_t a = hvt_trap_stubs[v];

        idt[v] = (struct idt_gate){
            .offset_low = (uint16_t)a, .selector = SEL_CODE, .ist = 1,
            .type_attr = 0x8e,  /* present, DPL 0, 64-bit interrupt gate */
            .offset_mid = (uint16_t)(a >> 16), .offset_high = (uint32_t)(a >> 32),
        };
    }
    __asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

void hvt_cpu_init(void)
{
    tss.ist[0] = (uint64_t)(uintptr_t)(ist_stack + sizeof(ist_stack));
    tss.iomap_base = sizeof(tss);           /* no I/O bitmap */
    gdt_set_tss();
    cpu_load_gdt();
    cpu_load_idt();
}

void hvt_trap(const struct hvt_trap_frame *f)
{
    const char *name = f->vector < TRAP_VECTORS ? trap_names[f->vector] : "?";

    if (f->vector == 14) {
        uint64_t cr2;

        __asm__ volatile("movq %%cr2, %0" : "=r"(cr2));
        hvt_printf("Solo5: trap: type=%s ec=0x%lx rip=0x%lx cr2=0x%lx\n", name,
                   (unsigned long)f->error_code, (unsigned long)f->rip, (unsigned long)cr2);
    } else {
        hvt_printf("Solo5: trap: type=%s ec=0x%lx rip=0x%lx\n", name,
                   (unsigned long)f->error_code, (unsigned long)f->rip);
    }
    hvt_halt(HVT_EXIT_ABORT);
}

void hvt_set_fs_base(uint64_t base)
{
    __asm__ volatile("wrmsr" : : "c"(0xc0000100u), "a"((uint32_t)base),
                     "d"((uint32_t)(base >> 32)) : "memory");
}
