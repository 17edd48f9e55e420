/*
 * Architectural state between tenants. archset loads every register a
 * guest can set and VM entry does not reload (GPRs, CR2, KERNEL_GS_BASE
 * through GS base plus SWAPGS, FS/GS base, x87 and SSE) with values of
 * its own; archcheck, started after it, reads all of them and reports
 * each as ok or LEAK, and checks that CR4 and CPUID keep XSAVE and AVX
 * (YMM) state out of reach. Debug registers and every other MSR end the
 * guest that touches them (cpu.c, cpu_state.sh). The values are canonical addresses (FS/GS base
 * and SWAPGS need them) that nothing else produces: 0x5e7ac0de00nn.
 */
#include "evil.h"

#define IA32_FS_BASE        0xc0000100u
#define IA32_GS_BASE        0xc0000101u

#define ARCH_PATTERN(n)     (0x00005e7ac0de0000ULL | (uint64_t)(n))
#define ARCH_IS_PATTERN(v)  (((v) & ~0xffffULL) == 0x00005e7ac0de0000ULL)
#define PAT_CR2             0x10
#define PAT_KERNEL_GS       0x11
#define PAT_FS              0x12
#define PAT_GS              0x13
#define PAT_FPU             0x20        /* ST0-7 and XMM0-15: 0x20 + register */

/* Reset values of a fresh tenant: FNINIT's control word, MXCSR's. */
#define FCW_RESET           0x037f
#define MXCSR_RESET         0x1f80
#define FCW_SET             0x0f7f      /* rounding toward zero */
#define MXCSR_SET           0x7f80      /* rounding toward zero */

#define FX_FCW              0
#define FX_FSW              2
#define FX_FTW              4
#define FX_MXCSR            24
#define FX_ST0              32          /* 8 x 16 bytes */
#define FX_XMM0             160         /* 16 x 16 bytes */
#define FX_END              416

#define STR(x)              #x
#define XSTR(x)             STR(x)

/* General registers as main() found them (main.c fills it in first). */
struct evil_entry_regs evil_entry_regs;

static uint8_t fx_area[512] __attribute__((aligned(16)));

static void wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
}

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

/* The CR4 every guest gets: PAE, OSFXSR, OSXMMEXCPT. OSXSAVE stays
 * clear (and CPUID shows no XSAVE, OSXSAVE or AVX), so AVX's YMM upper
 * halves and every XSAVE component are out of reach: only x87/SSE state
 * can pass between tenants, and that is checked below. */
#define CR4_GUEST           0x620ULL
#define CPUID_1_ECX_XSAVE_OSXSAVE_AVX   (7u << 26)

static uint64_t read_cr4(void)
{
    uint64_t v;

    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static uint32_t cpuid_1_ecx(void)
{
    uint32_t a = 1, b, c = 0, d;

    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return c;
}

static uint64_t read_cr2(void)
{
    uint64_t v;

    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

/* KERNEL_GS_BASE is not readable (RDMSR is denied): SWAPGS brings it
 * into GS base, which is. */
static uint64_t read_kernel_gs(void)
{
    uint64_t v;

    __asm__ volatile("swapgs" ::: "memory");
    v = rdmsr(IA32_GS_BASE);
    __asm__ volatile("swapgs" ::: "memory");
    return v;
}

static void store64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, sizeof(v));
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static void fx_set(void)
{
    uint16_t fcw = FCW_SET;
    uint32_t mxcsr = MXCSR_SET;

    memset(fx_area, 0, sizeof(fx_area));
    memcpy(&fx_area[FX_FCW], &fcw, sizeof(fcw));
    fx_area[FX_FTW] = 0xff;             /* every ST register in use */
    memcpy(&fx_area[FX_MXCSR], &mxcsr, sizeof(mxcsr));
    for (int i = 0; i < 8; i++)
        store64(&fx_area[FX_ST0 + 16 * i], ARCH_PATTERN(PAT_FPU + i));
    for (int i = 0; i < 16; i++) {
        store64(&fx_area[FX_XMM0 + 16 * i], ARCH_PATTERN(PAT_FPU + 8 + i));
        store64(&fx_area[FX_XMM0 + 16 * i + 8], ARCH_PATTERN(PAT_FPU + 8 + i));
    }
    __asm__ volatile("fxrstor64 %0" : : "m"(fx_area) : "memory");
}

static void fx_read(void)
{
    __asm__ volatile("fxsave64 %0" : "=m"(fx_area) : : "memory");
}

static int report(const char *mode, const char *what, uint64_t got, uint64_t want)
{
    const char *verdict = got == want ? "ok" : ARCH_IS_PATTERN(got) ? "LEAK" : "WRONG";

    mf_printf("evil: %s: %s = 0x%lx (want 0x%lx) %s\n", mode, what, got, want, verdict);
    return got == want ? 0 : 1;
}

/* The GPRs main() saw cannot be demanded zero (the runtime ran before
 * it), but none may hold a previous tenant's value. */
static int check_entry_regs(void)
{
    static const char *const names[] = { "rbx", "rsi", "rbp", "r9", "r10", "r11", "r12",
                                         "r13", "r14", "r15" };
    const uint64_t *r = &evil_entry_regs.rbx;
    int bad = 0;

    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int leak = ARCH_IS_PATTERN(r[i]);

        mf_printf("evil: archcheck: %s at entry = 0x%lx %s\n", names[i], r[i],
                  leak ? "LEAK" : "ok");
        bad += leak;
    }
    return bad;
}

/* What fxsave shows for x87 and SSE: reset control words, no register
 * holding anything. */
static int check_fpu(const char *mode, int own)
{
    uint16_t fcw, fsw;
    uint32_t mxcsr;
    int bad = 0, st = 0, xmm = 0;

    fx_read();
    memcpy(&fcw, &fx_area[FX_FCW], sizeof(fcw));
    memcpy(&fsw, &fx_area[FX_FSW], sizeof(fsw));
    memcpy(&mxcsr, &fx_area[FX_MXCSR], sizeof(mxcsr));
    bad += report(mode, "x87 control word", fcw, own ? FCW_SET : FCW_RESET);
    bad += report(mode, "MXCSR", mxcsr, own ? MXCSR_SET : MXCSR_RESET);
    if (!own)
        bad += report(mode, "x87 status and tags", fsw | (uint64_t)fx_area[FX_FTW] << 16, 0);
    for (int i = 0; i < 8; i++)
        st += load64(&fx_area[FX_ST0 + 16 * i]) != (own ? ARCH_PATTERN(PAT_FPU + i) : 0);
    for (int i = 0; i < 16; i++)
        xmm += load64(&fx_area[FX_XMM0 + 16 * i]) != (own ? ARCH_PATTERN(PAT_FPU + 8 + i) : 0);
    bad += report(mode, "ST0-ST7 registers not as expected", (uint64_t)st, 0);
    bad += report(mode, "XMM0-XMM15 registers not as expected", (uint64_t)xmm, 0);
    return bad;
}

/* Everything but the GPRs, against a fresh tenant's values or (own) the
 * values archset loaded. */
static int check_state(const char *mode, int own)
{
    int bad = 0;

    bad += report(mode, "CR2", read_cr2(), own ? ARCH_PATTERN(PAT_CR2) : 0);
    bad += report(mode, "KERNEL_GS_BASE", read_kernel_gs(), own ? ARCH_PATTERN(PAT_KERNEL_GS) : 0);
    bad += report(mode, "FS base", rdmsr(IA32_FS_BASE), own ? ARCH_PATTERN(PAT_FS) : 0);
    bad += report(mode, "GS base", rdmsr(IA32_GS_BASE), own ? ARCH_PATTERN(PAT_GS) : 0);
    bad += report(mode, "CR4", read_cr4(), CR4_GUEST);
    bad += report(mode, "CPUID.1 ECX XSAVE, OSXSAVE and AVX bits",
                  cpuid_1_ecx() & CPUID_1_ECX_XSAVE_OSXSAVE_AVX, 0);
    return bad + check_fpu(mode, own);
}

/* Loads the GPRs with patterns and exits through a bare VMCALL, so the
 * hypervisor sees them in the guest's registers when it ends. */
void evil_exit_with_patterns(void) __attribute__((noreturn));
__asm__(".text\n"
        ".globl evil_exit_with_patterns\n"
        "evil_exit_with_patterns:\n"
        "    movabs $0x00005e7ac0de0001, %rbx\n"
        "    movabs $0x00005e7ac0de0002, %rcx\n"
        "    movabs $0x00005e7ac0de0003, %rdx\n"
        "    movabs $0x00005e7ac0de0004, %rsi\n"
        "    movabs $0x00005e7ac0de0005, %rbp\n"
        "    movabs $0x00005e7ac0de0008, %r8\n"
        "    movabs $0x00005e7ac0de0009, %r9\n"
        "    movabs $0x00005e7ac0de000a, %r10\n"
        "    movabs $0x00005e7ac0de000b, %r11\n"
        "    movabs $0x00005e7ac0de000c, %r12\n"
        "    movabs $0x00005e7ac0de000d, %r13\n"
        "    movabs $0x00005e7ac0de000e, %r14\n"
        "    movabs $0x00005e7ac0de000f, %r15\n"
        "    movl $" XSTR(MF_HC_EXIT) ", %eax\n"
        "    xorl %edi, %edi\n"
        "    testb $1, mf_use_vmmcall(%rip)\n"
        "    jnz 1f\n"
        "    vmcall\n"
        "    ud2\n"
        "1:  vmmcall\n"
        "    ud2\n");

/* archset [ms]: loads the values; with ms, sleeps that long (another
 * guest runs meanwhile), checks that its own values came back, and
 * exits. The exit carries the GPR patterns. */
int evil_archset(uint64_t ms)
{
    mf_puts("evil: archset: loading CR2, KERNEL_GS_BASE, FS/GS base, x87, SSE and GPRs\n");
    wrmsr(IA32_GS_BASE, ARCH_PATTERN(PAT_KERNEL_GS));
    __asm__ volatile("swapgs" ::: "memory");
    wrmsr(IA32_GS_BASE, ARCH_PATTERN(PAT_GS));
    wrmsr(IA32_FS_BASE, ARCH_PATTERN(PAT_FS));
    __asm__ volatile("mov %0, %%cr2" : : "r"(ARCH_PATTERN(PAT_CR2)) : "memory");
    fx_set();
    if (ms) {
        mf_sleep_ns(ms * 1000000);
        if (check_state("archset", 1)) {
            mf_puts("evil: archset: its own values did not come back\n");
            return EVIL_WRONG;
        }
        mf_puts("evil: archset: its own values came back after the sleep\n");
    }
    mf_puts("evil: archset: exiting with the GPRs loaded\n");
    evil_exit_with_patterns();
}

/* archcheck [ms]: sleeps ms first (so that another guest runs just
 * before it wakes), then reads everything. */
int evil_archcheck(uint64_t ms)
{
    int bad = check_entry_regs();

    if (ms)
        mf_sleep_ns(ms * 1000000);
    bad += check_state("archcheck", 0);
    mf_printf("evil: archcheck: %s\n", bad ? "previous tenant's state seen" : "all clean");
    return bad ? EVIL_WRONG : EVIL_OK;
}
