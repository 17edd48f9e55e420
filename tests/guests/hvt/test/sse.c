/*
 * hvt-test's sse mode (protocol: main.c). This file alone is compiled
 * with SSE (without -mgeneral-regs-only): the host enables it before the
 * first instruction, and must keep the xmm registers across exits. The
 * expected values were computed in IEEE 754 binary64/binary32 with the
 * same operations in the same order, so they are compared bit for bit.
 */
#include "test.h"

#define SUM_INV_SQUARES_1000    0x3ffa4d8e550a946eull   /* sum 1/k^2, k = 1..1000 */
#define NEWTON_SQRT2_6          0x3ff6a09e667f3bccull   /* 6 Newton steps from 1 */
#define FLOAT_TENTHS_100        0x41200002u             /* 0.1f added 100 times */
#define XMM_REGS                16

static int sse_fail(const char *what, uint64_t got, uint64_t want)
{
    hvt_printf("sse: FAIL %s: 0x%lx, expected 0x%lx\n", what, (unsigned long)got,
               (unsigned long)want);
    return 1;
}

static uint64_t double_bits(double d)
{
    uint64_t u;

    memcpy(&u, &d, sizeof(u));
    return u;
}

static int sse_doubles(void)
{
    volatile double one = 1.0, two = 2.0, a = 1.5, b = 2.25, c = 123456789.75;
    double s = 0, x = one;

    for (unsigned k = 1; k <= 1000; k++)
        s += one / ((double)k * (double)k);
    if (double_bits(s) != SUM_INV_SQUARES_1000)
        return sse_fail("sum of 1/k^2", double_bits(s), SUM_INV_SQUARES_1000);
    for (int i = 0; i < 6; i++)
        x = (x + two / x) / two;
    if (double_bits(x) != NEWTON_SQRT2_6)
        return sse_fail("Newton sqrt(2)", double_bits(x), NEWTON_SQRT2_6);
    if (a * b != 3.375 || (a + b) * 4 != 15.0 || a / b * b != a)
        return sse_fail("1.5 and 2.25", double_bits(a * b), double_bits(3.375));
    if ((int64_t)(c * 1000.0) != 123456789750 || (double)(int64_t)-7 / two != -3.5)
        return sse_fail("conversions", (uint64_t)(int64_t)(c * 1000.0), 123456789750u);
    return 0;
}

static int sse_floats(void)
{
    volatile float tenth = 0.1f;
    float f = 0;
    uint32_t u;

    for (int i = 0; i < 100; i++)
        f += tenth;
    memcpy(&u, &f, sizeof(u));
    if (u != FLOAT_TENTHS_100)
        return sse_fail("0.1f added 100 times", u, FLOAT_TENTHS_100);
    return 0;
}

/* Loads xmm0..15 with distinct patterns, makes a PUTS hypercall in the
 * same asm statement (nothing of ours can touch them in between), then
 * stores them again: what changed, the host changed. */
static int sse_across_hypercall(void)
{
    static const char msg[] = "sse: xmm registers across a hypercall\n";
    static uint64_t in[2 * XMM_REGS] __attribute__((aligned(16)));
    static uint64_t out[2 * XMM_REGS] __attribute__((aligned(16)));
    volatile struct hvt_hc_puts p = { .data = (uint64_t)(uintptr_t)msg, .len = sizeof(msg) - 1 };

    for (unsigned i = 0; i < 2 * XMM_REGS; i++)
        in[i] = 0x0123456789abcdefull * (i + 1) ^ 0x5a5a5a5a00000000ull;
#define XMM_LOAD(n)  "movdqa " #n "*16(%0), %%xmm" #n "\n\t"
#define XMM_STORE(n) "movdqa %%xmm" #n ", " #n "*16(%1)\n\t"
    __asm__ volatile(XMM_LOAD(0) XMM_LOAD(1) XMM_LOAD(2) XMM_LOAD(3) XMM_LOAD(4) XMM_LOAD(5)
                     XMM_LOAD(6) XMM_LOAD(7) XMM_LOAD(8) XMM_LOAD(9) XMM_LOAD(10) XMM_LOAD(11)
                     XMM_LOAD(12) XMM_LOAD(13) XMM_LOAD(14) XMM_LOAD(15)
                     "outl %%eax, %%dx\n\t"
                     XMM_STORE(0) XMM_STORE(1) XMM_STORE(2) XMM_STORE(3) XMM_STORE(4)
                     XMM_STORE(5) XMM_STORE(6) XMM_STORE(7) XMM_STORE(8) XMM_STORE(9)
                     XMM_STORE(10) XMM_STORE(11) XMM_STORE(12) XMM_STORE(13) XMM_STORE(14)
                     XMM_STORE(15)
                     : : "r"(in), "r"(out), "a"((uint32_t)(uintptr_t)&p),
                       "d"((uint16_t)(HVT_PIO_BASE + HVT_HC_PUTS))
                     : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
                       "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
#undef XMM_LOAD
#undef XMM_STORE
    for (unsigned i = 0; i < 2 * XMM_REGS; i++)
        if (out[i] != in[i]) {
            hvt_printf("sse: FAIL xmm%u changed across a hypercall\n", i / 2);
            return 1;
        }
    return 0;
}

int test_sse(const struct hvt_boot_info *bi)
{
    (void)bi;
    if (sse_doubles() != 0 || sse_floats() != 0 || sse_across_hypercall() != 0)
        return 1;
    hvt_puts("sse ok\n");
    return 0;
}
