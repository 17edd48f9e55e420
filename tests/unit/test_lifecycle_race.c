/*
 * The races of lock_guest_cpu (hv/lifecycle.c) forced, one thread, no
 * timing: test_lifecycle_smp finds them only when a remote thread
 * happens to stall in the right window, which the mutation check saw in
 * some runs only. Here the window is opened on purpose. hv/lifecycle.c
 * is included whole, after a lock.h of this file's own (the same guard,
 * so the real one is skipped) whose lock_take first runs a step the test
 * armed: what the guest's CPU did just before a remote CPU got the lock.
 *
 * The interleavings, each from the remote CPU's side (CPU 2):
 *  - it saw the guest alive, and the guest's CPU retired it before the
 *    remote got that CPU's lock: a stop must be refused (-1, no kick,
 *    no stop request left behind) and a notify must leave nothing
 *    pending, nothing woken;
 *  - the same, but the guest was admitted again, to another CPU, and
 *    blocks there: the notify must follow it and wake it there, the
 *    stop must kick that CPU, and the first CPU must be left alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* ---- hv/lock.h, with a step before each take ------------------------ */
#define HV_LOCK_H

struct lock {
    volatile uint32_t held;
};

/* The step to run before the next lock_take (then disarmed), and how
 * many takes there were. */
static void (*before_next_take)(void);
static unsigned takes;

static void lock_take(struct lock *l)
{
    void (*step)(void) = before_next_take;

    takes++;
    before_next_take = NULL;
    if (step)
        step();
    /* One thread: a lock still held here would never be given back. */
    assert_int_equal(l->held, 0);
    l->held = 1;
}

static inline int lock_try(struct lock *l)
{
    if (l->held)
        return 0;
    l->held = 1;
    return 1;
}

static inline void lock_give(struct lock *l)
{
    assert_int_equal(l->held, 1);
    l->held = 0;
}

#include "../../hv/lifecycle.c"

#define N 2
#define CPUS 3
#define REMOTE_CPU 2
#define FAR_DEADLINE (UINT64_MAX / 2)

static struct guest guests[N];
static uint8_t storage[CPUS * LIFECYCLE_STORAGE(N)] __attribute__((aligned(8)));
static uint32_t kicks[CPUS];

void panic(const char *fmt, ...)
{
    (void)fmt;
    mock_assert(0, "panic", __FILE__, __LINE__);
    abort();
}

static void kick_record(uint32_t cpu)
{
    assert_true(cpu < CPUS);
    kicks[cpu]++;
}

static int setup(void **state)
{
    (void)state;
    memset(guests, 0, sizeof(guests));
    memset(kicks, 0, sizeof(kicks));
    for (uint32_t i = 0; i < N; i++)
        guests[i].id = i + 1;
    before_next_take = NULL;
    lifecycle_init(guests, N, CPUS, storage, kick_record);
    return 0;
}

/* Guest 0 admitted to cpu, run there and blocked: WAITING on cpu. */
static void wait_on(uint32_t cpu)
{
    struct guest *g = &guests[0];

    lifecycle_admit(g, cpu);
    assert_ptr_equal(lifecycle_dispatch(cpu), g);
    lifecycle_block(g, FAR_DEADLINE);
    assert_int_equal(g->state, GUEST_WAITING);
}

/* The steps the guest's CPU takes inside the window. */
static void retire_guest(void)
{
    lifecycle_retire(&guests[0]);
}

static void retire_and_wait_on_cpu1(void)
{
    lifecycle_retire(&guests[0]);
    wait_on(1);
}

/* No CPU has anything to run, and guest 0 is FREE with nothing left. */
static void assert_all_quiet(void)
{
    for (uint32_t c = 0; c < CPUS; c++)
        assert_null(lifecycle_dispatch(c));
    assert_int_equal(guests[0].state, GUEST_FREE);
}

static void stop_of_guest_retired_before_the_lock(void **state)
{
    (void)state;
    wait_on(0);
    before_next_take = retire_guest;
    assert_int_equal(lifecycle_request_stop(&guests[0], REMOTE_CPU), -1);
    assert_null(before_next_take);      /* the window was opened */
    assert_int_equal(guests[0].stop_requested, 0);
    assert_int_equal(kicks[0] + kicks[1] + kicks[2], 0);
    assert_all_quiet();
}

static void notify_of_guest_retired_before_the_lock(void **state)
{
    (void)state;
    wait_on(0);
    before_next_take = retire_guest;
    lifecycle_notify_from(&guests[0], 4, REMOTE_CPU);
    assert_null(before_next_take);
    assert_int_equal(guests[0].notify_pending, 0);
    assert_false(guests[0].woken);
    assert_all_quiet();
}

static void notify_follows_guest_readmitted_elsewhere(void **state)
{
    (void)state;
    wait_on(0);
    before_next_take = retire_and_wait_on_cpu1;
    lifecycle_notify_from(&guests[0], 4, REMOTE_CPU);
    assert_null(before_next_take);
    assert_null(lifecycle_dispatch(0));
    assert_ptr_equal(lifecycle_dispatch(1), &guests[0]);
    assert_true(guests[0].woken);
    assert_int_equal(guests[0].wake_result, 4);
    assert_int_equal(lifecycle_load(0), 0);
    assert_int_equal(lifecycle_load(1), 1);
}

static void stop_follows_guest_readmitted_elsewhere(void **state)
{
    (void)state;
    wait_on(0);
    before_next_take = retire_and_wait_on_cpu1;
    assert_int_equal(lifecycle_request_stop(&guests[0], REMOTE_CPU), 0);
    assert_null(before_next_take);
    assert_int_equal(guests[0].stop_requested, 1);
    assert_int_equal(kicks[0], 0);
    assert_int_equal(kicks[1], 1);
    assert_null(lifecycle_dispatch(0));
    assert_ptr_equal(lifecycle_dispatch(1), &guests[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(stop_of_guest_retired_before_the_lock, setup),
        cmocka_unit_test_setup(notify_of_guest_retired_before_the_lock, setup),
        cmocka_unit_test_setup(notify_follows_guest_readmitted_elsewhere, setup),
        cmocka_unit_test_setup(stop_follows_guest_readmitted_elsewhere, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
