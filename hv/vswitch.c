/*
 * The L2 switch. It moves frames between ports through their operations
 * only; a frame reaches it already copied into hypervisor memory by the
 * sending port, so a sender rewriting its buffers meanwhile changes
 * nothing here. Ports fail one at a time, each through its own
 * implementation: the switch never fails a port.
 */
#include "vswitch.h"
#include "lib.h"
#include "../include/mayfly/cap.h"

_Static_assert(SWITCH_NAME_MAX <= sizeof(((struct mf_cap_info *)0)->name),
               "a switch's name fits the boot-info capability entry");

void vswitch_init(struct vswitch *sw, const char *name, struct port **port_storage,
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

int vswitch_attach(struct vswitch *sw, struct port *p)
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
    memset(&p->stats, 0, sizeof(p->stats));
    p->state = p->stats.state = MF_NET_STATE_RESET;
    p->why[0] = '\0';
    p->learned = 0;
    p->flush_next = NULL;
    p->flush_queued = 0;
    sw->ports[i] = p;
    sw->count++;
    return 0;
}

/* Every port delivered to since the last flush finishes its deliveries. */
static void flush_all(struct vswitch *sw)
{
    struct port *p;

    while ((p = sw->flush_list) != NULL) {
        sw->flush_list = p->flush_next;
        p->flush_next = NULL;
        p->flush_queued = 0;
        p->flush(p);
    }
}

void vswitch_burst_begin(struct vswitch *sw)
{
    sw->in_burst = 1;
}

void vswitch_burst_end(struct vswitch *sw)
{
    sw->in_burst = 0;
    flush_all(sw);
}

/* Outside a burst, a send or delivery is finished before it returns. */
static void flush_unless_burst(struct vswitch *sw)
{
    if (!sw->in_burst && sw->flush_list)
        flush_all(sw);
}

void vswitch_detach(struct port *p)
{
    struct vswitch *sw = p->sw;

    if (!sw)
        return;
    if (p->flush_queued)
        flush_all(sw);              /* nothing of p's may stay pending once it leaves */
    if ((p->flags & PORT_F_SERVICE) && p->hooks)
        p->hooks->gone(p);
    if (p->index < sw->capacity && sw->ports[p->index] == p) {
        sw->ports[p->index] = NULL;
        sw->count--;
        fdb_forget_port(&sw->fdb, p->index);
    }
    p->sw = NULL;
}

/* dst's deliveries are finished by its flush at the end of the burst. */
static void queue_flush(struct vswitch *sw, struct port *dst)
{
    if (dst->flush && !dst->flush_queued) {
        dst->flush_queued = 1;
        dst->flush_next = sw->flush_list;
        sw->flush_list = dst;
    }
}

/* One copy to a running port of this switch, frame already checked;
 * inlined: it is on every switched frame's path. */
static inline __attribute__((always_inline))
void deliver_one(struct vswitch *sw, struct port *dst, const uint8_t *frame, uint32_t len)
{
    int taken = dst->ops->deliver(dst, frame, len);

    queue_flush(sw, dst);
    if (!taken) {
        sw->drops++;
        return;
    }
    sw->frames++;
    dst->stats.rx_frames++;
    dst->stats.rx_bytes += len;
}

void vswitch_deliver(struct port *dst, const uint8_t *frame, uint32_t len)
{
    struct vswitch *sw = dst->sw;

    if (!sw)
        return;
    if (dst->state != MF_NET_STATE_RUNNING || !frame || len < PORT_FRAME_MIN ||
        len > MF_NET_FRAME_MAX) {
        sw->drops++;
        return;
    }
    deliver_one(sw, dst, frame, len);
    flush_unless_burst(sw);
}

int vswitch_try_deliver(struct port *dst, const uint8_t *frame, uint32_t len)
{
    struct vswitch *sw = dst->sw;
    int taken;

    if (!sw || dst->state != MF_NET_STATE_RUNNING || !frame || len < PORT_FRAME_MIN ||
        len > MF_NET_FRAME_MAX)
        return 0;
    taken = dst->ops->deliver(dst, frame, len);
    queue_flush(sw, dst);
    flush_unless_burst(sw);
    if (!taken)
        return 0;
    sw->frames++;
    dst->stats.rx_frames++;
    dst->stats.rx_bytes += len;
    return 1;
}

/* Known unicast goes to its port; broadcast and multicast to every
 * other running port. Unknown unicast floods the guests' ports only: one
 * from the wire (an uplink) is dropped, and a guest's never goes out to
 * an uplink, so nothing leaves the machine for an address nobody here
 * has seen. Never back to the sender. Instances behind a summoned
 * service get no flood: their front (hv/service.c) answers for them. */
static void flood_or_send(struct vswitch *sw, struct port *src, const uint8_t *frame,
                          uint32_t len)
{
    int unicast = !(frame[0] & 1u);     /* past the lookup below: unknown unicast */
    uint32_t copies = 0;

    if (unicast) {
        uint32_t index = fdb_lookup_memo(&sw->fdb, &sw->last_dst, frame);

        if (index != FDB_NONE) {
            struct port *dst = index < sw->capacity ? sw->ports[index] : NULL;

            if (dst && dst != src && dst->state == MF_NET_STATE_RUNNING)
                deliver_one(sw, dst, frame, len);
            else
                sw->drops++;
            return;
        }
        if (src->flags & PORT_F_UPLINK) {
            sw->drops++;
            return;
        }
    }
    for (uint32_t i = 0; i < sw->capacity; i++) {
        struct port *dst = sw->ports[i];

        if (dst && dst != src && dst->state == MF_NET_STATE_RUNNING &&
            !(dst->flags & PORT_F_SERVICE) && !(unicast && (dst->flags & PORT_F_UPLINK))) {
            deliver_one(sw, dst, frame, len);
            copies++;
        }
    }
    /* Unicast that nobody could take (its port is gone) is a drop; a
     * broadcast with no other port is not. */
    if (!copies && unicast)
        sw->drops++;
}

/* Whether source is learnt on a port with a fixed MAC (a guest's): a
 * frame from elsewhere (the wire) claiming it must not move it. */
static int owned_by_fixed(const struct vswitch *sw, const uint8_t *source)
{
    uint32_t index = fdb_lookup(&sw->fdb, source);
    const struct port *p = index != FDB_NONE && index < sw->capacity ? sw->ports[index] : NULL;

    return p && (p->flags & PORT_F_FIXED_MAC);
}

/* A port with a fixed MAC only ever sends from it (checked before), so it
 * is learnt once; a full table leaves it unlearnt (frames to it flood) and
 * it is tried again on the next frame. Other ports have their sources
 * learnt as they come, group addresses never. */
static void learn(struct vswitch *sw, struct port *src, const uint8_t *source)
{
    if (src->flags & PORT_F_SERVICE)
        return;                     /* the service's address is its front's */
    if (src->flags & PORT_F_FIXED_MAC) {
        if (!src->learned)
            src->learned = fdb_learn(&sw->fdb, source, src->index) == 0;
    } else if (!(source[0] & 1u) && !owned_by_fixed(sw, source)) {
        fdb_learn(&sw->fdb, source, src->index);
    }
}

void vswitch_refuse(struct port *src)
{
    src->stats.drops_malformed++;
    if (src->sw)
        src->sw->drops++;
}

int vswitch_forward(struct port *src, const uint8_t *frame, uint32_t len)
{
    struct vswitch *sw = src->sw;

    if (!sw || src->state != MF_NET_STATE_RUNNING || !frame || len < PORT_FRAME_MIN ||
        len > MF_NET_FRAME_MAX ||
        ((src->flags & PORT_F_FIXED_MAC) && !fdb_mac_equal(frame + 6, src->mac))) {
        vswitch_refuse(src);
        return 0;
    }
    src->stats.tx_frames++;
    src->stats.tx_bytes += len;
    learn(sw, src, frame + 6);
    if ((src->flags & PORT_F_SERVICE) && src->hooks)
        src->hooks->sent(src);
    flood_or_send(sw, src, frame, len);
    flush_unless_burst(sw);
    return 1;
}

void vswitch_account(struct vswitch *sw, uint64_t ticks)
{
    sw->kicks++;
    sw->busy_tsc += ticks;
}
