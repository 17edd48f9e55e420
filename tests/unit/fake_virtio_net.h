/*
 * A fake virtio-net (modern PCI) for tests/unit/test_virtio_net.c and
 * tests/fuzz/fuzz_virtio_net.c: a configuration space with the four
 * vendor capabilities (QEMU's layout: all in BAR 4, common at 0, ISR at
 * 0x1000, device at 0x2000, notify at 0x3000 with multiplier 4), the
 * common configuration with the side effects bring-up needs (reset,
 * feature select windows, FEATURES_OK refused on request, per-queue
 * registers), notifications counted, and the hypervisor pool replaced
 * by exact-size host allocations (fake_pool.h), so a driver access
 * outside its rings or buffers is an ASan report. The test plays the device's side of the
 * rings (fake_rx_deliver, fake_used_push, fake_tx_take). No cmocka here:
 * the fuzz target includes it too.
 */
#ifndef TESTS_FAKE_VIRTIO_NET_H
#define TESTS_FAKE_VIRTIO_NET_H

#include <stdint.h>
#include <string.h>

#include "virtio_net.h"
#include "../../include/mayfly/virtio.h"

#define FAKE_NAME "virtio-net"
#include "fake_pool.h"

#define FAKE_BAR            0xfe000000ull
#define FAKE_BAR_SIZE       0x4000ull
#define FAKE_ISR            0x1000u
#define FAKE_DEVICE         0x2000u
#define FAKE_NOTIFY         0x3000u
#define FAKE_MULT           4u
#define FAKE_QUEUES         3u

struct fake_queue {
    uint16_t max, size, enable, msix;
    uint64_t desc, avail, used;
    uint16_t last_avail, used_idx;      /* the device's side */
};

struct fake_vnet {
    uint8_t cfg[256];
    uint64_t features, driver_features;
    uint32_t dfselect, gfselect;
    uint8_t status, generation;
    uint16_t qselect;
    struct fake_queue q[FAKE_QUEUES];
    uint8_t mac[6];
    int refuse_features;                /* FEATURES_OK does not stick */
    int reset_stuck;                    /* status never reads 0 after a reset */
    int generation_flips;               /* config_generation changes on every read */
    uint32_t resets, notifies[FAKE_QUEUES];
};

static struct fake_vnet fake;

/* ---- configuration space ------------------------------------------------ */

static uint32_t fake_cfg_read(void *arg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    uint32_t v;

    (void)arg, (void)bus, (void)dev, (void)fn;
    fake_check(off % 4 == 0 && off < 256, "configuration read out of range");
    memcpy(&v, &fake.cfg[off], 4);
    return v;
}

static void fake_cfg_write(void *arg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
                           uint32_t v)
{
    (void)arg, (void)bus, (void)dev, (void)fn;
    fake_check(off % 4 == 0 && off < 256, "configuration write out of range");
    memcpy(&fake.cfg[off], &v, 4);
}

static const struct pci_access fake_access = { fake_cfg_read, fake_cfg_write, NULL, "fake" };

/* A vendor capability at at, linked to next. */
static void fake_cap(uint8_t at, uint8_t next, uint8_t type, uint8_t bar, uint32_t offset,
                     uint32_t length)
{
    uint8_t *c = &fake.cfg[at];

    c[0] = VIRTIO_PCI_CAP_ID;
    c[1] = next;
    c[2] = type == VIRTIO_PCI_CAP_NOTIFY ? 20 : 16;
    c[3] = type;
    c[4] = bar;
    memcpy(c + 8, &offset, 4);
    memcpy(c + 12, &length, 4);
    if (type == VIRTIO_PCI_CAP_NOTIFY) {
        uint32_t m = FAKE_MULT;
        memcpy(c + 16, &m, 4);
    }
}

static struct pci_device fake_pci;

/* ---- BAR memory --------------------------------------------------------- */

static struct fake_queue *fake_selected(void)
{
    return fake.qselect < FAKE_QUEUES ? &fake.q[fake.qselect] : NULL;
}

static void fake_device_reset(void)
{
    fake.status = 0;
    fake.driver_features = 0;
    for (unsigned i = 0; i < FAKE_QUEUES; i++) {
        uint16_t max = fake.q[i].max;
        memset(&fake.q[i], 0, sizeof(fake.q[i]));
        fake.q[i].max = max;
        fake.q[i].size = max;
    }
    fake.resets++;
}

static uint32_t fake_common_read(uint32_t off, uint32_t width)
{
    struct fake_queue *q = fake_selected();

    switch (off) {
    case VIRTIO_COMMON_DF:
        fake_check(width == 4, "device_feature read with the wrong width");
        return fake.dfselect == 0 ? (uint32_t)fake.features :
               fake.dfselect == 1 ? (uint32_t)(fake.features >> 32) : 0;
    case VIRTIO_COMMON_NUMQ:
        return FAKE_QUEUES;
    case VIRTIO_COMMON_STATUS:
        fake_check(width == 1, "device_status read with the wrong width");
        return fake.reset_stuck && fake.status == 0 ? 0x40u : fake.status;
    case VIRTIO_COMMON_CFGGEN:
        return fake.generation_flips ? fake.generation++ : fake.generation;
    case VIRTIO_COMMON_Q_SIZE:
        fake_check(width == 2, "queue_size read with the wrong width");
        return q ? q->size : 0;
    case VIRTIO_COMMON_Q_NOFF:
        fake_check(width == 2, "queue_notify_off read with the wrong width");
        return fake.qselect;
    default:
        return 0;
    }
}

static void fake_queue_write(struct fake_queue *q, uint32_t off, uint32_t v)
{
    fake_check(q != NULL, "queue register written for a queue that is not there");
    fake_check(!q->enable || off == VIRTIO_COMMON_Q_ENABLE, "queue changed after enable");
    switch (off) {
    case VIRTIO_COMMON_Q_SIZE:
        fake_check(v && v <= q->max && (v & (v - 1)) == 0, "queue size not allowed");
        q->size = (uint16_t)v;
        break;
    case VIRTIO_COMMON_Q_MSIX: q->msix = (uint16_t)v; break;
    case VIRTIO_COMMON_Q_ENABLE: q->enable = (uint16_t)v; break;
    case VIRTIO_COMMON_Q_DESCLO: q->desc = (q->desc & ~0xffffffffull) | v; break;
    case VIRTIO_COMMON_Q_DESCHI: q->desc = (q->desc & 0xffffffffull) | (uint64_t)v << 32; break;
    case VIRTIO_COMMON_Q_AVAILLO: q->avail = (q->avail & ~0xffffffffull) | v; break;
    case VIRTIO_COMMON_Q_AVAILHI: q->avail = (q->avail & 0xffffffffull) | (uint64_t)v << 32; break;
    case VIRTIO_COMMON_Q_USEDLO: q->used = (q->used & ~0xffffffffull) | v; break;
    case VIRTIO_COMMON_Q_USEDHI: q->used = (q->used & 0xffffffffull) | (uint64_t)v << 32; break;
    default: break;
    }
}

static void fake_status_write(uint8_t v)
{
    if (v == 0) {
        fake_device_reset();
        return;
    }
    if ((v & VIRTIO_STATUS_FEATURES_OK) && !(fake.status & VIRTIO_STATUS_FEATURES_OK) &&
        (fake.refuse_features || (fake.driver_features & ~fake.features)))
        v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    if (v & VIRTIO_STATUS_DRIVER_OK)
        fake_check((v & VIRTIO_STATUS_FEATURES_OK) != 0, "DRIVER_OK without FEATURES_OK");
    fake.status = v;
}

static void fake_common_write(uint32_t off, uint32_t width, uint32_t v)
{
    switch (off) {
    case VIRTIO_COMMON_DFSELECT: fake.dfselect = v; break;
    case VIRTIO_COMMON_GFSELECT: fake.gfselect = v; break;
    case VIRTIO_COMMON_GF:
        fake_check(width == 4 && fake.gfselect < 2, "driver_feature write");
        if (fake.gfselect == 0)
            fake.driver_features = (fake.driver_features & ~0xffffffffull) | v;
        else
            fake.driver_features = (fake.driver_features & 0xffffffffull) | (uint64_t)v << 32;
        break;
    case VIRTIO_COMMON_STATUS:
        fake_check(width == 1, "device_status written with the wrong width");
        fake_status_write((uint8_t)v);
        break;
    case VIRTIO_COMMON_Q_SELECT: fake.qselect = (uint16_t)v; break;
    default:
        if (off >= VIRTIO_COMMON_Q_SIZE && off < VIRTIO_COMMON_LEN)
            fake_queue_write(fake_selected(), off, v);
        break;
    }
}

static uint32_t fake_io_read(void *arg, uint64_t addr, uint32_t width)
{
    uint32_t off = (uint32_t)(addr - FAKE_BAR);

    (void)arg;
    fake_check(addr >= FAKE_BAR && addr + width <= FAKE_BAR + FAKE_BAR_SIZE &&
               addr % width == 0, "BAR read outside BAR 4 or unaligned");
    if (off < VIRTIO_COMMON_LEN)
        return fake_common_read(off, width);
    if (off >= FAKE_DEVICE && off < FAKE_DEVICE + 6)
        return fake.mac[off - FAKE_DEVICE];
    return 0;
}

static void fake_io_write(void *arg, uint64_t addr, uint32_t width, uint32_t v)
{
    uint32_t off = (uint32_t)(addr - FAKE_BAR);

    (void)arg;
    fake_check(addr >= FAKE_BAR && addr + width <= FAKE_BAR + FAKE_BAR_SIZE &&
               addr % width == 0, "BAR write outside BAR 4 or unaligned");
    if (off < VIRTIO_COMMON_LEN) {
        fake_common_write(off, width, v);
    } else if (off >= FAKE_NOTIFY) {
        uint32_t qi = (off - FAKE_NOTIFY) / FAKE_MULT;
        fake_check(width == 2 && qi < FAKE_QUEUES && v == qi, "notify of the wrong queue");
        fake_check(fake.q[qi].enable, "notify of a queue not enabled");
        fake.notifies[qi]++;
    }
}

static const struct virtio_pci_io fake_io = { fake_io_read, fake_io_write, NULL };

/* A fresh device: 1af4:1041 at 00:04.0, VERSION_1 | MAC | a few offloads
 * offered, MAC 52:54:00:12:34:57, queues of 256 entries; a fresh pool
 * with no limit whose memory is not zeroed for the driver (0x5c). */
static void fake_reset(void)
{
    fake_pool_reset(0x5c);
    memset(&fake, 0, sizeof(fake));
    fake.features = MF_FEATURE_BIT(VIRTIO_F_VERSION_1) | MF_FEATURE_BIT(VIRTIO_NET_F_MAC) |
                    MF_FEATURE_BIT(0) | MF_FEATURE_BIT(15) | MF_FEATURE_BIT(17);
    memcpy(fake.mac, ((uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 }), 6);
    for (unsigned i = 0; i < FAKE_QUEUES; i++)
        fake.q[i].max = fake.q[i].size = 256;
    fake.cfg[0] = 0xf4, fake.cfg[1] = 0x1a, fake.cfg[2] = 0x41, fake.cfg[3] = 0x10;
    fake.cfg[6] = 0x10;                 /* status: capability list */
    fake.cfg[0x34] = 0x40;
    fake_cap(0x40, 0x50, VIRTIO_PCI_CAP_COMMON, 4, 0, 0x1000);
    fake_cap(0x50, 0x60, VIRTIO_PCI_CAP_ISR, 4, FAKE_ISR, 0x1000);
    fake_cap(0x60, 0x70, VIRTIO_PCI_CAP_DEVICE, 4, FAKE_DEVICE, 0x1000);
    fake_cap(0x70, 0x00, VIRTIO_PCI_CAP_NOTIFY, 4, FAKE_NOTIFY, 0x1000);
    memset(&fake_pci, 0, sizeof(fake_pci));
    fake_pci.dev = 4;
    fake_pci.vendor = 0x1af4;
    fake_pci.device = 0x1041;
    fake_pci.class_code = 0x020000;
    fake_pci.bar_count = 6;
    fake_pci.bars[4] = (struct pci_bar){ .kind = PCI_BAR_MEMORY, .is_64 = 1, .prefetchable = 1,
                                         .base = FAKE_BAR, .size = FAKE_BAR_SIZE };
}

/* ---- the device's side of the rings ------------------------------------- */

static struct virtq_desc *fake_desc(unsigned qi)
{
    return (struct virtq_desc *)(uintptr_t)fake.q[qi].desc;
}

static struct virtq_avail *fake_avail(unsigned qi)
{
    return (struct virtq_avail *)(uintptr_t)fake.q[qi].avail;
}

static struct virtq_used *fake_used(unsigned qi)
{
    return (struct virtq_used *)(uintptr_t)fake.q[qi].used;
}

/* Writes used entry {id, len} and bumps used idx, as a device (or a
 * broken one) would. */
static void fake_used_push(unsigned qi, uint32_t id, uint32_t len)
{
    struct fake_queue *q = &fake.q[qi];
    struct virtq_used *u = fake_used(qi);

    u->ring[q->used_idx & (q->size - 1)].id = id;
    u->ring[q->used_idx & (q->size - 1)].len = len;
    u->idx = ++q->used_idx;
}

/* The next avail entry's descriptor id, or -1 when the driver has
 * posted nothing new. */
static int fake_avail_take(unsigned qi)
{
    struct fake_queue *q = &fake.q[qi];
    struct virtq_avail *a = fake_avail(qi);
    uint16_t id;

    if (a->idx == q->last_avail)
        return -1;
    id = a->ring[q->last_avail & (q->size - 1)];
    fake_check(id < q->size, "the driver posted a descriptor past the ring");
    q->last_avail++;
    return id;
}

#define FAKE_RAMP_BYTES (256 + 4096)

/* Bytes 0, 1, 2, ... 255, 0, 1, ...: from offset seed, the pattern seed. */
static const uint8_t *fake_ramp(void)
{
    static uint8_t ramp[FAKE_RAMP_BYTES];

    if (!ramp[1])
        for (uint32_t i = 0; i < FAKE_RAMP_BYTES; i++)
            ramp[i] = (uint8_t)i;
    return ramp;
}

/* The device receives len bytes of pattern seed (after a header) into
 * the next posted receive buffer and hands it back. The id used, or -1. */
static int fake_rx_deliver(uint32_t len, uint8_t seed)
{
    int id = fake_avail_take(VIRTIO_NET_QUEUE_RX);
    struct virtq_desc *d;
    uint8_t *buf;

    if (id < 0)
        return -1;
    d = &fake_desc(VIRTIO_NET_QUEUE_RX)[id];
    fake_check(d->flags == VIRTQ_DESC_F_WRITE && d->len >= VIRTIO_NET_HDR_SIZE + len,
               "a receive descriptor the device cannot fill");
    buf = (uint8_t *)(uintptr_t)d->addr;
    memset(buf, 0, VIRTIO_NET_HDR_SIZE);
    buf[10] = 1;                        /* num_buffers */
    /* buf[HDR + k] = seed + k, copied from a ramp: in fuzz builds a byte
     * loop here had every compare traced, up to 2 KiB per delivery. */
    fake_check(len <= FAKE_RAMP_BYTES - 256, "a frame longer than the fake's ramp");
    memcpy(buf + VIRTIO_NET_HDR_SIZE, fake_ramp() + seed, len);
    fake_used_push(VIRTIO_NET_QUEUE_RX, (uint32_t)id, VIRTIO_NET_HDR_SIZE + len);
    return id;
}

/* The next frame the driver queued for transmission: its descriptor id
 * (or -1), with the frame (past the header) and its length. done: hand
 * it back in the used ring at once. */
static int fake_tx_take(const uint8_t **frame, uint32_t *len, int done)
{
    int id = fake_avail_take(VIRTIO_NET_QUEUE_TX);
    struct virtq_desc *d;
    const uint8_t *buf;

    if (id < 0)
        return -1;
    d = &fake_desc(VIRTIO_NET_QUEUE_TX)[id];
    fake_check(d->flags == 0 && d->len >= VIRTIO_NET_HDR_SIZE, "a bad transmit descriptor");
    buf = (const uint8_t *)(uintptr_t)d->addr;
    for (uint32_t k = 0; k < VIRTIO_NET_HDR_SIZE; k++)
        fake_check(buf[k] == 0, "the transmit header is not zeroed");
    *frame = buf + VIRTIO_NET_HDR_SIZE;
    *len = d->len - VIRTIO_NET_HDR_SIZE;
    if (done)
        fake_used_push(VIRTIO_NET_QUEUE_TX, (uint32_t)id, 0);
    return id;
}

/* virtio_pci_find + virtio_net_attach on the fake. */
static struct nic *fake_attach(char *why, size_t n)
{
    struct virtio_pci t;

    if (virtio_pci_find(&fake_access, &fake_pci, &fake_io, &t, why, n) != 0)
        return NULL;
    return virtio_net_attach(&t, &fake_pci, why, n);
}

#endif
