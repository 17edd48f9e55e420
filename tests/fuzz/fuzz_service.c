/*
 * Fuzz target: a summoned service's front (hv/service.c) on a real switch
 * (hv/vswitch.c), played as the summoner (hv/summon.c) would play it: the
 * front, a client port (flags 0: the wire) and SUMMON_INSTANCES_MAX
 * instance ports with the service's MAC, each joined to a slot when it is
 * launched and detached when its guest ends. The input is a header, then
 * a script of steps until the input runs out:
 *
 *   [0]       max = 1 + b % SUMMON_INSTANCES_MAX; bit 7: port=80 (else any)
 *   [1]       idle= (10 + b * 20) ms
 *   op 0 n .. the client sends a frame of n % 128 + 14 bytes of input (zeros
 *             past its end); n bit 7: destination = the service's MAC
 *   op 1 p s f t  the client sends TCP (p % 4 == 0), UDP (1), ICMP (2) or
 *             IPv4 to another address (3) to the service's MAC from port
 *             1000 + s % 16 to port 80 (p bit 2: 22), TCP flags f, its
 *             last byte t; bits 3-6 of p cut the frame to 14 + (p >> 3 & 15)
 *             * 3 bytes (0, 15: whole)
 *   op 2 a    the client asks ARP for the service's address (a odd: for another)
 *   op 3 t    the clock moves on (t % 64) * 100 ms
 *   op 4 m    service_poll, then each wanted slot is launched (m bit 0:
 *             the launch fails; bit 1: its port is not set running yet;
 *             bit 2: it ends before its port joined) with the first free
 *             instance port, and each idle slot's guest is stopped (its
 *             port detached)
 *   op 5 i    instance port i % N detached (its guest ended)
 *   op 6 i    instance port i % N, joined and not running, set running
 *   op 7 i k  instance port i % N, if running, sends: a reply to the
 *             client (k even) or an ARP request broadcast (k odd)
 *   op 8 i    instance port i % N refuses frames (no buffer) or takes them
 *             again; i bit 7: takes (i >> 3 & 7) more, refuses one, takes again
 *
 * After every step: the hold's buffers are each either held or free, and
 * held + free == SERVICE_HOLD_FRAMES; no held frame or used flow names a
 * slot past max or a free one; a slot's port is attached to the switch,
 * PORT_F_SERVICE, serving this front in that slot; service_instances()
 * <= max; the service's MAC stays on the front; an instance is handed
 * only frames to the service's MAC (no broadcast, no flooded unicast for
 * another host), of a legal length, and each flow's frames in the order
 * the client sent them (op 1 numbers them in the IPv4 ID). At the end, detaching every
 * instance leaves no slot with a port and the switch with the front and
 * the client. Seeds: tests/fuzz/corpus/service/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exact_buf.h"
#include "fdb.h"
#include "script.h"
#include "service.h"
#include "vswitch.h"

#define HZ          1000000u
#define MS          (HZ / 1000u)
#define N           SUMMON_INSTANCES_MAX
#define FRAME_LEN   58u
#define SEQ_MARK    0xa5u                   /* IPv4 TOS of a numbered flow frame */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fport {
    struct port port;
    int refuse;
    uint32_t refuse_after;                  /* 1 + frames to take before refusing one; 0: off */
    uint16_t last[2][16];                   /* the last sequence number per flow, TCP and UDP */
};

static const uint8_t CLIENT_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t SVC_MAC[6] = { 0x02, 0, 0, 0, 0, 0x50 };
static const uint32_t CLIENT_IP = 0x0a000001u, SVC_IP = 0x0a000050u;

static struct vswitch sw;
static struct port *slots[N + 4];
static struct fdb_entry fdb[64];
static struct service svc;
static uint8_t *hold;
static struct fport client, inst[N];
static uint64_t now;
static uint64_t idle_tsc;
static uint16_t seq;                        /* the client's flow frames, numbered */

/* An invariant broken: which, then abort (libFuzzer keeps the input). */
static void broken(const char *what, int line)
{
    fprintf(stderr, "fuzz_service.c:%d: broken: %s\n", line, what);
    abort();
}

#define check(ok) do { if (!(ok)) broken(#ok, __LINE__); } while (0)

static uint64_t clock_now(void)
{
    return now;
}

static int client_deliver(struct port *p, const uint8_t *frame, uint32_t len)
{
    (void)p;
    (void)frame;
    check(len >= PORT_FRAME_MIN && len <= MF_NET_FRAME_MAX);
    return 1;
}

static int inst_deliver(struct port *p, const uint8_t *frame, uint32_t len)
{
    struct fport *f = (struct fport *)(void *)p;

    check(len >= PORT_FRAME_MIN && len <= MF_NET_FRAME_MAX);
    check(!memcmp(frame, SVC_MAC, 6));      /* no broadcast, nothing for other hosts */
    check(p->flags & PORT_F_SERVICE);
    if (f->refuse || f->refuse_after == 1) {
        f->refuse_after = 0;
        return 0;
    }
    if (f->refuse_after)
        f->refuse_after--;
    if (len >= 38 && frame[12] == 0x08 && frame[13] == 0x00 && frame[15] == SEQ_MARK) {
        uint16_t *last = &f->last[frame[23] == 17][(frame[34] << 8 | frame[35]) & 15];
        uint16_t n = (uint16_t)(frame[18] << 8 | frame[19]);

        check(n > *last);                   /* a flow's frames arrive in order */
        *last = n;
    }
    return 1;
}

static const struct port_ops client_ops = { client_deliver, NULL };
static const struct port_ops inst_ops = { inst_deliver, NULL };

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

/* Sends len bytes of f from p in a heap block of exactly that size. */
static void send_from(struct port *p, const uint8_t *f, uint32_t len)
{
    uint8_t *copy = exact_buf_get(len ? len : 1);

    memcpy(copy, f, len);
    vswitch_forward(p, copy, len);
    exact_buf_put(copy, len ? len : 1);
}

static void client_raw(struct script *s)
{
    uint8_t n, f[14 + 128];
    uint32_t len;

    if (script_take(s, &n, 1) < 0)
        return;
    len = 14u + (n & 127u);
    memset(f, 0, sizeof(f));
    script_take(s, f, len < s->left ? len : s->left);  /* zeros past the input's end */
    if (n & 128u)
        memcpy(f, SVC_MAC, 6);
    if (f[15] == SEQ_MARK)
        f[15] = 0;                          /* only client_ip numbers frames */
    send_from(&client.port, f, len);
}

static void client_ip(struct script *s)
{
    uint8_t b[4], f[FRAME_LEN], *ip = f + 14, *l4 = ip + 20;
    static const uint8_t protos[4] = { 6, 17, 1, 6 };
    uint32_t cut;

    if (script_take(s, b, 4) < 0)
        return;
    memset(f, 0, sizeof(f));
    memcpy(f, SVC_MAC, 6);
    memcpy(f + 6, CLIENT_MAC, 6);
    put16(f + 12, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, FRAME_LEN - 14);
    ip[9] = protos[b[0] & 3];
    put32(ip + 12, CLIENT_IP);
    put32(ip + 16, (b[0] & 3) == 3 ? SVC_IP + 1 : SVC_IP);
    put16(l4, 1000u + (b[1] & 15u));
    put16(l4 + 2, (b[0] & 4) ? 22 : 80);
    l4[12] = 0x50;
    l4[13] = b[2];
    f[FRAME_LEN - 1] = b[3];
    /* TCP or UDP to port 80 of the service, not a TCP end (which, for a
     * flow nobody holds, goes to every instance): numbered in the IPv4
     * ID, so that an instance can tell one overtook another. */
    if ((b[0] & 7) <= 1 && ((b[0] & 3) == 1 || !(b[2] & 5u)) && seq < 0xffff) {
        ip[1] = SEQ_MARK;
        put16(ip + 4, ++seq);
    }
    cut = 14u + (uint32_t)(b[0] >> 3 & 15) * 3;
    send_from(&client.port, f, cut > 14 && cut < FRAME_LEN ? cut : FRAME_LEN);
}

static void client_arp(struct script *s)
{
    uint8_t a, f[42];

    if (script_take(s, &a, 1) < 0)
        return;
    memset(f, 0xff, 6);
    memcpy(f + 6, CLIENT_MAC, 6);
    put16(f + 12, 0x0806);
    put16(f + 14, 1);
    put16(f + 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    put16(f + 20, 1);
    memcpy(f + 22, CLIENT_MAC, 6);
    put32(f + 28, CLIENT_IP);
    memset(f + 32, 0, 6);
    put32(f + 38, (a & 1) ? SVC_IP + 1 : SVC_IP);
    send_from(&client.port, f, sizeof(f));
}

/* The first instance port not attached, or NULL. */
static struct fport *free_instance(void)
{
    for (int i = 0; i < N; i++)
        if (!inst[i].port.sw)
            return &inst[i];
    return NULL;
}

static void instance_reset(struct fport *f)
{
    memset(f, 0, sizeof(*f));
    port_init(&f->port, &inst_ops, PORT_F_FIXED_MAC, SVC_MAC, NULL, f);
}

/* What the summoner does with service_poll's answer. */
static void poll_and_act(uint8_t m)
{
    uint32_t want[N], idle[N], nw, ni;

    service_poll(&svc, now, idle_tsc, want, &nw, idle, &ni);
    check(nw <= svc.max && ni <= svc.max);
    for (uint32_t k = 0; k < nw; k++) {
        struct fport *f = free_instance();

        check(want[k] < svc.max && svc.slots[want[k]].state == SLOT_WANTED);
        if ((m & 1) || !f) {
            service_launch_failed(&svc, want[k]);
            continue;
        }
        service_launched(&svc, want[k], 100 + want[k], now);
        if (m & 4) {
            service_start_lost(&svc, want[k]);
            continue;
        }
        instance_reset(f);
        check(vswitch_attach(&sw, &f->port) == 0);
        service_join(&svc, want[k], &f->port);
        if (!(m & 2))
            port_set_running(&f->port);
    }
    for (uint32_t k = 0; k < ni; k++) {
        struct service_slot *sl = &svc.slots[idle[k]];

        check(idle[k] < svc.max);
        check(sl->state == SLOT_STARTING || sl->state == SLOT_READY);
        if (sl->port)
            vswitch_detach(sl->port);
        else
            service_start_lost(&svc, idle[k]);
        check(sl->state == SLOT_FREE);
    }
}

static void instance_sends(struct fport *f, uint8_t k)
{
    uint8_t r[60];

    if (!f->port.sw || f->port.state != MF_NET_STATE_RUNNING)
        return;                             /* no guest behind it now */
    memset(r, 0, sizeof(r));
    if (k & 1)
        memset(r, 0xff, 6);
    else
        memcpy(r, CLIENT_MAC, 6);
    memcpy(r + 6, SVC_MAC, 6);
    put16(r + 12, (k & 1) ? 0x0806 : 0x0800);
    check(vswitch_forward(&f->port, r, sizeof(r)) == 1);
}

/* Not instrumented for coverage: it runs after every step over every
 * hold buffer and flow, and its compares (traced for libFuzzer) were half
 * of this target's time; its branches are the checks', not the code's
 * under test, and only ever go one way. */
__attribute__((no_sanitize("coverage"))) static void check_front(void)
{
    uint8_t seen[SERVICE_HOLD_FRAMES];

    check(svc.held_count <= SERVICE_HOLD_FRAMES && svc.hold_free_count <= SERVICE_HOLD_FRAMES);
    check(svc.held_count + svc.hold_free_count == SERVICE_HOLD_FRAMES);
    memset(seen, 0, sizeof(seen));
    for (uint32_t i = 0; i < svc.held_count + svc.hold_free_count; i++) {
        const uint8_t *b = i < svc.held_count ? svc.held[i].data
                                              : svc.hold_free[i - svc.held_count];
        uint64_t off = (uint64_t)(b - hold);
        check(b >= hold && off % MF_NET_FRAME_MAX == 0 && off / MF_NET_FRAME_MAX < SERVICE_HOLD_FRAMES);
        check(!seen[off / MF_NET_FRAME_MAX]++);
    }
    for (uint32_t i = 0; i < svc.held_count; i++) {
        check(svc.held[i].slot < svc.max && svc.slots[svc.held[i].slot].state != SLOT_FREE);
        check(svc.held[i].len >= PORT_FRAME_MIN && svc.held[i].len <= MF_NET_FRAME_MAX);
    }
    for (uint32_t i = 0; i < SERVICE_FLOWS; i++)
        if (svc.flows[i].used)
            check(svc.flows[i].slot < svc.max && svc.slots[svc.flows[i].slot].state != SLOT_FREE);
    for (uint32_t i = 0; i < SUMMON_INSTANCES_MAX; i++) {
        const struct port *p = svc.slots[i].port;
        check(i < svc.max || svc.slots[i].state == SLOT_FREE);
        if (!p)
            continue;
        check((p->flags & PORT_F_SERVICE) && p->service == &svc && p->service_slot == i);
        check(p->sw == &sw && svc.slots[i].state != SLOT_FREE);
    }
    check(service_instances(&svc) <= svc.max);
    check(fdb_lookup(&sw.fdb, SVC_MAC) == svc.port.index);
}

/* One step; -1 at the script's end. */
static int step(struct script *s)
{
    uint8_t op, b[2];

    if (script_take(s, &op, 1) < 0)
        return -1;
    switch (op % 9) {
    case 0:
        client_raw(s);
        break;
    case 1:
        client_ip(s);
        break;
    case 2:
        client_arp(s);
        break;
    case 3:
        if (script_take(s, b, 1) == 0)
            now += (uint64_t)(b[0] % 64) * 100 * MS;
        break;
    case 4:
        if (script_take(s, b, 1) == 0)
            poll_and_act(b[0]);
        break;
    case 5:
        if (script_take(s, b, 1) == 0)
            vswitch_detach(&inst[b[0] % N].port);
        break;
    case 6:
        if (script_take(s, b, 1) == 0 && inst[b[0] % N].port.sw &&
            (inst[b[0] % N].port.flags & PORT_F_SERVICE))
            port_set_running(&inst[b[0] % N].port);
        break;
    case 7:
        if (script_take(s, b, 2) == 0)
            instance_sends(&inst[b[0] % N], b[1]);
        break;
    default:
        if (script_take(s, b, 1) < 0)
            break;
        if (b[0] & 128)
            inst[b[0] % N].refuse_after = 1u + (b[0] >> 3 & 7u);
        else
            inst[b[0] % N].refuse = !inst[b[0] % N].refuse;
        break;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct script s = { data, size };
    uint8_t head[2];

    if (script_take(&s, head, 2) < 0)
        return 0;
    if (!hold)
        hold = malloc(SERVICE_HOLD_BYTES);
    now = 1000ull * HZ;
    seq = 0;
    idle_tsc = (10u + head[1] * 20u) * (uint64_t)MS;
    vswitch_init(&sw, "fuzz", slots, N + 4, fdb, 64);
    service_init(&svc, SVC_IP, (head[0] & 128) ? 80 : 0, SVC_MAC, 1u + head[0] % N, clock_now,
                 HZ, hold);
    check(service_attach(&svc, &sw) == 0);
    memset(&client, 0, sizeof(client));
    port_init(&client.port, &client_ops, 0, CLIENT_MAC, NULL, &client);
    check(vswitch_attach(&sw, &client.port) == 0);
    port_set_running(&client.port);
    for (int i = 0; i < N; i++)
        instance_reset(&inst[i]);
    check_front();
    while (step(&s) == 0)
        check_front();
    for (int i = 0; i < N; i++)
        vswitch_detach(&inst[i].port);
    for (uint32_t i = 0; i < SUMMON_INSTANCES_MAX; i++)
        check(!svc.slots[i].port);
    check(sw.count == 2);
    check_front();
    return 0;
}
