/*
 * bench: measurements from inside a guest, for `make bench`. In Bochs the
 * TSC advances with emulated instructions, so tick counts are repeatable.
 *   bench launch        launch cost: start -> first instruction, scrub, copy;
 *                       start -> first console write
 *   bench null N        N null hypercalls: ticks per round trip
 *   bench hold MS       stays alive MS milliseconds (concurrency tests)
 *   bench spin N        N rounds of register-only work: the TSC at its
 *                       start and end (the CPUs share one TSC), for the
 *                       SMP scaling figure
 * Each mode prints one "bench <mode>: ..." line that bench/run.sh reads.
 */
#include <mf.h>

static int bench_launch(const struct mf_boot_info *bi)
{
    /* The first console write comes first, timed just before its call
     * (hvt-bench measures its first PUTS the same way). */
    uint64_t before_write = mf_tsc();

    mf_console_write("\n", 1);
    mf_printf("bench first write: %llu ticks from start to first console write\n",
              (unsigned long long)(before_write - bi->start_tsc));
    if (bi->request_tsc)
        mf_printf("bench request: %llu ticks from the START request to first instruction "
                  "(%llu of them before the launch began)\n",
                  (unsigned long long)(mf_entry_tsc - bi->request_tsc),
                  (unsigned long long)(bi->start_tsc - bi->request_tsc));
    mf_printf("bench launch: %llu ticks from start to first instruction "
              "(scrub %llu, copy %llu, rest %llu)\n",
              (unsigned long long)(mf_entry_tsc - bi->start_tsc),
              (unsigned long long)bi->scrub_tsc, (unsigned long long)bi->load_tsc,
              (unsigned long long)(mf_entry_tsc - bi->start_tsc - bi->scrub_tsc - bi->load_tsc));
    return 0;
}

static int bench_null(uint64_t n)
{
    uint64_t t0, t1, best = ~0ULL;

    /* The best of several batches: a batch that a preemption hits is
     * slower for reasons that are not the hypercall's. */
    for (int batch = 0; batch < 8; batch++) {
        t0 = mf_tsc();
        for (uint64_t i = 0; i < n; i++)
            mf_hypercall0(MF_HC_NULL);
        t1 = mf_tsc();
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    mf_printf("bench null: %llu calls, %llu ticks per round trip\n", (unsigned long long)n,
              (unsigned long long)(best / n));
    return 0;
}

static int bench_hold(uint64_t ms)
{
    mf_sleep_ns(ms * 1000000ULL);
    return 0;
}

static int bench_spin(uint64_t n)
{
    uint64_t x = 88172645463325252ULL, t0 = mf_tsc(), t1;

    for (uint64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        __asm__ volatile("" : "+r"(x));
    }
    t1 = mf_tsc();
    mf_printf("bench spin: %llu rounds from %llu to %llu (%llu ticks), value %llx\n",
              (unsigned long long)n, (unsigned long long)t0, (unsigned long long)t1,
              (unsigned long long)(t1 - t0), (unsigned long long)x);
    return 0;
}

int main(const struct mf_boot_info *bi)
{
    const char *mode = mf_arg(0);
    uint64_t n = 0;

    if (mf_arg(1) && mf_parse_u64(mf_arg(1), &n) < 0)
        return 2;
    if (mode && !strcmp(mode, "null"))
        return bench_null(n ? n : 1000);
    if (mode && !strcmp(mode, "hold"))
        return bench_hold(n ? n : 1000);
    if (mode && !strcmp(mode, "spin"))
        return bench_spin(n ? n : 1000000);
    return bench_launch(bi);
}
