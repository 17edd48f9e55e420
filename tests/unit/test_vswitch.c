/*
 * Unit tests of hv/vswitch.c and hv/port.c through fake ports (the switch
 * without virtio), and of hv/vport.c (with hv/virtq.c and hv/fdb.c
 * underneath) on the same switch. Each virtio port gets its own 1 MiB
 * calloc'd "guest memory" and a small driver below that lays out both
 * rings in it, posts RX buffers and TX frames the way a virtio-net driver
 * does, and reads back the used rings:
 *
 *   RX: descriptors 0x1000, avail 0x2000, used 0x3000, buffers 0x10000 + 2 KiB * i
 *   TX: descriptors 0x4000, avail 0x5000, used 0x6000, buffers 0x40000 + 2 KiB * i
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vport.h"
#include "../../include/mayfly/abi.h"

#define MEM_SIZE    (1024u * 1024u)
#define QSIZE       16u
#define BUF_STRIDE  0x800u
#define HDR         12u
#define NPORTS      4

struct ring_layout {
    uint64_t desc, avail, used, bufs;
};

static const struct ring_layout RXL = { 0x1000, 0x2000, 0x3000, 0x10000 };
static const struct ring_layout TXL = { 0x4000, 0x5000, 0x6000, 0x40000 };

struct tport {
    struct vport p;
    uint8_t *mem;
    uint16_t rx_avail, tx_avail;    /* the driver's avail idx */
    int notified;                   /* PORT_EVENT_WAKE events */
    uint16_t rx_used_at_wake;       /* the RX used idx the driver saw at the last one */
    int failed;                     /* PORT_EVENT_FAILED events */
};

/* vport_kick times each kick with the TSC: a clock that ticks 10 per read. */
static uint64_t fake_tsc;
uint64_t time_arch_tsc(void);
uint64_t time_arch_tsc(void)
{
    return fake_tsc += 10;
}

static struct vswitch sw;
static struct port *port_slots[NPORTS];
static struct fdb_entry fdb_slots[32];
static struct tport tp[NPORTS];

/* The driver side. */
static void put16(struct tport *t, uint64_t gpa, uint16_t v) { memcpy(t->mem + gpa, &v, 2); }
static void put32(struct tport *t, uint64_t gpa, uint32_t v) { memcpy(t->mem + gpa, &v, 4); }
static void put64(struct tport *t, uint64_t gpa, uint64_t v) { memcpy(t->mem + gpa, &v, 8); }
static uint16_t get16(struct tport *t, uint64_t gpa) { uint16_t v; memcpy(&v, t->mem + gpa, 2); return v; }
static uint32_t get32(struct tport *t, uint64_t gpa) { uint32_t v; memcpy(&v, t->mem + gpa, 4); return v; }

static void drv_desc(struct tport *t, const struct ring_layout *l, uint16_t i, uint64_t addr,
                     uint32_t len, uint16_t flags, uint16_t next)
{
    uint64_t d = l->desc + 16ull * i;
    put64(t, d, addr);
    put32(t, d + 8, len);
    put16(t, d + 12, flags);
    put16(t, d + 14, next);
}

static void drv_post(struct tport *t, const struct ring_layout *l, uint16_t *idx, uint16_t head)
{
    put16(t, l->avail + 4 + 2ull * (*idx & (QSIZE - 1)), head);
    (*idx)++;
    put16(t, l->avail + 2, *idx);
}

static uint16_t used_idx(struct tport *t, const struct ring_layout *l)
{
    return get16(t, l->used + 2);
}

static uint32_t used_len(struct tport *t, const struct ring_layout *l, uint16_t k)
{
    return get32(t, l->used + 4 + 8ull * (k & (QSIZE - 1)) + 4);
}

static uint32_t used_id(struct tport *t, const struct ring_layout *l, uint16_t k)
{
    return get32(t, l->used + 4 + 8ull * (k & (QSIZE - 1)));
}

static void set_used_event(struct tport *t, const struct ring_layout *l, uint16_t v)
{
    put16(t, l->avail + 4 + 2ull * QSIZE, v);
}

static uint16_t avail_event(struct tport *t, const struct ring_layout *l)
{
    return get16(t, l->used + 4 + 8ull * QSIZE);
}

/* Posts n RX buffers of len bytes each (descriptors n0.., one per chain). */
static void rx_post(struct tport *t, uint16_t n, uint32_t len)
{
    for (uint16_t k = 0; k < n; k++) {
        uint16_t i = t->rx_avail & (QSIZE - 1);
        drv_desc(t, &RXL, i, RXL.bufs + BUF_STRIDE * i, len, VIRTQ_DESC_F_WRITE, 0);
        drv_post(t, &RXL, &t->rx_avail, i);
    }
}

/* Queues one frame (header + frame in one descriptor); returns its head. */
static uint16_t tx_queue(struct tport *t, const uint8_t *frame, uint32_t len)
{
    uint16_t i = t->tx_avail & (QSIZE - 1);
    uint64_t buf = TXL.bufs + BUF_STRIDE * i;

    assert_true(HDR + len <= 2 * BUF_STRIDE);
    memset(t->mem + buf, 0, HDR);
    memcpy(t->mem + buf + HDR, frame, len);
    drv_desc(t, &TXL, i, buf, HDR + len, 0, 0);
    drv_post(t, &TXL, &t->tx_avail, i);
    return i;
}

static int kick(struct tport *t)
{
    return vport_kick(&t->p, MF_NET_QUEUE_TX);
}

/* The owner's side: wakes and failures counted apart. */
static void on_notify(struct port *p, enum port_event event)
{
    struct tport *t = p->owner;

    if (event == PORT_EVENT_FAILED) {
        t->failed++;
    } else {
        t->notified++;
        memcpy(&t->rx_used_at_wake, t->mem + RXL.used + 2, 2);
    }
}

static void mac_of(int n, uint8_t mac[6])
{
    static const uint8_t base[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x00 };
    memcpy(mac, base, 6);
    mac[5] = (uint8_t)(n + 1);
}

static const uint8_t BROADCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* An Ethernet frame dst, src, type 0x0800, then a counting pattern. */
static void make_frame(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint32_t len,
                       uint8_t seed)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    for (uint32_t i = 14; i < len; i++)
        f[i] = (uint8_t)(seed + i);
}

static struct mf_net_setup net_setup(int event_idx)
{
    struct mf_net_setup s;
    memset(&s, 0, sizeof(s));
    s.driver_features = MF_FEATURE_BIT(VIRTIO_F_VERSION_1) | MF_FEATURE_BIT(VIRTIO_NET_F_MAC);
    if (event_idx)
        s.driver_features |= MF_FEATURE_BIT(VIRTIO_RING_F_EVENT_IDX);
    s.queues[MF_NET_QUEUE_RX] = (struct mf_queue_setup){ RXL.desc, RXL.avail, RXL.used, QSIZE, 0 };
    s.queues[MF_NET_QUEUE_TX] = (struct mf_queue_setup){ TXL.desc, TXL.avail, TXL.used, QSIZE, 0 };
    return s;
}

/* Attaches port n; sets it up unless event_idx < 0. */
static void tport_init(int n, int event_idx)
{
    struct tport *t = &tp[n];
    struct mf_net_setup s = net_setup(event_idx > 0);
    uint8_t mac[6];

    memset(t, 0, sizeof(*t));
    t->mem = calloc(1, MEM_SIZE);
    assert_non_null(t->mem);
    mac_of(n, mac);
    vport_init(&t->p, mac, &(struct guest_mem){ t->mem, MEM_SIZE }, on_notify, t);
    assert_int_equal(vswitch_attach(&sw, &t->p.port), 0);
    assert_int_equal(t->p.port.index, (uint32_t)n);
    if (event_idx >= 0)
        assert_int_equal(vport_setup(&t->p, &s), 0);
}

static int setup_three(void **state)
{
    (void)state;
    vswitch_init(&sw, "lan0", port_slots, NPORTS, fdb_slots, 32);
    for (int n = 0; n < 3; n++)
        tport_init(n, 0);
    return 0;
}

static int setup_three_event_idx(void **state)
{
    (void)state;
    vswitch_init(&sw, "lan0", port_slots, NPORTS, fdb_slots, 32);
    for (int n = 0; n < 3; n++)
        tport_init(n, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int n = 0; n < NPORTS; n++) {
        free(tp[n].mem);
        tp[n].mem = NULL;
    }
    return 0;
}

/* Port n's RX used entry k holds frame f (len bytes) after a clean header. */
static void assert_received(int n, uint16_t k, const uint8_t *f, uint32_t len)
{
    struct tport *t = &tp[n];
    uint32_t id = used_id(t, &RXL, k);
    const uint8_t *buf = t->mem + RXL.bufs + BUF_STRIDE * id;
    uint8_t hdr[HDR] = { 0 };

    assert_int_equal(used_len(t, &RXL, k), HDR + len);
    hdr[10] = 1;                                        /* num_buffers = 1 */
    assert_memory_equal(buf, hdr, HDR);
    assert_memory_equal(buf + HDR, f, len);
}

/* Setup */

static void test_setup_negotiation(void **state)
{
    struct tport *t = &tp[3];
    struct mf_net_setup s = net_setup(1);
    (void)state;
    tport_init(3, -1);
    assert_int_equal(t->p.port.state, MF_NET_STATE_RESET);
    s.driver_features = MF_FEATURE_BIT(VIRTIO_NET_F_MAC);
    assert_int_equal(vport_setup(&t->p, &s), -MF_EINVAL);
    assert_non_null(strstr(t->p.port.why, "VIRTIO_F_VERSION_1"));
    assert_int_equal(t->p.port.state, MF_NET_STATE_RESET);
    assert_int_equal(s.device_features, VPORT_DEVICE_FEATURES);
    assert_int_equal(kick(t), -MF_EIO);                 /* not running */

    s = net_setup(1);
    s.driver_features |= 1ull << 40 | 1ull << 0;        /* not offered: masked */
    assert_int_equal(vport_setup(&t->p, &s), 0);
    assert_int_equal(t->p.port.state, MF_NET_STATE_RUNNING);
    assert_int_equal(t->p.port.stats.state, MF_NET_STATE_RUNNING);
    assert_int_equal(s.features, VPORT_DEVICE_FEATURES);
    assert_int_equal(t->p.features, VPORT_DEVICE_FEATURES);
    assert_memory_equal(s.mac, t->p.port.mac, 6);
    assert_int_equal(s.mtu, MF_NET_MTU);
    assert_true(t->p.rx.event_idx && t->p.tx.event_idx);
    assert_string_equal(t->p.port.why, "");
}

static void test_setup_bad_queue(void **state)
{
    struct tport *t = &tp[0];
    struct mf_net_setup s = net_setup(0);
    struct virtq before = t->p.tx;
    (void)state;
    s.queues[MF_NET_QUEUE_TX].size = 12;
    assert_int_equal(vport_setup(&t->p, &s), -MF_EINVAL);
    assert_non_null(strstr(t->p.port.why, "tx queue: queue size 12"));
    assert_int_equal(t->p.port.state, MF_NET_STATE_RUNNING); /* the old setup stays */
    assert_memory_equal(&t->p.tx, &before, sizeof(before));
    s = net_setup(0);
    s.queues[MF_NET_QUEUE_RX].used = MEM_SIZE - 8;
    assert_int_equal(vport_setup(&t->p, &s), -MF_EINVAL);
    assert_non_null(strstr(t->p.port.why, "rx queue: used ring"));
}

static void test_setup_notification_hints(void **state)
{
    (void)state;
    /* Without EVENT_IDX: RX says "no kick needed", TX asks for kicks. */
    assert_int_equal(get16(&tp[0], RXL.used), VIRTQ_USED_F_NO_NOTIFY);
    assert_int_equal(get16(&tp[0], TXL.used), 0);
    /* With it: RX avail_event far ahead, TX avail_event at avail idx. */
    struct tport *t = &tp[3];
    struct mf_net_setup s = net_setup(1);
    tport_init(3, -1);
    put16(t, RXL.avail + 2, 5);
    put16(t, TXL.avail + 2, 0);
    assert_int_equal(vport_setup(&t->p, &s), 0);
    assert_int_equal(avail_event(t, &RXL), 5 + 0x8000);
    assert_int_equal(avail_event(t, &TXL), 0);
    /* A driver adding RX buffers never crosses it; adding TX does. */
    assert_false(virtq_need_event(avail_event(t, &RXL), 5 + QSIZE, 5));
    assert_true(virtq_need_event(avail_event(t, &TXL), 1, 0));
}

static void test_kick_arguments(void **state)
{
    (void)state;
    assert_int_equal(vport_kick(&tp[0].p, 2), -MF_EINVAL);
    assert_int_equal(vport_kick(&tp[0].p, 1ull << 32), -MF_EINVAL);
    assert_int_equal(vport_kick(&tp[0].p, MF_NET_QUEUE_RX), 0);
    assert_int_equal(kick(&tp[0]), 0);                  /* nothing queued */
}

/* Forwarding */

static void test_exchange(void **state)
{
    uint8_t f[100];
    (void)state;
    vswitch_detach(&tp[2].p.port);                           /* just two ports */
    rx_post(&tp[1], 4, 2048);
    rx_post(&tp[0], 4, 2048);
    make_frame(f, tp[1].p.port.mac, tp[0].p.port.mac, sizeof(f), 1);
    uint16_t head = tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 1);
    /* Sender: chain completed with len 0, counters. */
    assert_int_equal(used_idx(&tp[0], &TXL), 1);
    assert_int_equal(used_id(&tp[0], &TXL, 0), head);
    assert_int_equal(used_len(&tp[0], &TXL, 0), 0);
    assert_int_equal(tp[0].p.port.stats.tx_frames, 1);
    assert_int_equal(tp[0].p.port.stats.tx_bytes, sizeof(f));
    /* Receiver: the same bytes after a zeroed header with num_buffers 1. */
    assert_int_equal(used_idx(&tp[1], &RXL), 1);
    assert_received(1, 0, f, sizeof(f));
    assert_int_equal(tp[1].p.port.stats.rx_frames, 1);
    assert_int_equal(tp[1].p.port.stats.rx_bytes, sizeof(f));
    assert_int_equal(sw.frames, 1);
    assert_int_equal(sw.drops, 0);
    /* And back: the answer goes to the learnt port. */
    make_frame(f, tp[0].p.port.mac, tp[1].p.port.mac, 60, 2);
    tx_queue(&tp[1], f, 60);
    assert_int_equal(kick(&tp[1]), 1);
    assert_int_equal(used_idx(&tp[0], &RXL), 1);
    assert_received(0, 0, f, 60);
    assert_int_equal(fdb_lookup(&sw.fdb, tp[0].p.port.mac), 0);
    assert_int_equal(fdb_lookup(&sw.fdb, tp[1].p.port.mac), 1);
}

static void test_broadcast_floods(void **state)
{
    uint8_t f[64];
    (void)state;
    for (int n = 0; n < 3; n++)
        rx_post(&tp[n], 2, 2048);
    make_frame(f, BROADCAST, tp[0].p.port.mac, sizeof(f), 3);
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 1);
    assert_int_equal(used_idx(&tp[0], &RXL), 0);        /* not back to the sender */
    assert_int_equal(used_idx(&tp[1], &RXL), 1);
    assert_int_equal(used_idx(&tp[2], &RXL), 1);
    assert_received(1, 0, f, sizeof(f));
    assert_received(2, 0, f, sizeof(f));
    assert_int_equal(sw.frames, 2);
    assert_int_equal(tp[0].p.port.stats.tx_frames, 1);
    /* Multicast floods the same way. */
    uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    make_frame(f, mcast, tp[0].p.port.mac, sizeof(f), 4);
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 1);
    assert_int_equal(used_idx(&tp[1], &RXL), 2);
    assert_int_equal(used_idx(&tp[2], &RXL), 2);
    assert_int_equal(used_idx(&tp[0], &RXL), 0);
}

static void test_unicast_learnt(void **state)
{
    uint8_t f[64];
    (void)state;
    for (int n = 0; n < 3; n++)
        rx_post(&tp[n], 4, 2048);
    make_frame(f, BROADCAST, tp[2].p.port.mac, sizeof(f), 5);
    tx_queue(&tp[2], f, sizeof(f));                     /* port 2 makes itself known */
    assert_int_equal(kick(&tp[2]), 1);
    make_frame(f, tp[2].p.port.mac, tp[0].p.port.mac, sizeof(f), 6);
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 1);
    assert_int_equal(used_idx(&tp[2], &RXL), 1);
    assert_received(2, 0, f, sizeof(f));
    assert_int_equal(used_idx(&tp[1], &RXL), 1);        /* only the broadcast */
    assert_int_equal(tp[1].p.port.stats.rx_frames, 1);
    assert_int_equal(tp[2].p.port.stats.rx_frames, 1);
}

static void test_unknown_unicast_floods(void **state)
{
    uint8_t f[64], nobody[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
    (void)state;
    for (int n = 0; n < 3; n++)
        rx_post(&tp[n], 2, 2048);
    make_frame(f, nobody, tp[1].p.port.mac, sizeof(f), 7);
    tx_queue(&tp[1], f, sizeof(f));
    assert_int_equal(kick(&tp[1]), 1);
    assert_int_equal(used_idx(&tp[0], &RXL), 1);
    assert_int_equal(used_idx(&tp[2], &RXL), 1);
    assert_int_equal(used_idx(&tp[1], &RXL), 0);
}

static void test_unicast_to_self_dropped(void **state)
{
    uint8_t f[64];
    (void)state;
    for (int n = 0; n < 3; n++)
        rx_post(&tp[n], 2, 2048);
    make_frame(f, BROADCAST, tp[0].p.port.mac, sizeof(f), 0);
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 1);
    make_frame(f, tp[0].p.port.mac, tp[0].p.port.mac, sizeof(f), 0);
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 1);
    assert_int_equal(used_idx(&tp[0], &RXL), 0);
    assert_int_equal(sw.drops, 1);
}

static void test_no_rx_buffer(void **state)
{
    uint8_t f[64];
    (void)state;
    rx_post(&tp[2], 1, 2048);                           /* port 1 posts nothing */
    make_frame(f, BROADCAST, tp[0].p.port.mac, sizeof(f), 8);
    tx_queue(&tp[0], f, sizeof(f));
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 2);
    assert_int_equal(tp[1].p.port.stats.drops_no_buffer, 2);
    assert_int_equal(tp[2].p.port.stats.drops_no_buffer, 1);
    assert_int_equal(tp[2].p.port.stats.rx_frames, 1);
    assert_int_equal(sw.drops, 3);
    assert_int_equal(sw.frames, 1);
    assert_int_equal(tp[1].p.port.state, MF_NET_STATE_RUNNING);
}

static void test_rx_buffer_too_small(void **state)
{
    uint8_t f[200];
    (void)state;
    rx_post(&tp[1], 1, HDR + 199);                      /* one byte short */
    rx_post(&tp[1], 1, HDR + 200);
    make_frame(f, tp[1].p.port.mac, tp[0].p.port.mac, sizeof(f), 9);
    vswitch_detach(&tp[2].p.port);
    tx_queue(&tp[0], f, sizeof(f));
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 2);
    assert_int_equal(used_idx(&tp[1], &RXL), 2);
    assert_int_equal(used_len(&tp[1], &RXL, 0), 0);     /* handed back empty */
    assert_received(1, 1, f, sizeof(f));
    assert_int_equal(tp[1].p.port.stats.drops_no_buffer, 1);
    assert_int_equal(tp[1].p.port.stats.rx_frames, 1);
}

static void test_multi_descriptor_chains(void **state)
{
    struct tport *t = &tp[0];
    uint8_t f[300];
    (void)state;
    vswitch_detach(&tp[2].p.port);
    /* RX: a chain of three writable pieces: 5 + 100 + 300 bytes. */
    struct tport *r = &tp[1];
    drv_desc(r, &RXL, 3, RXL.bufs, 5, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 7);
    drv_desc(r, &RXL, 7, RXL.bufs + 0x100, 100, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    drv_desc(r, &RXL, 1, RXL.bufs + 0x400, 300, VIRTQ_DESC_F_WRITE, 0);
    drv_post(r, &RXL, &r->rx_avail, 3);
    /* TX: the header in its own descriptor, the frame split in two. */
    make_frame(f, r->p.port.mac, t->p.port.mac, sizeof(f), 10);
    memset(t->mem + TXL.bufs, 0, HDR);
    memcpy(t->mem + TXL.bufs + 0x100, f, 10);
    memcpy(t->mem + TXL.bufs + 0x200, f + 10, sizeof(f) - 10);
    drv_desc(t, &TXL, 0, TXL.bufs, HDR, VIRTQ_DESC_F_NEXT, 1);
    drv_desc(t, &TXL, 1, TXL.bufs + 0x100, 10, VIRTQ_DESC_F_NEXT, 2);
    drv_desc(t, &TXL, 2, TXL.bufs + 0x200, sizeof(f) - 10, 0, 0);
    drv_post(t, &TXL, &t->tx_avail, 0);
    assert_int_equal(kick(t), 1);
    assert_int_equal(used_idx(r, &RXL), 1);
    assert_int_equal(used_id(r, &RXL, 0), 3);
    assert_int_equal(used_len(r, &RXL, 0), HDR + sizeof(f));
    uint8_t got[HDR + sizeof(f)];
    memcpy(got, r->mem + RXL.bufs, 5);
    memcpy(got + 5, r->mem + RXL.bufs + 0x100, 100);
    memcpy(got + 105, r->mem + RXL.bufs + 0x400, sizeof(got) - 105);
    assert_int_equal(got[10], 1);
    assert_memory_equal(got + HDR, f, sizeof(f));
}

static void test_spoofed_source(void **state)
{
    uint8_t f[64];
    (void)state;
    for (int n = 0; n < 3; n++)
        rx_post(&tp[n], 2, 2048);
    make_frame(f, BROADCAST, tp[1].p.port.mac, sizeof(f), 11);  /* port 0 claims port 1's MAC */
    uint16_t head = tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 0);
    assert_int_equal(tp[0].p.port.stats.drops_malformed, 1);
    assert_int_equal(tp[0].p.port.stats.tx_frames, 0);
    assert_int_equal(used_idx(&tp[0], &TXL), 1);        /* completed all the same */
    assert_int_equal(used_id(&tp[0], &TXL, 0), head);
    assert_int_equal(used_idx(&tp[1], &RXL), 0);
    assert_int_equal(used_idx(&tp[2], &RXL), 0);
    assert_int_equal(fdb_lookup(&sw.fdb, tp[1].p.port.mac), FDB_NONE);  /* nothing learnt */
    assert_int_equal(tp[0].p.port.state, MF_NET_STATE_RUNNING);
}

static void test_bad_lengths(void **state)
{
    uint8_t f[MF_NET_FRAME_MAX + 1];
    (void)state;
    for (int n = 0; n < 3; n++)
        rx_post(&tp[n], 4, 2048);
    make_frame(f, BROADCAST, tp[0].p.port.mac, sizeof(f), 12);
    tx_queue(&tp[0], f, 13);                            /* shorter than an Ethernet header */
    tx_queue(&tp[0], f, MF_NET_FRAME_MAX + 1);          /* longer than the MTU allows */
    tx_queue(&tp[0], f, 14);                            /* the shortest */
    tx_queue(&tp[0], f, MF_NET_FRAME_MAX);              /* the longest */
    /* A chain with only part of a header. */
    uint16_t i = tp[0].tx_avail & (QSIZE - 1);
    drv_desc(&tp[0], &TXL, i, TXL.bufs + BUF_STRIDE * i, 11, 0, 0);
    drv_post(&tp[0], &TXL, &tp[0].tx_avail, i);
    assert_int_equal(kick(&tp[0]), 2);
    assert_int_equal(tp[0].p.port.stats.drops_malformed, 3);
    assert_int_equal(used_idx(&tp[0], &TXL), 5);        /* every chain completed */
    for (uint16_t k = 0; k < 5; k++)
        assert_int_equal(used_len(&tp[0], &TXL, k), 0);
    assert_int_equal(tp[0].p.port.state, MF_NET_STATE_RUNNING);
    assert_int_equal(used_idx(&tp[1], &RXL), 2);
    assert_received(1, 0, f, 14);
    assert_received(1, 1, f, MF_NET_FRAME_MAX);
    assert_int_equal(tp[0].p.port.stats.tx_bytes, 14 + MF_NET_FRAME_MAX);
}

static void test_batch(void **state)
{
    uint8_t f[64];
    (void)state;
    rx_post(&tp[1], QSIZE, 2048);
    vswitch_detach(&tp[2].p.port);
    make_frame(f, tp[1].p.port.mac, tp[0].p.port.mac, sizeof(f), 13);
    for (int k = 0; k < 10; k++)
        tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 10);                 /* one kick drains the ring */
    assert_int_equal(used_idx(&tp[0], &TXL), 10);
    assert_int_equal(used_idx(&tp[1], &RXL), 10);
    assert_int_equal(tp[0].notified, 1);                /* one completion interrupt */
}

/* A kick is one burst: each receiver's used idx is published once, with
 * every frame of the burst, before its one notification; a send outside
 * a burst (here port 2's own, not a kick) is published before it returns. */
static void test_burst_publishes_once(void **state)
{
    uint8_t f[64];
    (void)state;
    rx_post(&tp[1], 8, 2048);
    rx_post(&tp[2], 8, 2048);
    make_frame(f, BROADCAST, tp[0].p.port.mac, sizeof(f), 21);
    for (int k = 0; k < 5; k++)
        tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 5);
    for (int n = 1; n < 3; n++) {
        assert_int_equal(used_idx(&tp[n], &RXL), 5);
        assert_int_equal(tp[n].notified, 1);            /* not one per frame */
        assert_int_equal(tp[n].rx_used_at_wake, 5);     /* published before the wake */
    }
    assert_int_equal(tp[0].notified, 1);
    assert_int_equal(used_idx(&tp[0], &TXL), 5);
    make_frame(f, BROADCAST, tp[2].p.port.mac, sizeof(f), 22);
    assert_int_equal(vswitch_forward(&tp[2].p.port, f, sizeof(f)), 1);
    assert_int_equal(used_idx(&tp[1], &RXL), 6);
    assert_int_equal(tp[1].notified, 2);
    assert_null(sw.flush_list);
}

static void test_malformed_tx_fails_only_sender(void **state)
{
    uint8_t f[64];
    (void)state;
    for (int n = 0; n < 3; n++)
        rx_post(&tp[n], 4, 2048);
    make_frame(f, BROADCAST, tp[0].p.port.mac, sizeof(f), 14);
    tx_queue(&tp[0], f, sizeof(f));                     /* a good frame first */
    drv_post(&tp[0], &TXL, &tp[0].tx_avail, QSIZE + 3); /* then a head out of range */
    assert_int_equal(kick(&tp[0]), -MF_EIO);
    assert_int_equal(tp[0].p.port.state, MF_NET_STATE_FAILED);
    assert_int_equal(tp[0].p.port.stats.state, MF_NET_STATE_FAILED);
    assert_non_null(strstr(tp[0].p.port.why, "tx ring: head 19 out of range"));
    assert_int_equal(used_idx(&tp[1], &RXL), 1);        /* the good frame went out */
    assert_int_equal(tp[0].failed, 1);                  /* its owner told */
    assert_int_equal(kick(&tp[0]), -MF_EIO);            /* dead */
    assert_int_equal(tp[0].failed, 1);                  /* and only once */
    struct mf_net_setup s = net_setup(0);
    assert_int_equal(vport_setup(&tp[0].p, &s), -MF_EIO);
    /* The others carry on, and nothing reaches the failed port. */
    make_frame(f, BROADCAST, tp[1].p.port.mac, sizeof(f), 15);
    tx_queue(&tp[1], f, sizeof(f));
    assert_int_equal(kick(&tp[1]), 1);
    assert_int_equal(used_idx(&tp[2], &RXL), 2);
    assert_received(2, 1, f, sizeof(f));
    assert_int_equal(used_idx(&tp[0], &RXL), 0);
    make_frame(f, tp[0].p.port.mac, tp[2].p.port.mac, sizeof(f), 16);     /* unicast to it */
    tx_queue(&tp[2], f, sizeof(f));
    assert_int_equal(kick(&tp[2]), 1);
    assert_int_equal(used_idx(&tp[0], &RXL), 0);
    assert_int_equal(tp[1].p.port.state, MF_NET_STATE_RUNNING);
    assert_int_equal(tp[2].p.port.state, MF_NET_STATE_RUNNING);
}

static void test_tx_loop_fails_sender(void **state)
{
    (void)state;
    drv_desc(&tp[0], &TXL, 0, TXL.bufs, 64, VIRTQ_DESC_F_NEXT, 0);
    drv_post(&tp[0], &TXL, &tp[0].tx_avail, 0);
    assert_int_equal(kick(&tp[0]), -MF_EIO);
    assert_non_null(strstr(tp[0].p.port.why, "longer than 16 (loop?)"));
}

static void test_malformed_rx_fails_receiver(void **state)
{
    uint8_t f[64];
    (void)state;
    rx_post(&tp[2], 2, 2048);
    drv_desc(&tp[1], &RXL, 0, RXL.bufs, 2048, 0, 0);   /* read-only RX buffer */
    drv_post(&tp[1], &RXL, &tp[1].rx_avail, 0);
    make_frame(f, BROADCAST, tp[0].p.port.mac, sizeof(f), 17);
    tx_queue(&tp[0], f, sizeof(f));
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 2);
    assert_int_equal(tp[0].p.port.state, MF_NET_STATE_RUNNING);
    assert_int_equal(tp[1].p.port.state, MF_NET_STATE_FAILED);
    assert_non_null(strstr(tp[1].p.port.why, "rx ring: descriptor 0: read-only buffer"));
    assert_int_equal(tp[2].p.port.stats.rx_frames, 2);
    assert_int_equal(tp[1].notified, 0);
    assert_int_equal(tp[1].failed, 1);                  /* its owner told, once */
    assert_int_equal(tp[0].failed, 0);
    assert_int_equal(tp[2].failed, 0);
    /* Later frames pass it by: no second failure, no second report. */
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 1);
    assert_int_equal(tp[1].failed, 1);
    assert_int_equal(tp[1].p.port.stats.rx_frames, 0);
}

/* Notification */

static void test_notify_flags(void **state)
{
    uint8_t f[64];
    (void)state;
    vswitch_detach(&tp[2].p.port);
    rx_post(&tp[1], 4, 2048);
    make_frame(f, tp[1].p.port.mac, tp[0].p.port.mac, sizeof(f), 18);
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 1);
    assert_int_equal(tp[1].notified, 1);
    assert_int_equal(tp[0].notified, 1);                /* TX completion */
    put16(&tp[1], RXL.avail, VIRTQ_AVAIL_F_NO_INTERRUPT);
    put16(&tp[0], TXL.avail, VIRTQ_AVAIL_F_NO_INTERRUPT);
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 1);
    assert_int_equal(tp[1].p.port.stats.rx_frames, 2);
    assert_int_equal(tp[1].notified, 1);
    assert_int_equal(tp[0].notified, 1);
    /* No buffer: nothing used, nothing to notify. */
    put16(&tp[1], RXL.avail, 0);
    vswitch_deliver(&tp[1].p.port, f, sizeof(f));
    vswitch_deliver(&tp[1].p.port, f, sizeof(f));
    vswitch_deliver(&tp[1].p.port, f, sizeof(f));
    assert_int_equal(tp[1].notified, 3);                /* two buffers were left */
    assert_int_equal(tp[1].p.port.stats.drops_no_buffer, 1);
    tp[1].p.port.notify = NULL;                              /* no callback: fine */
    rx_post(&tp[1], 1, 2048);
    vswitch_deliver(&tp[1].p.port, f, sizeof(f));
    assert_int_equal(tp[1].p.port.stats.rx_frames, 5);
}

static void test_notify_event_idx(void **state)
{
    uint8_t f[64];
    struct tport *r = &tp[1], *s = &tp[0];
    (void)state;
    vswitch_detach(&tp[2].p.port);
    rx_post(r, 8, 2048);
    make_frame(f, r->p.port.mac, s->p.port.mac, sizeof(f), 19);
    set_used_event(r, &RXL, 0);                         /* wake me at the first frame */
    set_used_event(s, &TXL, 0xffff);                    /* TX completions: not now */
    tx_queue(s, f, sizeof(f));
    tx_queue(s, f, sizeof(f));
    assert_int_equal(kick(s), 2);
    assert_int_equal(r->notified, 1);                   /* once, not per frame */
    assert_int_equal(s->notified, 0);
    set_used_event(r, &RXL, 3);                         /* wake me after the fourth */
    vswitch_deliver(&r->p.port, f, sizeof(f));               /* used 2 -> 3 */
    assert_int_equal(r->notified, 1);
    vswitch_deliver(&r->p.port, f, sizeof(f));               /* 3 -> 4 passes 3 */
    assert_int_equal(r->notified, 2);
    vswitch_deliver(&r->p.port, f, sizeof(f));
    assert_int_equal(r->notified, 2);
    /* The flags word is ignored with EVENT_IDX. */
    put16(r, RXL.avail, VIRTQ_AVAIL_F_NO_INTERRUPT);
    set_used_event(r, &RXL, 5);
    vswitch_deliver(&r->p.port, f, sizeof(f));
    assert_int_equal(r->notified, 3);
    /* The driver must never need to kick RX; TX kicks are re-armed at the
     * next buffer after a drain. */
    assert_false(virtq_need_event(avail_event(r, &RXL), r->rx_avail, 6));
    assert_int_equal(avail_event(s, &TXL), s->tx_avail);
    assert_true(virtq_need_event(avail_event(s, &TXL), (uint16_t)(s->tx_avail + 1), s->tx_avail));
    /* TX completion asked for at used idx 2 -> 3. */
    set_used_event(s, &TXL, 2);
    tx_queue(s, f, sizeof(f));
    assert_int_equal(kick(s), 1);
    assert_int_equal(s->notified, 1);
}

/* Attach / detach */

static void test_attach_detach(void **state)
{
    struct vport extra[2];
    uint8_t f[64];
    (void)state;
    for (int k = 0; k < 2; k++)
        vport_init(&extra[k], BROADCAST, &(struct guest_mem){ NULL, 0 }, NULL, NULL);
    tport_init(3, 0);
    assert_int_equal(sw.count, 4);
    assert_int_equal(vswitch_attach(&sw, &extra[0].port), -1);       /* full */
    assert_int_equal(vswitch_attach(&sw, &tp[3].p.port), -1);        /* already attached */
    /* Port 2 known, then detached: its entry goes, its slot is reused. */
    rx_post(&tp[1], 4, 2048);
    rx_post(&tp[3], 4, 2048);
    make_frame(f, BROADCAST, tp[2].p.port.mac, sizeof(f), 20);
    tx_queue(&tp[2], f, sizeof(f));
    assert_int_equal(kick(&tp[2]), 1);
    assert_int_equal(fdb_lookup(&sw.fdb, tp[2].p.port.mac), 2);
    vswitch_detach(&tp[2].p.port);
    assert_null(tp[2].p.port.sw);
    assert_int_equal(sw.count, 3);
    assert_int_equal(fdb_lookup(&sw.fdb, tp[2].p.port.mac), FDB_NONE);
    assert_int_equal(kick(&tp[2]), -MF_EIO);
    vswitch_detach(&tp[2].p.port);                           /* twice: nothing */
    assert_int_equal(sw.count, 3);
    assert_int_equal(vswitch_attach(&sw, &extra[1].port), 0);
    assert_int_equal(extra[1].port.index, 2);
    assert_int_equal(extra[1].port.state, MF_NET_STATE_RESET);
    /* A frame for the gone MAC floods to the running ports (not extra[1]:
     * it is not set up). */
    make_frame(f, tp[2].p.port.mac, tp[0].p.port.mac, sizeof(f), 21);
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 1);
    assert_int_equal(used_idx(&tp[1], &RXL), 2);
    assert_int_equal(used_idx(&tp[3], &RXL), 2);
    assert_string_equal(sw.name, "lan0");
}

static void test_deliver_guards(void **state)
{
    uint8_t f[MF_NET_FRAME_MAX + 1];
    (void)state;
    rx_post(&tp[1], 4, 2048);
    make_frame(f, tp[1].p.port.mac, tp[0].p.port.mac, sizeof(f), 22);
    vswitch_deliver(&tp[1].p.port, f, 13);
    vswitch_deliver(&tp[1].p.port, f, MF_NET_FRAME_MAX + 1);
    vswitch_deliver(&tp[1].p.port, NULL, 64);
    assert_int_equal(used_idx(&tp[1], &RXL), 0);
    assert_int_equal(sw.drops, 3);
}

/* The port interface without virtio: a fake implementation that records
 * what it is given and can be told to have no room or to break. */

struct fport {
    struct port port;
    uint8_t last[MF_NET_FRAME_MAX];
    uint32_t last_len;
    int delivered;                  /* frames taken */
    int room;                       /* frames it still takes; then drops_no_buffer */
    int breaks;                     /* the next deliver() fails the port */
    int fail_calls;                 /* ops.fail calls */
    int wakes, failures;            /* events its owner heard */
    char failed_why[PORT_WHY_MAX];  /* p->why when the owner heard of the failure */
};

static struct fport fp[NPORTS];

static int fake_deliver(struct port *p, const uint8_t *frame, uint32_t len)
{
    struct fport *f = (struct fport *)(void *)p;

    if (f->breaks) {
        port_fail(p, "fake: queue %d broken", f->breaks);
        return 0;
    }
    if (f->room == 0) {
        p->stats.drops_no_buffer++;
        return 0;
    }
    f->room--;
    memcpy(f->last, frame, len);
    f->last_len = len;
    f->delivered++;
    port_wake(p);
    return 1;
}

static void fake_fail(struct port *p)
{
    ((struct fport *)(void *)p)->fail_calls++;
}

static const struct port_ops fake_ops = { .deliver = fake_deliver, .fail = fake_fail };

static void fake_owner(struct port *p, enum port_event event)
{
    struct fport *f = p->owner;

    if (event == PORT_EVENT_FAILED) {
        f->failures++;
        strcpy(f->failed_why, p->why);
        assert_int_equal(p->state, MF_NET_STATE_FAILED);    /* already failed */
        assert_int_equal(f->fail_calls, f->failures);       /* after ops.fail */
    } else {
        f->wakes++;
    }
}

/* Fake port n attached, running, with room for 8 frames and flags. */
static void fport_init(int n, uint32_t flags)
{
    struct fport *f = &fp[n];
    uint8_t mac[6];

    memset(f, 0, sizeof(*f));
    mac_of(n, mac);
    port_init(&f->port, &fake_ops, flags, mac, fake_owner, f);
    assert_int_equal(f->port.state, MF_NET_STATE_RESET);
    assert_int_equal(vswitch_attach(&sw, &f->port), 0);
    assert_int_equal(port_set_running(&f->port), 0);
    f->room = 8;
}

/* Ports 0 and 1 are guests (fixed MAC), port 2 an uplink (any source). */
static int setup_fakes(void **state)
{
    (void)state;
    vswitch_init(&sw, "lan0", port_slots, NPORTS, fdb_slots, 32);
    fport_init(0, PORT_F_FIXED_MAC);
    fport_init(1, PORT_F_FIXED_MAC);
    fport_init(2, 0);
    return 0;
}

/* The same with port 2 a real uplink (PORT_F_UPLINK: the outside). */
static int setup_uplink(void **state)
{
    (void)state;
    vswitch_init(&sw, "lan0", port_slots, NPORTS, fdb_slots, 32);
    fport_init(0, PORT_F_FIXED_MAC);
    fport_init(1, PORT_F_FIXED_MAC);
    fport_init(2, PORT_F_UPLINK);
    return 0;
}

static int send_from(int n, const uint8_t dst[6], const uint8_t src[6], uint32_t len)
{
    uint8_t f[MF_NET_FRAME_MAX];

    make_frame(f, dst, src, len, (uint8_t)n);
    return vswitch_forward(&fp[n].port, f, len);
}

static void test_fake_forwarding(void **state)
{
    uint8_t f[80];
    (void)state;
    /* Unknown unicast floods to every other running port. */
    assert_int_equal(send_from(0, fp[1].port.mac, fp[0].port.mac, 80), 1);
    assert_int_equal(fp[1].delivered, 1);
    assert_int_equal(fp[2].delivered, 1);
    assert_int_equal(fp[0].delivered, 0);
    make_frame(f, fp[1].port.mac, fp[0].port.mac, 80, 0);
    assert_int_equal(fp[1].last_len, 80);
    assert_memory_equal(fp[1].last, f, 80);
    assert_int_equal(fp[1].wakes, 1);
    /* The answer goes to the learnt port alone. */
    assert_int_equal(send_from(1, fp[0].port.mac, fp[1].port.mac, 60), 1);
    assert_int_equal(fp[0].delivered, 1);
    assert_int_equal(fp[2].delivered, 1);
    /* Counters: the switch keeps both sides. */
    assert_int_equal(fp[0].port.stats.tx_frames, 1);
    assert_int_equal(fp[0].port.stats.tx_bytes, 80);
    assert_int_equal(fp[0].port.stats.rx_frames, 1);
    assert_int_equal(fp[0].port.stats.rx_bytes, 60);
    assert_int_equal(fp[2].port.stats.rx_bytes, 80);
    assert_int_equal(sw.frames, 3);
    assert_int_equal(sw.drops, 0);
    struct mf_net_status st;
    port_status(&fp[0].port, &st);
    assert_int_equal(st.state, MF_NET_STATE_RUNNING);
    assert_int_equal(st.rx_frames, 1);
    assert_int_equal(st.tx_bytes, 80);
}

static void test_fake_uplink_learns_sources(void **state)
{
    uint8_t far1[6] = { 0x02, 0xee, 0, 0, 0, 1 }, far2[6] = { 0x02, 0xee, 0, 0, 0, 2 };
    uint8_t group[6] = { 0x03, 0xee, 0, 0, 0, 3 };
    (void)state;
    /* An uplink sends from whatever stations are behind it. */
    assert_int_equal(send_from(2, BROADCAST, far1, 64), 1);
    assert_int_equal(send_from(2, BROADCAST, far2, 64), 1);
    assert_int_equal(send_from(2, BROADCAST, group, 64), 1);
    assert_int_equal(fdb_lookup(&sw.fdb, far1), 2);
    assert_int_equal(fdb_lookup(&sw.fdb, far2), 2);
    assert_int_equal(fdb_lookup(&sw.fdb, group), FDB_NONE);     /* never a group address */
    assert_int_equal(fp[2].port.stats.drops_malformed, 0);
    /* So a guest's frame for far2 goes out on it only. */
    assert_int_equal(send_from(0, far2, fp[0].port.mac, 64), 1);
    assert_int_equal(fp[2].delivered, 1);
    assert_int_equal(fp[1].delivered, 3);
    /* A guest cannot do the same: its frames from another source are refused. */
    assert_int_equal(send_from(1, BROADCAST, far1, 64), 0);
    assert_int_equal(fp[1].port.stats.drops_malformed, 1);
    assert_int_equal(fp[1].port.stats.tx_frames, 0);
    assert_int_equal(fdb_lookup(&sw.fdb, far1), 2);             /* not moved */
    assert_int_equal(fp[0].delivered, 3);
}

/* Unknown unicast neither comes in from the wire nor goes out to it;
 * broadcast does both; a known station is reached both ways; and the
 * wire cannot take a guest's address. */
static void test_uplink_policy(void **state)
{
    uint8_t host[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
    uint8_t nobody[6] = { 0x02, 0xee, 0, 0, 0, 9 };
    (void)state;
    /* A guest's frame for an unknown station floods the other guest only. */
    assert_int_equal(send_from(0, nobody, fp[0].port.mac, 64), 1);
    assert_int_equal(fp[1].delivered, 1);
    assert_int_equal(fp[2].delivered, 0);
    /* From the wire, unknown unicast is dropped: no guest sees it. */
    assert_int_equal(send_from(2, nobody, host, 64), 1);
    assert_int_equal(fp[0].delivered, 0);
    assert_int_equal(fp[1].delivered, 1);
    assert_int_equal(sw.drops, 1);
    /* Broadcast both ways (ARP), and the host is learnt on the uplink. */
    assert_int_equal(send_from(2, BROADCAST, host, 64), 1);
    assert_int_equal(fp[0].delivered, 1);
    assert_int_equal(fp[1].delivered, 2);
    assert_int_equal(send_from(1, BROADCAST, fp[1].port.mac, 64), 1);
    assert_int_equal(fp[2].delivered, 1);
    /* Known unicast: the guest reaches the host, the host the guest. */
    assert_int_equal(send_from(0, host, fp[0].port.mac, 64), 1);
    assert_int_equal(fp[2].delivered, 2);
    assert_int_equal(fp[1].delivered, 2);
    assert_int_equal(send_from(2, fp[1].port.mac, host, 64), 1);
    assert_int_equal(fp[1].delivered, 3);
    assert_int_equal(fp[0].delivered, 2);           /* the two broadcasts */
    /* A wire frame from guest 1's address does not move it to the uplink. */
    assert_int_equal(fdb_lookup(&sw.fdb, fp[1].port.mac), 1);
    assert_int_equal(send_from(2, BROADCAST, fp[1].port.mac, 64), 1);
    assert_int_equal(fdb_lookup(&sw.fdb, fp[1].port.mac), 1);
    assert_int_equal(send_from(0, fp[1].port.mac, fp[0].port.mac, 64), 1);
    assert_int_equal(fp[1].delivered, 5);
    assert_int_equal(fp[2].delivered, 2);
}

/* The switch remembers its last unicast lookup; a port that leaves takes
 * its address with it even when a newcomer gets its slot (its index). */
static void test_remembered_lookup_follows_the_table(void **state)
{
    uint8_t host[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
    uint8_t old_mac[6];
    (void)state;
    memcpy(old_mac, fp[1].port.mac, 6);
    assert_int_equal(send_from(1, BROADCAST, fp[1].port.mac, 64), 1);  /* learnt on 1 */
    assert_int_equal(send_from(2, fp[1].port.mac, host, 64), 1);
    assert_int_equal(send_from(2, fp[1].port.mac, host, 64), 1);
    assert_int_equal(fp[1].delivered, 2);
    vswitch_detach(&fp[1].port);
    fport_init(3, PORT_F_FIXED_MAC);
    assert_int_equal(fp[3].port.index, 1);                  /* the slot 1 left */
    assert_int_equal(send_from(2, old_mac, host, 64), 1);   /* unknown now: dropped */
    assert_int_equal(fp[3].delivered, 0);
    assert_int_equal(fp[0].delivered, 1);                   /* the broadcast only */
    assert_int_equal(send_from(3, BROADCAST, fp[3].port.mac, 64), 1);
    assert_int_equal(send_from(2, fp[3].port.mac, host, 64), 1);
    assert_int_equal(fp[3].delivered, 1);
}

static void test_fake_forward_refusals(void **state)
{
    uint8_t f[MF_NET_FRAME_MAX + 1];
    (void)state;
    make_frame(f, BROADCAST, fp[0].port.mac, sizeof(f), 0);
    assert_int_equal(vswitch_forward(&fp[0].port, f, PORT_FRAME_MIN - 1), 0);
    assert_int_equal(vswitch_forward(&fp[0].port, f, MF_NET_FRAME_MAX + 1), 0);
    assert_int_equal(vswitch_forward(&fp[0].port, NULL, 64), 0);
    vswitch_refuse(&fp[0].port);                        /* one it could not read */
    assert_int_equal(fp[0].port.stats.drops_malformed, 4);
    assert_int_equal(sw.drops, 4);
    assert_int_equal(vswitch_forward(&fp[0].port, f, PORT_FRAME_MIN), 1);
    assert_int_equal(vswitch_forward(&fp[0].port, f, MF_NET_FRAME_MAX), 1);
    assert_int_equal(fp[1].delivered, 2);
    /* A port that is not running cannot send, nor receive. */
    struct fport *n = &fp[3];
    uint8_t mac[6];
    mac_of(3, mac);
    memset(n, 0, sizeof(*n));
    port_init(&n->port, &fake_ops, PORT_F_FIXED_MAC, mac, fake_owner, n);
    n->room = 8;
    assert_int_equal(vswitch_forward(&n->port, f, 64), 0);      /* detached */
    assert_int_equal(vswitch_attach(&sw, &n->port), 0);
    make_frame(f, BROADCAST, mac, 64, 0);
    assert_int_equal(vswitch_forward(&n->port, f, 64), 0);      /* RESET */
    assert_int_equal(n->port.stats.drops_malformed, 1);         /* (the detached one: no switch) */
    assert_int_equal(send_from(0, BROADCAST, fp[0].port.mac, 64), 1);
    assert_int_equal(n->delivered, 0);
    assert_int_equal(fp[1].delivered, 3);
}

static void test_fake_no_room(void **state)
{
    (void)state;
    fp[1].room = 1;
    assert_int_equal(send_from(0, BROADCAST, fp[0].port.mac, 64), 1);
    assert_int_equal(send_from(0, BROADCAST, fp[0].port.mac, 64), 1);
    assert_int_equal(fp[1].delivered, 1);
    assert_int_equal(fp[1].port.stats.drops_no_buffer, 1);
    assert_int_equal(fp[1].port.stats.rx_frames, 1);
    assert_int_equal(fp[2].delivered, 2);
    assert_int_equal(sw.frames, 3);
    assert_int_equal(sw.drops, 1);
    assert_int_equal(fp[1].port.state, MF_NET_STATE_RUNNING);
}

static void test_fail_notifies_owner_once(void **state)
{
    (void)state;
    port_fail(&fp[1].port, "link %s", "down");
    assert_int_equal(fp[1].port.state, MF_NET_STATE_FAILED);
    assert_int_equal(fp[1].port.stats.state, MF_NET_STATE_FAILED);
    assert_int_equal(fp[1].fail_calls, 1);
    assert_int_equal(fp[1].failures, 1);
    assert_string_equal(fp[1].failed_why, "link down");
    /* Again, from anywhere: nothing more, and the first reason stays. */
    port_fail(&fp[1].port, "something else");
    assert_int_equal(fp[1].fail_calls, 1);
    assert_int_equal(fp[1].failures, 1);
    assert_string_equal(fp[1].port.why, "link down");
    assert_int_equal(fp[1].wakes, 0);
    assert_int_equal(port_set_running(&fp[1].port), -1);       /* dead for good */
    /* The switch passes it by; nobody else hears of it. */
    assert_int_equal(send_from(0, BROADCAST, fp[0].port.mac, 64), 1);
    assert_int_equal(fp[1].delivered, 0);
    assert_int_equal(fp[2].delivered, 1);
    assert_int_equal(send_from(1, BROADCAST, fp[1].port.mac, 64), 0);
    assert_int_equal(fp[0].failures + fp[2].failures, 0);
    /* A new life on a switch can fail again, and is told again. */
    vswitch_detach(&fp[1].port);
    assert_int_equal(vswitch_attach(&sw, &fp[1].port), 0);
    assert_int_equal(fp[1].port.state, MF_NET_STATE_RESET);
    assert_string_equal(fp[1].port.why, "");
    port_fail(&fp[1].port, "again");
    assert_int_equal(fp[1].failures, 2);
    /* No owner, no fail hook: fine. */
    fp[2].port.notify = NULL;
    port_wake(&fp[2].port);
    port_fail(&fp[2].port, "quiet");
    assert_int_equal(fp[2].port.state, MF_NET_STATE_FAILED);
    assert_int_equal(fp[2].failures, 0);
}

static void test_receiver_fails_during_forward(void **state)
{
    (void)state;
    assert_int_equal(send_from(1, BROADCAST, fp[1].port.mac, 64), 1);  /* learnt */
    fp[0].delivered = fp[2].delivered = 0;
    fp[1].breaks = 7;
    assert_int_equal(send_from(0, BROADCAST, fp[0].port.mac, 64), 1);
    assert_int_equal(fp[1].port.state, MF_NET_STATE_FAILED);
    assert_int_equal(fp[1].failures, 1);
    assert_string_equal(fp[1].failed_why, "fake: queue 7 broken");
    assert_int_equal(fp[2].delivered, 1);               /* the others still get it */
    assert_int_equal(sw.drops, 1);
    assert_int_equal(send_from(0, BROADCAST, fp[0].port.mac, 64), 1);
    assert_int_equal(fp[1].failures, 1);                /* not asked again */
    assert_int_equal(fp[2].delivered, 2);
    assert_int_equal(fp[0].failures, 0);                /* the sender is fine */
    assert_int_equal(fp[0].port.state, MF_NET_STATE_RUNNING);
    /* Unicast to the failed port is a drop at the switch, not a flood. */
    assert_int_equal(send_from(0, fp[1].port.mac, fp[0].port.mac, 64), 1);
    assert_int_equal(sw.drops, 2);
    assert_int_equal(fp[2].delivered, 2);
}

static void test_account(void **state)
{
    (void)state;
    vswitch_account(&sw, 100);
    vswitch_account(&sw, 5);
    assert_int_equal(sw.kicks, 2);
    assert_int_equal(sw.busy_tsc, 105);
}

/* Kick accounting is the port's: every kick on an attached port counts,
 * with the ticks it took, whatever its result. */
static void test_kick_accounting(void **state)
{
    uint8_t f[64];
    (void)state;
    rx_post(&tp[1], 2, 2048);
    make_frame(f, tp[1].p.port.mac, tp[0].p.port.mac, sizeof(f), 1);
    tx_queue(&tp[0], f, sizeof(f));
    assert_int_equal(kick(&tp[0]), 1);
    assert_int_equal(sw.kicks, 1);
    assert_int_equal(sw.busy_tsc, 10);                  /* the fake clock: 10 per read */
    assert_int_equal(vport_kick(&tp[0].p, 5), -MF_EINVAL);
    assert_int_equal(vport_kick(&tp[0].p, MF_NET_QUEUE_RX), 0);
    assert_int_equal(sw.kicks, 3);
    assert_int_equal(sw.busy_tsc, 30);
    vswitch_detach(&tp[2].p.port);
    assert_int_equal(kick(&tp[2]), -MF_EIO);            /* no switch: nothing to count */
    assert_int_equal(sw.kicks, 3);
    assert_ptr_equal(vport_of(&tp[0].p.port), &tp[0].p);
}

static void test_vport_of_other_port(void **state)
{
    (void)state;
    assert_null(vport_of(&fp[0].port));
    assert_null(vport_of(NULL));
}

/* The same tests with EVENT_IDX negotiated. */
static void test_exchange_event_idx(void **state) { test_exchange(state); }
static void test_bad_lengths_event_idx(void **state) { test_bad_lengths(state); }
static void test_malformed_tx_event_idx(void **state) { test_malformed_tx_fails_only_sender(state); }

#define T3(f) cmocka_unit_test_setup_teardown(f, setup_three, teardown)
#define T3E(f) cmocka_unit_test_setup_teardown(f, setup_three_event_idx, teardown)
#define TF(f) cmocka_unit_test_setup_teardown(f, setup_fakes, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T3(test_setup_negotiation),
        T3(test_setup_bad_queue),
        T3(test_setup_notification_hints),
        T3(test_kick_arguments),
        T3(test_exchange),
        T3E(test_exchange_event_idx),
        T3(test_broadcast_floods),
        T3(test_unicast_learnt),
        T3(test_unknown_unicast_floods),
        T3(test_unicast_to_self_dropped),
        T3(test_no_rx_buffer),
        T3(test_rx_buffer_too_small),
        T3(test_multi_descriptor_chains),
        T3(test_spoofed_source),
        T3(test_bad_lengths),
        T3E(test_bad_lengths_event_idx),
        T3(test_batch),
        T3(test_burst_publishes_once),
        T3(test_malformed_tx_fails_only_sender),
        T3E(test_malformed_tx_event_idx),
        T3(test_tx_loop_fails_sender),
        T3(test_malformed_rx_fails_receiver),
        T3(test_notify_flags),
        T3E(test_notify_event_idx),
        T3(test_attach_detach),
        T3(test_deliver_guards),
        T3(test_kick_accounting),
        TF(test_fake_forwarding),
        TF(test_fake_uplink_learns_sources),
        cmocka_unit_test_setup_teardown(test_uplink_policy, setup_uplink, teardown),
        cmocka_unit_test_setup_teardown(test_remembered_lookup_follows_the_table, setup_uplink,
                                        teardown),
        TF(test_fake_forward_refusals),
        TF(test_fake_no_room),
        TF(test_fail_notifies_owner_once),
        TF(test_receiver_fails_during_forward),
        TF(test_account),
        TF(test_vport_of_other_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
