/*
 * Unit tests of hv/sched.c: the FIFO run queue (order, capacity, wrap
 * around, out-of-range guests) and the deadline min-heap (order of
 * wake-ups, equal deadlines, removal from the middle, next deadline,
 * double waits). Heap order is checked from the outside only: by
 * draining the heap with wake_due and comparing against a sorted
 * reference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sched.h"

#define CAP 64

static uint32_t ring[CAP];
static struct sched_waiter heap[CAP];
static uint32_t heap_pos[CAP];
static struct sched s;

static int setup(void **state)
{
    (void)state;
    memset(ring, 0xa5, sizeof(ring));
    memset(heap, 0xa5, sizeof(heap));
    sched_init(&s, CAP, ring, heap, heap_pos);
    return 0;
}

/* What the run loop does with due waiters (through hv/lifecycle.c):
 * each goes to the run queue, earliest first. */
static uint32_t sched_wake_due(struct sched *q, uint64_t now)
{
    uint32_t woken = 0, who;

    while ((who = sched_pop_due(q, now)) != SCHED_NONE) {
        assert_int_equal(sched_push(q, who), 0);
        woken++;
    }
    return woken;
}

static void sched_small(uint32_t capacity)
{
    sched_init(&s, capacity, ring, heap, heap_pos);
}

#define RNG_SEED 0x9e3779b97f4a7c15ULL
#include "test_rng.h"

struct ref {
    uint64_t deadline;
    uint32_t who;
};

static int ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;

    if (x->deadline != y->deadline)
        return x->deadline < y->deadline ? -1 : 1;
    return 0;
}

/*
 * Wakes every waiter one deadline at a time and checks they come out in
 * the reference's deadline order (guests with equal deadlines in any
 * order among themselves). ref must be sorted by deadline.
 */
static void drain_and_check(const struct ref *ref, uint32_t n)
{
    uint32_t i = 0;

    assert_int_equal(s.waiting, n);
    assert_int_equal(s.count, 0);
    while (i < n) {
        uint64_t next, d = ref[i].deadline;
        uint32_t same = 0;

        assert_int_equal(sched_next_deadline(&s, &next), 0);
        assert_int_equal(next, d);
        while (i + same < n && ref[i + same].deadline == d)
            same++;
        if (d > 0)
            assert_int_equal(sched_wake_due(&s, d - 1), 0);
        assert_int_equal(sched_wake_due(&s, d), same);
        for (uint32_t k = 0; k < same; k++) {
            uint32_t who = sched_pop(&s);
            int found = 0;
            for (uint32_t j = i; j < i + same; j++)
                found |= ref[j].who == who;
            assert_true(found);
            assert_int_equal(heap_pos[who], SCHED_NONE);
        }
        assert_int_equal(sched_pop(&s), SCHED_NONE);
        i += same;
    }
    assert_int_equal(s.waiting, 0);
    assert_int_equal(sched_next_deadline(&s, &(uint64_t){ 0 }), -1);
}

/* ---- run queue ---- */

static void test_init_empty(void **state)
{
    uint64_t d = 1234;
    (void)state;
    assert_int_equal(s.capacity, CAP);
    assert_int_equal(s.count, 0);
    assert_int_equal(s.waiting, 0);
    for (uint32_t i = 0; i < CAP; i++)
        assert_int_equal(heap_pos[i], SCHED_NONE);
    assert_int_equal(sched_pop(&s), SCHED_NONE);
    assert_int_equal(sched_next_deadline(&s, &d), -1);
    assert_int_equal(d, 1234);          /* untouched when nobody waits */
    assert_int_equal(sched_wake_due(&s, UINT64_MAX), 0);
}

static void test_fifo_order(void **state)
{
    static const uint32_t order[] = { 5, 0, 63, 17, 2, 40 };
    (void)state;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        assert_int_equal(sched_push(&s, order[i]), 0);
    assert_int_equal(s.count, 6);
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        assert_int_equal(sched_pop(&s), order[i]);
    assert_int_equal(sched_pop(&s), SCHED_NONE);
    assert_int_equal(s.count, 0);
}

static void test_fifo_interleaved_wraps(void **state)
{
    uint32_t next_in = 0, next_out = 0;
    (void)state;
    sched_small(4);
    /* Keep 1..4 guests queued while head walks round the ring many times. */
    for (int round = 0; round < 100; round++) {
        uint32_t in = 1 + (uint32_t)(rng() % 4);
        while (in-- && s.count < 4)
            assert_int_equal(sched_push(&s, next_in++ % 4), 0);
        uint32_t out = 1 + (uint32_t)(rng() % s.count);
        while (out--)
            assert_int_equal(sched_pop(&s), next_out++ % 4);
    }
    while (s.count)
        assert_int_equal(sched_pop(&s), next_out++ % 4);
    assert_int_equal(next_in, next_out);
    assert_int_equal(sched_pop(&s), SCHED_NONE);
}

static void test_fifo_capacity(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < CAP; i++)
        assert_int_equal(sched_push(&s, i), 0);
    assert_int_equal(s.count, CAP);
    assert_int_equal(sched_push(&s, 0), -1);
    assert_int_equal(sched_push(&s, CAP - 1), -1);
    assert_int_equal(s.count, CAP);
    /* The refused pushes changed nothing: order is intact. */
    assert_int_equal(sched_pop(&s), 0);
    assert_int_equal(sched_push(&s, 7), 0);    /* room for exactly one */
    assert_int_equal(sched_push(&s, 8), -1);
    for (uint32_t i = 1; i < CAP; i++)
        assert_int_equal(sched_pop(&s), i);
    assert_int_equal(sched_pop(&s), 7);
    assert_int_equal(sched_pop(&s), SCHED_NONE);
}

static void test_push_out_of_range(void **state)
{
    (void)state;
    assert_int_equal(sched_push(&s, CAP), -1);
    assert_int_equal(sched_push(&s, CAP + 1), -1);
    assert_int_equal(sched_push(&s, SCHED_NONE), -1);
    assert_int_equal(sched_push(&s, UINT32_MAX - 1), -1);
    assert_int_equal(s.count, 0);
    assert_int_equal(sched_pop(&s), SCHED_NONE);
    sched_small(1);
    assert_int_equal(sched_push(&s, 1), -1);
    assert_int_equal(sched_push(&s, 0), 0);
    assert_int_equal(sched_push(&s, 0), -1);   /* full */
    assert_int_equal(sched_pop(&s), 0);
}

/* ---- wait heap ---- */

static void test_wait_wake_in_deadline_order(void **state)
{
    static const struct ref in[] = {
        { 500, 3 }, { 100, 9 }, { 300, 1 }, { 700, 0 }, { 200, 12 }, { 600, 4 },
    };
    struct ref ref[6];
    (void)state;
    for (int i = 0; i < 6; i++)
        assert_int_equal(sched_wait(&s, in[i].who, in[i].deadline), 0);
    memcpy(ref, in, sizeof(ref));
    qsort(ref, 6, sizeof(ref[0]), ref_cmp);
    /* One wake_due with a late "now" pushes them earliest first. */
    assert_int_equal(sched_wake_due(&s, 1000), 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(sched_pop(&s), ref[i].who);
    assert_int_equal(s.waiting, 0);
}

static void test_equal_deadlines(void **state)
{
    uint32_t seen = 0;
    (void)state;
    for (uint32_t who = 0; who < 10; who++)
        assert_int_equal(sched_wait(&s, who, 50), 0);
    assert_int_equal(sched_wait(&s, 20, 49), 0);
    assert_int_equal(sched_wait(&s, 21, 51), 0);
    assert_int_equal(sched_wake_due(&s, 49), 1);
    assert_int_equal(sched_pop(&s), 20);
    assert_int_equal(sched_wake_due(&s, 50), 10);
    for (int i = 0; i < 10; i++) {
        uint32_t who = sched_pop(&s);
        assert_true(who < 10);
        assert_false(seen & (1u << who));
        seen |= 1u << who;
    }
    assert_int_equal(seen, 0x3ff);
    assert_int_equal(sched_pop(&s), SCHED_NONE);
    assert_int_equal(s.waiting, 1);
    assert_int_equal(sched_wake_due(&s, 51), 1);
    assert_int_equal(sched_pop(&s), 21);
}

static void test_random_deadlines_against_sorted_reference(void **state)
{
    struct ref ref[CAP];
    (void)state;
    for (int trial = 0; trial < 200; trial++) {
        uint32_t n = 1 + (uint32_t)(rng() % CAP);
        /* Small ranges give many ties; large ones none. */
        uint64_t range = (trial & 1) ? 16 : UINT64_MAX;
        setup(NULL);
        for (uint32_t i = 0; i < n; i++) {
            ref[i].who = i;
            ref[i].deadline = rng() % range;
            if (ref[i].deadline == UINT64_MAX)
                ref[i].deadline--;
            assert_int_equal(sched_wait(&s, i, ref[i].deadline), 0);
        }
        qsort(ref, n, sizeof(ref[0]), ref_cmp);
        drain_and_check(ref, n);
    }
}

static void test_unwait_from_middle_keeps_order(void **state)
{
    struct ref ref[CAP];
    (void)state;
    for (int trial = 0; trial < 200; trial++) {
        uint32_t n = 2 + (uint32_t)(rng() % (CAP - 1)), kept = 0;
        uint64_t range = (trial & 1) ? 8 : 1000000;
        setup(NULL);
        for (uint32_t i = 0; i < n; i++) {
            ref[i].who = i;
            ref[i].deadline = rng() % range;
            assert_int_equal(sched_wait(&s, i, ref[i].deadline), 0);
        }
        /* Remove about a third, chosen by guest, so from anywhere in the heap. */
        for (uint32_t i = 0; i < n; i++) {
            if (rng() % 3 == 0) {
                sched_unwait(&s, i);
                assert_int_equal(heap_pos[i], SCHED_NONE);
            } else {
                ref[kept++] = ref[i];
            }
        }
        assert_int_equal(s.waiting, kept);
        qsort(ref, kept, sizeof(ref[0]), ref_cmp);
        drain_and_check(ref, kept);
    }
}

/* A removal that must sift up: the last element moved into a hole under
 * a larger parent. Heap of deadlines built so the last leaf is small. */
static void test_unwait_sift_up_case(void **state)
{
    static const uint64_t d[] = { 1, 100, 2, 101, 102, 3, 4, 103, 104, 105, 106, 5 };
    struct ref ref[12];
    uint32_t kept = 0;
    (void)state;
    for (uint32_t i = 0; i < 12; i++)
        assert_int_equal(sched_wait(&s, i, d[i]), 0);
    /* Remove guests deep in the 100s subtree; the tail (5, 3, 4 ...) fills in. */
    sched_unwait(&s, 7);
    sched_unwait(&s, 4);
    sched_unwait(&s, 1);
    for (uint32_t i = 0; i < 12; i++)
        if (i != 7 && i != 4 && i != 1)
            ref[kept++] = (struct ref){ d[i], i };
    qsort(ref, kept, sizeof(ref[0]), ref_cmp);
    drain_and_check(ref, kept);
}

static void test_unwait_absent_is_noop(void **state)
{
    uint64_t d;
    (void)state;
    assert_int_equal(sched_wait(&s, 3, 30), 0);
    assert_int_equal(sched_wait(&s, 4, 40), 0);
    sched_unwait(&s, 5);                /* never waited */
    sched_unwait(&s, CAP);              /* out of range */
    sched_unwait(&s, SCHED_NONE);
    assert_int_equal(s.waiting, 2);
    sched_unwait(&s, 3);
    sched_unwait(&s, 3);                /* twice */
    assert_int_equal(s.waiting, 1);
    assert_int_equal(sched_next_deadline(&s, &d), 0);
    assert_int_equal(d, 40);
    sched_unwait(&s, 4);                /* the last one */
    assert_int_equal(s.waiting, 0);
    assert_int_equal(sched_next_deadline(&s, &d), -1);
    assert_int_equal(sched_wake_due(&s, UINT64_MAX), 0);
    assert_int_equal(s.count, 0);
}

static void test_next_deadline(void **state)
{
    uint64_t d = 0;
    (void)state;
    assert_int_equal(sched_next_deadline(&s, &d), -1);
    assert_int_equal(sched_wait(&s, 1, 900), 0);
    assert_int_equal(sched_next_deadline(&s, &d), 0);
    assert_int_equal(d, 900);
    assert_int_equal(sched_wait(&s, 2, 950), 0);
    assert_int_equal(sched_next_deadline(&s, &d), 0);
    assert_int_equal(d, 900);
    assert_int_equal(sched_wait(&s, 3, 10), 0);
    assert_int_equal(sched_next_deadline(&s, &d), 0);
    assert_int_equal(d, 10);
    sched_unwait(&s, 3);
    assert_int_equal(sched_next_deadline(&s, &d), 0);
    assert_int_equal(d, 900);
    assert_int_equal(sched_wake_due(&s, 900), 1);
    assert_int_equal(sched_next_deadline(&s, &d), 0);
    assert_int_equal(d, 950);
    /* Extreme deadlines are ordinary numbers. */
    assert_int_equal(sched_wait(&s, 4, 0), 0);
    assert_int_equal(sched_wait(&s, 5, UINT64_MAX), 0);
    assert_int_equal(sched_next_deadline(&s, &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(sched_wake_due(&s, 0), 1);
    assert_int_equal(sched_wake_due(&s, UINT64_MAX - 1), 1);
    assert_int_equal(sched_next_deadline(&s, &d), 0);
    assert_int_equal(d, UINT64_MAX);
    assert_int_equal(sched_wake_due(&s, UINT64_MAX), 1);
    assert_int_equal(sched_next_deadline(&s, &d), -1);
}

static void test_wait_twice_rejected(void **state)
{
    uint64_t d;
    (void)state;
    assert_int_equal(sched_wait(&s, 6, 100), 0);
    assert_int_equal(sched_wait(&s, 6, 100), -1);
    assert_int_equal(sched_wait(&s, 6, 5), -1);     /* an earlier deadline changes nothing */
    assert_int_equal(s.waiting, 1);
    assert_int_equal(sched_next_deadline(&s, &d), 0);
    assert_int_equal(d, 100);
    assert_int_equal(sched_wake_due(&s, 99), 0);
    /* Once woken (or unwaited) it may wait again. */
    assert_int_equal(sched_wake_due(&s, 100), 1);
    assert_int_equal(sched_pop(&s), 6);
    assert_int_equal(sched_wait(&s, 6, 200), 0);
    sched_unwait(&s, 6);
    assert_int_equal(sched_wait(&s, 6, 300), 0);
    assert_int_equal(s.waiting, 1);
}

static void test_wait_out_of_range(void **state)
{
    (void)state;
    assert_int_equal(sched_wait(&s, CAP, 1), -1);
    assert_int_equal(sched_wait(&s, SCHED_NONE, 1), -1);
    assert_int_equal(s.waiting, 0);
    sched_small(2);
    assert_int_equal(sched_wait(&s, 2, 1), -1);
    assert_int_equal(sched_wait(&s, 0, 1), 0);
    assert_int_equal(sched_wait(&s, 1, 1), 0);
    assert_int_equal(s.waiting, 2);
}

static void test_wake_due_moves_exactly_due(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < 20; i++)
        assert_int_equal(sched_wait(&s, i, 1000 + 10 * (19 - i)), 0);
    /* Already runnable guests stay ahead of the woken ones. */
    assert_int_equal(sched_push(&s, 40), 0);
    assert_int_equal(sched_push(&s, 41), 0);
    assert_int_equal(sched_wake_due(&s, 999), 0);
    assert_int_equal(s.count, 2);
    /* Deadlines 1000..1045: guests 19..15. */
    assert_int_equal(sched_wake_due(&s, 1045), 5);
    assert_int_equal(s.waiting, 15);
    assert_int_equal(s.count, 7);
    assert_int_equal(sched_pop(&s), 40);
    assert_int_equal(sched_pop(&s), 41);
    for (uint32_t who = 19; who >= 15; who--) {
        assert_int_equal(sched_pop(&s), who);
        assert_int_equal(heap_pos[who], SCHED_NONE);
    }
    assert_int_equal(sched_pop(&s), SCHED_NONE);
    for (uint32_t who = 0; who < 15; who++)
        assert_int_not_equal(heap_pos[who], SCHED_NONE);
    /* The same "now" again wakes nobody. */
    assert_int_equal(sched_wake_due(&s, 1045), 0);
    assert_int_equal(sched_wake_due(&s, 1050), 1);
    assert_int_equal(sched_pop(&s), 14);
    assert_int_equal(sched_wake_due(&s, UINT64_MAX), 14);
    for (uint32_t who = 13; who != UINT32_MAX; who--)
        assert_int_equal(sched_pop(&s), who);
    assert_int_equal(s.waiting, 0);
}

/* Every guest both waiting and queued at once: the two structures are
 * independent, and both fill to capacity. */
static void test_full_heap_and_queue(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < CAP; i++) {
        assert_int_equal(sched_wait(&s, i, (uint64_t)(CAP - i)), 0);
        assert_int_equal(sched_push(&s, i), 0);
    }
    assert_int_equal(s.waiting, CAP);
    assert_int_equal(s.count, CAP);
    for (uint32_t i = 0; i < CAP; i++)
        assert_int_equal(sched_pop(&s), i);
    assert_int_equal(sched_wake_due(&s, UINT64_MAX), CAP);
    for (uint32_t i = CAP - 1; i != UINT32_MAX; i--)
        assert_int_equal(sched_pop(&s), i);
}

#define T(f) cmocka_unit_test_setup(f, setup)

/* push_front runs next; dequeue takes one out anywhere, keeping order. */
static void test_front_and_dequeue(void **state)
{
    (void)state;
    sched_small(5);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(sched_push(&s, i), 0);
    assert_int_equal(sched_push_front(&s, 4), 0);
    assert_int_equal(sched_push_front(&s, 0), -1);      /* full */
    assert_int_equal(sched_dequeue(&s, 2), 0);
    assert_int_equal(sched_dequeue(&s, 2), -1);         /* not queued any more */
    assert_int_equal(sched_pop(&s), 4);
    assert_int_equal(sched_pop(&s), 0);
    assert_int_equal(sched_pop(&s), 1);
    assert_int_equal(sched_pop(&s), 3);
    assert_int_equal(sched_pop(&s), SCHED_NONE);
    /* Around the end of the ring. */
    for (uint32_t round = 0; round < 12; round++) {
        assert_int_equal(sched_push(&s, round % 5), 0);
        assert_int_equal(sched_push_front(&s, (round + 1) % 5), 0);
        assert_int_equal(sched_dequeue(&s, round % 5), 0);
        assert_int_equal(sched_pop(&s), (round + 1) % 5);
        assert_int_equal(sched_pop(&s), SCHED_NONE);
    }
    assert_int_equal(sched_push_front(&s, 5), -1);      /* out of range */
}

static void test_pop_due_one_at_a_time(void **state)
{
    (void)state;
    sched_small(8);
    assert_int_equal(sched_wait(&s, 3, 30), 0);
    assert_int_equal(sched_wait(&s, 1, 10), 0);
    assert_int_equal(sched_wait(&s, 2, UINT64_MAX), 0);
    assert_int_equal(sched_pop_due(&s, 9), SCHED_NONE);
    assert_int_equal(sched_pop_due(&s, 40), 1);
    assert_int_equal(sched_pop_due(&s, 40), 3);
    assert_int_equal(sched_pop_due(&s, UINT64_MAX - 1), SCHED_NONE);    /* no deadline */
    assert_int_equal(sched_pop_due(&s, UINT64_MAX), 2);
    assert_int_equal(sched_pop(&s), SCHED_NONE);        /* nothing was queued */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_front_and_dequeue),
        cmocka_unit_test(test_pop_due_one_at_a_time),
        T(test_init_empty),
        T(test_fifo_order),
        T(test_fifo_interleaved_wraps),
        T(test_fifo_capacity),
        T(test_push_out_of_range),
        T(test_wait_wake_in_deadline_order),
        T(test_equal_deadlines),
        T(test_random_deadlines_against_sorted_reference),
        T(test_unwait_from_middle_keeps_order),
        T(test_unwait_sift_up_case),
        T(test_unwait_absent_is_noop),
        T(test_next_deadline),
        T(test_wait_twice_rejected),
        T(test_wait_out_of_range),
        T(test_wake_due_moves_exactly_due),
        T(test_full_heap_and_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
