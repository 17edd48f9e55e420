/*
 * The L2 switch and the device side of each virtio-net port. A TX chain is
 * gathered once into a bounce buffer on the hypervisor's stack and checked
 * there, so a guest rewriting its buffers mid-copy only changes the bytes
 * of its own frame. Ports fail one at a time: a malformed TX ring fails the
 * sender, a malformed RX ring the receiver, never anyone else.
 */
#include "vswitch.h"
#include "fmt.h"
#include "lib.h"
#include "param.h"
#include "../include/mayfly/abi.h"

_Static_assert(sizeof(struct virtio_net_hdr) == VNET_HDR_BYTES, "virtio-net header size");
_Static_assert(MF_NET_FRAME_MAX + VNET_HDR_BYTES < 4096, "bounce buffer fits the stack");

/* Distance of RX avail_event ahead of the device: the driver can never be
 * this far ahead (it is at most a ring's worth), so it never has to kick
 * RX (buffers are taken when a frame arrives). */
#define RX_EVENT_FAR    0x8000u
_Static_assert(RX_EVENT_FAR > MF_NET_QUEUE_MAX, "RX avail_event out of the driver's reach");

#define WHY_MAX         128

void vswitch_init(struct vswitch *sw, const char *name, struct vport **port_storage,
                  uint32_t capacity, struct fdb_entry *fdb_storage, uint32_t fdb_capacity)
{
    memset(sw, 0, sizeof(*sw));
    str_copy(sw->name, name ? name : "", sizeof(sw->name));
    sw->ports = port_storage;
    sw->capacity = port_storage ? capacity : 0;
    for (uint32_t i = 0; i < sw->capacity; i++)
        sw->ports[i] = NULL;
    fdb_init(&sw->fdb, fdb_storage, fdb_capacity);
}

int vswitch_attach(struct vswitch *sw, struct vport *p)
{
    uint32_t i = 0;

    if (p->sw)
        return -1;
    while (i < sw->capacity && sw->ports[i])
        i++;
    if (i == sw->capacity)
        return -1;
    p->sw = sw;
    p->index = i;
    p->state = MF_NET_STATE_RESET;
    p->features = 0;
    memset(&p->rx, 0, sizeof(p->rx));
    memset(&p->tx, 0, sizeof(p->tx));
    memset(&p->stats, 0, sizeof(p->stats));
    p->why[0] = '\0';
    p->learned = 0;
    sw->ports[i] = p;
    sw->count++;
    return 0;
}

void vswitch_detach(struct vport *p)
{
    struct vswitch *sw = p->sw;

    if (!sw)
        return;
    if (p->index < sw->capacity && sw->ports[p->index] == p) {
        sw->ports[p->index] = NULL;
        sw->count--;
        fdb_forget_port(&sw->fdb, p->index);
    }
    p->sw = NULL;
}

static void set_state(struct vport *p, uint32_t state)
{
    p->state = state;
    p->stats.state = state;
}

static void fail_port(struct vport *p, const char *ring, const char *why)
{
    fmt_snprintf(p->why, sizeof(p->why), "%s ring: %s", ring, why);
    set_state(p, MF_NET_STATE_FAILED);
}

static void count_drop(struct vswitch *sw)
{
    if (sw)
        sw->drops++;
}

/* After validation: the queues replace p's, the rings learn how the
 * driver should kick. */
static void commit_setup(struct vport *p, struct mf_net_setup *s, uint64_t features,
                         const struct virtq *rx, const struct virtq *tx)
{
    p->rx = *rx;
    p->tx = *tx;
    p->features = features;
    if (features & MF_FEATURE_BIT(VIRTIO_RING_F_EVENT_IDX)) {
        virtq_set_avail_event(&p->rx, &p->mem,
                              (uint16_t)(virtq_avail_idx(&p->rx, &p->mem) + RX_EVENT_FAR));
        virtq_set_avail_event(&p->tx, &p->mem, virtq_avail_idx(&p->tx, &p->mem));
    } else {
        virtq_set_used_flags(&p->rx, &p->mem, VIRTQ_USED_F_NO_NOTIFY);
        virtq_set_used_flags(&p->tx, &p->mem, 0);
    }
    s->features = features;
    memcpy(s->mac, p->mac, sizeof(s->mac));
    s->mtu = MF_NET_MTU;
    p->why[0] = '\0';
    set_state(p, MF_NET_STATE_RUNNING);
}

int vport_setup(struct vport *p, struct mf_net_setup *s)
{
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
    if (virtq_setup(&rx, &p->mem, &s->queues[MF_NET_QUEUE_RX], event_idx, why, sizeof(why)) < 0) {
        fmt_snprintf(p->why, sizeof(p->why), "rx queue: %s", why);
        return -MF_EINVAL;
    }
    if (virtq_setup(&tx, &p->mem, &s->queues[MF_NET_QUEUE_TX], event_idx, why, sizeof(why)) < 0) {
        fmt_snprintf(p->why, sizeof(p->why), "tx queue: %s", why);
        return -MF_EINVAL;
    }
    commit_setup(p, s, features, &rx, &tx);
    return 0;
}

int vport_kick(struct vport *p, uint64_t queue)
{
    if (queue != MF_NET_QUEUE_RX && queue != MF_NET_QUEUE_TX)
        return -MF_EINVAL;
    if (!p->sw || p->state != MF_NET_STATE_RUNNING)
        return -MF_EIO;
    if (queue == MF_NET_QUEUE_RX)
        return 0;                   /* RX buffers are taken when a frame arrives */
    return vswitch_transmit(p);
}

/* Writes header and frame into a popped RX chain and hands it back; a
 * chain too small for both goes back empty. */
static void fill_rx_chain(struct vport *dst, const struct virtq_chain *chain,
                          const uint8_t *frame, uint32_t len)
{
    struct virtio_net_hdr hdr;

    if (chain->total < VNET_HDR_BYTES + len) {
        virtq_push(&dst->rx, &dst->mem, chain->head, 0);
        dst->stats.drops_no_buffer++;
        count_drop(dst->sw);
        return;
    }
    memset(&hdr, 0, sizeof(hdr));
    hdr.num_buffers = 1;            /* no VIRTIO_NET_F_MRG_RXBUF: always one */
    virtq_scatter(&dst->mem, chain, 0, (const uint8_t *)&hdr, VNET_HDR_BYTES);
    virtq_scatter(&dst->mem, chain, VNET_HDR_BYTES, frame, len);
    virtq_push(&dst->rx, &dst->mem, chain->head, VNET_HDR_BYTES + len);
    dst->stats.rx_frames++;
    dst->stats.rx_bytes += len;
    dst->sw->frames++;
}

void vswitch_deliver(struct vport *dst, const uint8_t *frame, uint32_t len)
{
    struct virtq_chain chain;
    uint16_t old_used = dst->rx.used_idx;
    char why[WHY_MAX];
    int r;

    if (!dst->sw || dst->state != MF_NET_STATE_RUNNING || !frame ||
        len < VNET_FRAME_MIN || len > MF_NET_FRAME_MAX) {
        count_drop(dst->sw);
        return;
    }
    r = virtq_pop(&dst->rx, &dst->mem, 1, &chain, why, sizeof(why));
    if (r <= 0) {
        if (r < 0)
            fail_port(dst, "rx", why);
        else
            dst->stats.drops_no_buffer++;
        count_drop(dst->sw);
        return;
    }
    if (dst->rx.event_idx)
        virtq_set_avail_event(&dst->rx, &dst->mem, (uint16_t)(dst->rx.last_avail + RX_EVENT_FAR));
    fill_rx_chain(dst, &chain, frame, len);
    if (dst->notify && virtq_should_notify(&dst->rx, &dst->mem, old_used))
        dst->notify(dst);
}

/* Known unicast goes to its port; broadcast, multicast and unknown
 * unicast to every other running port. Never back to the sender. */
static void forward(struct vport *src, const uint8_t *frame, uint32_t len)
{
    struct vswitch *sw = src->sw;

    if (!(frame[0] & 1u)) {
        uint32_t port = fdb_lookup(&sw->fdb, frame);

        if (port != FDB_NONE) {
            struct vport *dst = port < sw->capacity ? sw->ports[port] : NULL;

            if (dst && dst != src && dst->state == MF_NET_STATE_RUNNING)
                vswitch_deliver(dst, frame, len);
            else
                sw->drops++;
            return;
        }
    }
    uint32_t copies = 0;
    for (uint32_t i = 0; i < sw->capacity; i++) {
        struct vport *dst = sw->ports[i];

        if (dst && dst != src && dst->state == MF_NET_STATE_RUNNING) {
            vswitch_deliver(dst, frame, len);
            copies++;
        }
    }
    /* Unicast that nobody could take (its port is gone) is a drop; a
     * broadcast with no other port is not. */
    if (!copies && !(frame[0] & 1u))
        sw->drops++;
}

/* One TX chain: 1 if its frame was accepted (then forwarded), else 0. buf
 * holds VNET_HDR_BYTES + MF_NET_FRAME_MAX bytes. */
static int transmit_chain(struct vport *p, const struct virtq_chain *chain, uint8_t *buf)
{
    uint32_t total = chain->total, len;
    const uint8_t *frame = buf + VNET_HDR_BYTES;

    /* The header's contents are ignored: no offload was negotiated. */
    if (total < VNET_HDR_BYTES + VNET_FRAME_MIN || total > VNET_HDR_BYTES + MF_NET_FRAME_MAX ||
        virtq_gather(&p->mem, chain, 0, buf, total) != total ||
        memcmp(frame + 6, p->mac, sizeof(p->mac)) != 0) {
        p->stats.drops_malformed++;
        p->sw->drops++;
        return 0;
    }
    len = total - VNET_HDR_BYTES;
    p->stats.tx_frames++;
    p->stats.tx_bytes += len;
    /* A port only ever sends from its own MAC (checked above), so it is
     * learned once; a full table leaves it unlearned (frames to it flood)
     * and it is tried again on the next frame. */
    if (!p->learned)
        p->learned = fdb_learn(&p->sw->fdb, frame + 6, p->index) == 0;
    forward(p, frame, len);
    return 1;
}

/* Pops and forwards up to *budget chains. 0 when the ring is empty or the
 * budget spent, -1 (why set) for a malformed ring. */
static int drain(struct vport *p, uint8_t *buf, uint32_t *budget, int *sent,
                 char *why, size_t why_size)
{
    struct virtq_chain chain;
    int r;

    while (*budget > 0) {
        r = virtq_pop(&p->tx, &p->mem, 0, &chain, why, why_size);
        if (r <= 0)
            return r;
        (*budget)--;
        *sent += transmit_chain(p, &chain, buf);
        virtq_push(&p->tx, &p->mem, chain.head, 0);
    }
    return 0;
}

int vswitch_transmit(struct vport *p)
{
    uint8_t buf[VNET_HDR_BYTES + MF_NET_FRAME_MAX];
    uint16_t old_used = p->tx.used_idx;
    uint32_t budget = p->tx.size;   /* one ring's worth: bounded work per kick */
    char why[WHY_MAX];
    int sent = 0;

    if (!p->sw || p->state != MF_NET_STATE_RUNNING || !p->tx.ready)
        return -MF_EIO;
    for (;;) {
        if (drain(p, buf, &budget, &sent, why, sizeof(why)) < 0) {
            fail_port(p, "tx", why);
            return -MF_EIO;
        }
        if (budget == 0) {          /* work may be left: the driver's next buffer must kick */
            virtq_set_avail_event(&p->tx, &p->mem, virtq_avail_idx(&p->tx, &p->mem));
            break;
        }
        if (!virtq_kick_rearm(&p->tx, &p->mem))
            break;
        budget--;                   /* a guest flipping avail idx cannot keep us here */
    }
    if (p->notify && virtq_should_notify(&p->tx, &p->mem, old_used))
        p->notify(p);
    return sent;
}
