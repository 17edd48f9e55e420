/*
 * hcfuzz: the in-guest fuzzer (issue 16). Makes N hypercalls with random
 * numbers (every slot of the table and a few past it, never EXIT) and
 * random arguments: small numbers, capability slots, -1, wild 64-bit
 * values, and addresses into a scratch area of its own memory whose
 * bytes are rewritten with random ones every 64 calls, so NET_SETUP puts
 * rings there and NET_KICK walks whatever lies in them. A WAIT always
 * gets a deadline a few thousand ticks ahead, so the guest never blocks
 * for good. The hypervisor must answer every call (an error is fine),
 * end only this guest if anything, and let a victim beside it finish.
 *
 * Args: "N [SEED]" (default 100000 calls, seed 1). Prints
 *     hcfuzz: N calls (seed S): E errors; per number: 0:C0 1:C1 ...
 * at the end (the console may drop it: the random writes use up the
 * guest's share) and exits 0 only after the last call, so exit status 0
 * says every call came back.
 * Exit status 2 on bad arguments.
 */
#include "mf.h"

#define SCRATCH_BYTES   (64 * 1024)
#define REFILL_EVERY    64

static uint8_t scratch[SCRATCH_BYTES] __attribute__((aligned(4096)));
static uint64_t state;
static uint64_t mem_size;

static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static void refill(void)
{
    for (uint32_t i = 0; i < SCRATCH_BYTES; i += 8) {
        uint64_t v = next();
        /* Mostly small values: ring indexes, lengths and flags that look
         * almost right reach further into the device than noise does. */
        if ((v & 3) == 0)
            v &= 0xff;
        __builtin_memcpy(&scratch[i], &v, 8);
    }
}

/* One argument: what a confused or hostile guest might pass. The values
 * that are addresses inside its memory point only at the scratch area,
 * page 0, or within 8 bytes of the end (every structure a hypercall
 * writes is larger, so those are refused): a hypercall told to write
 * over the guest's own GDT, page tables or stack would do so, and end
 * the fuzzer by its own doing. */
static uint64_t argument(void)
{
    uint64_t r = next();
    uint64_t base = (uint64_t)(uintptr_t)scratch;

    switch (r % 9) {
    case 0: return (r >> 8) % 16;                           /* small */
    case 1: return (r >> 8) % (MF_CAP_SLOTS + 4);           /* a capability slot */
    case 2: return base + (r >> 8) % SCRATCH_BYTES;         /* into the scratch area */
    case 3: return base + ((r >> 8) % (SCRATCH_BYTES / 64)) * 64;   /* aligned there */
    case 4: return mem_size - (r >> 8) % 8;                 /* at the end of memory */
    case 5: return mem_size + (r >> 8) % 4096;              /* just past it */
    case 6: return UINT64_MAX - (r >> 8) % 16;              /* wraps */
    case 7: return (r >> 8) % 0x1000;                       /* sizes, queues, page 0 */
    default: return next();                                  /* anything */
    }
}

int main(const struct mf_boot_info *bi)
{
    uint64_t calls = 100000, seed = 1, errors = 0;
    uint64_t results[MF_HC_COUNT + 4] = { 0 };
    const char *a0 = mf_arg(0), *a1 = mf_arg(1);

    if ((a0 && mf_parse_u64(a0, &calls) < 0) || (a1 && mf_parse_u64(a1, &seed) < 0)) {
        mf_printf("hcfuzz: bad arguments '%s' (expected: calls [seed], decimal)\n",
                  bi->cmdline);
        return 2;
    }
    state = seed * 0x9e3779b97f4a7c15ULL + 1;
    mem_size = bi->mem_size;
    refill();
    for (uint64_t i = 0; i < calls; i++) {
        uint64_t nr = next() % (MF_HC_COUNT + 4);
        uint64_t x = argument(), y = argument(), z = argument();
        long r;

        if (i % REFILL_EVERY == 0)
            refill();
        if (nr == MF_HC_EXIT)
            nr = MF_HC_NULL;
        if (nr == MF_HC_WAIT)
            y = mf_tsc() + next() % 5000;
        if (nr == MF_HC_CONSOLE_WRITE && (next() & 7))
            z &= 7;                     /* mostly short writes: the serial line is slow */
        r = mf_hypercall5(nr, x, y, z, argument(), argument());
        if (r < 0)
            errors++;
        results[nr]++;
    }
    /* A fresh line: random console writes leave the last one open. */
    mf_printf("\nhcfuzz: %lu calls (seed %lu): %lu errors; per number:", calls, seed, errors);
    for (uint32_t n = 0; n < MF_HC_COUNT + 4; n++)
        mf_printf(" %u:%lu", n, results[n]);
    mf_puts("\n");
    return 0;
}
