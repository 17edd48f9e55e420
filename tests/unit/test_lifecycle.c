/*
 * Unit tests of hv/lifecycle.c, the guest state machine: every
 * (state, transition) pair is either accepted with the right next state
 * and queue membership or refused with a panic; the races the red team
 * found (a notification after the deadline woke a waiter, a stop of a
 * waiting or queued guest) leave each guest queued once; a random walk
 * over many guests is checked against a reference model. Per CPU (issue
 * 12): placement on the least-loaded CPU, queues that are each CPU's
 * own, the kick of an idle CPU, a wait that returns pending bits instead
 * of blocking, a stop asked from another CPU, and one kill reason per
 * CPU. The tests that do not name a CPU run on CPU 0 of one.
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
#include "param.h"

#define N 16
#define CPUS 3              /* for the per-CPU tests */

static struct guest guests[N];
static uint8_t storage[CPUS * LIFECYCLE_STORAGE(N)] __attribute__((aligned(8)));
/* The kick function's record: calls per CPU and in all. */
static uint32_t kicks[CPU_MAX], kicks_total;
/* What guest i's wait returned: the result lifecycle hands its
 * personality (wake_result, with woken set). */
#define results_of(i) (assert_true(guests[i].woken), guests[i].wake_result)

void panic(const char *fmt, ...)
{
    (void)fmt;
    mock_assert(0, "panic", __FILE__, __LINE__);
    abort();
}

static void kick_record(uint32_t cpu)
{
    assert_true(cpu < CPU_MAX);
    kicks[cpu]++;
    kicks_total++;
}

/* Fresh guests (all FREE) and no kicks yet, over cpus CPUs. */
static void init_cpus(uint32_t cpus)
{
    memset(guests, 0, sizeof(guests));
    for (uint32_t i = 0; i < N; i++)
        guests[i].id = i + 1;
    memset(kicks, 0, sizeof(kicks));
    kicks_total = 0;
    lifecycle_init(guests, N, cpus, storage, kick_record);
}

static int setup(void **state)
{
    (void)state;
    init_cpus(1);
    return 0;
}

static int setup_cpus(void **state)
{
    (void)state;
    init_cpus(CPUS);
    return 0;
}

/* Drains cpu's run queue: how many came out, and whether g was among
 * them (each dispatched guest goes straight back to FREE via retire). */
static uint32_t drain_on(uint32_t cpu, const struct guest *g, int *seen)
{
    struct guest *x;
    uint32_t n = 0;

    *seen = 0;
    while ((x = lifecycle_dispatch(cpu)) != NULL) {
        assert_int_equal(x->cpu, cpu);
        *seen += x == g;
        lifecycle_retire(x);
        n++;
    }
    return n;
}

static uint32_t drain(const struct guest *g, int *seen)
{
    return drain_on(0, g, seen);
}

static void assert_queued_once_on(struct guest *g, uint32_t cpu)
{
    int seen;
    assert_int_equal(g->state, GUEST_READY);
    drain_on(cpu, g, &seen);
    assert_int_equal(seen, 1);
}

static void assert_queued_once(struct guest *g)
{
    assert_queued_once_on(g, 0);
}

static void to_running(struct guest *g)
{
    lifecycle_admit(g, 0);
    assert_ptr_equal(lifecycle_dispatch(0), g);
    assert_int_equal(g->state, GUEST_RUNNING);
}

static void fifo_order_and_front(void **state)
{
    (void)state;
    lifecycle_admit(&guests[0], 0);
    lifecycle_admit(&guests[1], 0);
    lifecycle_admit(&guests[2], 0);
    assert_ptr_equal(lifecycle_dispatch(0), &guests[0]);
    lifecycle_preempt(&guests[0], 0);           /* quantum over: to the tail */
    assert_ptr_equal(lifecycle_dispatch(0), &guests[1]);
    lifecycle_preempt(&guests[1], 1);           /* paused for the pollers: runs on next */
    assert_ptr_equal(lifecycle_dispatch(0), &guests[1]);
    assert_ptr_equal(lifecycle_dispatch(0), &guests[2]);
    assert_ptr_equal(lifecycle_dispatch(0), &guests[0]);
    assert_null(lifecycle_dispatch(0));
}

/* Defect 1: the deadline woke the waiter, then a frame notified it. */
static void notify_after_deadline_queues_once(void **state)
{
    struct guest *g = &guests[3];
    uint64_t d;

    (void)state;
    to_running(g);
    lifecycle_block(g, 100);
    assert_int_equal(lifecycle_wake_due(0, 99), 0);
    assert_int_equal(lifecycle_wake_due(0, 100), 1);
    assert_int_equal(results_of(3), 0);            /* the wait timed out */
    lifecycle_notify(g, 4);
    assert_int_equal(g->notify_pending, 4);     /* kept for its next wait */
    assert_int_equal(lifecycle_next_deadline(0, &d), -1);
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
    assert_int_equal(lifecycle_next_deadline(0, &d), -1);
    assert_int_equal(lifecycle_wake_due(0, UINT64_MAX), 0);
    assert_queued_once(g);
}

static int clock_reads;

static uint32_t cpu_one(void)
{
    return 1;
}

static uint64_t clock_777(void)
{
    clock_reads++;
    return 777;
}

/* A wake by notify_from remembers the notifying CPU and time; a wake by
 * deadline, by a plain notify or by a stop does not. */
static void notify_from_records_the_waker(void **state)
{
    struct guest *g = &guests[0];

    (void)state;
    to_running(g);
    lifecycle_block(g, 1000);
    lifecycle_set_probes(clock_777, NULL);
    lifecycle_notify_from(g, 4, 2);
    assert_int_equal(results_of(0), 4);
    assert_int_equal(g->wake_from, 3);
    assert_int_equal(g->wake_tsc, 777);
    assert_ptr_equal(lifecycle_dispatch(0), g);
    clock_reads = 0;
    lifecycle_notify_from(g, 1, 2);             /* RUNNING: pending, not a wake */
    assert_int_equal(clock_reads, 0);           /* the clock is read on a wake only */
    assert_int_equal(g->wake_tsc, 777);
    lifecycle_take_pending(g);
    lifecycle_block(g, 1000);
    assert_int_equal(lifecycle_wake_due(0, 1000), 1);
    assert_int_equal(g->wake_from, 0);          /* the deadline woke it */
    assert_ptr_equal(lifecycle_dispatch(0), g);
    lifecycle_block(g, 1000);
    lifecycle_notify(g, 1);
    assert_int_equal(g->wake_from, 0);          /* no CPU to ask */
    assert_ptr_equal(lifecycle_dispatch(0), g);
    lifecycle_set_probes(clock_777, cpu_one);
    lifecycle_block(g, 1000);
    lifecycle_notify(g, 1);
    assert_int_equal(g->wake_from, 2);          /* the calling CPU, asked on the wake */
    assert_ptr_equal(lifecycle_dispatch(0), g);
    lifecycle_block(g, 1000);
    lifecycle_request_stop(g, 0);
    assert_int_equal(g->wake_from, 0);
    lifecycle_set_probes(NULL, NULL);
}

static void forever_waits_until_notified(void **state)
{
    struct guest *g = &guests[5];
    uint64_t d;

    (void)state;
    to_running(g);
    lifecycle_block(g, MF_WAIT_FOREVER);
    assert_int_equal(lifecycle_wake_due(0, UINT64_MAX - 1), 0);
    assert_int_equal(lifecycle_next_deadline(0, &d), 0);
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
        assert_int_equal(lifecycle_next_deadline(0, &d), -1);
        assert_int_equal(lifecycle_wake_due(0, UINT64_MAX), 0);
        lifecycle_notify(g, 1);                 /* a late frame for the dead guest */
        assert_int_equal(g->state, GUEST_FREE);
    }
    lifecycle_admit(g, 0);
    assert_queued_once(g);
}

static void stop_while_queued_keeps_the_others(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < 5; i++)
        lifecycle_admit(&guests[i], 0);
    lifecycle_retire(&guests[2]);
    lifecycle_retire(&guests[0]);
    lifecycle_admit(&guests[2], 0);             /* the next tenant of partition 2 */
    assert_ptr_equal(lifecycle_dispatch(0), &guests[1]);
    assert_ptr_equal(lifecycle_dispatch(0), &guests[3]);
    assert_ptr_equal(lifecycle_dispatch(0), &guests[4]);
    assert_ptr_equal(lifecycle_dispatch(0), &guests[2]);
    assert_null(lifecycle_dispatch(0));
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
    assert_null(lifecycle_dispatch(0));
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
    assert_string_equal(lifecycle_kill_reason(g), "port 0x5ff denied");
    lifecycle_retire(g);
    lifecycle_admit(g, 0);                      /* READY: not killable */
    expect_assert_failure(lifecycle_kill(g, "again"));
    assert_int_equal(g->state, GUEST_READY);
}

/* Every transition from every state: accepted ones give the expected
 * state, the others panic and change nothing. T_WAIT is a wait with no
 * bits pending; T_STOP a stop asked by the guest's own CPU. */
enum transition { T_ADMIT, T_DISPATCH, T_PREEMPT, T_BLOCK, T_EXIT, T_WAKE, T_NOTIFY, T_RETIRE,
                  T_WAIT, T_STOP, T_COUNT };

static void drive_to(struct guest *g, enum guest_state s)
{
    if (s == GUEST_FREE)
        return;
    lifecycle_admit(g, 0);
    if (s == GUEST_READY)
        return;
    assert_ptr_equal(lifecycle_dispatch(0), g);
    if (s == GUEST_WAITING)
        lifecycle_block(g, 10);
    else if (s == GUEST_EXITED)
        lifecycle_exit(g, 0);
}

static void apply(struct guest *g, enum transition t)
{
    switch (t) {
    case T_ADMIT: lifecycle_admit(g, 0); break;
    case T_DISPATCH: assert_ptr_equal(lifecycle_dispatch(0), g->state == GUEST_READY ? g : NULL);
        break;
    case T_PREEMPT: lifecycle_preempt(g, 0); break;
    case T_BLOCK: lifecycle_block(g, 20); break;
    case T_EXIT: lifecycle_exit(g, 1); break;
    case T_WAKE: lifecycle_wake_due(0, UINT64_MAX - 1); break;
    case T_NOTIFY: lifecycle_notify(g, 1); break;
    case T_RETIRE: lifecycle_retire(g); break;
    case T_WAIT: assert_int_equal(lifecycle_wait(g, 20), 0); break;
    case T_STOP: assert_int_equal(lifecycle_request_stop(g, 0), g->state == GUEST_FREE ? -1 : 0);
        break;
    default: fail();
    }
}

#define X (-1)      /* the transition panics */
static const int expected[5][T_COUNT] = {
    /* admit, dispatch, preempt, block, exit, wake, notify, retire, wait, stop */
    [GUEST_FREE] = { GUEST_READY, GUEST_FREE, X, X, X, GUEST_FREE, GUEST_FREE, X, X, GUEST_FREE },
    [GUEST_READY] = { X, GUEST_RUNNING, X, X, X, GUEST_READY, GUEST_READY, GUEST_FREE, X,
                      GUEST_READY },
    [GUEST_RUNNING] = { X, GUEST_RUNNING, GUEST_READY, GUEST_WAITING, GUEST_EXITED, GUEST_RUNNING,
                        GUEST_RUNNING, GUEST_FREE, GUEST_WAITING, GUEST_RUNNING },
    [GUEST_WAITING] = { X, GUEST_WAITING, X, X, X, GUEST_READY, GUEST_READY, GUEST_FREE, X,
                        GUEST_READY },
    [GUEST_EXITED] = { X, GUEST_EXITED, X, X, X, GUEST_EXITED, GUEST_EXITED, GUEST_FREE, X,
                       GUEST_EXITED },
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
                assert_int_equal(g->cpu, 0);
                /* A panic powers the machine off, here with the CPU's
                 * lock held: nothing looks at its queues after one. */
                continue;
            }
            apply(g, (enum transition)t);
            assert_int_equal(g->state, expected[s][t]);
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

/* Per CPU (issue 12). */

/* g admitted to cpu and dispatched there: RUNNING on cpu. */
static void to_running_on(struct guest *g, uint32_t cpu)
{
    lifecycle_admit(g, cpu);
    assert_int_equal(g->cpu, cpu);
    assert_ptr_equal(lifecycle_dispatch(cpu), g);
    assert_int_equal(g->state, GUEST_RUNNING);
}

/* The least-loaded CPU, the lowest among equals: 0, 1, 2, 0, ...; a
 * retire frees its CPU's share. */
static void place_spreads_and_retire_lowers_load(void **state)
{
    (void)state;
    assert_int_equal(lifecycle_cpus(), CPUS);
    for (uint32_t i = 0; i < 7; i++) {
        uint32_t cpu = lifecycle_place();
        assert_int_equal(cpu, i % CPUS);
        lifecycle_admit(&guests[i], cpu);
        assert_int_equal(guests[i].cpu, cpu);
        assert_int_equal(lifecycle_load(cpu), i / CPUS + 1);
    }
    /* Loads 3, 2, 2: the next one goes to CPU 1. */
    assert_int_equal(lifecycle_place(), 1);
    lifecycle_retire(&guests[5]);               /* CPU 2: 3, 2, 1 */
    assert_int_equal(lifecycle_load(2), 1);
    assert_int_equal(lifecycle_place(), 2);
    assert_ptr_equal(lifecycle_dispatch(0), &guests[0]);
    lifecycle_exit(&guests[0], 0);
    lifecycle_retire(&guests[0]);               /* an exited guest counts until retired */
    lifecycle_retire(&guests[3]);               /* CPU 0: 1, 2, 1 */
    assert_int_equal(lifecycle_load(0), 1);
    assert_int_equal(lifecycle_place(), 0);
    assert_int_equal(lifecycle_load(CPUS), 0);  /* no such CPU: nothing there */
}

/* Dispatch, wake_due and next_deadline look only at their CPU's queues. */
static void queues_are_per_cpu(void **state)
{
    struct guest *a = &guests[0], *b = &guests[1];
    uint64_t d;

    (void)state;
    expect_assert_failure(lifecycle_admit(a, CPUS));   /* no such CPU */
    assert_int_equal(a->state, GUEST_FREE);
    lifecycle_admit(a, 0);
    assert_null(lifecycle_dispatch(1));
    assert_null(lifecycle_dispatch(2));
    lifecycle_admit(b, 1);
    assert_ptr_equal(lifecycle_dispatch(1), b);
    assert_null(lifecycle_dispatch(1));
    assert_ptr_equal(lifecycle_dispatch(0), a);
    lifecycle_preempt(b, 0);                    /* back on its own CPU's queue */
    assert_null(lifecycle_dispatch(0));
    assert_ptr_equal(lifecycle_dispatch(1), b);

    lifecycle_block(a, 100);
    lifecycle_block(b, 50);
    assert_int_equal(lifecycle_next_deadline(0, &d), 0);
    assert_true(d == 100);
    assert_int_equal(lifecycle_next_deadline(1, &d), 0);
    assert_true(d == 50);
    assert_int_equal(lifecycle_next_deadline(2, &d), -1);

    assert_int_equal(lifecycle_wake_due(1, 200), 1);
    assert_int_equal(b->state, GUEST_READY);
    assert_int_equal(a->state, GUEST_WAITING);  /* due, but on CPU 0 */
    assert_int_equal(lifecycle_next_deadline(1, &d), -1);
    assert_int_equal(lifecycle_next_deadline(0, &d), 0);
    assert_int_equal(lifecycle_wake_due(2, UINT64_MAX), 0);
    assert_null(lifecycle_dispatch(0));
    assert_ptr_equal(lifecycle_dispatch(1), b);
    assert_int_equal(lifecycle_wake_due(0, 99), 0);
    assert_int_equal(lifecycle_wake_due(0, 100), 1);
    assert_ptr_equal(lifecycle_dispatch(0), a);

    /* A notification from anywhere queues the waiter on its own CPU. */
    lifecycle_block(b, MF_WAIT_FOREVER);
    lifecycle_notify(b, 4);
    assert_null(lifecycle_dispatch(0));
    assert_null(lifecycle_dispatch(2));
    assert_ptr_equal(lifecycle_dispatch(1), b);
    assert_int_equal(results_of(1), 4);
}

/* An admit onto an idle CPU kicks it once; onto a busy one, not at all. */
static void admit_kicks_an_idle_cpu_once(void **state)
{
    (void)state;
    assert_int_equal(lifecycle_idle_begin(1), 1);
    lifecycle_admit(&guests[0], 0);             /* CPU 0 is not idle */
    lifecycle_admit(&guests[1], 2);
    assert_int_equal(kicks_total, 0);
    lifecycle_admit(&guests[2], 1);
    assert_int_equal(kicks[1], 1);
    assert_int_equal(kicks_total, 1);
    lifecycle_idle_end(1);
    lifecycle_admit(&guests[3], 1);             /* awake now: no kick */
    assert_int_equal(kicks_total, 1);
}

/* A notification that readies a waiter on an idle CPU kicks it once; one
 * for a guest already READY, or on a CPU that is not idle, does not. */
static void notify_kicks_an_idle_cpu_once(void **state)
{
    struct guest *g = &guests[4], *h = &guests[5];

    (void)state;
    to_running_on(g, 2);
    lifecycle_block(g, MF_WAIT_FOREVER);
    to_running_on(h, 1);
    lifecycle_block(h, MF_WAIT_FOREVER);
    assert_int_equal(lifecycle_idle_begin(2), 1);   /* a waiter is no work */
    lifecycle_notify(h, 1);                     /* CPU 1 is not idle */
    assert_int_equal(kicks_total, 0);
    lifecycle_notify(g, 1);
    assert_int_equal(g->state, GUEST_READY);
    assert_int_equal(kicks[2], 1);
    assert_int_equal(kicks_total, 1);
    lifecycle_notify(g, 2);                     /* already READY: bits pending only */
    assert_int_equal(kicks_total, 1);
    lifecycle_idle_end(2);
    assert_ptr_equal(lifecycle_dispatch(2), g);
    assert_int_equal(results_of(4), 1);
}

/* A CPU with work queued does not idle, so nothing queued there kicks it. */
static void idle_begin_refuses_with_work_queued(void **state)
{
    (void)state;
    lifecycle_admit(&guests[0], 1);
    assert_int_equal(lifecycle_idle_begin(1), 0);
    lifecycle_admit(&guests[1], 1);
    assert_int_equal(kicks_total, 0);           /* it did not stay idle */
    assert_int_equal(lifecycle_idle_begin(0), 1);  /* the others' queues do not count */
    lifecycle_idle_end(0);
    assert_ptr_equal(lifecycle_dispatch(1), &guests[0]);
    assert_ptr_equal(lifecycle_dispatch(1), &guests[1]);
    assert_int_equal(lifecycle_idle_begin(1), 1);
    lifecycle_admit(&guests[2], 1);
    assert_int_equal(kicks[1], 1);
}

/* Bits pending: the wait returns them at once, the guest runs on and is
 * on no queue. None: it waits, and a notification wakes it with them. */
static void wait_returns_pending_bits_or_waits(void **state)
{
    struct guest *g = &guests[6];
    uint64_t d;

    (void)state;
    to_running_on(g, 1);
    lifecycle_notify(g, 0x6);                   /* RUNNING: pending */
    assert_int_equal(g->notify_pending, 0x6);
    assert_int_equal(lifecycle_wait(g, 100), 0x6);
    assert_int_equal(g->state, GUEST_RUNNING);
    assert_int_equal(g->notify_pending, 0);
    assert_int_equal(lifecycle_next_deadline(1, &d), -1);
    assert_int_equal(lifecycle_wake_due(1, UINT64_MAX), 0);
    assert_null(lifecycle_dispatch(1));

    assert_int_equal(lifecycle_wait(g, 100), 0);
    assert_int_equal(g->state, GUEST_WAITING);
    assert_int_equal(lifecycle_next_deadline(1, &d), 0);
    assert_true(d == 100);
    lifecycle_notify(g, 0x30);
    assert_int_equal(g->state, GUEST_READY);
    assert_int_equal(results_of(6), 0x30);
    assert_int_equal(g->notify_pending, 0);
    assert_int_equal(lifecycle_next_deadline(1, &d), -1);
    assert_queued_once_on(g, 1);
}

/* The pending bits, cleared by the look. */
static void take_pending_clears(void **state)
{
    struct guest *g = &guests[2];

    (void)state;
    to_running_on(g, 2);
    lifecycle_notify(g, 0x81);
    assert_int_equal(lifecycle_take_pending(g), 0x81);
    assert_int_equal(lifecycle_take_pending(g), 0);
    assert_int_equal(g->state, GUEST_RUNNING);
}

/* A stop from another CPU: flagged, a waiter readied on its own CPU, and
 * that CPU kicked once whatever it does; from its own CPU, no kick. */
static void request_stop_readies_and_kicks(void **state)
{
    struct guest *w = &guests[0], *r = &guests[1], *q = &guests[2];
    uint64_t d;

    (void)state;
    to_running_on(w, 1);
    lifecycle_block(w, 500);
    assert_int_equal(lifecycle_request_stop(w, 0), 0);
    assert_true(w->stop_requested);
    assert_int_equal(w->state, GUEST_READY);
    assert_int_equal(lifecycle_next_deadline(1, &d), -1);
    assert_int_equal(kicks[1], 1);
    assert_int_equal(kicks_total, 1);
    assert_null(lifecycle_dispatch(0));
    assert_ptr_equal(lifecycle_dispatch(1), w);

    to_running_on(r, 2);                        /* running there: kicked out of it */
    assert_int_equal(lifecycle_request_stop(r, 0), 0);
    assert_true(r->stop_requested);
    assert_int_equal(r->state, GUEST_RUNNING);
    assert_int_equal(kicks[2], 1);
    assert_int_equal(kicks_total, 2);

    to_running_on(q, 2);                        /* the same CPU asks: no kick */
    lifecycle_block(q, MF_WAIT_FOREVER);
    assert_int_equal(lifecycle_request_stop(q, 2), 0);
    assert_true(q->stop_requested);
    assert_int_equal(q->state, GUEST_READY);
    assert_int_equal(kicks_total, 2);
    assert_queued_once_on(q, 2);
}

/* A stop of a waiter on an idle CPU from another one kicks it once. */
static void request_stop_on_idle_cpu_kicks_once(void **state)
{
    struct guest *g = &guests[3];

    (void)state;
    to_running_on(g, 2);
    lifecycle_block(g, MF_WAIT_FOREVER);
    assert_int_equal(lifecycle_idle_begin(2), 1);
    assert_int_equal(lifecycle_request_stop(g, 0), 0);
    assert_int_equal(kicks[2], 1);
    assert_int_equal(kicks_total, 1);
    assert_queued_once_on(g, 2);
}

/* A FREE guest has nothing to stop: -1, no flag, no kick; admit starts
 * a new tenant with no stop pending from the last one. */
static void request_stop_of_free_guest_refused(void **state)
{
    struct guest *g = &guests[4];

    (void)state;
    assert_int_equal(lifecycle_request_stop(g, 1), -1);
    assert_false(g->stop_requested);
    assert_int_equal(kicks_total, 0);
    to_running_on(g, 0);
    assert_int_equal(lifecycle_request_stop(g, 1), 0);
    lifecycle_exit(g, 0);
    lifecycle_retire(g);
    assert_int_equal(lifecycle_request_stop(g, 1), -1);
    assert_int_equal(kicks_total, 1);
    lifecycle_admit(g, 0);
    assert_false(g->stop_requested);
}

/* Each CPU keeps the reason of its own last kill. */
static void kill_reason_per_cpu(void **state)
{
    struct guest *a = &guests[0], *b = &guests[1];

    (void)state;
    to_running_on(a, 0);
    to_running_on(b, 1);
    lifecycle_kill(a, "port 0x%x denied", 0x60);
    lifecycle_kill(b, "bad hypercall %d", 99);
    assert_true(a->killed && b->killed);
    assert_string_equal(lifecycle_kill_reason(a), "port 0x60 denied");
    assert_string_equal(lifecycle_kill_reason(b), "bad hypercall 99");
    lifecycle_retire(a);
    lifecycle_retire(b);
    assert_string_equal(lifecycle_kill_reason(b), "bad hypercall 99");
}

/* 1 to CPU_MAX CPUs; anything else is a broken boot. */
static void init_refuses_bad_cpu_count(void **state)
{
    (void)state;
    expect_assert_failure(lifecycle_init(guests, N, 0, storage, kick_record));
    expect_assert_failure(lifecycle_init(guests, N, CPU_MAX + 1, storage, kick_record));
    init_cpus(1);
    assert_int_equal(lifecycle_cpus(), 1);
    assert_int_equal(lifecycle_place(), 0);
}

#define RNG_SEED 0x2545f4914f6cdd1dULL
#include "test_rng.h"

/* Checks cpu's earliest deadline and load against the model. */
static void assert_cpu_matches(uint32_t cpu, const uint64_t *deadline)
{
    uint64_t d, min = UINT64_MAX;
    uint32_t load = 0;
    int any = 0;

    for (uint32_t k = 0; k < N; k++) {
        if (guests[k].state == GUEST_FREE || guests[k].cpu != cpu)
            continue;
        load++;
        if (guests[k].state == GUEST_WAITING) {
            any = 1;
            min = deadline[k] < min ? deadline[k] : min;
        }
    }
    assert_int_equal(lifecycle_load(cpu), load);
    assert_int_equal(lifecycle_next_deadline(cpu, &d), any ? 0 : -1);
    if (any)
        assert_true(d == min);
}

/* Random legal operations over N guests on cpus CPUs against a model of
 * who is ready and who waits (with what deadline) where, the way the run
 * loops, hypercalls, the switch and the control channel drive it. No CPU
 * idles, so only a stop asked from another CPU kicks. */
static void random_walk(uint32_t cpus)
{
    uint64_t deadline[N] = { 0 }, now = 0;
    uint32_t want_kicks = 0;

    for (int step = 0; step < 200000; step++) {
        uint32_t i = (uint32_t)(rng() % N), cpu = (uint32_t)(rng() % cpus);
        struct guest *g = &guests[i];
        struct guest *r;
        switch (rng() % 7) {
        case 0:
            if (g->state == GUEST_FREE)
                lifecycle_admit(g, rng() & 1 ? lifecycle_place() : cpu);
            break;
        case 1:
            r = lifecycle_dispatch(cpu);
            if (!r)
                break;
            assert_int_equal(r->state, GUEST_RUNNING);
            assert_int_equal(r->cpu, cpu);
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
            lifecycle_wake_due(cpu, now);
            for (uint32_t k = 0; k < N; k++)
                if (guests[k].state == GUEST_WAITING && guests[k].cpu == cpu)
                    assert_true(deadline[k] > now);
            break;
        case 3:
            lifecycle_notify(g, 1ULL << (rng() % 8));
            break;
        case 4:
            if (g->state != GUEST_FREE && g->state != GUEST_RUNNING)
                lifecycle_retire(g);
            break;
        case 5:
            want_kicks += g->state != GUEST_FREE && g->cpu != cpu;
            lifecycle_request_stop(g, cpu);
            assert_true(g->state != GUEST_WAITING);
            break;
        default:
            assert_cpu_matches(cpu, deadline);
        }
    }
    assert_int_equal(kicks_total, want_kicks);
    /* Every READY guest comes out of its CPU's run queue exactly once. */
    uint32_t ready = 0, out = 0;
    int seen;
    for (uint32_t k = 0; k < N; k++)
        ready += guests[k].state == GUEST_READY;
    for (uint32_t c = 0; c < cpus; c++)
        out += drain_on(c, NULL, &seen);
    assert_int_equal(out, ready);
}

static void random_walk_matches_model(void **state)
{
    (void)state;
    random_walk(1);
}

static void random_walk_per_cpu_matches_model(void **state)
{
    (void)state;
    random_walk(CPUS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(fifo_order_and_front, setup),
        cmocka_unit_test_setup(notify_after_deadline_queues_once, setup),
        cmocka_unit_test_setup(notify_wakes_waiter_with_bits, setup),
        cmocka_unit_test_setup(notify_from_records_the_waker, setup),
        cmocka_unit_test_setup(forever_waits_until_notified, setup),
        cmocka_unit_test_setup(stop_during_wait_then_reuse, setup),
        cmocka_unit_test_setup(stop_while_queued_keeps_the_others, setup),
        cmocka_unit_test_setup(exit_then_retire, setup),
        cmocka_unit_test_setup(kill_from_running_only, setup),
        cmocka_unit_test_setup(every_transition_pair, setup),
        cmocka_unit_test_setup(random_walk_matches_model, setup),
        cmocka_unit_test_setup(place_spreads_and_retire_lowers_load, setup_cpus),
        cmocka_unit_test_setup(queues_are_per_cpu, setup_cpus),
        cmocka_unit_test_setup(admit_kicks_an_idle_cpu_once, setup_cpus),
        cmocka_unit_test_setup(notify_kicks_an_idle_cpu_once, setup_cpus),
        cmocka_unit_test_setup(idle_begin_refuses_with_work_queued, setup_cpus),
        cmocka_unit_test_setup(wait_returns_pending_bits_or_waits, setup_cpus),
        cmocka_unit_test_setup(take_pending_clears, setup_cpus),
        cmocka_unit_test_setup(request_stop_readies_and_kicks, setup_cpus),
        cmocka_unit_test_setup(request_stop_on_idle_cpu_kicks_once, setup_cpus),
        cmocka_unit_test_setup(request_stop_of_free_guest_refused, setup_cpus),
        cmocka_unit_test_setup(kill_reason_per_cpu, setup_cpus),
        cmocka_unit_test_setup(init_refuses_bad_cpu_count, setup_cpus),
        cmocka_unit_test_setup(random_walk_per_cpu_matches_model, setup_cpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
