/*
 * sleep: args "<ms> [rounds]" (default 10 ms, 1 round). Each round waits
 * with MF_HC_WAIT for a deadline ms milliseconds ahead and checks that the
 * wait reported a timeout (0: this guest gets no notifications) and that
 * the TSC has reached the deadline. Exits 0 if every check held, 1 if one
 * failed, 2 on bad arguments.
 */
#include "mf.h"

static int sleep_round(uint64_t round, uint64_t ms)
{
    uint64_t start = mf_tsc();
    uint64_t deadline = start + mf_ns_to_tsc(ms * 1000000u);
    long ret = mf_wait_until(deadline);
    uint64_t now = mf_tsc();
    int ok = ret == 0 && now >= deadline;

    mf_printf("sleep %s.%u round %lu: waited %lu ticks for %lu ms (wait=%ld, %s by %lu) %s\n",
              mf_name(), mf_instance(), round, now - start, ms, ret,
              now >= deadline ? "late" : "EARLY",
              now >= deadline ? now - deadline : deadline - now,
              ok ? "ok" : "FAILED");
    return ok;
}

int main(const struct mf_boot_info *bi)
{
    uint64_t ms = 10, rounds = 1, i;
    int failed = 0;

    if ((mf_arg(0) != NULL && mf_parse_u64(mf_arg(0), &ms) < 0) ||
        (mf_arg(1) != NULL && mf_parse_u64(mf_arg(1), &rounds) < 0) ||
        ms > 1000000000u) {
        mf_printf("sleep: usage: <ms> [rounds], got '%s'\n", mf_cmdline());
        return 2;
    }
    if (bi->tsc_hz == 0) {
        mf_puts("sleep: boot info has no TSC frequency\n");
        return 1;
    }
    for (i = 0; i < rounds; i++)
        if (!sleep_round(i, ms))
            failed++;
    mf_printf("sleep %s.%u guest %u: %lu rounds of %lu ms, %d failed\n",
              mf_name(), bi->instance, bi->guest_id, rounds, ms, failed);
    return failed ? 1 : 0;
}
