/* hvt-test modes that end normally or in a fault of the guest's own:
 * data, time, trap-pf, trap-null, ssp, ud (protocol: main.c). */
#include "test.h"

#define MS              1000000ull              /* ns */
#define WALLTIME_2020   1577836800ull           /* 2020-01-01T00:00:00Z */
#define ABOVE_IMAGE     65536                   /* bytes checked above kernel_end */

extern const char __bss_end[], __image_end[];

/* --- data --- */
static uint32_t data_word = 0x12345678;
static uint64_t data_fib[12] = { 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144 };
static char data_text[] = "hvt .data";
static const char data_ro[] = "hvt .rodata";
static uint8_t bss_block[65536];
static uint64_t bss_word;

static int data_fail(const char *what)
{
    hvt_printf("data: FAIL %s\n", what);
    return 1;
}

/* 1 if the n bytes at p are all zero. */
static int all_zero(const volatile uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static int data_initialised(void)
{
    volatile uint32_t *w = &data_word;

    if (*w != 0x12345678)
        return data_fail(".data word is not 0x12345678");
    for (unsigned i = 2; i < 12; i++)
        if (data_fib[i] != data_fib[i - 1] + data_fib[i - 2])
            return data_fail(".data table is not the Fibonacci numbers");
    if (strcmp(data_text, "hvt .data") != 0 || strcmp(data_ro, "hvt .rodata") != 0)
        return data_fail("initialised strings differ");
    *w = 0x9abcdef0;
    data_text[0] = 'H';
    if (*w != 0x9abcdef0 || data_text[0] != 'H')
        return data_fail(".data is not writable");
    return 0;
}

int test_data(const struct hvt_boot_info *bi)
{
    uint64_t bss_end = (uint64_t)(uintptr_t)__bss_end, stack = (uint64_t)(uintptr_t)&bss_end;

    hvt_printf("data: kernel_end 0x%lx, image end 0x%lx, mem_size 0x%lx\n",
               (unsigned long)bi->kernel_end, (unsigned long)(uintptr_t)__image_end,
               (unsigned long)bi->mem_size);
    if (data_initialised() != 0)
        return 1;
    /* Objects nothing touched before main (the runtime's own .bss, the
     * guard and the CPU tables, is in use by now). */
    if (!all_zero(bss_block, sizeof(bss_block)) || bss_word != 0)
        return data_fail(".bss is not zero");
    if (bi->kernel_end < bss_end || bi->kernel_end >= stack || stack >= bi->mem_size)
        return data_fail("kernel_end is not between the end of .bss and the stack");
    if (bi->kernel_end + ABOVE_IMAGE < stack - ABOVE_IMAGE &&
        !all_zero((const uint8_t *)(uintptr_t)bi->kernel_end, ABOVE_IMAGE))
        return data_fail("memory above kernel_end is not zero");
    bss_word = 7;
    if (bss_word != 7)
        return data_fail(".bss is not writable");
    hvt_puts("data ok\n");
    return 0;
}

/* --- time --- */
int test_time(const struct hvt_boot_info *bi)
{
    uint64_t ready = ~0ull, t0, t1, ms, secs;
    int ret, time_ok, wall_ok;

    hvt_printf("time: cpu_cycle_freq %lu\n", (unsigned long)bi->cpu_cycle_freq);
    t0 = hvt_tsc();
    ret = hvt_poll(200 * MS, &ready);
    t1 = hvt_tsc();
    ms = hvt_tsc_to_ns(t1 - t0) / MS;
    hvt_printf("time: poll 200 ms took %lu ms\n", (unsigned long)ms);
    time_ok = ms >= 160 && ms <= 240 && ret == 0 && ready == 0;
    if (time_ok)
        hvt_puts("time ok\n");
    else
        hvt_printf("time: FAIL poll took %lu ms (160..240), ret %d (0), ready set 0x%lx (0)\n",
                   (unsigned long)ms, ret, (unsigned long)ready);
    secs = hvt_walltime() / 1000000000ull;
    wall_ok = secs >= WALLTIME_2020;
    hvt_printf(wall_ok ? "walltime ok %lu\n" : "walltime: FAIL %lu\n", (unsigned long)secs);
    return time_ok && wall_ok ? 0 : 1;
}

/* --- faults handled by the guest's own IDT --- */
static int read_fault(const char *mode, uintptr_t addr)
{
    hvt_printf("%s: reading 0x%lx\n", mode, (unsigned long)addr);
    (void)*(volatile const uint8_t *)test_opaque(addr);
    hvt_printf("%s: FAIL no fault\n", mode);
    return 1;
}

int test_trap_pf(const struct hvt_boot_info *bi)
{
    return read_fault("trap-pf", (uintptr_t)bi->mem_size);
}

int test_trap_null(const struct hvt_boot_info *bi)
{
    (void)bi;
    return read_fault("trap-null", 0);
}

/* Writes n bytes into a 16-byte buffer; n comes from outside the
 * compiler's view so the overrun is not diagnosed at build time. */
__attribute__((noinline)) static void ssp_overrun(size_t n)
{
    char buf[16];
    volatile char *p = buf;

    for (size_t i = 0; i < n; i++)
        p[i] = 'A';
}

int test_ssp(const struct hvt_boot_info *bi)
{
    (void)bi;
    hvt_puts("ssp: overrunning a stack buffer\n");
    ssp_overrun(test_opaque(64));
    hvt_puts("ssp: FAIL the overrun was not detected\n");
    return 1;
}

int test_ud(const struct hvt_boot_info *bi)
{
    (void)bi;
    hvt_puts("ud: executing ud2\n");
    __asm__ volatile("ud2");
    hvt_puts("ud: FAIL no #UD\n");
    return 1;
}
