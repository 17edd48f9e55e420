/*
 * Unit tests of hv/fdb.c: learning, moving, forgetting, a full table, and
 * collisions. Home slots are found by learning a MAC alone in a scratch
 * table and seeing where it lands, so the tests can build runs of
 * colliding entries (and runs wrapping past the table's end) on purpose.
 * A randomised run against a plain array checks the rest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fdb.h"

#define CAP 16

static struct fdb_entry slots[CAP];
static struct fdb t;

static void mac_of(uint32_t n, uint8_t mac[6])
{
    mac[0] = 0x02;
    mac[1] = 0x00;
    mac[2] = (uint8_t)(n >> 24);
    mac[3] = (uint8_t)(n >> 16);
    mac[4] = (uint8_t)(n >> 8);
    mac[5] = (uint8_t)n;
}

/* The slot a MAC lands in when alone in a table of capacity cap. */
static uint32_t home_of(uint32_t n, uint32_t cap)
{
    struct fdb_entry scratch[CAP];
    struct fdb s;
    uint8_t mac[6];

    fdb_init(&s, scratch, cap);
    mac_of(n, mac);
    assert_int_equal(fdb_learn(&s, mac, 1), 0);
    for (uint32_t i = 0; i < cap; i++)
        if (scratch[i].used)
            return i;
    fail();
    return 0;
}

/* Finds count MAC numbers with the given home (searching from *next). */
static void find_homed(uint32_t home, uint32_t cap, uint32_t *out, int count, uint32_t *next)
{
    for (int found = 0; found < count; (*next)++)
        if (home_of(*next, cap) == home)
            out[found++] = *next;
}

static void learn(uint32_t n, uint32_t port)
{
    uint8_t mac[6];
    mac_of(n, mac);
    assert_int_equal(fdb_learn(&t, mac, port), 0);
}

static uint32_t lookup(uint32_t n)
{
    uint8_t mac[6];
    mac_of(n, mac);
    return fdb_lookup(&t, mac);
}

static int forget(uint32_t n)
{
    uint8_t mac[6];
    mac_of(n, mac);
    return fdb_forget(&t, mac);
}

static int setup_test(void **state)
{
    (void)state;
    memset(slots, 0xa5, sizeof(slots));                 /* init must clear */
    fdb_init(&t, slots, CAP);
    return 0;
}

static void test_learn_lookup(void **state)
{
    (void)state;
    assert_int_equal(t.capacity, CAP);
    assert_int_equal(t.count, 0);
    assert_int_equal(lookup(1), FDB_NONE);
    learn(1, 7);
    learn(2, 9);
    assert_int_equal(lookup(1), 7);
    assert_int_equal(lookup(2), 9);
    assert_int_equal(lookup(3), FDB_NONE);
    assert_int_equal(t.count, 2);
}

static void test_move(void **state)
{
    (void)state;
    learn(1, 7);
    learn(1, 3);
    assert_int_equal(lookup(1), 3);
    assert_int_equal(t.count, 1);
}

static void test_port_none_rejected(void **state)
{
    uint8_t mac[6];
    (void)state;
    mac_of(1, mac);
    assert_int_equal(fdb_learn(&t, mac, FDB_NONE), -1);
    assert_int_equal(t.count, 0);
}

static void test_full(void **state)
{
    uint8_t mac[6];
    (void)state;
    assert_int_equal(fdb_limit(CAP), 12);
    for (uint32_t n = 0; n < 12; n++)
        learn(n, n);
    mac_of(100, mac);
    assert_int_equal(fdb_learn(&t, mac, 1), -1);        /* full */
    assert_int_equal(t.count, 12);
    assert_int_equal(fdb_lookup(&t, mac), FDB_NONE);    /* the probe still ends */
    learn(5, 55);                                       /* moving still works */
    assert_int_equal(lookup(5), 55);
    for (uint32_t n = 0; n < 12; n++)
        assert_int_equal(lookup(n), n == 5 ? 55 : n);
    assert_int_equal(forget(3), 1);
    learn(100, 1);                                      /* room again */
    assert_int_equal(lookup(100), 1);
}

static void test_limits(void **state)
{
    (void)state;
    assert_int_equal(fdb_limit(0), 0);
    assert_int_equal(fdb_limit(1), 0);
    assert_int_equal(fdb_limit(2), 1);
    assert_int_equal(fdb_limit(4), 3);
    assert_int_equal(fdb_limit(8), 6);
    assert_int_equal(fdb_limit(1u << 31), 3u << 29);
}

static void test_capacity_rounding(void **state)
{
    uint8_t mac[6];
    (void)state;
    fdb_init(&t, slots, 13);
    assert_int_equal(t.capacity, 8);
    fdb_init(&t, slots, 0);
    mac_of(1, mac);
    assert_int_equal(fdb_learn(&t, mac, 1), -1);
    assert_int_equal(fdb_lookup(&t, mac), FDB_NONE);
    fdb_forget_port(&t, 1);
    assert_int_equal(fdb_forget(&t, mac), 0);
    fdb_init(&t, slots, 1);                             /* holds nothing, still safe */
    assert_int_equal(fdb_learn(&t, mac, 1), -1);
    assert_int_equal(fdb_lookup(&t, mac), FDB_NONE);
    fdb_init(&t, slots, 2);
    assert_int_equal(fdb_learn(&t, mac, 1), 0);
    assert_int_equal(fdb_lookup(&t, mac), 1);
    mac_of(2, mac);
    assert_int_equal(fdb_learn(&t, mac, 1), -1);
    assert_int_equal(fdb_lookup(&t, mac), FDB_NONE);
}

static void test_collisions(void **state)
{
    uint32_t same[4], next = 0;
    (void)state;
    find_homed(5, CAP, same, 4, &next);
    for (int i = 0; i < 4; i++)
        learn(same[i], (uint32_t)i);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(lookup(same[i]), i);
        assert_true(slots[5 + i].used);                 /* one run, 5..8 */
    }
    /* Forgetting the head of the run shifts the rest back. */
    assert_int_equal(forget(same[0]), 1);
    assert_int_equal(forget(same[0]), 0);
    for (int i = 1; i < 4; i++)
        assert_int_equal(lookup(same[i]), i);
    assert_false(slots[8].used);
    assert_int_equal(lookup(same[0]), FDB_NONE);
}

/* A run that wraps past the end: entries homed at 15 and 0 interleave. */
static void test_collisions_wrap(void **state)
{
    uint32_t at15[3], at0[2], next = 0;
    (void)state;
    find_homed(15, CAP, at15, 3, &next);
    next = 0;
    find_homed(0, CAP, at0, 2, &next);
    learn(at15[0], 1);                                  /* slot 15 */
    learn(at0[0], 2);                                   /* slot 0 */
    learn(at15[1], 1);                                  /* slot 1 */
    learn(at0[1], 2);                                   /* slot 2 */
    learn(at15[2], 3);                                  /* slot 3 */
    fdb_forget_port(&t, 1);
    assert_int_equal(t.count, 3);
    assert_int_equal(lookup(at15[0]), FDB_NONE);
    assert_int_equal(lookup(at15[1]), FDB_NONE);
    assert_int_equal(lookup(at0[0]), 2);
    assert_int_equal(lookup(at0[1]), 2);
    assert_int_equal(lookup(at15[2]), 3);
    /* Entries never sit before their home: at0 in 0 and 1, at15[2] in 15. */
    assert_true(slots[0].used && slots[1].used && slots[15].used);
    assert_false(slots[2].used);
    fdb_forget_port(&t, 2);
    assert_int_equal(lookup(at15[2]), 3);
    assert_int_equal(t.count, 1);
}

static void test_forget_port_keeps_others(void **state)
{
    (void)state;
    for (uint32_t n = 0; n < 12; n++)
        learn(n, n % 3);
    fdb_forget_port(&t, 1);
    assert_int_equal(t.count, 8);
    for (uint32_t n = 0; n < 12; n++)
        assert_int_equal(lookup(n), n % 3 == 1 ? FDB_NONE : n % 3);
    fdb_forget_port(&t, 7);                             /* no such port */
    assert_int_equal(t.count, 8);
    fdb_forget_port(&t, 0);
    fdb_forget_port(&t, 2);
    assert_int_equal(t.count, 0);
    for (uint32_t i = 0; i < CAP; i++)
        assert_false(slots[i].used);
}

/* A remembered lookup is reused only while the table is unchanged: a
 * lookup, a move, a removal and a port's removal each show through it,
 * and learning what is known already is no change. */
static void test_memo(void **state)
{
    struct fdb_memo memo = { 0 };
    uint8_t a[6], b[6];
    uint64_t generation;
    (void)state;
    mac_of(1, a);
    mac_of(2, b);
    assert_int_equal(fdb_lookup_memo(&t, &memo, a), FDB_NONE);     /* a zeroed memo: looked up */
    learn(1, 7);
    assert_int_equal(fdb_lookup_memo(&t, &memo, a), 7);
    generation = t.generation;
    learn(1, 7);
    assert_int_equal(t.generation, generation);                     /* no change */
    assert_int_equal(fdb_lookup_memo(&t, &memo, a), 7);
    assert_int_equal(fdb_lookup_memo(&t, &memo, b), FDB_NONE);      /* another address */
    learn(2, 5);
    assert_int_equal(fdb_lookup_memo(&t, &memo, b), 5);
    learn(2, 6);                                                    /* moved */
    assert_int_equal(fdb_lookup_memo(&t, &memo, b), 6);
    assert_int_equal(fdb_forget(&t, b), 1);
    assert_int_equal(fdb_lookup_memo(&t, &memo, b), FDB_NONE);
    assert_int_equal(fdb_lookup_memo(&t, &memo, a), 7);
    fdb_forget_port(&t, 7);
    assert_int_equal(fdb_lookup_memo(&t, &memo, a), FDB_NONE);
    fdb_init(&t, slots, CAP);
    learn(1, 3);
    assert_int_equal(fdb_lookup_memo(&t, &memo, a), 3);
    fdb_init(&t, slots, CAP);                                       /* emptied */
    assert_int_equal(fdb_lookup_memo(&t, &memo, a), FDB_NONE);
}

/* Random operations against a plain array, in tables of 4, 8 and 16;
 * a memo asked about four of the addresses after each step answers as
 * the model does. */
static void test_random_against_model(void **state)
{
    uint32_t model[64];
    struct fdb_memo memo;
    (void)state;
    srand(12345);
    for (uint32_t cap = 4; cap <= CAP; cap *= 2) {
        fdb_init(&t, slots, cap);
        memset(&memo, 0, sizeof(memo));
        for (int i = 0; i < 64; i++)
            model[i] = FDB_NONE;
        for (int step = 0; step < 20000; step++) {
            uint32_t n = (uint32_t)rand() % 64, port = (uint32_t)rand() % 4, count = 0;
            uint8_t mac[6];
            int op = rand() % 8;

            mac_of(n, mac);
            if (op < 4) {
                int r = fdb_learn(&t, mac, port);
                if (r == 0)
                    model[n] = port;
                else
                    assert_true(model[n] == FDB_NONE && t.count == fdb_limit(cap));
            } else if (op < 6) {
                assert_int_equal(fdb_forget(&t, mac), model[n] != FDB_NONE);
                model[n] = FDB_NONE;
            } else if (op == 6) {
                fdb_forget_port(&t, port);
                for (int i = 0; i < 64; i++)
                    if (model[i] == port)
                        model[i] = FDB_NONE;
            }
            for (int i = 0; i < 64; i++) {
                mac_of((uint32_t)i, mac);
                assert_int_equal(fdb_lookup(&t, mac), model[i]);
                count += model[i] != FDB_NONE;
            }
            assert_int_equal(t.count, count);
            n = (uint32_t)rand() % 4;
            mac_of(n, mac);
            assert_int_equal(fdb_lookup_memo(&t, &memo, mac), model[n]);
        }
    }
}

/* Every byte counts, at any alignment (frames put the source MAC at +6). */
static void test_mac_equal(void **state)
{
    uint8_t buf[16], other[6];
    (void)state;
    for (int i = 0; i < 16; i++)
        buf[i] = (uint8_t)(0x10 + i);
    for (int off = 0; off <= 10; off++) {
        memcpy(other, buf + off, 6);
        assert_true(fdb_mac_equal(buf + off, other));
        for (int k = 0; k < 6; k++) {
            other[k] ^= 0x80;
            assert_false(fdb_mac_equal(buf + off, other));
            assert_false(fdb_mac_equal(other, buf + off));
            other[k] ^= 0x80;
        }
    }
}

#define T(f) cmocka_unit_test_setup(f, setup_test)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_learn_lookup),
        T(test_move),
        T(test_port_none_rejected),
        T(test_full),
        T(test_limits),
        T(test_capacity_rounding),
        T(test_collisions),
        T(test_collisions_wrap),
        T(test_forget_port_keeps_others),
        T(test_memo),
        T(test_random_against_model),
        T(test_mac_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
