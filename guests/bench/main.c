/*
 * bench: measurements from inside a guest, for `make bench`. In Bochs the
 * TSC advances with emulated instructions, so tick counts are repeatable.
 *   bench launch        launch cost: start -> first instruction, scrub, copy;
 *                       start -> first console write
 *   bench null N [MS]   8 batches of N null hypercalls: ticks per round
 *                       trip; then stays alive MS milliseconds (so that
 *                       mfctl ps shows its count of hypercalls)
 *   bench hold MS       stays alive MS milliseconds (concurrency tests)
 *   bench zero KIB      rep stosq over KIB KiB of its own free memory
 *                       (between its image and its stack): ticks per
 *                       MiB, the floor for the hypervisor's scrub
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

static int bench_null(uint64_t n, uint64_t hold_ms)
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
    if (hold_ms)
        mf_sleep_ns(hold_ms * 1000000ULL);
    return 0;
}

static int bench_hold(uint64_t ms)
{
    mf_sleep_ns(ms * 1000000ULL);
    return 0;
}

/* The same instruction the hypervisor scrubs with (mem_arch_zero), in
 * guest memory that nothing uses: from the first page past the image to
 * 64 KiB below the stack. */
static int bench_zero(const struct mf_boot_info *bi, uint64_t kib)
{
    uint64_t start = ((uint64_t)(uintptr_t)__image_end + 4095) & ~4095ULL;
    uint64_t limit = bi->mem_size - 64 * 1024, bytes = kib * 1024, count = bytes / 8, t0, t1;
    void *p = (void *)(uintptr_t)start;

    if (bytes == 0 || start > limit || bytes > limit - start) {
        mf_printf("bench zero: %llu KiB do not fit between the image and the stack\n",
                  (unsigned long long)kib);
        return 2;
    }
    t0 = mf_tsc();
    __asm__ volatile("rep stosq" : "+D"(p), "+c"(count) : "a"(0ULL) : "memory");
    t1 = mf_tsc();
    mf_printf("bench zero: %llu KiB in %llu ticks, %llu ticks per MiB\n", (unsigned long long)kib,
              (unsigned long long)(t1 - t0), (unsigned long long)((t1 - t0) * 1024 / kib));
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
    uint64_t n = 0, hold_ms = 0;

    if (mf_arg(1) && mf_parse_u64(mf_arg(1), &n) < 0)
        return 2;
    if (mf_arg(2) && mf_parse_u64(mf_arg(2), &hold_ms) < 0)
        return 2;
    if (mode && !strcmp(mode, "null"))
        return bench_null(n ? n : 1000, hold_ms);
    if (mode && !strcmp(mode, "hold"))
        return bench_hold(n ? n : 1000);
    if (mode && !strcmp(mode, "zero"))
        return bench_zero(bi, n ? n : 1024);
    if (mode && !strcmp(mode, "spin"))
        return bench_spin(n ? n : 1000000);
    return bench_launch(bi);
}
