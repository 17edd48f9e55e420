/*
 * burn: a short CPU-bound job that stamps its start and end with the TSC,
 * so a test can see from the timestamps alone whether guests on different
 * CPUs really ran at the same time (the TSC is one clock shared by every
 * CPU, and Mayfly gives guests no TSC offset).
 *
 * Args: "N": N rounds of a xorshift64 walk (default 100000). Prints
 *     burn: start tsc <T0>
 *     burn: end tsc <T1> rounds <N> result <hex>
 * with T0 read just before the work and T1 just after it, both decimal.
 * The result depends only on N, so instances given the same N must agree.
 * Exit status 0, or 2 on bad arguments.
 */
#include "mf.h"

#define DEFAULT_ROUNDS  100000
#define SEED            0x9e3779b97f4a7c15ULL

/* The work: a dependent chain (no shortcut the compiler could take). */
static uint64_t burn_rounds(uint64_t rounds)
{
    uint64_t x = SEED;
    uint64_t i;

    for (i = 0; i < rounds; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}

int main(const struct mf_boot_info *bi)
{
    uint64_t rounds = DEFAULT_ROUNDS, t0, t1, result;
    const char *arg = mf_arg(0);

    (void)bi;
    if (arg != NULL && mf_parse_u64(arg, &rounds) < 0) {
        mf_printf("burn: bad round count '%s' (expected a decimal number)\n", arg);
        return 2;
    }
    t0 = mf_tsc();
    result = burn_rounds(rounds);
    t1 = mf_tsc();
    /* One line per stamp, printed after the work so the console write is
     * not inside the interval. */
    mf_printf("burn: start tsc %lu\n", t0);
    mf_printf("burn: end tsc %lu rounds %lu result %lx\n", t1, rounds, result);
    return 0;
}
