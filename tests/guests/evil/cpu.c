/* Evil modes about what the CPU offers a guest: CPUID bits for features
 * that would kill or fault it, and instructions the hypervisor must stop
 * by name. */
#include "evil.h"

enum reg { EAX, EBX, ECX, EDX };

struct forbidden_bit {
    uint32_t leaf, subleaf;
    enum reg reg;
    uint8_t bit;
    const char *name;
};

/* Features a guest cannot use here (docs/decisions.md, "CPUID"). */
static const struct forbidden_bit forbidden[] = {
    { 0x1, 0, ECX, 3, "MONITOR/MWAIT" },
    { 0x1, 0, ECX, 5, "VMX" },
    { 0x1, 0, ECX, 12, "FMA" },
    { 0x1, 0, ECX, 17, "PCID" },
    { 0x1, 0, ECX, 21, "x2APIC" },
    { 0x1, 0, ECX, 24, "TSC-deadline" },
    { 0x1, 0, ECX, 26, "XSAVE" },
    { 0x1, 0, ECX, 27, "OSXSAVE" },
    { 0x1, 0, ECX, 28, "AVX" },
    { 0x1, 0, ECX, 29, "F16C" },
    { 0x1, 0, EDX, 9, "APIC" },
    { 0x1, 0, EDX, 11, "SYSENTER" },
    { 0x1, 0, EDX, 12, "MTRR" },
    { 0x1, 0, EDX, 13, "PGE" },
    { 0x7, 0, EBX, 0, "FSGSBASE" },
    { 0x7, 0, EBX, 5, "AVX2" },
    { 0x7, 0, EBX, 7, "SMEP" },
    { 0x7, 0, EBX, 10, "INVPCID" },
    { 0x7, 0, EBX, 16, "AVX512F" },
    { 0x7, 0, EBX, 20, "SMAP" },
    { 0x7, 0, ECX, 2, "UMIP" },
    { 0x7, 0, ECX, 3, "PKU" },
    { 0x7, 0, ECX, 5, "WAITPKG" },
    { 0x7, 0, ECX, 16, "LA57" },
    { 0x80000001, 0, EDX, 11, "SYSCALL" },
    { 0x80000001, 0, EDX, 20, "NX" },
};

/* Leaves that must read as zeroes: MONITOR, power, PMU, XSAVE. */
static const uint32_t zero_leaves[] = { 0x5, 0x6, 0xa, 0xd };

static void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(subleaf));
}

int evil_cpuid_policy(uint64_t unused)
{
    static const char regs[4][4] = { "eax", "ebx", "ecx", "edx" };
    uint32_t r[4];
    int seen = 0;

    (void)unused;
    mf_puts("evil: cpuid-policy: looking for features a guest cannot use\n");
    for (unsigned i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
        const struct forbidden_bit *f = &forbidden[i];

        cpuid(f->leaf, f->subleaf, r);
        if (!(r[f->reg] & (1u << f->bit)))
            continue;
        mf_printf("evil: cpuid-policy: leaf 0x%x %s bit %u (%s) is set\n", f->leaf,
                  regs[f->reg], f->bit, f->name);
        seen++;
    }
    for (unsigned i = 0; i < sizeof(zero_leaves) / sizeof(zero_leaves[0]); i++) {
        cpuid(zero_leaves[i], 0, r);
        if (!(r[0] | r[1] | r[2] | r[3]))
            continue;
        mf_printf("evil: cpuid-policy: leaf 0x%x is not zero (%x %x %x %x)\n", zero_leaves[i],
                  r[0], r[1], r[2], r[3]);
        seen++;
    }
    cpuid(0x7, 1, r);
    if (r[0] | r[1] | r[2] | r[3]) {
        mf_puts("evil: cpuid-policy: leaf 0x7 subleaf 1 is not zero\n");
        seen++;
    }
    cpuid(0x1, 0, r);
    if (!(r[2] & (1u << 31))) {
        mf_puts("evil: cpuid-policy: the hypervisor bit is clear\n");
        seen++;
    }
    if (seen) {
        mf_printf("evil: cpuid-policy: %d forbidden features offered\n", seen);
        return EVIL_WRONG;
    }
    mf_puts("evil: cpuid-policy: ok\n");
    return EVIL_OK;
}

int evil_wbinvd(uint64_t unused)
{
    (void)unused;
    mf_puts("evil: wbinvd: flushing every cache\n");
    __asm__ volatile("wbinvd" ::: "memory");
    return evil_survived("wbinvd");
}

int evil_invd(uint64_t unused)
{
    (void)unused;
    mf_puts("evil: invd: invalidating every cache without writing back\n");
    __asm__ volatile("invd" ::: "memory");
    return evil_survived("invd");
}

int evil_mov_dr(uint64_t unused)
{
    (void)unused;
    mf_puts("evil: mov-dr: writing DR0\n");
    __asm__ volatile("mov %0, %%dr0" : : "r"(0x100000ULL) : "memory");
    return evil_survived("mov-dr");
}

/* MOV to/from DRn for n in 0-3, 6, 7 (4 and 5 alias 6 and 7): each must
 * end the guest, so no tenant can read or plant debug-register state. */
#define DR_CASE_READ(n) \
    case n: __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v)); break
#define DR_CASE_WRITE(n) \
    case n: __asm__ volatile("mov %0, %%dr" #n : : "r"(v) : "memory"); break

int evil_dr_read(uint64_t n)
{
    uint64_t v = 0;

    mf_printf("evil: dr-read: reading DR%lu\n", n);
    switch (n) {
        DR_CASE_READ(0); DR_CASE_READ(1); DR_CASE_READ(2); DR_CASE_READ(3);
        DR_CASE_READ(6); DR_CASE_READ(7);
    default:
        return EVIL_USAGE;
    }
    mf_printf("evil: dr-read: DR%lu = 0x%lx\n", n, v);
    return evil_survived("dr-read");
}

int evil_dr_write(uint64_t n)
{
    /* A breakpoint on the guest's own entry (DR0-3), every enable bit
     * (DR7), or every status bit (DR6): what a tenant would plant. */
    uint64_t v = n == 7 ? 0xffULL | 0x400 : n == 6 ? 0xffff4ff0ULL : 0x100000ULL;

    mf_printf("evil: dr-write: writing 0x%lx to DR%lu\n", v, n);
    switch (n) {
        DR_CASE_WRITE(0); DR_CASE_WRITE(1); DR_CASE_WRITE(2); DR_CASE_WRITE(3);
        DR_CASE_WRITE(6); DR_CASE_WRITE(7);
    default:
        return EVIL_USAGE;
    }
    return evil_survived("dr-write");
}

/* AVX (YMM) and XSAVE state: guests get CR4.OSXSAVE clear and no AVX or
 * XSAVE in CPUID, so a VEX instruction must fault (#UD) and XSETBV must
 * fault or exit. Either way the guest ends: the upper halves of the YMM
 * registers, which FXSAVE does not switch, are out of every tenant's
 * reach, on a CPU that has them (Bochs tigerlake) or not. */
int evil_avx(uint64_t unused)
{
    (void)unused;
    mf_puts("evil: avx: writing YMM0 (vpcmpeqb ymm0, ymm0, ymm0)\n");
    __asm__ volatile("vpcmpeqb %%ymm0, %%ymm0, %%ymm0" ::: "memory");
    return evil_survived("avx");
}

int evil_xsetbv(uint64_t unused)
{
    (void)unused;
    mf_puts("evil: xsetbv: enabling x87, SSE and AVX in XCR0\n");
    __asm__ volatile("xsetbv" : : "c"(0), "a"(7), "d"(0) : "memory");
    return evil_survived("xsetbv");
}

/* RDPMC exits and has no handler: the generic "unexpected VM exit"
 * line, which must name the exit. */
int evil_rdpmc(uint64_t unused)
{
    uint32_t lo, hi;

    (void)unused;
    mf_puts("evil: rdpmc: reading performance counter 0\n");
    __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(0));
    mf_printf("evil: rdpmc: counter 0 = 0x%x%08x\n", hi, lo);
    return evil_survived("rdpmc");
}

/* irq-victim <rounds>: runs with RFLAGS.IF set (allowed: with every
 * interrupt exiting, a guest never takes one) so that Bochs delivers the
 * host's pending interrupts as VM exits while it runs; each round does
 * some arithmetic and yields. The sum must come out right. */
int evil_irq_victim(uint64_t rounds)
{
    uint64_t sum = 0;

    mf_printf("evil: irq-victim: %lu rounds with interrupts on\n", rounds);
    __asm__ volatile("sti" ::: "memory");
    for (uint64_t i = 1; i <= rounds; i++) {
        for (uint64_t j = 0; j < 1000; j++)
            sum += i * j;
        mf_yield();
    }
    /* sum of i * j for j < 1000 = 499500 i, over i = 1..rounds */
    if (sum != 499500 * rounds * (rounds + 1) / 2) {
        mf_printf("evil: irq-victim: sum 0x%lx WRONG\n", sum);
        return EVIL_WRONG;
    }
    mf_puts("evil: irq-victim: sum ok\n");
    return EVIL_OK;
}
