/*
 * The virtio-net driver (hv/virtio_net.h). Each queue has size split-ring
 * descriptors, descriptor i always naming buffer i (VIRTIO_NET_BUF_SIZE
 * bytes from the pool, identity mapped), so an id in a used entry is
 * checked against the driver's own table (posted[]) and the buffer's
 * address is never taken from the device. Both queues' rings share one
 * pool page: desc, avail and used of RX in its first half, TX in the
 * second.
 *
 * Receive: every buffer is posted at bring-up; a used entry hands one
 * back, it is copied out (past the header) and posted again at once.
 * Transmit: free[] holds the ids the driver owns; send takes one, reclaim
 * returns those the device has used.
 */
#include "virtio_net.h"
#include "e1000.h"
#include "fmt.h"
#include "lib.h"
#include "pool.h"
#include "../include/mayfly/virtio.h"

#define PAGE_BYTES          4096u
#define ETH_MIN             14u
#define MAC_BYTES           6u
#define QUEUE_PART          (PAGE_BYTES / 2)        /* one queue's rings */
#define AVAIL_AT            VIRTQ_DESC_BYTES(VIRTIO_NET_QUEUE_SIZE)
#define USED_AT             (AVAIL_AT + 256u)       /* 4-aligned, past avail */

_Static_assert(AVAIL_AT + VIRTQ_AVAIL_BYTES(VIRTIO_NET_QUEUE_SIZE) <= USED_AT &&
               USED_AT + VIRTQ_USED_BYTES(VIRTIO_NET_QUEUE_SIZE) <= QUEUE_PART,
               "one queue's rings fit half a page");
_Static_assert(VIRTIO_NET_HDR_SIZE + NIC_FRAME_MAX <= VIRTIO_NET_BUF_SIZE,
               "a header and the largest frame fit one buffer");
_Static_assert(VIRTIO_NET_POOL_BYTES <= E1000_POOL_BYTES,
               "the pool the lead sizes per uplink covers a virtio-net");

struct vnet_queue {
    struct virtio_pci_queue q;
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint8_t *buf;                       /* VIRTIO_NET_BUF_SIZE per descriptor */
    uint16_t avail_idx;                 /* the next avail idx the driver publishes */
    uint16_t last_used;                 /* the next used entry to look at */
    uint8_t posted[VIRTIO_NET_QUEUE_SIZE];  /* 1 while the device owns buffer i */
    uint16_t free[VIRTIO_NET_QUEUE_SIZE];   /* TX: ids the driver owns */
    uint16_t free_count;
};

struct vnet {
    struct nic nic;
    struct virtio_pci t;
    struct vnet_queue rx, tx;
};

int virtio_net_supported(uint16_t vendor, uint16_t device)
{
    return vendor == VIRTIO_PCI_VENDOR && (device == 0x1041 || device == 0x1000);
}

/* ---- rings -------------------------------------------------------------- */

static uint8_t *buf_at(const struct vnet_queue *vq, uint16_t id)
{
    return vq->buf + (size_t)id * VIRTIO_NET_BUF_SIZE;
}

/* Makes descriptor id describe its own buffer (len bytes, flags) and
 * publishes it in the avail ring. The caller kicks. */
static void queue_post(struct vnet_queue *vq, uint16_t id, uint32_t len, uint16_t flags)
{
    vq->desc[id].addr = (uint64_t)(uintptr_t)buf_at(vq, id);
    vq->desc[id].len = len;
    vq->desc[id].flags = flags;
    vq->desc[id].next = 0;
    vq->avail->ring[vq->avail_idx & (vq->q.size - 1)] = id;
    vq->posted[id] = 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);        /* descriptor and entry before idx */
    vq->avail->idx = ++vq->avail_idx;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);        /* idx before the kick */
}

/* The next used entry, read once: 1 with id and len, 0 when none. */
static int queue_take(struct vnet_queue *vq, uint32_t *id, uint32_t *len)
{
    uint16_t slot;

    if (vq->used->idx == vq->last_used)
        return 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);        /* the entry was written before idx */
    slot = vq->last_used & (vq->q.size - 1);
    *id = vq->used->ring[slot].id;
    *len = vq->used->ring[slot].len;
    vq->last_used++;
    return 1;
}

/* Whether id names a buffer of vq the device holds; if so it is the
 * driver's again. */
static int queue_returned(struct vnet_queue *vq, uint32_t id)
{
    if (id >= vq->q.size || !vq->posted[id])
        return 0;
    vq->posted[id] = 0;
    return 1;
}

/* ---- frames ------------------------------------------------------------- */

static void tx_reclaim(struct vnet *v)
{
    uint32_t id, len;

    while (queue_take(&v->tx, &id, &len))
        if (queue_returned(&v->tx, id))
            v->tx.free[v->tx.free_count++] = (uint16_t)id;
}

static int vnet_send(struct nic *n, const uint8_t *frame, uint32_t len)
{
    struct vnet *v = n->priv;
    uint16_t id;

    if (len < ETH_MIN || len > NIC_FRAME_MAX)
        return -1;
    tx_reclaim(v);
    if (v->tx.free_count == 0) {
        n->counters.tx_full++;
        return -1;
    }
    id = v->tx.free[--v->tx.free_count];
    memset(buf_at(&v->tx, id), 0, VIRTIO_NET_HDR_SIZE);
    memcpy(buf_at(&v->tx, id) + VIRTIO_NET_HDR_SIZE, frame, len);
    queue_post(&v->tx, id, VIRTIO_NET_HDR_SIZE + len, 0);
    virtio_pci_notify(&v->t, &v->tx.q);
    n->counters.tx_frames++;
    return 0;
}

static int32_t vnet_recv(struct nic *n, uint8_t *buf, uint32_t room)
{
    struct vnet *v = n->priv;
    uint32_t id, len, frame;
    int ok;

    if (!queue_take(&v->rx, &id, &len))
        return 0;
    if (!queue_returned(&v->rx, id)) {
        n->counters.rx_bad++;               /* not ours to take: nothing to give back */
        return -1;
    }
    frame = len - VIRTIO_NET_HDR_SIZE;
    ok = len <= VIRTIO_NET_BUF_SIZE && len >= VIRTIO_NET_HDR_SIZE + ETH_MIN &&
         frame <= NIC_FRAME_MAX && frame <= room;
    if (ok)
        memcpy(buf, buf_at(&v->rx, (uint16_t)id) + VIRTIO_NET_HDR_SIZE, frame);
    queue_post(&v->rx, (uint16_t)id, VIRTIO_NET_BUF_SIZE, VIRTQ_DESC_F_WRITE);
    virtio_pci_notify(&v->t, &v->rx.q);
    if (!ok) {
        n->counters.rx_bad++;
        return -1;
    }
    n->counters.rx_frames++;
    return (int32_t)frame;
}

/* The device's address is read-only with VERSION_1 and no control queue:
 * only the address it has already can be "set". */
static int vnet_set_mac(struct nic *n, const uint8_t mac[6])
{
    return memcmp(n->mac, mac, MAC_BYTES) == 0 ? 0 : -1;
}

static const struct nic_ops vnet_ops = {
    .send = vnet_send,
    .recv = vnet_recv,
    .set_mac = vnet_set_mac,
};

/* ---- bring-up ----------------------------------------------------------- */

static int queue_setup(struct vnet *v, struct vnet_queue *vq, uint16_t index, uint8_t *rings,
                       uint8_t *bufs, char *why, size_t n)
{
    vq->desc = (volatile struct virtq_desc *)rings;
    vq->avail = (volatile struct virtq_avail *)(rings + AVAIL_AT);
    vq->used = (volatile struct virtq_used *)(rings + USED_AT);
    vq->buf = bufs;
    vq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    vq->q.index = index;
    vq->q.desc = (uint64_t)(uintptr_t)vq->desc;
    vq->q.avail = (uint64_t)(uintptr_t)vq->avail;
    vq->q.used = (uint64_t)(uintptr_t)vq->used;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);        /* rings zeroed before the device looks */
    return virtio_pci_queue_setup(&v->t, &vq->q, VIRTIO_NET_QUEUE_SIZE, why, n);
}

/* Both queues' rings and buffers from the pool, and the queues set up;
 * RX filled, TX's ids all free. */
static int queues_setup(struct vnet *v, char *why, size_t n)
{
    uint64_t ring = pool_alloc_pages(1);
    uint64_t bufs = pool_alloc_pages(VIRTIO_NET_POOL_PAGES - 1);
    uint8_t *r = (uint8_t *)(uintptr_t)ring, *b = (uint8_t *)(uintptr_t)bufs;

    if (!ring || !bufs)
        return fmt_error(why, n, -1, "the hypervisor pool has no room for its rings (%llu "
                         "bytes per NIC)", (unsigned long long)VIRTIO_NET_POOL_BYTES);
    memset(r, 0, PAGE_BYTES);
    if (queue_setup(v, &v->rx, VIRTIO_NET_QUEUE_RX, r, b, why, n) != 0 ||
        queue_setup(v, &v->tx, VIRTIO_NET_QUEUE_TX, r + QUEUE_PART,
                    b + (size_t)VIRTIO_NET_QUEUE_SIZE * VIRTIO_NET_BUF_SIZE, why, n) != 0)
        return -1;
    for (uint16_t i = 0; i < v->rx.q.size; i++)
        queue_post(&v->rx, i, VIRTIO_NET_BUF_SIZE, VIRTQ_DESC_F_WRITE);
    for (uint16_t i = 0; i < v->tx.q.size; i++)
        v->tx.free[v->tx.free_count++] = (uint16_t)(v->tx.q.size - 1 - i);
    return 0;
}

/* Status, features and MAC up to FEATURES_OK. 0, or -1 with why. */
static int negotiate(struct vnet *v, char *why, size_t n)
{
    const uint64_t want = MF_FEATURE_BIT(VIRTIO_F_VERSION_1) | MF_FEATURE_BIT(VIRTIO_NET_F_MAC);
    uint64_t offered;

    if (virtio_pci_reset(&v->t) != 0)
        return fmt_error(why, n, -1, "the reset (device_status 0) never read back 0");
    virtio_pci_status_set(&v->t, VIRTIO_STATUS_ACKNOWLEDGE);
    virtio_pci_status_set(&v->t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    offered = virtio_pci_features(&v->t);
    if ((offered & want) != want)
        return fmt_error(why, n, -1, "the device does not offer %s (features 0x%llx)",
                         (offered & MF_FEATURE_BIT(VIRTIO_F_VERSION_1)) ?
                         "VIRTIO_NET_F_MAC" : "VIRTIO_F_VERSION_1",
                         (unsigned long long)offered);
    virtio_pci_features_set(&v->t, want);
    virtio_pci_status_set(&v->t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                 VIRTIO_STATUS_FEATURES_OK);
    if ((virtio_pci_status(&v->t) & VIRTIO_STATUS_FEATURES_OK) == 0)
        return fmt_error(why, n, -1, "the device refused the features (FEATURES_OK did not "
                         "stick)");
    if (virtio_pci_device_read(&v->t, 0, v->nic.mac, MAC_BYTES) != 0)
        return fmt_error(why, n, -1, "the MAC in device configuration never read stable");
    if ((v->nic.mac[0] & 1u) || !(v->nic.mac[0] | v->nic.mac[1] | v->nic.mac[2] |
                                  v->nic.mac[3] | v->nic.mac[4] | v->nic.mac[5]))
        return fmt_error(why, n, -1, "the device's MAC %02x:%02x:%02x:%02x:%02x:%02x is not a "
                         "unicast address", v->nic.mac[0], v->nic.mac[1], v->nic.mac[2],
                         v->nic.mac[3], v->nic.mac[4], v->nic.mac[5]);
    return 0;
}

struct nic *virtio_net_attach(const struct virtio_pci *t, const struct pci_device *d, char *why,
                              size_t n)
{
    struct vnet probe = { .t = *t }, *v;
    char addr[16];

    /* Negotiated before any pool is taken: a device refused costs none. */
    if (negotiate(&probe, why, n) != 0) {
        virtio_pci_status_set(&probe.t, VIRTIO_STATUS_FAILED);
        return NULL;
    }
    v = pool_alloc_bytes(sizeof(*v), 64);
    if (!v) {
        virtio_pci_status_set(&probe.t, VIRTIO_STATUS_FAILED);
        fmt_error(why, n, -1, "the hypervisor pool has no room for the driver's state");
        return NULL;
    }
    *v = probe;
    if (queues_setup(v, why, n) != 0) {
        virtio_pci_status_set(&v->t, VIRTIO_STATUS_FAILED);
        return NULL;
    }
    virtio_pci_status_set(&v->t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    virtio_pci_notify(&v->t, &v->rx.q);
    v->nic.ops = &vnet_ops;
    v->nic.priv = v;
    v->nic.bus = d->bus;
    v->nic.dev = d->dev;
    v->nic.fn = d->fn;
    pci_format_address(d, addr, sizeof(addr));
    fmt_snprintf(v->nic.name, sizeof(v->nic.name), "virtio-net %s", addr);
    return &v->nic;
}

struct nic *virtio_net_probe(const struct pci_access *a, const struct pci_device *d, char *why,
                             size_t n)
{
    struct virtio_pci t;

    if (!virtio_net_supported(d->vendor, d->device)) {
        fmt_error(why, n, -1, "%04x:%04x is no virtio-net", d->vendor, d->device);
        return NULL;
    }
    if (d->bars_bad) {
        fmt_error(why, n, -1, "not used: %s", d->why);
        return NULL;
    }
    if (virtio_pci_find(a, d, &virtio_pci_mmio, &t, why, n) != 0)
        return NULL;
    pci_enable(a, d);
    return virtio_net_attach(&t, d, why, n);
}
