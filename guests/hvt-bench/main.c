/*
 * hvt-bench: measurements from inside a Solo5 hvt guest, for `make bench`
 * (the hvt twin of guests/bench). In Bochs the TSC advances with emulated
 * instructions, so the counts repeat. The launch TSC comes from Mayfly's
 * struct hvt_mayfly after the boot info (include/mayfly/hvt.h).
 *   hvt-bench launch     start -> first instruction, start -> first PUTS
 *   hvt-bench poll N     N POLLs with a zero timeout: ticks per round trip
 * Each mode prints one "hvt-bench <mode>: ..." line that bench/run.sh
 * reads; exit 0, or 1 when the boot info has no struct hvt_mayfly.
 */
#include "hvtlib.h"

HVT_MANIFEST(0);

static const struct hvt_mayfly *mayfly_ext(const struct hvt_boot_info *bi)
{
    const struct hvt_mayfly *m = (const struct hvt_mayfly *)(bi + 1);
    return m->magic == HVT_MAYFLY_MAGIC ? m : NULL;
}

/* The first PUTS is the first thing main does: one byte, timed just
 * before the OUT. */
static int bench_launch(const struct hvt_boot_info *bi)
{
    const struct hvt_mayfly *m = mayfly_ext(bi);
    uint64_t before_puts = hvt_tsc();

    hvt_write("\n", 1);
    if (!m) {
        hvt_puts("hvt-bench: no Mayfly launch TSC in the boot info\n");
        return 1;
    }
    hvt_printf("hvt-bench launch: %llu ticks from start to first instruction, %llu to first "
               "PUTS\n", (unsigned long long)(hvt_entry_tsc - m->start_tsc),
               (unsigned long long)(before_puts - m->start_tsc));
    return 0;
}

/* The best of several batches, as guests/bench does for its null call. */
static int bench_poll(uint64_t n)
{
    uint64_t best = ~0ULL, ready;

    for (int batch = 0; batch < 8; batch++) {
        uint64_t t0 = hvt_tsc();
        for (uint64_t i = 0; i < n; i++)
            hvt_poll(0, &ready);
        uint64_t t = hvt_tsc() - t0;
        if (t < best)
            best = t;
    }
    hvt_printf("hvt-bench poll: %llu calls, %llu ticks per round trip\n", (unsigned long long)n,
               (unsigned long long)(best / n));
    return 0;
}

int main(const struct hvt_boot_info *bi)
{
    char mode[16], count[24];
    uint64_t n = 1000;

    if (hvt_word(hvt_cmdline(), 0, mode, sizeof(mode)) < 0)
        mode[0] = 0;
    if (hvt_word(hvt_cmdline(), 1, count, sizeof(count)) == 0 && hvt_parse_u64(count, &n) < 0)
        return 2;
    if (!strcmp(mode, "poll"))
        return bench_poll(n ? n : 1000);
    return bench_launch(bi);
}
