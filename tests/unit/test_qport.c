/*
 * Unit tests of hv/qport.c, the queue port behind Solo5 NET_BASIC
 * devices: three queue ports on one switch exchange frames; the queue
 * keeps order, wakes its owner only when it turns non-empty, drops and
 * counts when full or when the reader's buffer is too small, and refuses
 * a send from another source address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "qport.h"
#include "vswitch.h"

#define NPORTS 3

static struct vswitch sw;
static struct port *slots[NPORTS];
static struct fdb_entry fdb[32];
static struct qport q[NPORTS];
static int wakes[NPORTS];

static void on_event(struct port *p, enum port_event event)
{
    if (event == PORT_EVENT_WAKE)
        wakes[(struct qport *)(void *)p - q]++;
}

static int setup(void **state)
{
    (void)state;
    memset(wakes, 0, sizeof(wakes));
    vswitch_init(&sw, "lan", slots, NPORTS, fdb, 32);
    for (int i = 0; i < NPORTS; i++) {
        uint8_t mac[6] = { 0x02, 0, 0, 0, 0, (uint8_t)(i + 1) };
        qport_init(&q[i], mac, on_event, NULL);
        assert_int_equal(vswitch_attach(&sw, &q[i].port), 0);
        qport_start(&q[i]);
    }
    return 0;
}

/* A frame from port `from` to port `to` (broadcast when to < 0), its
 * payload byte tag, len bytes long. */
static uint32_t frame(uint8_t *f, int from, int to, uint8_t tag, uint32_t len)
{
    memset(f, tag, len);
    if (to < 0)
        memset(f, 0xff, 6);
    else
        memcpy(f, q[to].port.mac, 6);
    memcpy(f + 6, q[from].port.mac, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    return len;
}

static void frames_arrive_in_order_and_wake_once(void **state)
{
    uint8_t f[MF_NET_FRAME_MAX], got[MF_NET_FRAME_MAX];
    (void)state;

    for (uint8_t t = 1; t <= 3; t++)
        assert_int_equal(qport_send(&q[0], f, frame(f, 0, -1, t, 60 + t)), 0);
    assert_int_equal(qport_waiting(&q[1]), 3);
    assert_int_equal(qport_waiting(&q[2]), 3);
    assert_int_equal(qport_waiting(&q[0]), 0);      /* not back to the sender */
    assert_int_equal(wakes[1], 1);                  /* only when it turned non-empty */
    for (uint8_t t = 1; t <= 3; t++) {
        assert_int_equal(qport_take(&q[1], got, sizeof(got)), 60 + t);
        assert_int_equal(got[20], t);
    }
    assert_int_equal(qport_take(&q[1], got, sizeof(got)), 0);
    assert_int_equal(qport_send(&q[0], f, frame(f, 0, 1, 9, 64)), 0);
    assert_int_equal(wakes[1], 2);                  /* empty again, so woken again */
}

static void a_full_queue_drops_and_counts(void **state)
{
    uint8_t f[MF_NET_FRAME_MAX], got[MF_NET_FRAME_MAX];
    (void)state;

    for (uint32_t i = 0; i < QPORT_FRAMES + 5; i++)
        assert_int_equal(qport_send(&q[0], f, frame(f, 0, 1, (uint8_t)i, 100)), 0);
    assert_int_equal(qport_waiting(&q[1]), QPORT_FRAMES);
    assert_int_equal(q[1].port.stats.drops_no_buffer, 5);
    assert_int_equal(qport_take(&q[1], got, sizeof(got)), 100);
    assert_int_equal(got[20], 0);                   /* the oldest survived, not the newest */
}

static void a_too_small_buffer_drops_the_frame(void **state)
{
    uint8_t f[MF_NET_FRAME_MAX], got[MF_NET_FRAME_MAX];
    (void)state;

    assert_int_equal(qport_send(&q[0], f, frame(f, 0, 1, 1, 1000)), 0);
    assert_int_equal(qport_send(&q[0], f, frame(f, 0, 1, 2, 100)), 0);
    assert_int_equal(qport_take(&q[1], got, 500), -1);
    assert_int_equal(q[1].port.stats.drops_no_buffer, 1);
    assert_int_equal(qport_take(&q[1], got, 500), 100);     /* the next one is not stuck */
    assert_int_equal(got[20], 2);
}

static void sends_are_checked_by_the_switch(void **state)
{
    uint8_t f[MF_NET_FRAME_MAX];
    (void)state;

    frame(f, 0, 1, 1, 64);
    memcpy(f + 6, q[2].port.mac, 6);                /* spoofed source */
    assert_int_equal(qport_send(&q[0], f, 64), -1);
    assert_int_equal(qport_send(&q[0], f, frame(f, 0, 1, 1, 10)), -1);     /* runt */
    assert_int_equal(qport_waiting(&q[1]), 0);
    assert_int_equal(q[0].port.stats.drops_malformed, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(frames_arrive_in_order_and_wake_once, setup),
        cmocka_unit_test_setup(a_full_queue_drops_and_counts, setup),
        cmocka_unit_test_setup(a_too_small_buffer_drops_the_frame, setup),
        cmocka_unit_test_setup(sends_are_checked_by_the_switch, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
