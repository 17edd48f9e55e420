/*
 * hv/lifecycle.c from several host threads at once, as CPUs would run it
 * (issue 12). Thread "owner" plays CPUs 0 and 1: it admits guest 0 to
 * CPU i % 2, dispatches it there, blocks it (far deadline) or preempts it
 * (READY again), then retires it, and checks after every dispatch that
 * the guest came from the CPU it belongs to and runs. Two "remote"
 * threads, playing CPU 2, notify it and ask it to stop all the while.
 *
 * The race this keeps out: a notify that took CPU 0's lock just after a
 * retire there, while the owner admitted the guest to CPU 1 and blocked
 * it, once woke it onto CPU 0's run queue (lock_guest_cpu now gives up
 * on a FREE guest). The owner's look at the other CPU's queue right
 * after the block waits on the lock such a notify holds, which keeps
 * that window open until the notify has looked at the state. What opens
 * it is a remote CPU stalled just after it took the lock (an interrupt,
 * or the host preempting a virtual CPU): a timer signal stalls the
 * remote threads at random points for a few microseconds, as often as
 * an interrupt would, so the old bug is caught in a fraction of a second
 * rather than now and then.
 *
 * Failures on the threads are recorded (cmocka is not thread-safe) and
 * reported by the test once they are joined; a panic ends the process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../include/mayfly/abi.h"
#include "lifecycle.h"
#include "param.h"

#define N 2                 /* guest 0 moves; guest 1 stays FREE */
#define CPUS 3              /* 0 and 1: the owner's; 2: the remote threads' */
#define REMOTE_CPU 2
#define ROUNDS 3000000u     /* 1 to 2.5 s here (2 cores, ASan) */
#define FAR_DEADLINE (UINT64_MAX / 2)
#define STALL_PERIOD_US 50  /* a remote thread is stalled this often... */
#define STALL_NS 2000       /* ...for about this long */

static struct guest guests[N];
static uint8_t storage[CPUS * LIFECYCLE_STORAGE(N)] __attribute__((aligned(8)));
static uint32_t kicks[CPUS];         /* kick_count: calls per CPU */
static uint32_t stops_taken;         /* request_stop calls that returned 0 */
static uint32_t rounds_done;         /* the owner's completed rounds */
static uint32_t remote_done;         /* set when the remote threads are to end */
static pthread_barrier_t start;

/* The first failure on any thread: flag and message. */
static uint32_t failed;
static char failure[256];

/* Records the first failure (later ones are dropped): 1 when this call
 * recorded it. */
static int failure_record(const char *fmt, va_list ap)
{
    if (__atomic_exchange_n(&failed, 1, __ATOMIC_ACQ_REL))
        return 0;
    vsnprintf(failure, sizeof(failure), fmt, ap);
    return 1;
}

/* A broken lifecycle invariant: the queues can no longer be trusted, so
 * the process ends here with the message (exit status 1). A second
 * panicking thread waits for the first one's exit. */
void panic(const char *fmt, ...)
{
    va_list ap;
    int first;

    va_start(ap, fmt);
    first = failure_record(fmt, ap);
    va_end(ap);
    if (!first)
        for (;;)
            pause();
    fprintf(stderr, "test_lifecycle_smp: panic: %s\n", failure);
    exit(1);
}

/* A check on a thread that failed: recorded for the test to report; the
 * threads then wind down. */
static void smp_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void smp_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    failure_record(fmt, ap);
    va_end(ap);
}

/* SIGALRM on a remote thread: busy for STALL_NS, like a CPU taken away
 * by an interrupt (clock_gettime is async-signal-safe). */
static void smp_stall(int sig)
{
    struct timespec t0, t;

    (void)sig;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < STALL_NS);
}

/* Arms (1) or disarms (0) the stalls: SIGALRM every STALL_PERIOD_US,
 * taken only by the threads that do not block it (the remote ones). */
static void smp_stalls(int on)
{
    struct itimerval period = { { 0, on ? STALL_PERIOD_US : 0 }, { 0, on ? STALL_PERIOD_US : 0 } };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on ? smp_stall : SIG_IGN;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    assert_int_equal(setitimer(ITIMER_REAL, &period, NULL), 0);
}

/* Blocks (1) or unblocks (0) SIGALRM on the calling thread; threads
 * created afterwards inherit the mask. */
static void smp_mask_stalls(int block)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

static void kick_count(uint32_t cpu)
{
    if (cpu >= CPUS) {
        smp_fail("kick of CPU %u of %u", cpu, CPUS);
        return;
    }
    __atomic_add_fetch(&kicks[cpu], 1, __ATOMIC_RELAXED);
}

/* A dispatch on cpu in round: 0 when it gave NULL (and none was wanted)
 * or guest 0 belonging to cpu and RUNNING; -1 (recorded) otherwise. */
static int smp_check_dispatch(uint32_t round, uint32_t cpu, const struct guest *x, int want)
{
    if (!x && !want)
        return 0;
    if (!x) {
        smp_fail("round %u: CPU %u dispatched nothing, guest 0 admitted there", round, cpu);
        return -1;
    }
    if (x != &guests[0] || x->cpu != cpu || x->state != GUEST_RUNNING) {
        smp_fail("round %u: CPU %u dispatched guest %td, which is on CPU %u, %s", round, cpu,
                 x - guests, x->cpu, lifecycle_state_name(x->state));
        return -1;
    }
    return 0;
}

/* One round of the owner on cpu: admit, dispatch, block or preempt, a
 * look at the other CPU (nothing there), a dispatch again when a notify
 * or stop readied it, retire. 0, or -1 when a check failed. */
static int smp_owner_round(uint32_t round)
{
    struct guest *g = &guests[0];
    uint32_t cpu = round % 2, other = cpu ^ 1;

    lifecycle_admit(g, cpu);
    if (smp_check_dispatch(round, cpu, lifecycle_dispatch(cpu), 1) < 0)
        return -1;
    if (round % 4 == 3)
        lifecycle_preempt(g, (int)(round / 4 % 2));
    else
        lifecycle_block(g, FAR_DEADLINE);
    if (smp_check_dispatch(round, other, lifecycle_dispatch(other), 0) < 0)
        return -1;
    if (smp_check_dispatch(round, cpu, lifecycle_dispatch(cpu), round % 4 == 3) < 0)
        return -1;
    lifecycle_retire(g);
    return 0;
}

/* Thread "owner": ROUNDS rounds, alternating CPUs 0 and 1, or fewer when
 * a check fails; then it ends the remote threads. */
static void *smp_owner(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    for (uint32_t r = 0; r < ROUNDS && !__atomic_load_n(&failed, __ATOMIC_RELAXED); r++) {
        if (smp_owner_round(r) < 0)
            break;
        __atomic_store_n(&rounds_done, r + 1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&remote_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Threads "remote", on CPU 2: notify guest 0 and ask it to stop until
 * the owner is done, counting the stops that were taken. */
static void *smp_remote(void *arg)
{
    uint64_t bit = (uint64_t)(uintptr_t)arg;

    smp_mask_stalls(0);
    pthread_barrier_wait(&start);
    while (!__atomic_load_n(&remote_done, __ATOMIC_ACQUIRE)) {
        lifecycle_notify(&guests[0], bit);
        if (lifecycle_request_stop(&guests[0], REMOTE_CPU) == 0)
            __atomic_add_fetch(&stops_taken, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* After the last retire: nothing queued or waiting on any CPU, no load,
 * guest 0 FREE; every stop taken kicked the owner's CPU, none CPU 2. */
static void smp_check_quiet(void)
{
    uint64_t deadline;

    for (uint32_t c = 0; c < CPUS; c++) {
        assert_null(lifecycle_dispatch(c));
        assert_int_equal(lifecycle_next_deadline(c, &deadline), -1);
        assert_int_equal(lifecycle_load(c), 0);
    }
    assert_int_equal(guests[0].state, GUEST_FREE);
    assert_int_equal(guests[1].state, GUEST_FREE);
    assert_int_equal(kicks[REMOTE_CPU], 0);
    assert_int_equal(kicks[0] + kicks[1], stops_taken);
    assert_true(stops_taken > 0);
}

static void notify_and_stop_race_retire_and_readmit(void **state)
{
    pthread_t owner, remote[2];

    (void)state;
    memset(guests, 0, sizeof(guests));
    for (uint32_t i = 0; i < N; i++)
        guests[i].id = i + 1;
    lifecycle_init(guests, N, CPUS, storage, kick_count);
    assert_int_equal(pthread_barrier_init(&start, NULL, 3), 0);
    smp_mask_stalls(1);
    smp_stalls(1);
    assert_int_equal(pthread_create(&owner, NULL, smp_owner, NULL), 0);
    for (uintptr_t t = 0; t < 2; t++)
        assert_int_equal(pthread_create(&remote[t], NULL, smp_remote, (void *)(t + 1)), 0);
    pthread_join(owner, NULL);
    for (int t = 0; t < 2; t++)
        pthread_join(remote[t], NULL);
    smp_stalls(0);
    smp_mask_stalls(0);
    pthread_barrier_destroy(&start);
    if (__atomic_load_n(&failed, __ATOMIC_ACQUIRE))
        fail_msg("%s (after %u of %u rounds)", failure, rounds_done, ROUNDS);
    assert_int_equal(rounds_done, ROUNDS);
    smp_check_quiet();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(notify_and_stop_race_retire_and_readmit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
