/* Deterministic pseudo-random numbers for unit tests (xorshift64*), so
 * that a failure repeats: each test file seeds RNG_SEED before including. */
#ifndef TEST_RNG_H
#define TEST_RNG_H

#include <stdint.h>

static uint64_t rng_state = RNG_SEED;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

#endif
