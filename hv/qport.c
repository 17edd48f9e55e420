/* The queue port: a ring of whole frames in hypervisor memory. */
#include "qport.h"
#include "lib.h"
#include "vswitch.h"

_Static_assert(offsetof(struct qport, port) == 0, "a qport starts with its port");

static int qport_deliver(struct port *p, const uint8_t *frame, uint32_t len);

static const struct port_ops qport_ops = {
    .deliver = qport_deliver,
    .fail = NULL,
};

void qport_init(struct qport *q, const uint8_t mac[6],
                void (*notify)(struct port *p, enum port_event event), void *owner)
{
    q->head = q->count = 0;
    port_init(&q->port, &qport_ops, PORT_F_FIXED_MAC, mac, notify, owner);
}

void qport_start(struct qport *q)
{
    port_set_running(&q->port);
}

/* port_ops.deliver: a copy at the queue's tail; the owner hears when the
 * queue turns non-empty (later frames find it awake or polling). */
static int qport_deliver(struct port *p, const uint8_t *frame, uint32_t len)
{
    struct qport *q = (struct qport *)(void *)p;
    uint32_t tail;

    if (q->count == QPORT_FRAMES || len > MF_NET_FRAME_MAX) {
        p->stats.drops_no_buffer++;
        return 0;
    }
    tail = (q->head + q->count) % QPORT_FRAMES;
    memcpy(q->frame[tail], frame, len);
    q->len[tail] = (uint16_t)len;
    if (q->count++ == 0)
        port_wake(p);
    return 1;
}

int qport_send(struct qport *q, const uint8_t *frame, uint32_t len)
{
    struct vswitch *sw = q->port.sw;
    int r;

    if (!sw)
        return -1;
    lock_take(&sw->lock);
    r = vswitch_forward(&q->port, frame, len) ? 0 : -1;
    lock_give(&sw->lock);
    return r;
}

/* Under the switch's lock: frames from other CPUs may be arriving. */
static int32_t take(struct qport *q, uint8_t *dst, uint32_t room)
{
    uint32_t len;

    if (!q->count)
        return 0;
    len = q->len[q->head];
    q->head = (q->head + 1) % QPORT_FRAMES;
    q->count--;
    if (len > room) {
        q->port.stats.drops_no_buffer++;
        return -1;
    }
    memcpy(dst, q->frame[(q->head + QPORT_FRAMES - 1) % QPORT_FRAMES], len);
    return (int32_t)len;
}

int32_t qport_take(struct qport *q, uint8_t *dst, uint32_t room)
{
    struct vswitch *sw = q->port.sw;
    int32_t r;

    if (sw)
        lock_take(&sw->lock);
    r = take(q, dst, room);
    if (sw)
        lock_give(&sw->lock);
    return r;
}

/* One word read: no lock. */
uint32_t qport_waiting(const struct qport *q)
{
    return __atomic_load_n(&q->count, __ATOMIC_ACQUIRE);
}
