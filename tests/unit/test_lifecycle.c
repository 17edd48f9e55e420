/*
 * Unit tests of hv/lifecycle.c, the guest state machine: every
 * (state, transition) pair is either accepted with the right next state
 * and queue membership or refused with a panic; the races the red team
 * found (a notification after the deadline woke a waiter, a stop of a
 * waiting or queued guest) leave each guest queued once; and a random
 * walk over many guests is checked against a reference model.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../include/mayfly/abi.h"
#include "lifecycle.h"

#define N 16

static struct guest guests[N];
static uint8_t storage[LIFECYCLE_STORAGE(N)] __attribute__((aligned(8)));
/* What guest i's wait returned: the result lifecycle hands its
 * personality (wake_result, with woken set). */
#define results_of(i) (assert_true(guests[i].woken), guests[i].wake_result)

void panic(const char *fmt, ...)
{
    (void)fmt;
    mock_assert(0, "panic", __FILE__, __LINE__);
    abort();
}

static int setup(void **state)
{
    (void)state;
    memset(guests, 0, sizeof(guests));
    for (uint32_t i = 0; i < N; i++)
        guests[i].id = i + 1;
    lifecycle_init(guests, N, storage);
    return 0;
}

/* Drains the run queue: how many came out, and whether g was among them
 * (each dispatched guest goes straight back to FREE via retire). */
static uint32_t drain(const struct guest *g, int *seen)
{
    struct guest *x;
    uint32_t n = 0;

    *seen = 0;
    while ((x = lifecycle_dispatch()) != NULL) {
        *seen += x == g;
        lifecycle_retire(x);
        n++;
    }
    return n;
}

static void assert_queued_once(struct guest *g)
{
    int seen;
    assert_int_equal(g->state, GUEST_READY);
    drain(g, &seen);
    assert_int_equal(seen, 1);
}

static void to_running(struct guest *g)
{
    lifecycle_admit(g);
    assert_ptr_equal(lifecycle_dispatch(), g);
    assert_int_equal(g->state, GUEST_RUNNING);
}

static void fifo_order_and_front(void **state)
{
    (void)state;
    lifecycle_admit(&guests[0]);
    lifecycle_admit(&guests[1]);
    lifecycle_admit(&guests[2]);
    assert_ptr_equal(lifecycle_dispatch(), &guests[0]);
    lifecycle_preempt(&guests[0], 0);           /* quantum over: to the tail */
    assert_ptr_equal(lifecycle_dispatch(), &guests[1]);
    lifecycle_preempt(&guests[1], 1);           /* paused for the pollers: runs on next */
    assert_ptr_equal(lifecycle_dispatch(), &guests[1]);
    assert_ptr_equal(lifecycle_dispatch(), &guests[2]);
    assert_ptr_equal(lifecycle_dispatch(), &guests[0]);
    assert_null(lifecycle_dispatch());
}

/* Defect 1: the deadline woke the waiter, then a frame notified it. */
static void notify_after_deadline_queues_once(void **state)
{
    struct guest *g = &guests[3];
    uint64_t d;

    (void)state;
    to_running(g);
    lifecycle_block(g, 100);
    assert_int_equal(lifecycle_wake_due(99), 0);
    assert_int_equal(lifecycle_wake_due(100), 1);
    assert_int_equal(results_of(3), 0);            /* the wait timed out */
    lifecycle_notify(g, 4);
    assert_int_equal(g->notify_pending, 4);     /* kept for its next wait */
    assert_int_equal(lifecycle_next_deadline(&d), -1);
    assert_queued_once(g);
}

static void notify_wakes_waiter_with_bits(void **state)
{
    struct guest *g = &guests[0];
    uint64_t d;

    (void)state;
    to_running(g);
    lifecycle_block(g, 1000);
    lifecycle_notify(g, 2);
    lifecycle_notify(g, 8);                     /* already READY: pending */
    assert_int_equal(results_of(0), 2);
    assert_int_equal(g->notify_pending, 8);
    assert_int_equal(lifecycle_next_deadline(&d), -1);
    assert_int_equal(lifecycle_wake_due(UINT64_MAX), 0);
    assert_queued_once(g);
}

static void forever_waits_until_notified(void **state)
{
    struct guest *g = &guests[5];
    uint64_t d;

    (void)state;
    to_running(g);
    lifecycle_block(g, MF_WAIT_FOREVER);
    assert_int_equal(lifecycle_wake_due(UINT64_MAX - 1), 0);
    assert_int_equal(lifecycle_next_deadline(&d), 0);
    assert_true(d == MF_WAIT_FOREVER);
    assert_int_equal(g->state, GUEST_WAITING);
    lifecycle_notify(g, 1);
    assert_int_equal(results_of(5), 1);
    assert_queued_once(g);
}

/* Defect 2: a stop of a waiting guest, then a new tenant in its slot. */
static void stop_during_wait_then_reuse(void **state)
{
    struct guest *g = &guests[1];
    uint64_t d;

    (void)state;
    for (int round = 0; round < 50; round++) {
        to_running(g);
        lifecycle_block(g, 500 + (uint64_t)round);
        lifecycle_retire(g);                    /* mfctl stop */
        assert_int_equal(g->state, GUEST_FREE);
        assert_int_equal(lifecycle_next_deadline(&d), -1);
        assert_int_equal(lifecycle_wake_due(UINT64_MAX), 0);
        lifecycle_notify(g, 1);                 /* a late frame for the dead guest */
        assert_int_equal(g->state, GUEST_FREE);
    }
    lifecycle_admit(g);
    assert_queued_once(g);
}

static void stop_while_queued_keeps_the_others(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < 5; i++)
        lifecycle_admit(&guests[i]);
    lifecycle_retire(&guests[2]);
    lifecycle_retire(&guests[0]);
    lifecycle_admit(&guests[2]);                /* the next tenant of partition 2 */
    assert_ptr_equal(lifecycle_dispatch(), &guests[1]);
    assert_ptr_equal(lifecycle_dispatch(), &guests[3]);
    assert_ptr_equal(lifecycle_dispatch(), &guests[4]);
    assert_ptr_equal(lifecycle_dispatch(), &guests[2]);
    assert_null(lifecycle_dispatch());
}

static void exit_then_retire(void **state)
{
    struct guest *g = &guests[7];

    (void)state;
    to_running(g);
    lifecycle_exit(g, 3);
    assert_int_equal(g->state, GUEST_EXITED);
    assert_int_equal(g->exit_status, 3);
    lifecycle_notify(g, 1);                     /* no wake-up for an exited guest */
    assert_null(lifecycle_dispatch());
    lifecycle_retire(g);
    assert_int_equal(g->state, GUEST_FREE);
}

/* A kill from inside a run: EXITED, killed, the reason kept for the log;
 * only a RUNNING guest can be killed. */
static void kill_from_running_only(void **state)
{
    struct guest *g = &guests[2];

    (void)state;
    to_running(g);
    lifecycle_kill(g, "port 0x%x denied", 0x5ff);
    assert_int_equal(g->state, GUEST_EXITED);
    assert_true(g->killed);
    assert_string_equal(lifecycle_kill_reason(), "port 0x5ff denied");
    lifecycle_retire(g);
    lifecycle_admit(g);                         /* READY: not killable */
    expect_assert_failure(lifecycle_kill(g, "again"));
    assert_int_equal(g->state, GUEST_READY);
}

/* Every transition from every state: accepted ones give the expected
 * state, the others panic and change nothing. */
enum transition { T_ADMIT, T_DISPATCH, T_PREEMPT, T_BLOCK, T_EXIT, T_WAKE, T_NOTIFY, T_RETIRE,
                  T_COUNT };

static void drive_to(struct guest *g, enum guest_state s)
{
    if (s == GUEST_FREE)
        return;
    lifecycle_admit(g);
    if (s == GUEST_READY)
        return;
    assert_ptr_equal(lifecycle_dispatch(), g);
    if (s == GUEST_WAITING)
        lifecycle_block(g, 10);
    else if (s == GUEST_EXITED)
        lifecycle_exit(g, 0);
}

static void apply(struct guest *g, enum transition t)
{
    switch (t) {
    case T_ADMIT: lifecycle_admit(g); break;
    case T_DISPATCH: assert_ptr_equal(lifecycle_dispatch(), g->state == GUEST_READY ? g : NULL);
        break;
    case T_PREEMPT: lifecycle_preempt(g, 0); break;
    case T_BLOCK: lifecycle_block(g, 20); break;
    case T_EXIT: lifecycle_exit(g, 1); break;
    case T_WAKE: lifecycle_wake_due(UINT64_MAX - 1); break;
    case T_NOTIFY: lifecycle_notify(g, 1); break;
    case T_RETIRE: lifecycle_retire(g); break;
    default: fail();
    }
}

#define X (-1)      /* the transition panics */
static const int expected[5][T_COUNT] = {
    /*              admit        dispatch       preempt      block          exit          wake           notify         retire */
    [GUEST_FREE] = { GUEST_READY, GUEST_FREE, X, X, X, GUEST_FREE, GUEST_FREE, X },
    [GUEST_READY] = { X, GUEST_RUNNING, X, X, X, GUEST_READY, GUEST_READY, GUEST_FREE },
    [GUEST_RUNNING] = { X, GUEST_RUNNING, GUEST_READY, GUEST_WAITING, GUEST_EXITED, GUEST_RUNNING,
                        GUEST_RUNNING, GUEST_FREE },
    [GUEST_WAITING] = { X, GUEST_WAITING, X, X, X, GUEST_READY, GUEST_READY, GUEST_FREE },
    [GUEST_EXITED] = { X, GUEST_EXITED, X, X, X, GUEST_EXITED, GUEST_EXITED, GUEST_FREE },
};

static void every_transition_pair(void **state)
{
    for (volatile int s = GUEST_FREE; s <= GUEST_EXITED; s++) {
        for (volatile int t = 0; t < T_COUNT; t++) {
            struct guest *g = &guests[0];
            setup(state);
            drive_to(g, (enum guest_state)s);
            if (expected[s][t] == X) {
                expect_assert_failure(apply(g, (enum transition)t));
                assert_int_equal(g->state, s);
            } else {
                apply(g, (enum transition)t);
                assert_int_equal(g->state, expected[s][t]);
            }
            /* Queue membership matches the state it is left in. */
            if (g->state == GUEST_READY) {
                assert_queued_once(g);
            } else {
                int seen;
                drain(g, &seen);
                assert_int_equal(seen, 0);
            }
        }
    }
}

#define RNG_SEED 0x2545f4914f6cdd1dULL
#include "test_rng.h"

/* Random legal operations over N guests against a model of who is ready
 * and who waits (with what deadline), the way the run loop, hypercalls,
 * the switch and the control channel drive it. */
static void random_walk_matches_model(void **state)
{
    uint64_t deadline[N] = { 0 }, now = 0;

    (void)state;
    for (int step = 0; step < 200000; step++) {
        uint32_t i = (uint32_t)(rng() % N);
        struct guest *g = &guests[i];
        struct guest *r;
        switch (rng() % 6) {
        case 0:
            if (g->state == GUEST_FREE)
                lifecycle_admit(g);
            break;
        case 1:
            r = lifecycle_dispatch();
            if (!r)
                break;
            assert_int_equal(r->state, GUEST_RUNNING);
            switch (rng() % 4) {
            case 0: lifecycle_preempt(r, (int)(rng() & 1)); break;
            case 1: deadline[r - guests] = now + rng() % 64;
                lifecycle_block(r, deadline[r - guests]); break;
            case 2: lifecycle_exit(r, 0); lifecycle_retire(r); break;
            default: lifecycle_retire(r); break;
            }
            break;
        case 2:
            now += rng() % 16;
            lifecycle_wake_due(now);
            for (uint32_t k = 0; k < N; k++)
                if (guests[k].state == GUEST_WAITING)
                    assert_true(deadline[k] > now);
            break;
        case 3:
            lifecycle_notify(g, 1ULL << (rng() % 8));
            break;
        case 4:
            if (g->state != GUEST_FREE && g->state != GUEST_RUNNING)
                lifecycle_retire(g);
            break;
        default: {
            uint64_t d;
            int any = 0;
            uint64_t min = UINT64_MAX;
            for (uint32_t k = 0; k < N; k++)
                if (guests[k].state == GUEST_WAITING) {
                    any = 1;
                    min = deadline[k] < min ? deadline[k] : min;
                }
            assert_int_equal(lifecycle_next_deadline(&d), any ? 0 : -1);
            if (any)
                assert_true(d == min);
        }
        }
    }
    /* Every READY guest comes out of the run queue exactly once. */
    int ready = 0, out = 0;
    struct guest *x;
    for (uint32_t k = 0; k < N; k++)
        ready += guests[k].state == GUEST_READY;
    while ((x = lifecycle_dispatch()) != NULL) {
        out++;
        lifecycle_retire(x);
    }
    assert_int_equal(out, ready);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(fifo_order_and_front, setup),
        cmocka_unit_test_setup(notify_after_deadline_queues_once, setup),
        cmocka_unit_test_setup(notify_wakes_waiter_with_bits, setup),
        cmocka_unit_test_setup(forever_waits_until_notified, setup),
        cmocka_unit_test_setup(stop_during_wait_then_reuse, setup),
        cmocka_unit_test_setup(stop_while_queued_keeps_the_others, setup),
        cmocka_unit_test_setup(exit_then_retire, setup),
        cmocka_unit_test_setup(kill_from_running_only, setup),
        cmocka_unit_test_setup(every_transition_pair, setup),
        cmocka_unit_test_setup(random_walk_matches_model, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
