/*
 * The virtio-net driver for one port (net.h). Split rings in the exact
 * virtio 1.x layout, one descriptor per buffer: RX descriptor i always
 * points at rx_buffers[i], TX descriptor i at tx_buffers[i], so a
 * descriptor id names its buffer. The hypervisor is the device; it reads
 * the rings in our memory and is reached through env.h.
 *
 * Ordering: the device may run on another CPU. x86 keeps stores in order
 * and loads in order, so a compiler barrier suffices between filling a
 * descriptor and publishing an index, and between reading an index and the
 * entries it covers; only "store an index, then read the device's event
 * index" needs a full fence (the store-load order x86 does not keep).
 */
#include "env.h"
#include "net.h"

#define compiler_barrier()  __asm__ volatile("" ::: "memory")
#define full_barrier()      __atomic_thread_fence(__ATOMIC_SEQ_CST)

/* One queue's rings: the descriptor table (16-byte aligned), the avail
 * ring (flags, idx, ring[n], used_event) and the used ring (flags, idx,
 * ring[n], avail_event; 4-byte aligned), laid out as virtio says. */
#define NET_RINGS(name, n)                                      \
    struct name {                                               \
        struct virtq_desc desc[n];                              \
        uint16_t avail[3 + (n)];                                \
        struct {                                                \
            uint16_t flags;                                     \
            uint16_t idx;                                       \
            struct virtq_used_elem ring[n];                     \
            uint16_t avail_event;                               \
        } used;                                                 \
    }

NET_RINGS(net_rx_rings, NET_RX_SIZE);
NET_RINGS(net_tx_rings, NET_TX_SIZE);

_Static_assert((NET_RX_SIZE & (NET_RX_SIZE - 1)) == 0 && NET_RX_SIZE <= MF_NET_QUEUE_MAX,
               "RX queue size");
_Static_assert((NET_TX_SIZE & (NET_TX_SIZE - 1)) == 0 && NET_TX_SIZE <= MF_NET_QUEUE_MAX,
               "TX queue size");
_Static_assert(NET_BUF_LEN <= NET_BUF_STRIDE, "buffer stride");
_Static_assert(__builtin_offsetof(struct net_rx_rings, used) % 4 == 0, "used ring alignment");
_Static_assert(__builtin_offsetof(struct net_tx_rings, used) % 4 == 0, "used ring alignment");

#define AVAIL_FLAGS     0
#define AVAIL_IDX       1
#define AVAIL_RING      2

/* A queue as the driver tracks it. */
struct net_queue {
    uint16_t size;
    struct virtq_desc *desc;
    volatile uint16_t *avail;           /* [AVAIL_FLAGS], [AVAIL_IDX], ring, used_event */
    volatile uint16_t *used_flags;
    volatile uint16_t *used_idx;
    volatile struct virtq_used_elem *used_ring;
    volatile uint16_t *avail_event;
    uint16_t avail_next;                /* our next avail index (not yet published) */
    uint16_t published;                 /* the avail index the device has seen */
    uint16_t last_used;                 /* next used entry to consume */
};

static struct net_rx_rings rx_rings __attribute__((aligned(4096)));
static struct net_tx_rings tx_rings __attribute__((aligned(4096)));
static uint8_t rx_buffers[NET_RX_SIZE][NET_BUF_STRIDE] __attribute__((aligned(4096)));
static uint8_t tx_buffers[NET_TX_SIZE][NET_BUF_STRIDE] __attribute__((aligned(4096)));

static struct {
    unsigned slot;
    int open;
    int error;                          /* -MF_EIO once the port failed */
    int event_idx;                      /* VIRTIO_RING_F_EVENT_IDX negotiated */
    uint8_t mac[ETH_ALEN];
    struct net_queue rx, tx;
    uint8_t rx_posted[NET_RX_SIZE];     /* 1 while the device owns the buffer */
    uint8_t tx_busy[NET_TX_SIZE];       /* 1 while the device owns the buffer */
    uint16_t tx_free[NET_TX_SIZE];      /* a stack of free TX descriptor ids */
    unsigned tx_free_count;
    struct net_counters counters;
} dev;

static uint64_t gpa(const void *p)
{
    /* Guests run identity-mapped: a pointer is its guest-physical address. */
    return (uint64_t)(uintptr_t)p;
}

#define QUEUE_INIT(q, rings, n) do {                            \
        (q)->size = (n);                                        \
        (q)->desc = (rings)->desc;                              \
        (q)->avail = (rings)->avail;                            \
        (q)->used_flags = &(rings)->used.flags;                 \
        (q)->used_idx = &(rings)->used.idx;                     \
        (q)->used_ring = (rings)->used.ring;                    \
        (q)->avail_event = &(rings)->used.avail_event;          \
    } while (0)

static void rx_post(uint16_t id)
{
    struct net_queue *q = &dev.rx;

    q->desc[id].addr = gpa(rx_buffers[id]);
    q->desc[id].len = NET_BUF_LEN;
    q->desc[id].flags = VIRTQ_DESC_F_WRITE;
    q->desc[id].next = 0;
    q->avail[AVAIL_RING + (q->avail_next & (q->size - 1))] = id;
    q->avail_next++;
    dev.rx_posted[id] = 1;
}

/* RX needs no kick: the device looks at the avail ring when a frame comes. */
static void rx_publish(void)
{
    compiler_barrier();
    dev.rx.avail[AVAIL_IDX] = dev.rx.avail_next;
    dev.rx.published = dev.rx.avail_next;
}

static void rings_init(void)
{
    net_memset(&rx_rings, 0, sizeof(rx_rings));
    net_memset(&tx_rings, 0, sizeof(tx_rings));
    net_memset(&dev.rx, 0, sizeof(dev.rx));
    net_memset(&dev.tx, 0, sizeof(dev.tx));
    QUEUE_INIT(&dev.rx, &rx_rings, NET_RX_SIZE);
    QUEUE_INIT(&dev.tx, &tx_rings, NET_TX_SIZE);
    for (uint16_t i = 0; i < NET_RX_SIZE; i++)
        rx_post(i);
    rx_publish();
    dev.tx_free_count = 0;
    for (uint16_t i = NET_TX_SIZE; i-- > 0;) {
        tx_rings.desc[i].addr = gpa(tx_buffers[i]);
        dev.tx_busy[i] = 0;
        dev.tx_free[dev.tx_free_count++] = i;
    }
}

static void queue_setup_fill(struct mf_queue_setup *s, const struct net_queue *q)
{
    s->desc = gpa(q->desc);
    s->avail = gpa((const void *)q->avail);
    s->used = gpa((const void *)q->used_flags);
    s->size = q->size;
    s->reserved = 0;
}

int net_open(unsigned slot)
{
    struct mf_net_setup setup;
    long ret;

    net_memset(&dev, 0, sizeof(dev));
    dev.slot = slot;
    rings_init();
    net_memset(&setup, 0, sizeof(setup));
    setup.driver_features = MF_FEATURE_BIT(VIRTIO_F_VERSION_1) |
                            MF_FEATURE_BIT(VIRTIO_NET_F_MAC) |
                            MF_FEATURE_BIT(VIRTIO_RING_F_EVENT_IDX);
    queue_setup_fill(&setup.queues[MF_NET_QUEUE_RX], &dev.rx);
    queue_setup_fill(&setup.queues[MF_NET_QUEUE_TX], &dev.tx);
    dev.counters.hypercalls++;
    ret = net_env_setup(slot, &setup);
    if (ret < 0)
        return (int)ret;
    if (!(setup.features & MF_FEATURE_BIT(VIRTIO_F_VERSION_1)))
        return -MF_EINVAL;
    dev.event_idx = (setup.features & MF_FEATURE_BIT(VIRTIO_RING_F_EVENT_IDX)) != 0;
    net_memcpy(dev.mac, setup.mac, ETH_ALEN);
    dev.open = 1;
    return 0;
}

const uint8_t *net_mac(void) { return dev.mac; }
unsigned net_slot(void) { return dev.slot; }
const struct net_counters *net_counters(void) { return &dev.counters; }
int net_error(void) { return dev.error; }
uint64_t net_now(void) { return net_env_now(); }

uint64_t net_ms_to_ticks(uint64_t ms)
{
    uint64_t hz = net_env_tsc_hz();

    return ms / 1000 * hz + ms % 1000 * hz / 1000;
}

int net_status(struct mf_net_status *status)
{
    dev.counters.hypercalls++;
    return (int)net_env_status(dev.slot, status);
}

/* --- TX --- */

unsigned net_tx_reclaim(void)
{
    struct net_queue *q = &dev.tx;
    uint16_t used = *q->used_idx;
    unsigned n = 0;

    compiler_barrier();         /* the entries after the index */
    /* Never more entries than the ring holds, whatever the index says. */
    for (unsigned guard = 0; q->last_used != used && guard < q->size; guard++) {
        uint32_t id = q->used_ring[q->last_used & (q->size - 1)].id;

        q->last_used++;
        if (id >= NET_TX_SIZE || !dev.tx_busy[id]) {
            dev.counters.device_errors++;
            continue;
        }
        dev.tx_busy[id] = 0;
        dev.tx_free[dev.tx_free_count++] = (uint16_t)id;
        n++;
    }
    return n;
}

unsigned net_tx_free(void)
{
    return dev.tx_free_count;
}

int net_queue(const void *frame, size_t len)
{
    struct net_queue *q = &dev.tx;
    uint16_t id;

    if (!dev.open)
        return -MF_EIO;
    if (dev.error)
        return dev.error;
    if (len == 0 || len > MF_NET_FRAME_MAX)
        return -MF_EINVAL;
    if (dev.tx_free_count == 0 && net_tx_reclaim() == 0)
        return -MF_EAGAIN;
    id = dev.tx_free[--dev.tx_free_count];
    net_memset(tx_buffers[id], 0, NET_HDR_LEN);
    net_memcpy(tx_buffers[id] + NET_HDR_LEN, frame, len);
    q->desc[id].addr = gpa(tx_buffers[id]);
    q->desc[id].len = (uint32_t)(NET_HDR_LEN + len);
    q->desc[id].flags = 0;
    q->desc[id].next = 0;
    q->avail[AVAIL_RING + (q->avail_next & (q->size - 1))] = id;
    q->avail_next++;
    dev.tx_busy[id] = 1;
    dev.counters.tx_frames++;
    dev.counters.tx_bytes += len;
    return 0;
}

static int tx_kick(void)
{
    long ret;

    dev.counters.kicks++;
    dev.counters.hypercalls++;
    ret = net_env_kick(dev.slot, MF_NET_QUEUE_TX);
    if (ret < 0) {
        dev.error = -MF_EIO;
        return (int)ret;
    }
    return 0;
}

/* Publishes what net_queue added; kicks when the device asked for it, or
 * always when force is set. */
static int tx_flush(int force)
{
    struct net_queue *q = &dev.tx;
    uint16_t old = q->published, new_idx = q->avail_next;
    int need;

    if (!dev.open)
        return -MF_EIO;
    if (dev.error)
        return dev.error;
    if (old == new_idx && !force)
        return 0;
    compiler_barrier();         /* descriptors and ring entries first */
    q->avail[AVAIL_IDX] = new_idx;
    q->published = new_idx;
    full_barrier();             /* the index store before the event read */
    if (dev.event_idx)
        need = virtq_need_event(*q->avail_event, new_idx, old);
    else
        need = !(*q->used_flags & VIRTQ_USED_F_NO_NOTIFY);
    if (!need && !force) {
        dev.counters.kicks_suppressed++;
        return 0;
    }
    return tx_kick();
}

int net_flush(void)
{
    return tx_flush(0);
}

int net_send(const void *frame, size_t len)
{
    int ret = net_queue(frame, len);

    if (ret == -MF_EAGAIN) {
        uint64_t deadline = net_now() + net_ms_to_ticks(100);

        dev.counters.tx_full++;
        /* Whatever EVENT_IDX says, the device must drain before we can go on. */
        ret = tx_flush(1);
        while (ret == 0 && (ret = net_queue(frame, len)) == -MF_EAGAIN &&
               net_now() < deadline) {
            dev.counters.yields++;
            dev.counters.hypercalls++;
            net_env_yield();
            ret = 0;
        }
    }
    if (ret < 0)
        return ret;
    return tx_flush(0);
}

/* --- RX --- */

int net_rx_ready(void)
{
    return dev.open && dev.rx.last_used != *dev.rx.used_idx;
}

int net_poll(uint8_t *buf)
{
    struct net_queue *q = &dev.rx;

    if (!dev.open)
        return 0;
    for (;;) {
        uint16_t used = *q->used_idx;
        uint32_t id, len;

        if (q->last_used == used)
            return 0;
        compiler_barrier();     /* the entry after the index */
        id = q->used_ring[q->last_used & (q->size - 1)].id;
        len = q->used_ring[q->last_used & (q->size - 1)].len;
        q->last_used++;
        if (id >= NET_RX_SIZE || !dev.rx_posted[id]) {
            dev.counters.device_errors++;
            continue;
        }
        dev.rx_posted[id] = 0;
        if (len <= NET_HDR_LEN || len > NET_BUF_LEN) {
            dev.counters.device_errors++;
            rx_post((uint16_t)id);
            rx_publish();
            continue;
        }
        len -= NET_HDR_LEN;
        net_memcpy(buf, rx_buffers[id] + NET_HDR_LEN, len);
        rx_post((uint16_t)id);
        rx_publish();
        dev.counters.rx_frames++;
        dev.counters.rx_bytes += len;
        return (int)len;
    }
}

long net_wait(uint64_t deadline_tsc)
{
    struct net_queue *q = &dev.rx;
    long ret;

    if (net_rx_ready())
        return 1;
    if (dev.open) {
        /* Notify us when the device fills the entry at last_used. */
        if (dev.event_idx)
            q->avail[AVAIL_RING + q->size] = q->last_used;
        else
            q->avail[AVAIL_FLAGS] = 0;
        full_barrier();         /* the request before the recheck */
        if (net_rx_ready())
            return 1;
    }
    dev.counters.waits++;
    dev.counters.hypercalls++;
    ret = net_env_wait(deadline_tsc);
    if (ret < 0)
        return ret;
    return ret > 0 ? 1 : 0;
}
