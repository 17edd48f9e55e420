/*
 * Unit tests of a summoned service's front (hv/service.c) on a real
 * switch (hv/vswitch.c): a client port that records what it is given, a
 * bystander guest, and instance ports that record frames (or refuse them,
 * as a port with no receive buffer does) and join the service as the
 * summoner's launch makes them join. The clock is a variable the tests
 * move: 1 tick is 1 us, and it starts well past 0 (a real TSC is never 0).
 *
 * Frames sent to the switch are copied into heap blocks of exactly their
 * length, so ASan reports any read of the front past a frame's end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fdb.h"
#include "service.h"
#include "vswitch.h"

#define HZ          1000000u                /* ticks per second */
#define MS          (HZ / 1000u)
#define IDLE_MS     1000u                   /* the summon line's idle= */
#define NPORTS      8
#define INSTANCES   4
#define REC_FRAMES  80                      /* frames a fake port keeps */

#define CLIENT_IP   0x0a000001u             /* 10.0.0.1 */
#define SVC_IP      0x0a000050u             /* 10.0.0.80 */
#define OTHER_IP    0x0a000002u
#define SVC_PORT    80u

#define TCP_SYN     0x02u
#define TCP_ACK     0x10u
#define TCP_FIN     0x01u
#define TCP_RST     0x04u
#define FRAME_LEN   58u                     /* Ethernet + IPv4 + TCP + 4 bytes */
#define TAG_AT      57u                     /* the byte a frame is known by */

static const uint8_t CLIENT_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t OTHER_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t SVC_MAC[6] = { 0x02, 0, 0, 0, 0, 0x50 };
static const uint8_t NOBODY_MAC[6] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t BROADCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* A port that keeps copies of what it is given, or refuses (no buffer). */
struct fport {
    struct port port;
    int refuse;
    uint32_t refuse_after;                  /* 1 + frames to take before refusing one; 0: off */
    uint32_t count;                         /* frames taken */
    uint32_t len[REC_FRAMES];
    uint8_t frame[REC_FRAMES][MF_NET_FRAME_MAX];
};

static struct vswitch sw;
static struct port *port_slots[NPORTS];
static struct fdb_entry fdb_slots[64];
static struct service svc;
static uint8_t hold_storage[SERVICE_HOLD_BYTES];
static struct fport client, other, inst[INSTANCES];
static uint64_t now_tsc;
static uint32_t want[SUMMON_INSTANCES_MAX], idle_slots[SUMMON_INSTANCES_MAX], nw, ni;

static uint64_t clock_now(void)
{
    return now_tsc;
}

static void advance_ms(uint64_t ms)
{
    now_tsc += ms * MS;
}

static int fport_deliver(struct port *p, const uint8_t *frame, uint32_t len)
{
    struct fport *f = (struct fport *)(void *)p;

    if (f->refuse || f->refuse_after == 1) {
        f->refuse_after = 0;
        p->stats.drops_no_buffer++;
        return 0;
    }
    if (f->refuse_after)
        f->refuse_after--;
    if (f->count < REC_FRAMES) {
        memcpy(f->frame[f->count], frame, len);
        f->len[f->count] = len;
    }
    f->count++;
    return 1;
}

static const struct port_ops fport_ops = { fport_deliver, NULL };

static void fport_init(struct fport *f, uint32_t flags, const uint8_t mac[6])
{
    memset(f, 0, sizeof(*f));
    port_init(&f->port, &fport_ops, flags, mac, NULL, f);
}

/* A switch with the front (max instances, port l4port; 0: any), the
 * client (not a fixed MAC: it stands for the wire) and a bystander guest,
 * all running; the instances' ports made but not attached. */
static void start(uint32_t max, uint16_t l4port)
{
    now_tsc = 1000ull * HZ;
    vswitch_init(&sw, "lan0", port_slots, NPORTS, fdb_slots, 64);
    service_init(&svc, SVC_IP, l4port, SVC_MAC, max, clock_now, HZ, hold_storage);
    assert_int_equal(service_attach(&svc, &sw), 0);
    fport_init(&client, 0, CLIENT_MAC);
    fport_init(&other, PORT_F_FIXED_MAC, OTHER_MAC);
    assert_int_equal(vswitch_attach(&sw, &client.port), 0);
    assert_int_equal(vswitch_attach(&sw, &other.port), 0);
    assert_int_equal(port_set_running(&client.port), 0);
    assert_int_equal(port_set_running(&other.port), 0);
    for (int i = 0; i < INSTANCES; i++)
        fport_init(&inst[i], PORT_F_FIXED_MAC, SVC_MAC);
}

static void poll(void)
{
    service_poll(&svc, now_tsc, (uint64_t)IDLE_MS * MS, want, &nw, idle_slots, &ni);
}

/* The summoner's launch of slot as instance i: its guest started (id
 * 100 + slot), its port attached and joined by the guest's setup; the
 * port runs once the guest has set it up (running). */
static void launch_as(uint32_t slot, int i, int running)
{
    service_launched(&svc, slot, 100 + slot, now_tsc);
    assert_int_equal(vswitch_attach(&sw, &inst[i].port), 0);
    service_join(&svc, slot, &inst[i].port);
    if (running)
        assert_int_equal(port_set_running(&inst[i].port), 0);
}

static void launch(uint32_t slot, int i)
{
    launch_as(slot, i, 1);
}

/* Sends len bytes of f from p in a heap block of exactly that size. */
static int send_from(struct fport *p, const uint8_t *f, uint32_t len)
{
    uint8_t *copy = malloc(len);
    int r;

    assert_non_null(copy);
    memcpy(copy, f, len);
    r = vswitch_forward(&p->port, copy, len);
    free(copy);
    return r;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffffu);
}

static uint32_t get16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return get16(p) << 16 | get16(p + 2);
}

/* An IPv4 frame of FRAME_LEN bytes to dst_mac from the client's MAC:
 * src_ip -> dst_ip, protocol proto, ports sport -> dport and TCP flags
 * (meaningful for TCP and UDP), known by tag. */
static uint32_t ip_frame(uint8_t *f, const uint8_t dst_mac[6], uint32_t dst_ip, uint8_t proto,
                         uint32_t sport, uint32_t dport, uint8_t flags, uint8_t tag)
{
    uint8_t *ip = f + 14, *l4 = ip + 20;

    memset(f, 0, FRAME_LEN);
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, CLIENT_MAC, 6);
    put16(f + 12, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, FRAME_LEN - 14);
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, CLIENT_IP);
    put32(ip + 16, dst_ip);
    put16(l4, sport);
    put16(l4 + 2, dport);
    if (proto == 6) {
        l4[12] = 0x50;
        l4[13] = flags;
    }
    f[TAG_AT] = tag;
    return FRAME_LEN;
}

/* TCP from the client's port sport to the service's port dport. */
static uint32_t tcp(uint8_t *f, uint32_t sport, uint32_t dport, uint8_t flags, uint8_t tag)
{
    return ip_frame(f, SVC_MAC, SVC_IP, 6, sport, dport, flags, tag);
}

/* The client sends one TCP frame to the service's port; asserts the
 * switch took it. */
static void client_tcp(uint32_t sport, uint8_t flags, uint8_t tag)
{
    uint8_t f[FRAME_LEN];

    assert_int_equal(send_from(&client, f, tcp(f, sport, SVC_PORT, flags, tag)), 1);
}

/* An ARP packet (op 1 request, 2 reply) from sha/spa about tpa. */
static uint32_t arp(uint8_t *f, const uint8_t dst[6], const uint8_t sha[6], uint32_t spa,
                    uint32_t tpa, uint32_t op)
{
    memset(f, 0, 42);
    memcpy(f, dst, 6);
    memcpy(f + 6, sha, 6);
    put16(f + 12, 0x0806);
    put16(f + 14, 1);
    put16(f + 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    put16(f + 20, op);
    memcpy(f + 22, sha, 6);
    put32(f + 28, spa);
    put32(f + 38, tpa);
    return 42;
}

/* What the instance port i answers the client with. */
static void instance_replies(int i, uint8_t tag)
{
    uint8_t f[FRAME_LEN];

    memset(f, 0, sizeof(f));
    memcpy(f, CLIENT_MAC, 6);
    memcpy(f + 6, SVC_MAC, 6);
    put16(f + 12, 0x0800);
    f[TAG_AT] = tag;
    assert_int_equal(send_from(&inst[i], f, sizeof(f)), 1);
}

static uint32_t sport_of(const uint8_t *f)
{
    return get16(f + 34);
}

static const struct service_flow *flow_with(uint32_t sport)
{
    for (uint32_t i = 0; i < SERVICE_FLOWS; i++)
        if (svc.flows[i].used && svc.flows[i].ip == CLIENT_IP && svc.flows[i].port == sport)
            return &svc.flows[i];
    return NULL;
}

/* The hold's bookkeeping adds up and no flow or held frame names a free
 * slot or one past max. */
static void check_front(void)
{
    assert_int_equal(svc.held_count + svc.hold_free_count, SERVICE_HOLD_FRAMES);
    for (uint32_t i = 0; i < svc.held_count; i++) {
        assert_true(svc.held[i].slot < svc.max);
        assert_int_not_equal(svc.slots[svc.held[i].slot].state, SLOT_FREE);
    }
    for (uint32_t i = 0; i < SERVICE_FLOWS; i++) {
        if (!svc.flows[i].used)
            continue;
        assert_true(svc.flows[i].slot < svc.max);
        assert_int_not_equal(svc.slots[svc.flows[i].slot].state, SLOT_FREE);
    }
    assert_true(service_instances(&svc) <= svc.max);
}

/* A flow from sport summoned, launched as instance i and given its SYN:
 * slot READY. */
static void ready_flow(uint32_t sport, uint32_t slot, int i)
{
    uint32_t before = inst[i].count;

    client_tcp(sport, TCP_SYN, 1);
    poll();
    assert_int_equal(svc.slots[slot].state, SLOT_WANTED);
    launch(slot, i);
    poll();
    assert_int_equal(svc.slots[slot].state, SLOT_READY);
    assert_int_equal(inst[i].count, before + 1);
}

/* ARP */

static void arp_for_the_service_gets_one_reply(void **state)
{
    uint8_t f[42];
    const uint8_t *r;
    (void)state;

    start(1, SVC_PORT);
    assert_int_equal(send_from(&client, f, arp(f, BROADCAST, CLIENT_MAC, CLIENT_IP, SVC_IP, 1)),
                     1);
    assert_int_equal(other.count, 1);               /* a broadcast, flooded as ever */
    assert_int_equal(client.count, 0);              /* answered from the poll, not inside */
    poll();
    assert_int_equal(client.count, 1);
    assert_int_equal(client.len[0], 42);
    r = client.frame[0];
    assert_memory_equal(r, CLIENT_MAC, 6);
    assert_memory_equal(r + 6, SVC_MAC, 6);
    assert_int_equal(get16(r + 12), 0x0806);
    assert_int_equal(get16(r + 14), 1);
    assert_int_equal(get16(r + 16), 0x0800);
    assert_int_equal(r[18], 6);
    assert_int_equal(r[19], 4);
    assert_int_equal(get16(r + 20), 2);             /* a reply */
    assert_memory_equal(r + 22, SVC_MAC, 6);
    assert_int_equal(get32(r + 28), SVC_IP);
    assert_memory_equal(r + 32, CLIENT_MAC, 6);
    assert_int_equal(get32(r + 38), CLIENT_IP);
    assert_int_equal(other.count, 1);               /* unicast to the asker only */
    assert_int_equal(svc.counts.arp_answered, 1);
    assert_int_equal(nw, 0);                        /* ARP summons nothing */
    poll();
    assert_int_equal(client.count, 1);              /* once */
}

/* A unicast request to the service's MAC (a client refreshing its cache)
 * is answered by the front too, with an instance running, and does not
 * reach the instance; an ARP reply to the service's MAC does (its stack
 * asked for the client). */
static void unicast_arp_for_the_service_is_answered_by_the_front(void **state)
{
    uint8_t f[42];
    uint32_t before;
    (void)state;

    start(1, SVC_PORT);
    ready_flow(40000, 0, 0);
    before = inst[0].count;
    send_from(&client, f, arp(f, SVC_MAC, CLIENT_MAC, CLIENT_IP, SVC_IP, 1));
    poll();
    assert_int_equal(svc.counts.arp_answered, 1);
    assert_int_equal(inst[0].count, before);
    assert_int_equal(get16(client.frame[client.count - 1] + 20), 2);
    send_from(&client, f, arp(f, SVC_MAC, CLIENT_MAC, CLIENT_IP, SVC_IP, 2));
    assert_int_equal(inst[0].count, before + 1);
    assert_int_equal(svc.counts.arp_answered, 1);
}

static void arp_for_other_addresses_or_not_a_request_gets_none(void **state)
{
    uint8_t f[42];
    (void)state;

    start(1, SVC_PORT);
    send_from(&client, f, arp(f, BROADCAST, CLIENT_MAC, CLIENT_IP, OTHER_IP, 1));
    send_from(&client, f, arp(f, BROADCAST, CLIENT_MAC, CLIENT_IP, SVC_IP, 2));
    arp(f, BROADCAST, CLIENT_MAC, CLIENT_IP, SVC_IP, 1);
    send_from(&client, f, 41);                      /* one byte short */
    f[19] = 16;                                     /* not IPv4's length */
    send_from(&client, f, 42);
    poll();
    assert_int_equal(client.count, 0);
    assert_int_equal(svc.counts.arp_answered, 0);
    assert_int_equal(nw, 0);
}

static void arp_replies_owed_are_bounded(void **state)
{
    uint8_t f[42];
    (void)state;

    start(1, SVC_PORT);
    for (uint32_t i = 0; i < SERVICE_ARP_QUEUE + 3; i++)
        send_from(&client, f, arp(f, BROADCAST, CLIENT_MAC, CLIENT_IP + i, SVC_IP, 1));
    poll();
    assert_int_equal(client.count, SERVICE_ARP_QUEUE);
    for (uint32_t i = 0; i < SERVICE_ARP_QUEUE; i++)
        assert_int_equal(get32(client.frame[i] + 38), CLIENT_IP + i);   /* the first ones */
}

/* Holding and summoning */

static void a_syn_with_no_instance_is_held_and_its_slot_wanted(void **state)
{
    (void)state;

    start(2, SVC_PORT);
    client_tcp(1000, TCP_SYN, 1);
    assert_int_equal(svc.counts.held, 1);
    assert_int_equal(svc.held_count, 1);
    assert_int_equal(other.count, 0);               /* unicast to the front alone */
    poll();
    assert_int_equal(nw, 1);
    assert_int_equal(want[0], 0);
    assert_int_equal(ni, 0);
    assert_int_equal(service_instances(&svc), 1);
    poll();
    assert_int_equal(nw, 1);                        /* until it is launched */
    assert_int_equal(svc.held_count, 1);
    check_front();
}

static void a_launched_instance_gets_the_held_frames_in_order(void **state)
{
    (void)state;

    start(2, SVC_PORT);
    client_tcp(1000, TCP_SYN, 1);
    client_tcp(1000, TCP_ACK, 2);
    client_tcp(1000, TCP_ACK, 3);
    poll();
    assert_int_equal(nw, 1);
    launch(want[0], 0);
    client_tcp(1000, TCP_ACK, 4);                   /* while it starts: held too */
    assert_int_equal(inst[0].count, 0);
    assert_int_equal(svc.held_count, 4);
    poll();
    assert_int_equal(nw, 0);
    assert_int_equal(ni, 0);
    assert_int_equal(svc.slots[0].state, SLOT_READY);
    assert_int_equal(inst[0].count, 4);
    for (uint32_t k = 0; k < 4; k++) {
        assert_int_equal(inst[0].len[k], FRAME_LEN);
        assert_int_equal(inst[0].frame[k][TAG_AT], k + 1);
    }
    assert_int_equal(svc.counts.flushed, 4);
    assert_int_equal(svc.held_count, 0);
    assert_true(svc.slots[0].ready_tsc != 0);
    client_tcp(1000, TCP_ACK, 5);                   /* straight through now */
    assert_int_equal(inst[0].count, 5);
    assert_int_equal(inst[0].frame[4][TAG_AT], 5);
    assert_int_equal(svc.counts.held, 4);
    assert_int_equal(svc.counts.flows, 1);
    assert_int_equal(service_instances(&svc), 1);
    check_front();
}

static void held_frames_wait_while_the_instance_has_no_buffer(void **state)
{
    (void)state;

    start(1, SVC_PORT);
    client_tcp(1000, TCP_SYN, 1);
    poll();
    launch(0, 0);
    inst[0].refuse = 1;
    poll();
    assert_int_equal(svc.slots[0].state, SLOT_READY);
    assert_int_equal(svc.held_count, 1);            /* kept, not lost */
    inst[0].refuse = 0;
    advance_ms(10);
    poll();
    assert_int_equal(inst[0].count, 1);
    assert_int_equal(inst[0].frame[0][TAG_AT], 1);
    assert_int_equal(svc.held_count, 0);
    assert_int_equal(svc.counts.hold_drops, 0);
    check_front();
}

/* Suspected bug (reported in /work/briefs/summon-bugs.md): a frame that
 * arrives for a READY slot while older frames of its flow are still held
 * (the instance had no buffer at the last flush) overtakes them. */
static void a_new_frame_does_not_overtake_held_ones(void **state)
{
    (void)state;

    start(1, SVC_PORT);
    client_tcp(1000, TCP_SYN, 1);
    poll();
    launch(0, 0);
    inst[0].refuse = 1;
    poll();                                         /* READY, the SYN still held */
    inst[0].refuse = 0;
    client_tcp(1000, TCP_ACK, 2);
    poll();
    assert_int_equal(inst[0].count, 2);
    assert_int_equal(inst[0].frame[0][TAG_AT], 1);
    assert_int_equal(inst[0].frame[1][TAG_AT], 2);
}

/* The instance has no buffer for the second of four held frames, and has
 * one again for the third within the same flush: the rest wait behind the
 * second, and so does a new frame. */
static void a_frame_refused_at_the_flush_is_not_overtaken(void **state)
{
    (void)state;

    start(1, SVC_PORT);
    client_tcp(1000, TCP_SYN, 1);
    client_tcp(1000, TCP_ACK, 2);
    client_tcp(1000, TCP_ACK, 3);
    poll();
    launch(0, 0);
    client_tcp(1000, TCP_ACK, 4);
    inst[0].refuse_after = 2;
    poll();
    assert_int_equal(inst[0].count, 1);
    assert_int_equal(svc.held_count, 3);
    client_tcp(1000, TCP_ACK, 5);
    assert_int_equal(inst[0].count, 1);
    poll();
    assert_int_equal(inst[0].count, 5);
    for (uint32_t k = 0; k < 5; k++)
        assert_int_equal(inst[0].frame[k][TAG_AT], k + 1);
    assert_int_equal(svc.counts.hold_drops, 0);
    check_front();
}

static void a_frame_held_too_long_is_dropped(void **state)
{
    (void)state;

    start(1, SVC_PORT);
    client_tcp(1000, TCP_SYN, 1);
    poll();
    advance_ms(SERVICE_HOLD_MS - 1);
    poll();
    assert_int_equal(svc.held_count, 1);
    assert_int_equal(svc.counts.hold_drops, 0);
    advance_ms(2);
    poll();
    assert_int_equal(svc.held_count, 0);
    assert_int_equal(svc.counts.hold_drops, 1);
    launch(0, 0);
    poll();
    assert_int_equal(inst[0].count, 0);
    check_front();
}

static void a_full_hold_drops_and_counts_the_rest(void **state)
{
    (void)state;

    start(1, SVC_PORT);
    for (uint32_t k = 0; k < SERVICE_HOLD_FRAMES + 5; k++)
        client_tcp(1000, k ? TCP_ACK : TCP_SYN, (uint8_t)k);
    assert_int_equal(svc.counts.held, SERVICE_HOLD_FRAMES);
    assert_int_equal(svc.held_count, SERVICE_HOLD_FRAMES);
    assert_int_equal(svc.hold_free_count, 0);
    assert_int_equal(svc.counts.hold_drops, 5);
    check_front();
    poll();
    launch(0, 0);
    poll();
    assert_int_equal(inst[0].count, SERVICE_HOLD_FRAMES);
    for (uint32_t k = 0; k < SERVICE_HOLD_FRAMES; k++)
        assert_int_equal(inst[0].frame[k][TAG_AT], k);      /* the first ones, in order */
    assert_int_equal(svc.hold_free_count, SERVICE_HOLD_FRAMES);
    check_front();
}

static void a_failed_launch_frees_the_slot_and_its_frames(void **state)
{
    (void)state;

    start(1, SVC_PORT);
    client_tcp(1000, TCP_SYN, 1);
    poll();
    service_launch_failed(&svc, want[0]);
    assert_int_equal(svc.slots[0].state, SLOT_FREE);
    assert_int_equal(svc.held_count, 0);
    assert_int_equal(svc.counts.hold_drops, 1);
    assert_int_equal(svc.counts.launch_failures, 1);
    assert_null(flow_with(1000));
    check_front();
    client_tcp(1000, TCP_SYN, 2);                   /* the client tries again */
    poll();
    assert_int_equal(nw, 1);
    check_front();
}

/* Spreading flows over instances */

static void four_flows_want_four_instances(void **state)
{
    uint32_t seen = 0;
    (void)state;

    start(4, SVC_PORT);
    for (uint32_t k = 0; k < 4; k++)
        client_tcp(1001 + k, TCP_SYN, (uint8_t)k);
    poll();
    assert_int_equal(nw, 4);
    for (uint32_t k = 0; k < nw; k++) {
        assert_true(want[k] < 4);
        seen |= 1u << want[k];
    }
    assert_int_equal(seen, 0xf);
    for (uint32_t k = 0; k < 4; k++)
        assert_int_equal(flow_with(1001 + k)->slot, k);
    client_tcp(1005, TCP_SYN, 5);                   /* a fifth: no fifth instance */
    poll();
    assert_int_equal(nw, 4);
    assert_int_equal(service_instances(&svc), 4);
    check_front();
}

static void more_flows_than_instances_spread_and_stay_pinned(void **state)
{
    (void)state;

    start(2, SVC_PORT);
    for (uint32_t k = 0; k < 5; k++)
        client_tcp(1001 + k, TCP_SYN, (uint8_t)k);
    poll();
    assert_int_equal(nw, 2);
    launch(0, 0);
    launch(1, 1);
    poll();
    assert_int_equal(nw, 0);
    assert_int_equal(inst[0].count + inst[1].count, 5);
    assert_true(inst[0].count == 3 || inst[0].count == 2);      /* the least loaded each time */
    assert_true(inst[1].count == 3 || inst[1].count == 2);
    advance_ms(SERVICE_FLOW_BUSY_MS + 100);         /* quiet: still pinned */
    for (uint32_t k = 0; k < 5; k++)
        client_tcp(1001 + k, TCP_ACK, (uint8_t)(10 + k));
    for (int i = 0; i < 2; i++) {
        uint32_t half = inst[i].count / 2;
        assert_true(half == 2 || half == 3);
        for (uint32_t k = 0; k < half; k++)
            assert_int_equal(sport_of(inst[i].frame[k + half]), sport_of(inst[i].frame[k]));
    }
    assert_int_equal(svc.counts.flows, 5);
    poll();
    assert_int_equal(nw, 0);
    check_front();
}

static void a_busy_flow_loads_its_instance(void **state)
{
    (void)state;

    start(2, SVC_PORT);
    ready_flow(1000, 0, 0);
    advance_ms(100);
    client_tcp(2000, TCP_SYN, 2);
    poll();
    assert_int_equal(nw, 1);                        /* a second instance for the second flow */
    assert_int_equal(want[0], 1);
    assert_int_equal(inst[0].count, 1);
}

static void a_quiet_flow_no_longer_loads_its_instance(void **state)
{
    (void)state;

    start(2, SVC_PORT);
    ready_flow(1000, 0, 0);
    advance_ms(SERVICE_FLOW_BUSY_MS + 1);
    client_tcp(2000, TCP_SYN, 2);
    assert_int_equal(inst[0].count, 2);             /* to the idle instance at once */
    poll();
    assert_int_equal(nw, 0);
    assert_int_equal(flow_with(2000)->slot, 0);
    assert_int_equal(flow_with(1000)->slot, 0);     /* still pinned */
    check_front();
}

static void closing_flow_stops_loading(uint8_t flags)
{
    start(2, SVC_PORT);
    ready_flow(1000, 0, 0);
    advance_ms(10);
    client_tcp(1000, (uint8_t)(flags | TCP_ACK), 2);
    assert_int_equal(inst[0].count, 2);             /* its end reaches the instance */
    assert_non_null(flow_with(1000));
    assert_int_equal(flow_with(1000)->closed, 1);
    client_tcp(2000, TCP_SYN, 3);                   /* busy window still open */
    assert_int_equal(inst[0].count, 3);
    poll();
    assert_int_equal(nw, 0);
    check_front();
}

static void fin_marks_a_flow_closed(void **state)
{
    (void)state;
    closing_flow_stops_loading(TCP_FIN);
}

static void rst_marks_a_flow_closed(void **state)
{
    (void)state;
    closing_flow_stops_loading(TCP_RST);
}

static void the_end_of_an_unknown_flow_summons_nothing(void **state)
{
    (void)state;

    start(1, SVC_PORT);
    client_tcp(1000, TCP_FIN | TCP_ACK, 1);
    client_tcp(1001, TCP_RST, 2);
    poll();
    assert_int_equal(nw, 0);
    assert_int_equal(svc.counts.flows, 0);
    assert_int_equal(svc.held_count, 0);
    assert_int_equal(svc.counts.no_instance_drops, 2);
}

static void a_full_flow_table_replaces_the_least_recently_used(void **state)
{
    (void)state;

    start(1, SVC_PORT);
    ready_flow(1000, 0, 0);
    for (uint32_t k = 1; k <= SERVICE_FLOWS; k++) {
        advance_ms(1);
        client_tcp(1000 + k, TCP_SYN, (uint8_t)k);
        if (k == SERVICE_FLOWS - 1)
            client_tcp(1000, TCP_ACK, 0);               /* the first flow, used again */
    }
    assert_int_equal(svc.counts.flows, SERVICE_FLOWS + 1);
    assert_non_null(flow_with(1000));
    assert_null(flow_with(1001));                       /* the oldest went */
    assert_non_null(flow_with(1002));
    assert_non_null(flow_with(1000 + SERVICE_FLOWS));
    assert_int_equal(inst[0].count, SERVICE_FLOWS + 2);
    check_front();
}

/* Idle instances */

static void an_instance_that_replied_and_went_quiet_is_idle(void **state)
{
    (void)state;

    start(1, SVC_PORT);
    ready_flow(1000, 0, 0);
    advance_ms(1);
    instance_replies(0, 7);
    assert_int_equal(client.count, 1);
    assert_int_equal(client.frame[0][TAG_AT], 7);
    assert_int_equal(svc.slots[0].replied, 1);
    assert_int_equal(svc.counts.latency_count, 1);
    assert_int_equal(svc.counts.latency_sum, 1 * MS);   /* SYN at t, reply at t + 1 ms */
    advance_ms(1);
    poll();                                         /* it moved frames: active now */
    assert_int_equal(ni, 0);
    advance_ms(IDLE_MS - 1);
    poll();
    assert_int_equal(ni, 0);
    advance_ms(1);
    poll();
    assert_int_equal(ni, 1);
    assert_int_equal(idle_slots[0], 0);
    assert_int_equal(nw, 0);
}

static void an_instance_with_traffic_is_not_idle(void **state)
{
    (void)state;

    start(1, SVC_PORT);
    ready_flow(1000, 0, 0);
    instance_replies(0, 7);
    for (uint32_t k = 0; k < 10; k++) {             /* 5 s in all, idle= is 1 s */
        advance_ms(IDLE_MS / 2);
        client_tcp(1000, TCP_ACK, (uint8_t)k);
        poll();
        assert_int_equal(ni, 0);
    }
    for (uint32_t k = 0; k < 10; k++) {             /* its own sends count too */
        advance_ms(IDLE_MS / 2);
        instance_replies(0, (uint8_t)k);
        poll();
        assert_int_equal(ni, 0);
    }
    advance_ms(IDLE_MS);
    poll();
    assert_int_equal(ni, 1);
}

static void an_instance_that_never_answered_is_given_up_after_the_start_time(void **state)
{
    uint64_t launched;
    (void)state;

    start(1, SVC_PORT);
    client_tcp(1000, TCP_SYN, 1);
    poll();
    launched = now_tsc;
    launch(0, 0);
    poll();
    assert_int_equal(inst[0].count, 1);
    advance_ms(2 * IDLE_MS);                        /* quiet past idle=: not idle, it never answered */
    poll();
    assert_int_equal(ni, 0);
    now_tsc = launched + (uint64_t)SERVICE_START_MS * MS - MS;
    poll();
    assert_int_equal(ni, 0);
    now_tsc = launched + (uint64_t)SERVICE_START_MS * MS + MS;
    poll();
    assert_int_equal(ni, 1);
    assert_int_equal(idle_slots[0], 0);
}

static void an_instance_whose_port_never_runs_is_given_up(void **state)
{
    (void)state;

    start(1, SVC_PORT);
    client_tcp(1000, TCP_SYN, 1);
    poll();
    launch_as(0, 0, 0);
    advance_ms(SERVICE_START_MS - 1);
    poll();
    assert_int_equal(svc.slots[0].state, SLOT_STARTING);
    assert_int_equal(ni, 0);
    advance_ms(2);
    poll();
    assert_int_equal(ni, 1);
    assert_int_equal(idle_slots[0], 0);
    assert_int_equal(nw, 0);
}

/* An instance's end */

static void detaching_a_starting_instance_frees_its_slot_flows_and_frames(void **state)
{
    (void)state;

    start(2, SVC_PORT);
    client_tcp(1000, TCP_SYN, 1);
    client_tcp(2000, TCP_SYN, 2);
    client_tcp(1000, TCP_ACK, 3);
    poll();
    assert_int_equal(nw, 2);
    launch_as(0, 0, 0);
    launch_as(1, 1, 0);
    assert_int_equal(svc.held_count, 3);
    vswitch_detach(&inst[0].port);
    assert_int_equal(svc.slots[0].state, SLOT_FREE);
    assert_null(svc.slots[0].port);
    assert_int_equal(svc.held_count, 1);            /* the other flow's SYN */
    assert_int_equal(svc.held[0].slot, 1);
    assert_int_equal(svc.counts.hold_drops, 2);
    assert_int_equal(svc.counts.ended, 1);
    assert_null(flow_with(1000));
    assert_non_null(flow_with(2000));
    assert_int_equal(inst[0].port.flags & PORT_F_SERVICE, 0);
    assert_null(inst[0].port.service);
    assert_int_equal(service_instances(&svc), 1);
    check_front();
    client_tcp(1000, TCP_SYN, 4);                   /* summoned anew, not sent to the gone one */
    poll();
    assert_int_equal(nw, 1);
    assert_int_equal(want[0], 0);
    check_front();
}

static void detaching_a_ready_instance_frees_its_slot(void **state)
{
    (void)state;

    start(1, SVC_PORT);
    ready_flow(1000, 0, 0);
    vswitch_detach(&inst[0].port);
    assert_int_equal(svc.slots[0].state, SLOT_FREE);
    assert_null(flow_with(1000));
    client_tcp(1000, TCP_ACK, 2);
    assert_int_equal(inst[0].count, 1);
    assert_int_equal(svc.held_count, 1);
    poll();
    assert_int_equal(nw, 1);
    launch(0, 1);                                   /* a new instance, another port */
    poll();
    assert_int_equal(inst[1].count, 1);
    assert_int_equal(inst[1].frame[0][TAG_AT], 2);
    check_front();
}

/* The switch's side */

static void the_switch_floods_nothing_to_instances(void **state)
{
    uint8_t f[FRAME_LEN];
    (void)state;

    start(1, SVC_PORT);
    ready_flow(1000, 0, 0);
    send_from(&client, f, ip_frame(f, BROADCAST, 0xffffffffu, 17, 68, 67, 0, 1));
    send_from(&client, f, arp(f, BROADCAST, CLIENT_MAC, CLIENT_IP, SVC_IP, 1));
    assert_int_equal(other.count, 2);               /* flooded as ever */
    assert_int_equal(inst[0].count, 1);             /* only its SYN */
    poll();
    assert_int_equal(client.count, 1);              /* the front's ARP reply */
}

/* Suspected bug (reported in /work/briefs/summon-bugs.md): unknown
 * unicast floods every guest's port, the front's included, and the front
 * takes it as if it were addressed to the service's MAC. */
static void unknown_unicast_does_not_reach_instances_through_the_front(void **state)
{
    uint8_t f[FRAME_LEN];
    (void)state;

    start(1, SVC_PORT);
    send_from(&client, f, ip_frame(f, NOBODY_MAC, SVC_IP, 6, 1000, SVC_PORT, TCP_SYN, 1));
    assert_int_equal(other.count, 1);               /* flooded as ever */
    poll();
    assert_int_equal(nw, 0);                        /* not for the service: no summons */
    assert_int_equal(svc.counts.held, 0);
    ready_flow(2000, 0, 0);
    send_from(&client, f, ip_frame(f, NOBODY_MAC, OTHER_IP, 17, 5, 6, 0, 2));
    send_from(&client, f, ip_frame(f, NOBODY_MAC, SVC_IP, 6, 2000, SVC_PORT, TCP_ACK, 3));
    assert_int_equal(inst[0].count, 1);             /* only its SYN */
    assert_int_equal(svc.counts.no_instance_drops, 0);
}

static void the_service_mac_stays_on_the_front(void **state)
{
    uint8_t f[FRAME_LEN];
    (void)state;

    start(1, SVC_PORT);
    assert_int_equal(fdb_lookup(&sw.fdb, SVC_MAC), svc.port.index);
    ready_flow(1000, 0, 0);
    send_from(&other, f, arp(f, BROADCAST, OTHER_MAC, OTHER_IP, CLIENT_IP, 1));    /* learnt */
    instance_replies(0, 1);
    send_from(&inst[0], f, arp(f, BROADCAST, SVC_MAC, SVC_IP, CLIENT_IP, 1));
    assert_int_equal(fdb_lookup(&sw.fdb, SVC_MAC), svc.port.index);
    ip_frame(f, OTHER_MAC, OTHER_IP, 17, 1, 2, 0, 2);
    memcpy(f + 6, SVC_MAC, 6);                      /* the wire claims the service's MAC */
    assert_int_equal(send_from(&client, f, FRAME_LEN), 1);
    assert_int_equal(fdb_lookup(&sw.fdb, SVC_MAC), svc.port.index);
    assert_int_equal(send_from(&other, f, FRAME_LEN), 0);   /* a guest may not send from it */
    assert_int_equal(fdb_lookup(&sw.fdb, SVC_MAC), svc.port.index);
    client_tcp(1000, TCP_ACK, 2);                   /* still through the front */
    assert_int_equal(inst[0].count, 2);
    assert_int_equal(fdb_lookup(&sw.fdb, CLIENT_MAC), client.port.index);
}

static void frames_outside_any_flow_go_to_every_ready_instance(void **state)
{
    uint8_t f[FRAME_LEN];
    (void)state;

    start(2, SVC_PORT);
    ready_flow(1000, 0, 0);
    ready_flow(2000, 1, 1);                         /* the first is busy: a second instance */
    send_from(&client, f, arp(f, SVC_MAC, CLIENT_MAC, CLIENT_IP, SVC_IP, 2));
    send_from(&client, f, ip_frame(f, SVC_MAC, SVC_IP, 1, 0x0800, 0, 0, 2));    /* ICMP */
    send_from(&client, f, ip_frame(f, SVC_MAC, OTHER_IP, 6, 1000, SVC_PORT, TCP_SYN, 3));
    send_from(&client, f, tcp(f, 3000, 22, TCP_SYN, 4));        /* another port */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(inst[i].count, 5);
        assert_int_equal(get16(inst[i].frame[1] + 12), 0x0806);
        assert_int_equal(inst[i].frame[2][TAG_AT], 2);
        assert_int_equal(inst[i].frame[3][TAG_AT], 3);
        assert_int_equal(inst[i].frame[4][TAG_AT], 4);
    }
    poll();
    assert_int_equal(nw, 0);
    assert_int_equal(svc.counts.flows, 2);
    assert_int_equal(svc.counts.no_instance_drops, 0);
    check_front();
}

static void with_a_port_other_ports_summon_nothing(void **state)
{
    uint8_t f[FRAME_LEN];
    (void)state;

    start(1, SVC_PORT);
    send_from(&client, f, tcp(f, 3000, 22, TCP_SYN, 1));
    send_from(&client, f, ip_frame(f, SVC_MAC, SVC_IP, 17, 3000, 53, 0, 2));
    send_from(&client, f, ip_frame(f, SVC_MAC, SVC_IP, 1, 0x0800, 0, 0, 3));
    poll();
    assert_int_equal(nw, 0);
    assert_int_equal(svc.counts.no_instance_drops, 3);
    assert_int_equal(svc.counts.flows, 0);
    assert_int_equal(svc.held_count, 0);
    send_from(&client, f, ip_frame(f, SVC_MAC, SVC_IP, 17, 3000, SVC_PORT, 0, 4));
    poll();
    assert_int_equal(nw, 1);                        /* UDP to the port does */
}

static void with_any_port_every_port_summons(void **state)
{
    uint8_t f[FRAME_LEN];
    (void)state;

    start(1, 0);
    send_from(&client, f, tcp(f, 3000, 22, TCP_SYN, 1));
    poll();
    assert_int_equal(nw, 1);
    assert_int_equal(svc.held_count, 1);
}

/* A frame of len bytes made from f, to the service from the client. */
static void send_cut(const uint8_t *f, uint32_t len)
{
    assert_int_equal(send_from(&client, f, len), 1);
}

static void truncated_and_malformed_frames_summon_nothing(void **state)
{
    uint8_t f[FRAME_LEN];
    uint32_t sent = 0;
    (void)state;

    start(1, SVC_PORT);
    tcp(f, 1000, SVC_PORT, TCP_SYN, 1);
    for (uint32_t len = PORT_FRAME_MIN; len < 34; len++, sent++)
        send_cut(f, len);
    f[14] = 0x44;                                   /* IHL 4: shorter than a header */
    send_cut(f, FRAME_LEN);
    sent++;
    f[14] = 0x65;                                   /* IPv6's version */
    send_cut(f, FRAME_LEN);
    sent++;
    /* IHL 6: the ports are past the 4 option bytes, beyond the frame's
     * end; where a fixed 20-byte header would have them, port 80. */
    tcp(f, 1000, SVC_PORT, TCP_SYN, 1);
    f[14] = 0x46;
    put16(f + 34, 1000);
    put16(f + 36, SVC_PORT);
    send_cut(f, 38);
    sent++;
    f[14] = 0x4f;                                   /* IHL 15: 60 bytes, the frame has 44 */
    send_cut(f, FRAME_LEN);
    sent++;
    tcp(f, 1000, SVC_PORT, TCP_SYN, 1);
    put16(f + 14 + 6, 100);                         /* a later fragment: no ports in it */
    send_cut(f, FRAME_LEN);
    sent++;
    poll();
    assert_int_equal(nw, 0);
    assert_int_equal(svc.counts.flows, 0);
    assert_int_equal(svc.held_count, 0);
    assert_int_equal(svc.counts.no_instance_drops, sent);
    arp(f, BROADCAST, CLIENT_MAC, CLIENT_IP, SVC_IP, 1);
    for (uint32_t len = PORT_FRAME_MIN; len < 42; len++)
        send_cut(f, len);
    poll();
    assert_int_equal(client.count, 0);              /* no ARP reply to a cut request */
    tcp(f, 1000, SVC_PORT, TCP_SYN, 1);
    send_cut(f, 14 + 20 + 4);                       /* ports, no TCP flags: still a flow */
    poll();
    assert_int_equal(nw, 1);
    check_front();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arp_for_the_service_gets_one_reply),
        cmocka_unit_test(unicast_arp_for_the_service_is_answered_by_the_front),
        cmocka_unit_test(arp_for_other_addresses_or_not_a_request_gets_none),
        cmocka_unit_test(arp_replies_owed_are_bounded),
        cmocka_unit_test(a_syn_with_no_instance_is_held_and_its_slot_wanted),
        cmocka_unit_test(a_launched_instance_gets_the_held_frames_in_order),
        cmocka_unit_test(held_frames_wait_while_the_instance_has_no_buffer),
        cmocka_unit_test(a_new_frame_does_not_overtake_held_ones),
        cmocka_unit_test(a_frame_refused_at_the_flush_is_not_overtaken),
        cmocka_unit_test(a_frame_held_too_long_is_dropped),
        cmocka_unit_test(a_full_hold_drops_and_counts_the_rest),
        cmocka_unit_test(a_failed_launch_frees_the_slot_and_its_frames),
        cmocka_unit_test(four_flows_want_four_instances),
        cmocka_unit_test(more_flows_than_instances_spread_and_stay_pinned),
        cmocka_unit_test(a_busy_flow_loads_its_instance),
        cmocka_unit_test(a_quiet_flow_no_longer_loads_its_instance),
        cmocka_unit_test(fin_marks_a_flow_closed),
        cmocka_unit_test(rst_marks_a_flow_closed),
        cmocka_unit_test(the_end_of_an_unknown_flow_summons_nothing),
        cmocka_unit_test(a_full_flow_table_replaces_the_least_recently_used),
        cmocka_unit_test(an_instance_that_replied_and_went_quiet_is_idle),
        cmocka_unit_test(an_instance_with_traffic_is_not_idle),
        cmocka_unit_test(an_instance_that_never_answered_is_given_up_after_the_start_time),
        cmocka_unit_test(an_instance_whose_port_never_runs_is_given_up),
        cmocka_unit_test(detaching_a_starting_instance_frees_its_slot_flows_and_frames),
        cmocka_unit_test(detaching_a_ready_instance_frees_its_slot),
        cmocka_unit_test(the_switch_floods_nothing_to_instances),
        cmocka_unit_test(unknown_unicast_does_not_reach_instances_through_the_front),
        cmocka_unit_test(the_service_mac_stays_on_the_front),
        cmocka_unit_test(frames_outside_any_flow_go_to_every_ready_instance),
        cmocka_unit_test(with_a_port_other_ports_summon_nothing),
        cmocka_unit_test(with_any_port_every_port_summons),
        cmocka_unit_test(truncated_and_malformed_frames_summon_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
