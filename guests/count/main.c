/*
 * count: CPU-bound work with a checked result, to show that preemption
 * and the other guests leave this one's registers and memory alone.
 *
 * Args: "[N] [expected-count [expected-checksum]]". Counts the primes below
 * N (default 20000) by trial division and folds them into an FNV-1a
 * checksum. The result is checked against the built-in values for the
 * default N, else against the expected values given, else against a
 * second, independent count (a 6k +- 1 wheel). Exits 0 if it matched, 1
 * if not, 2 on bad arguments.
 */
#include "mf.h"

#define DEFAULT_N           20000
#define DEFAULT_COUNT       2262                    /* primes below 20000 */
#define DEFAULT_CHECKSUM    0x36793cfdeac452f8ULL   /* FNV-1a of those primes */

#define FNV_OFFSET          0xcbf29ce484222325ULL
#define FNV_PRIME           0x100000001b3ULL

struct result {
    uint64_t count;
    uint64_t checksum;
};

static void result_add(struct result *r, uint64_t prime)
{
    r->count++;
    r->checksum = (r->checksum ^ prime) * FNV_PRIME;
}

static int is_prime_trial(uint64_t n)
{
    uint64_t d;

    for (d = 2; d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return n >= 2;
}

static struct result count_trial(uint64_t n)
{
    struct result r = { 0, FNV_OFFSET };
    uint64_t i;

    for (i = 2; i < n; i++)
        if (is_prime_trial(i))
            result_add(&r, i);
    return r;
}

/* Candidates and divisors of the form 6k +- 1 only. */
static int is_prime_wheel(uint64_t n)
{
    uint64_t d;

    for (d = 5; d * d <= n; d += 6)
        if (n % d == 0 || n % (d + 2) == 0)
            return 0;
    return 1;
}

static struct result count_wheel(uint64_t n)
{
    struct result r = { 0, FNV_OFFSET };
    uint64_t i;

    if (n > 2)
        result_add(&r, 2);
    if (n > 3)
        result_add(&r, 3);
    for (i = 5; i < n; i += 6) {
        if (is_prime_wheel(i))
            result_add(&r, i);
        if (i + 2 < n && is_prime_wheel(i + 2))
            result_add(&r, i + 2);
    }
    return r;
}

/* Fills *want from the arguments or the built-in values; returns 0 if
 * there is nothing to compare with, -1 on a malformed argument. */
static int expected_result(uint64_t n, struct result *want)
{
    want->checksum = 0;
    if (mf_arg(1) != NULL) {
        if (mf_parse_u64(mf_arg(1), &want->count) < 0)
            return -1;
        if (mf_arg(2) != NULL && mf_parse_u64(mf_arg(2), &want->checksum) < 0)
            return -1;
        return 1;
    }
    if (n == DEFAULT_N) {
        want->count = DEFAULT_COUNT;
        want->checksum = DEFAULT_CHECKSUM;
        return 1;
    }
    return 0;
}

int main(const struct mf_boot_info *bi)
{
    uint64_t n = DEFAULT_N;
    struct result got, want;
    int have;

    if (mf_arg(0) != NULL && mf_parse_u64(mf_arg(0), &n) < 0) {
        mf_printf("count: bad N '%s'\n", mf_arg(0));
        return 2;
    }
    have = expected_result(n, &want);
    if (have < 0) {
        mf_printf("count: bad expected value in '%s'\n", mf_cmdline());
        return 2;
    }
    got = count_trial(n);
    if (have == 0)
        want = count_wheel(n);
    if (got.count == want.count && (want.checksum == 0 || got.checksum == want.checksum)) {
        mf_printf("count %s.%u guest %u: primes below %lu = %lu ok\n",
                  mf_name(), bi->instance, bi->guest_id, n, got.count);
        return 0;
    }
    mf_printf("count %s.%u guest %u: primes below %lu = %lu checksum %lx"
              " (expected %lu checksum %lx) WRONG\n",
              mf_name(), bi->instance, bi->guest_id, n, got.count, got.checksum,
              want.count, want.checksum);
    return 1;
}
