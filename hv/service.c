/*
 * A summoned service's front (hv/service.h). Frames reach it two ways:
 * broadcasts (the switch floods them to every running port, the front
 * included), of which it answers ARP requests for its address; and
 * unicast to its MAC, which the switch's table points at the front.
 * Those it hands to the instance the frame's flow is pinned to, or holds
 * for one that is to start.
 */
#include "service.h"
#include "fdb.h"
#include "lib.h"
#include "vswitch.h"

#define ETH_ARP         0x0806
#define ETH_IPV4        0x0800
#define ARP_BYTES       28
#define IP_TCP          6
#define IP_UDP          17
#define TCP_FIN         0x01
#define TCP_SYN         0x02
#define TCP_RST         0x04
#define TCP_ACK         0x10

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static int service_deliver(struct port *p, const uint8_t *frame, uint32_t len);

static const struct port_ops service_ops = { service_deliver, NULL };

void service_init(struct service *s, uint32_t ip, uint16_t l4port, const uint8_t mac[6],
                  uint32_t max, uint64_t (*clock)(void), uint64_t tsc_hz,
                  uint8_t *hold_storage)
{
    memset(s, 0, sizeof(*s));
    port_init(&s->port, &service_ops, PORT_F_FIXED_MAC, mac, NULL, s);
    s->ip = ip;
    s->l4port = l4port;
    s->max = max < 1 ? 1 : max > SUMMON_INSTANCES_MAX ? SUMMON_INSTANCES_MAX : max;
    s->clock = clock;
    s->hold_tsc = tsc_hz / 1000 * SERVICE_HOLD_MS;
    s->busy_tsc = tsc_hz / 1000 * SERVICE_FLOW_BUSY_MS;
    s->start_tsc = tsc_hz / 1000 * SERVICE_START_MS;
    for (uint32_t i = 0; i < SERVICE_HOLD_FRAMES; i++)
        s->hold_free[i] = hold_storage + (uint64_t)i * MF_NET_FRAME_MAX;
    s->hold_free_count = SERVICE_HOLD_FRAMES;
    s->counts.latency_min = ~0ULL;
}

int service_attach(struct service *s, struct vswitch *sw)
{
    if (vswitch_attach(sw, &s->port) < 0)
        return -1;
    if (fdb_learn(&sw->fdb, s->port.mac, s->port.index) < 0) {
        vswitch_detach(&s->port);
        return -1;
    }
    s->port.learned = 1;
    port_set_running(&s->port);
    return 0;
}

uint32_t service_instances(const struct service *s)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < s->max; i++)
        n += s->slots[i].state != SLOT_FREE;
    return n;
}

/* Drops every held frame waiting for slot. */
static void drop_held(struct service *s, uint32_t slot)
{
    uint32_t kept = 0;

    for (uint32_t i = 0; i < s->held_count; i++) {
        if (s->held[i].slot == slot) {
            s->hold_free[s->hold_free_count++] = s->held[i].data;
            s->counts.hold_drops++;
        } else {
            s->held[kept++] = s->held[i];
        }
    }
    s->held_count = kept;
}

/* Slot is free again: its flows and held frames go with it. */
static void free_slot(struct service *s, uint32_t slot)
{
    drop_held(s, slot);
    for (uint32_t i = 0; i < SERVICE_FLOWS; i++)
        if (s->flows[i].used && s->flows[i].slot == slot)
            s->flows[i].used = 0;
    memset(&s->slots[slot], 0, sizeof(s->slots[slot]));
}

static const struct port_hooks member_hooks = {
    service_member_running, service_member_sent, service_member_gone,
};

void service_join(struct service *s, uint32_t slot, struct port *p)
{
    if (slot >= s->max)
        return;
    p->flags |= PORT_F_SERVICE;
    p->hooks = &member_hooks;
    p->service = s;
    p->service_slot = slot;
    s->slots[slot].port = p;
}

void service_member_gone(struct port *p)
{
    struct service *s = p->service;
    uint32_t slot = p->service_slot;

    p->flags &= ~PORT_F_SERVICE;
    p->hooks = NULL;
    p->service = NULL;
    if (!s || slot >= s->max || s->slots[slot].port != p)
        return;
    s->counts.ended++;
    free_slot(s, slot);
}

static void wake(const struct service *s)
{
    if (s->wake)
        s->wake();
}

void service_member_running(struct port *p)
{
    if (p->service)
        wake(p->service);
}

void service_member_sent(struct port *p)
{
    struct service *s = p->service;
    struct service_slot *sl;
    uint64_t t;

    if (!s || p->service_slot >= s->max)
        return;
    sl = &s->slots[p->service_slot];
    if (sl->replied || !sl->wanted_tsc)
        return;
    sl->replied = 1;
    sl->reply_tsc = s->clock();
    t = sl->reply_tsc - sl->wanted_tsc;
    s->counts.latency_sum += t;
    s->counts.latency_count++;
    if (t < s->counts.latency_min)
        s->counts.latency_min = t;
    if (t > s->counts.latency_max)
        s->counts.latency_max = t;
}

/* An ARP request for the service's address (broadcast, or unicast to
 * its MAC: a client refreshing its cache): a reply is owed (sent by
 * service_poll: a port never sends from inside its deliver). 1 if it
 * was one, 0 for any other frame. */
static int arp_request(struct service *s, const uint8_t *frame, uint32_t len)
{
    const uint8_t *a = frame + 14;

    if (be16(frame + 12) != ETH_ARP || len < 14 + ARP_BYTES || be16(a) != 1 ||
        be16(a + 2) != ETH_IPV4 || a[4] != 6 || a[5] != 4 || be16(a + 6) != 1 ||
        be32(a + 24) != s->ip)
        return 0;
    if (s->arp_count == SERVICE_ARP_QUEUE)
        return 1;                               /* the client asks again */
    memcpy(s->arp[s->arp_count].mac, a + 8, 6);
    s->arp[s->arp_count].ip = be32(a + 14);
    s->arp_count++;
    return 1;
}

/* A frame's flow: IPv4 to the service's address with its protocol,
 * client address and port. 0, or -1 for anything else. */
struct flow_key {
    uint32_t ip;
    uint16_t port, dport;
    uint8_t proto, flags;           /* flags: TCP's */
};

static int flow_of(const struct service *s, const uint8_t *frame, uint32_t len,
                   struct flow_key *k)
{
    const uint8_t *ip = frame + 14;
    uint32_t ihl;

    if (len < 34 || be16(frame + 12) != ETH_IPV4 || (ip[0] >> 4) != 4)
        return -1;
    ihl = (uint32_t)(ip[0] & 15u) * 4;
    if (ihl < 20 || be32(ip + 16) != s->ip)
        return -1;
    memset(k, 0, sizeof(*k));
    k->ip = be32(ip + 12);
    k->proto = ip[9];
    if ((k->proto == IP_TCP || k->proto == IP_UDP) && 14 + ihl + 4 <= len &&
        !(be16(ip + 6) & 0x1fffu)) {        /* the first fragment carries the ports */
        k->port = be16(ip + ihl);
        k->dport = be16(ip + ihl + 2);
        if (k->proto == IP_TCP && 14 + ihl + 14 <= len)
            k->flags = ip[ihl + 13];
    }
    return 0;
}

static int flow_is(const struct service_flow *f, const struct flow_key *k)
{
    return f->used && f->ip == k->ip && f->port == k->port && f->proto == k->proto;
}

/* A flow's frames come in runs (a TCP window, a request and its ACKs),
 * so the last flow found is tried before the scan. No two used flows
 * have the same key (flow_new follows a failed find), so the memo finds
 * what the scan would. */
static struct service_flow *flow_find(struct service *s, const struct flow_key *k)
{
    if (s->last_flow < SERVICE_FLOWS && flow_is(&s->flows[s->last_flow], k))
        return &s->flows[s->last_flow];
    for (uint32_t i = 0; i < SERVICE_FLOWS; i++)
        if (flow_is(&s->flows[i], k)) {
            s->last_flow = i;
            return &s->flows[i];
        }
    return NULL;
}

/* Flows now loading slot: not closed, with a frame in the last
 * SERVICE_FLOW_BUSY_MS. */
static uint32_t slot_load(const struct service *s, uint32_t slot, uint64_t now)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < SERVICE_FLOWS; i++) {
        const struct service_flow *f = &s->flows[i];
        n += f->used && f->slot == slot && !f->closed && now - f->last_tsc < s->busy_tsc;
    }
    return n;
}

/* The slot a new flow goes to: an instance without load; else a new one
 * while fewer than max; else the least loaded. -1 when none can be had
 * (every slot taken and none alive: cannot happen with max >= 1). */
static int pick_slot(struct service *s, uint64_t now)
{
    int best = -1, spare = -1;
    uint32_t best_load = ~0u;

    for (uint32_t i = 0; i < s->max; i++) {
        if (s->slots[i].state == SLOT_FREE) {
            if (spare < 0)
                spare = (int)i;
            continue;
        }
        uint32_t load = slot_load(s, i, now);
        if (load < best_load) {
            best_load = load;
            best = (int)i;
        }
    }
    if (best >= 0 && (best_load == 0 || spare < 0))
        return best;
    if (spare >= 0) {
        s->slots[spare].state = SLOT_WANTED;
        s->slots[spare].wanted_tsc = now;
        wake(s);
    }
    return spare;
}

/* A new flow pinned to slot (the least recently used entry replaced). */
static struct service_flow *flow_new(struct service *s, const struct flow_key *k,
                                     uint32_t slot, uint64_t now)
{
    struct service_flow *f = &s->flows[0];

    for (uint32_t i = 0; i < SERVICE_FLOWS; i++) {
        if (!s->flows[i].used) {
            f = &s->flows[i];
            break;
        }
        if (s->flows[i].last_tsc < f->last_tsc)
            f = &s->flows[i];
    }
    memset(f, 0, sizeof(*f));
    f->used = 1;
    f->ip = k->ip;
    f->port = k->port;
    f->proto = k->proto;
    f->slot = (uint8_t)slot;
    f->last_tsc = now;
    s->counts.flows++;
    return f;
}

static void hold(struct service *s, uint32_t slot, const uint8_t *frame, uint32_t len,
                 uint64_t now)
{
    struct service_held *h;

    if (!s->hold_free_count) {
        s->counts.hold_drops++;
        return;
    }
    h = &s->held[s->held_count++];
    h->data = s->hold_free[--s->hold_free_count];
    memcpy(h->data, frame, len);
    h->len = (uint16_t)len;
    h->slot = (uint8_t)slot;
    h->tsc = now;
    s->counts.held++;
}

/* Whether frames for slot wait in the hold (a new one must queue behind). */
static int slot_holds(const struct service *s, uint32_t slot)
{
    for (uint32_t i = 0; i < s->held_count; i++)
        if (s->held[i].slot == slot)
            return 1;
    return 0;
}

/* To the instance of slot now, or held until its port runs (or behind
 * frames already held for it, so that none overtakes another). */
static void to_slot(struct service *s, uint32_t slot, const uint8_t *frame, uint32_t len,
                    uint64_t now)
{
    struct service_slot *sl = &s->slots[slot];

    if (slot_holds(s, slot)) {
        hold(s, slot, frame, len, now);
        return;
    }
    if (sl->state == SLOT_READY && sl->port && vswitch_try_deliver(sl->port, frame, len)) {
        sl->active_tsc = now;
        return;
    }
    if (sl->state == SLOT_READY)
        return;                             /* no buffer: a drop, as for any port */
    hold(s, slot, frame, len, now);
}

/* Anything for the service's MAC that belongs to no flow (an ARP reply,
 * ICMP, another port than the service's): to every running instance. */
static void to_all(struct service *s, const uint8_t *frame, uint32_t len, uint64_t now)
{
    int any = 0;

    for (uint32_t i = 0; i < s->max; i++) {
        struct service_slot *sl = &s->slots[i];
        if (sl->state == SLOT_READY && sl->port && vswitch_try_deliver(sl->port, frame, len)) {
            any = 1;
            sl->active_tsc = now;
        }
    }
    if (!any)
        s->counts.no_instance_drops++;
}

static int service_deliver(struct port *p, const uint8_t *frame, uint32_t len)
{
    struct service *s = (struct service *)(void *)p;
    uint64_t now = s->clock();
    struct service_flow *f;
    struct flow_key k;

    if (frame[0] & 1u) {                    /* broadcast or multicast */
        arp_request(s, frame, len);
        return 1;
    }
    if (!fdb_mac_equal(frame, s->port.mac))
        return 1;                           /* flooded unknown unicast: not the service's */
    if (arp_request(s, frame, len))
        return 1;
    if (flow_of(s, frame, len, &k) < 0 ||
        (s->l4port && (k.proto != IP_TCP && k.proto != IP_UDP)) ||
        (s->l4port && k.dport != s->l4port)) {
        to_all(s, frame, len, now);
        return 1;
    }
    f = flow_find(s, &k);
    if (!f) {
        int slot;
        if (k.proto == IP_TCP && (k.flags & (TCP_FIN | TCP_RST))) {
            to_all(s, frame, len, now);     /* the end of a flow nobody holds */
            return 1;
        }
        slot = pick_slot(s, now);
        if (slot < 0) {
            s->counts.no_instance_drops++;
            return 1;
        }
        f = flow_new(s, &k, (uint32_t)slot, now);
    }
    f->last_tsc = now;
    if (k.proto == IP_TCP && (k.flags & (TCP_FIN | TCP_RST)))
        f->closed = 1;
    else if (k.proto == IP_TCP && (k.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
        f->closed = 0;                      /* the same client port, a new connection */
    to_slot(s, f->slot, frame, len, now);
    return 1;
}

/* The ARP replies owed, from the front (under the switch's lock, outside
 * any delivery). */
static void send_arp(struct service *s)
{
    uint8_t r[42];

    for (uint32_t i = 0; i < s->arp_count; i++) {
        memcpy(r, s->arp[i].mac, 6);
        memcpy(r + 6, s->port.mac, 6);
        put16(r + 12, ETH_ARP);
        put16(r + 14, 1);
        put16(r + 16, ETH_IPV4);
        r[18] = 6;
        r[19] = 4;
        put16(r + 20, 2);
        memcpy(r + 22, s->port.mac, 6);
        put32(r + 28, s->ip);
        memcpy(r + 32, s->arp[i].mac, 6);
        put32(r + 38, s->arp[i].ip);
        if (vswitch_forward(&s->port, r, sizeof(r)))
            s->counts.arp_answered++;
    }
    s->arp_count = 0;
}

/* Held frames, in order of arrival: each to its slot's instance once
 * that runs and takes it (after one it does not take, none of that
 * slot's later ones this round); dropped when held too long. */
static void flush(struct service *s, uint64_t now)
{
    uint32_t kept = 0, blocked = 0;

    for (uint32_t i = 0; i < s->held_count; i++) {
        struct service_held *h = &s->held[i];
        struct service_slot *sl = &s->slots[h->slot];
        int done = 0;

        if (sl->state == SLOT_READY && sl->port && !(blocked & (1u << h->slot)) &&
            vswitch_try_deliver(sl->port, h->data, h->len)) {
            s->counts.flushed++;
            sl->active_tsc = now;
            if (!sl->ready_tsc) {
                sl->ready_tsc = now;
                s->counts.ready_sum += now - sl->wanted_tsc;
            }
            done = 1;
        } else if (now - h->tsc > s->hold_tsc) {
            s->counts.hold_drops++;
            done = 1;
        } else {
            blocked |= 1u << h->slot;
        }
        if (done)
            s->hold_free[s->hold_free_count++] = h->data;
        else
            s->held[kept++] = *h;
    }
    s->held_count = kept;
}

void service_poll(struct service *s, uint64_t now, uint64_t idle_tsc,
                  uint32_t want[SUMMON_INSTANCES_MAX], uint32_t *want_count,
                  uint32_t idle[SUMMON_INSTANCES_MAX], uint32_t *idle_count)
{
    *want_count = *idle_count = 0;
    send_arp(s);
    for (uint32_t i = 0; i < s->max; i++) {
        struct service_slot *sl = &s->slots[i];
        if (sl->state == SLOT_STARTING && sl->port && sl->port->state == MF_NET_STATE_RUNNING) {
            sl->state = SLOT_READY;
            sl->active_tsc = now;
        }
    }
    flush(s, now);
    for (uint32_t i = 0; i < SERVICE_FLOWS; i++)
        if (s->flows[i].used && now - s->flows[i].last_tsc > idle_tsc)
            s->flows[i].used = 0;
    for (uint32_t i = 0; i < s->max; i++) {
        struct service_slot *sl = &s->slots[i];
        if (sl->state == SLOT_WANTED) {
            want[(*want_count)++] = i;
        } else if (sl->state == SLOT_STARTING && now - sl->launched_tsc > s->start_tsc) {
            idle[(*idle_count)++] = i;      /* never set its port up: given up */
        } else if (sl->state == SLOT_READY && sl->port && !sl->replied) {
            if (now - sl->launched_tsc > s->start_tsc)
                idle[(*idle_count)++] = i;  /* never answered: given up */
        } else if (sl->state == SLOT_READY && sl->port) {
            uint64_t seen = sl->port->stats.rx_frames + sl->port->stats.tx_frames;
            if (seen != sl->seen) {
                sl->seen = seen;
                sl->active_tsc = now;
            } else if (now - sl->active_tsc >= idle_tsc) {
                idle[(*idle_count)++] = i;
            }
        }
    }
}

void service_launched(struct service *s, uint32_t slot, uint32_t guest_id, uint64_t now)
{
    struct service_slot *sl;

    if (slot >= s->max)
        return;
    sl = &s->slots[slot];
    s->counts.summoned++;
    if (sl->state != SLOT_WANTED)
        return;                     /* it ended already (service_member_gone) */
    sl->state = SLOT_STARTING;
    sl->guest_id = guest_id;
    sl->launched_tsc = now;
}

void service_launch_failed(struct service *s, uint32_t slot)
{
    if (slot >= s->max)
        return;
    s->counts.launch_failures++;
    free_slot(s, slot);
}

void service_start_lost(struct service *s, uint32_t slot)
{
    if (slot >= s->max || s->slots[slot].state != SLOT_STARTING)
        return;
    s->counts.ended++;
    free_slot(s, slot);
}
