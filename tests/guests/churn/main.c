/*
 * churn: a test guest for the scheduler and the guest lifecycle. The
 * first argument picks the mode:
 *
 *   waiter <ms> <rounds>     (net) waits for a datagram with a deadline ms
 *                            ahead, rounds times; prints how many waits
 *                            timed out and how many returned a frame
 *   spinsend <ms> <rounds>   (net) spins ms, then sends a broadcast frame;
 *                            so it sends early in a quantum, just after a
 *                            waiter's deadline passed while it spun
 *   hcloop                   MF_HC_NULL in a loop, forever
 *   kickloop                 (net) MF_HC_NET_KICK of an empty ring, forever
 *   conloop                  console lines as fast as it can, forever
 *   newlines <writes> <ms>   sleeps ms, then makes console writes of 4096
 *                            newlines each
 *   forever                  one wait with MF_WAIT_FOREVER (ends by its time
 *                            limit, or prints that the wait returned)
 *   farwait                  one wait with a deadline 2^63 ticks away
 *   sleeper <ms> <rounds>    sleeps ms per round and prints the average
 *                            and the largest lateness in microseconds
 *
 * Exit status 0 when the mode did what it should, 1 when not, 2 on bad
 * arguments.
 */
#include "mf.h"
#include "net/net.h"

static struct udp_datagram dgram;
static uint8_t frame[64];

static uint64_t arg_u64(int i, uint64_t def)
{
    uint64_t v = def;
    if (mf_arg(i) != NULL && mf_parse_u64(mf_arg(i), &v) < 0)
        return def;
    return v;
}

static int open_net(void)
{
    struct net_config cfg;

    if (net_config(&cfg) < 0 || net_up(&cfg) < 0) {
        mf_puts("churn: no network port (ip= and net= needed)\n");
        return -1;
    }
    udp_bind(7);
    return 0;
}

static int mode_waiter(uint64_t ms, uint64_t rounds)
{
    uint64_t timeouts = 0, frames = 0;

    if (open_net() < 0)
        return 2;
    for (uint64_t i = 0; i < rounds; i++) {
        int r = udp_recv_wait(&dgram, net_now() + net_ms_to_ticks(ms));
        if (r > 0)
            frames++;
        else
            timeouts++;
        while (net_process() > 0)
            ;
    }
    mf_printf("churn: waiter: %lu waits, %lu timed out, %lu with a datagram, %lu frames seen\n",
              rounds, timeouts, frames, net_stack_counters()->frames_in);
    return 0;
}

static void spin_ms(uint64_t ms)
{
    uint64_t end = mf_tsc() + mf_ns_to_tsc(ms * 1000000u);
    while (mf_tsc() < end)
        __asm__ volatile("pause");
}

static int mode_spinsend(uint64_t ms, uint64_t rounds)
{
    if (open_net() < 0)
        return 2;
    memset(frame, 0xff, 6);                     /* broadcast */
    memcpy(frame + 6, net_mac(), 6);
    frame[12] = 0x88;                           /* a local experimental ethertype */
    frame[13] = 0xb5;
    for (uint64_t i = 0; i < rounds; i++) {
        spin_ms(ms);
        if (net_send(frame, sizeof(frame)) < 0) {
            mf_puts("churn: spinsend: send failed\n");
            return 1;
        }
    }
    mf_printf("churn: spinsend: %lu frames sent\n", rounds);
    return 0;
}

static int mode_hcloop(void)
{
    for (;;)
        mf_hypercall0(MF_HC_NULL);
    return 1;
}

static int mode_kickloop(void)
{
    if (open_net() < 0)
        return 2;
    for (;;)
        mf_hypercall2(MF_HC_NET_KICK, net_slot(), 1);
    return 1;
}

static int mode_conloop(void)
{
    for (uint64_t i = 0;; i++)
        mf_printf("churn: conloop line %lu with some text to make it long enough\n", i);
    return 1;
}

static char newlines[4096];

static int mode_newlines(uint64_t writes, uint64_t ms)
{
    mf_sleep_ns(ms * 1000000u);
    memset(newlines, '\n', sizeof(newlines));
    for (uint64_t i = 0; i < writes; i++)
        mf_console_write(newlines, sizeof(newlines));
    mf_puts("churn: newlines: done\n");
    return 0;
}

static int mode_wait(uint64_t deadline, const char *what)
{
    uint64_t start = mf_tsc();
    long r = mf_wait_until(deadline);

    mf_printf("churn: %s: the wait returned %ld after %lu ticks: WRONG\n", what, r,
              mf_tsc() - start);
    return 1;
}

static int mode_sleeper(uint64_t ms, uint64_t rounds)
{
    uint64_t worst = 0, total = 0;

    for (uint64_t i = 0; i < rounds; i++) {
        uint64_t deadline = mf_tsc() + mf_ns_to_tsc(ms * 1000000u), late;
        while (mf_tsc() < deadline)
            mf_wait_until(deadline);
        late = mf_tsc() - deadline;
        worst = late > worst ? late : worst;
        total += late;
    }
    mf_printf("churn: sleeper: %lu rounds of %lu ms, average lateness %lu us, worst lateness "
              "%lu us\n", rounds, ms, rounds ? total / rounds * 1000000u / mf_tsc_hz() : 0,
              worst * 1000000u / mf_tsc_hz());
    return 0;
}

int main(const struct mf_boot_info *bi)
{
    const char *m = mf_arg(0);

    (void)bi;
    if (m == NULL)
        return 2;
    if (!strcmp(m, "waiter"))
        return mode_waiter(arg_u64(1, 1), arg_u64(2, 100));
    if (!strcmp(m, "spinsend"))
        return mode_spinsend(arg_u64(1, 15), arg_u64(2, 20));
    if (!strcmp(m, "hcloop"))
        return mode_hcloop();
    if (!strcmp(m, "kickloop"))
        return mode_kickloop();
    if (!strcmp(m, "conloop"))
        return mode_conloop();
    if (!strcmp(m, "newlines"))
        return mode_newlines(arg_u64(1, 1), arg_u64(2, 0));
    if (!strcmp(m, "forever"))
        return mode_wait(MF_WAIT_FOREVER, "forever");
    if (!strcmp(m, "farwait"))
        return mode_wait(mf_tsc() + (1ULL << 63), "farwait");
    if (!strcmp(m, "sleeper"))
        return mode_sleeper(arg_u64(1, 10), arg_u64(2, 10));
    mf_printf("churn: unknown mode '%s'\n", m);
    return 2;
}
