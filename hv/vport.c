/*
 * The virtio-net device side as a port. A TX chain is gathered once into a
 * bounce buffer on the hypervisor's stack and checked there, so a guest
 * rewriting its buffers mid-copy only changes the bytes of its own frame.
 * A malformed TX ring fails the sender, a malformed RX ring the receiver,
 * never anyone else; either way through port_fail(), which tells the
 * owner once.
 */
#include "vport.h"
#include "arch.h"
#include "fmt.h"
#include "lib.h"
#include "param.h"
#include "../include/mayfly/abi.h"

_Static_assert(sizeof(struct virtio_net_hdr) == VNET_HDR_BYTES, "virtio-net header size");
_Static_assert(MF_NET_FRAME_MAX + VNET_HDR_BYTES < 4096, "bounce buffer fits the stack");
_Static_assert(offsetof(struct vport, port) == 0, "a vport starts with its port");

/* Distance of RX avail_event ahead of the device: the driver can never be
 * this far ahead (it is at most a ring's worth), so it never has to kick
 * RX (buffers are taken when a frame arrives). */
#define RX_EVENT_FAR    0x8000u
_Static_assert(RX_EVENT_FAR > MF_NET_QUEUE_MAX, "RX avail_event out of the driver's reach");
_Static_assert(RX_EVENT_FAR > 2u * MF_NET_QUEUE_MAX,
               "RX avail_event out of the driver's reach until a burst's flush moves it");

#define WHY_MAX         128

static int vport_deliver(struct port *p, const uint8_t *frame, uint32_t len);
static void vport_fail(struct port *p);
static void vport_flush(struct port *p);

static const struct port_ops vport_ops = {
    .deliver = vport_deliver,
    .fail = vport_fail,
};

void vport_init(struct vport *v, const uint8_t mac[6], const struct guest_mem *mem,
                void (*notify)(struct port *p, enum port_event event), void *owner)
{
    memset(v, 0, sizeof(*v));
    port_init(&v->port, &vport_ops, PORT_F_FIXED_MAC, mac, notify, owner);
    v->port.flush = vport_flush;
    v->mem = *mem;
}

struct vport *vport_of(struct port *p)
{
    return p && p->ops == &vport_ops ? (struct vport *)(void *)p : NULL;
}

/* A failed port's rings are not touched again: no pop, push or hint. */
static void vport_fail(struct port *p)
{
    struct vport *v = (struct vport *)(void *)p;

    v->rx.ready = 0;
    v->tx.ready = 0;
}

/* After validation: the queues replace v's, the rings learn how the
 * driver should kick. */
static void commit_setup(struct vport *v, struct mf_net_setup *s, uint64_t features,
                         const struct virtq *rx, const struct virtq *tx)
{
    v->rx = *rx;
    v->tx = *tx;
    v->features = features;
    if (features & MF_FEATURE_BIT(VIRTIO_RING_F_EVENT_IDX)) {
        virtq_set_avail_event(&v->rx, &v->mem,
                              (uint16_t)(virtq_avail_idx(&v->rx, &v->mem) + RX_EVENT_FAR));
        virtq_set_avail_event(&v->tx, &v->mem, virtq_avail_idx(&v->tx, &v->mem));
    } else {
        virtq_set_used_flags(&v->rx, &v->mem, VIRTQ_USED_F_NO_NOTIFY);
        virtq_set_used_flags(&v->tx, &v->mem, 0);
    }
    s->features = features;
    memcpy(s->mac, v->port.mac, sizeof(s->mac));
    s->mtu = MF_NET_MTU;
    port_set_running(&v->port);
}

static int setup(struct vport *v, struct mf_net_setup *s)
{
    struct port *p = &v->port;
    struct virtq rx, tx;
    uint64_t features;
    char why[WHY_MAX];
    int event_idx;

    if (!p->sw) {
        str_copy(p->why, "port is not attached to a switch", sizeof(p->why));
        return -MF_EIO;
    }
    if (p->state == MF_NET_STATE_FAILED)
        return -MF_EIO;             /* dead for good; p->why still says why */
    s->device_features = VPORT_DEVICE_FEATURES;
    if (!(s->driver_features & MF_FEATURE_BIT(VIRTIO_F_VERSION_1))) {
        fmt_snprintf(p->why, sizeof(p->why), "driver features 0x%llx lack VIRTIO_F_VERSION_1",
                     (unsigned long long)s->driver_features);
        return -MF_EINVAL;
    }
    features = s->driver_features & VPORT_DEVICE_FEATURES;
    event_idx = (features & MF_FEATURE_BIT(VIRTIO_RING_F_EVENT_IDX)) != 0;
    if (virtq_setup(&rx, &v->mem, &s->queues[MF_NET_QUEUE_RX], event_idx, why, sizeof(why)) < 0) {
        fmt_snprintf(p->why, sizeof(p->why), "rx queue: %s", why);
        return -MF_EINVAL;
    }
    if (virtq_setup(&tx, &v->mem, &s->queues[MF_NET_QUEUE_TX], event_idx, why, sizeof(why)) < 0) {
        fmt_snprintf(p->why, sizeof(p->why), "tx queue: %s", why);
        return -MF_EINVAL;
    }
    commit_setup(v, s, features, &rx, &tx);
    return 0;
}

/* Under the switch's lock: frames from other CPUs may be arriving. */
int vport_setup(struct vport *v, struct mf_net_setup *s)
{
    struct vswitch *sw = v->port.sw;
    int r;

    if (sw)
        lock_take(&sw->lock);
    r = setup(v, s);
    if (sw)
        lock_give(&sw->lock);
    return r;
}

static int kick(struct vport *v, uint64_t queue)
{
    if (queue != MF_NET_QUEUE_RX && queue != MF_NET_QUEUE_TX)
        return -MF_EINVAL;
    if (v->port.state != MF_NET_STATE_RUNNING)
        return -MF_EIO;
    if (queue == MF_NET_QUEUE_RX)
        return 0;                   /* RX buffers are taken when a frame arrives */
    return vport_transmit(v);
}

int vport_kick(struct vport *v, uint64_t queue)
{
    struct vswitch *sw = v->port.sw;
    uint64_t t0;
    int r;

    if (!sw)
        return -MF_EIO;
    lock_take(&sw->lock);
    t0 = time_arch_tsc();
    r = kick(v, queue);
    vswitch_account(sw, time_arch_tsc() - t0);
    lock_give(&sw->lock);
    return r;
}

/* Writes header and frame into a popped RX chain and hands it back (the
 * used idx is published by vport_flush); a chain too small for both goes
 * back empty. 1 if the frame went in. A chain of one buffer, as drivers
 * post them, takes both with one translation and one copy. */
static int fill_rx_chain(struct vport *v, const struct virtq_chain *chain, const uint8_t *frame,
                         uint32_t len)
{
    /* No offload, no VIRTIO_NET_F_MRG_RXBUF: always this header. */
    static const struct virtio_net_hdr hdr = { .num_buffers = 1 };
    uint8_t *host;

    if (chain->total < VNET_HDR_BYTES + len) {
        virtq_push_elem(&v->rx, &v->mem, chain->head, 0);
        v->port.stats.drops_no_buffer++;
        return 0;
    }
    host = chain->count == 1 ? gmem_at(&v->mem, chain->bufs[0].gpa, VNET_HDR_BYTES + len) : NULL;
    if (host) {
        __builtin_memcpy(host, &hdr, VNET_HDR_BYTES);      /* two stores */
        memcpy(host + VNET_HDR_BYTES, frame, len);
    } else {
        virtq_scatter(&v->mem, chain, 0, (const uint8_t *)&hdr, VNET_HDR_BYTES);
        virtq_scatter(&v->mem, chain, VNET_HDR_BYTES, frame, len);
    }
    virtq_push_elem(&v->rx, &v->mem, chain->head, VNET_HDR_BYTES + len);
    return 1;
}

/* port_ops.deliver: into the next posted RX buffer; vport_flush finishes. */
static int vport_deliver(struct port *p, const uint8_t *frame, uint32_t len)
{
    struct vport *v = (struct vport *)(void *)p;
    struct virtq_chain chain;
    char why[WHY_MAX];
    int r;

    r = virtq_pop(&v->rx, &v->mem, 1, &chain, why, sizeof(why));
    if (r <= 0) {
        if (r < 0)
            port_fail(p, "rx ring: %s", why);
        else
            p->stats.drops_no_buffer++;
        return 0;
    }
    return fill_rx_chain(v, &chain, frame, len);
}

/* The port's flush, once per burst: RX avail_event moved past the buffers
 * taken (a burst takes at most a sender's budget, one ring's worth, and
 * the driver is at most a ring ahead of that: still out of its reach in
 * between), the used idx published, and one notification decision for
 * the frames of the burst. Nothing on a failed port (its queues are no
 * longer ready). */
static void vport_flush(struct port *p)
{
    struct vport *v = (struct vport *)(void *)p;
    uint16_t old_used = v->rx.used_published;

    if (v->rx.event_idx)
        virtq_set_avail_event(&v->rx, &v->mem, (uint16_t)(v->rx.last_avail + RX_EVENT_FAR));
    virtq_publish(&v->rx, &v->mem);
    if (virtq_should_notify(&v->rx, &v->mem, old_used))
        port_wake(p);
}

/* One TX chain: 1 if the switch accepted its frame, else 0. buf holds
 * VNET_HDR_BYTES + MF_NET_FRAME_MAX bytes. The frame is copied once, into
 * buf, before anything of it is looked at (see vswitch.c). */
static int transmit_chain(struct vport *v, const struct virtq_chain *chain, uint8_t *buf)
{
    uint32_t total = chain->total;
    const uint8_t *host;

    /* The header's contents are ignored: no offload was negotiated. */
    if (total < VNET_HDR_BYTES + VNET_FRAME_MIN || total > VNET_HDR_BYTES + MF_NET_FRAME_MAX) {
        vswitch_refuse(&v->port);
        return 0;
    }
    host = chain->count == 1 ? gmem_at(&v->mem, chain->bufs[0].gpa, total) : NULL;
    if (host) {
        memcpy(buf, host, total);
    } else if (virtq_gather(&v->mem, chain, 0, buf, total) != total) {
        vswitch_refuse(&v->port);
        return 0;
    }
    return vswitch_forward(&v->port, buf + VNET_HDR_BYTES, total - VNET_HDR_BYTES);
}

/* Pops and forwards up to *budget chains. 0 when the ring is empty or the
 * budget spent, -1 (why set) for a malformed ring. */
static int drain(struct vport *v, uint8_t *buf, uint32_t *budget, int *sent, char *why,
                 size_t why_size)
{
    struct virtq_chain chain;
    int r;

    while (*budget > 0) {
        r = virtq_pop(&v->tx, &v->mem, 0, &chain, why, why_size);
        if (r <= 0)
            return r;
        (*budget)--;
        *sent += transmit_chain(v, &chain, buf);
        virtq_push_elem(&v->tx, &v->mem, chain.head, 0);
    }
    return 0;
}

/* The kick's work as one burst: the frames' used entries published once,
 * one notification decision for each side. */
static int transmit_burst(struct vport *v)
{
    uint8_t buf[VNET_HDR_BYTES + MF_NET_FRAME_MAX];
    uint16_t old_used = v->tx.used_published;
    uint32_t budget = v->tx.size;   /* one ring's worth: bounded work per kick */
    char why[WHY_MAX];
    int sent = 0;

    for (;;) {
        if (drain(v, buf, &budget, &sent, why, sizeof(why)) < 0) {
            port_fail(&v->port, "tx ring: %s", why);
            return -MF_EIO;
        }
        if (budget == 0) {          /* work may be left: the driver's next buffer must kick */
            virtq_set_avail_event(&v->tx, &v->mem, virtq_avail_idx(&v->tx, &v->mem));
            break;
        }
        if (!virtq_kick_rearm(&v->tx, &v->mem))
            break;
        budget--;                   /* a guest flipping avail idx cannot keep us here */
    }
    virtq_publish(&v->tx, &v->mem);
    if (virtq_should_notify(&v->tx, &v->mem, old_used))
        port_wake(&v->port);
    return sent;
}

int vport_transmit(struct vport *v)
{
    struct vswitch *sw = v->port.sw;
    int sent;

    if (!sw || v->port.state != MF_NET_STATE_RUNNING || !v->tx.ready)
        return -MF_EIO;
    vswitch_burst_begin(sw);
    sent = transmit_burst(v);
    vswitch_burst_end(sw);          /* the receivers' rings, even when the sender failed */
    return sent;
}
