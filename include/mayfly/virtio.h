/*
 * virtio-net over Mayfly's hypercall transport. The rings are the exact
 * virtio 1.x split-ring layout (virtio spec, "Split Virtqueues"), living
 * in the guest's own memory; the hypervisor is the device. Transport
 * (feature negotiation, queue setup, notification) is hypercalls on a
 * network-port capability instead of PCI or MMIO registers. x86 is
 * little-endian, so the spec's le16/le32/le64 are plain integers here.
 * C99 only; append-only.
 */
#ifndef MAYFLY_VIRTIO_H
#define MAYFLY_VIRTIO_H

#include <stdint.h>

/* Feature bits (virtio spec numbering). */
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_RING_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1          32
#define MF_FEATURE_BIT(n)           (1ULL << (n))

/* Descriptor flags. */
#define VIRTQ_DESC_F_NEXT           1
#define VIRTQ_DESC_F_WRITE          2
#define VIRTQ_DESC_F_INDIRECT       4   /* not offered: a descriptor with it is malformed */

/* Ring flags (used when EVENT_IDX is not negotiated). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT  1
#define VIRTQ_USED_F_NO_NOTIFY      1

struct virtq_desc {
    uint64_t addr;              /* guest-physical */
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc layout");

/* Followed by ring[size] and, with EVENT_IDX, uint16_t used_event. */
struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
};
_Static_assert(sizeof(struct virtq_avail) == 4, "virtq_avail layout");

struct virtq_used_elem {
    uint32_t id;                /* head of the descriptor chain */
    uint32_t len;               /* bytes written into the chain */
};
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem layout");

/* Followed by ring[size] and, with EVENT_IDX, uint16_t avail_event. */
struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];
};
_Static_assert(sizeof(struct virtq_used) == 4, "virtq_used layout");

/* Bytes of each ring part for a queue of size entries (with EVENT_IDX). */
#define VIRTQ_DESC_BYTES(size)      (16u * (size))
#define VIRTQ_AVAIL_BYTES(size)     (6u + 2u * (size))
#define VIRTQ_USED_BYTES(size)      (6u + 8u * (size))

/* Whether an index moving from old_idx to new_idx passes event_idx
 * (virtio spec, "Driver/Device Event Suppression"). */
static inline int virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* The header before every frame (virtio 1.x: num_buffers always present). */
struct virtio_net_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "virtio_net_hdr layout");

/* Mayfly's limits on a port. */
#define MF_NET_QUEUE_RX             0
#define MF_NET_QUEUE_TX             1
#define MF_NET_QUEUE_MAX            256     /* entries; a power of two, at most this */
#define MF_NET_MTU                  1500
#define MF_NET_FRAME_MAX            1514    /* Ethernet header + MTU, no FCS */
#define MF_NET_CHAIN_MAX            16      /* descriptors in one chain */

/* MF_HC_NET_SETUP's argument. */
struct mf_queue_setup {
    uint64_t desc;              /* IN: guest-physical, 16-byte aligned */
    uint64_t avail;             /* IN: 2-byte aligned */
    uint64_t used;              /* IN: 4-byte aligned */
    uint32_t size;              /* IN: power of two, 1..MF_NET_QUEUE_MAX */
    uint32_t reserved;
};
_Static_assert(sizeof(struct mf_queue_setup) == 32, "mf_queue_setup layout");

struct mf_net_setup {
    uint64_t driver_features;   /* IN: what the driver wants */
    uint64_t device_features;   /* OUT: what the device offers */
    uint64_t features;          /* OUT: negotiated (driver & device) */
    uint8_t mac[6];             /* OUT */
    uint16_t mtu;               /* OUT */
    struct mf_queue_setup queues[2];    /* IN: [MF_NET_QUEUE_RX], [MF_NET_QUEUE_TX] */
};
_Static_assert(sizeof(struct mf_net_setup) == 96, "mf_net_setup layout");

/* MF_HC_NET_STATUS fills this in. */
#define MF_NET_STATE_RESET          0   /* not set up yet */
#define MF_NET_STATE_RUNNING        1
#define MF_NET_STATE_FAILED         2   /* a malformed ring: the port is dead */

struct mf_net_status {
    uint32_t state;             /* OUT: MF_NET_STATE_* */
    uint32_t reserved;
    uint64_t rx_frames, rx_bytes;       /* OUT: delivered to this port */
    uint64_t tx_frames, tx_bytes;       /* OUT: sent by this port */
    uint64_t drops_no_buffer;           /* OUT: frames for it with no RX buffer posted */
    uint64_t drops_malformed;           /* OUT: descriptors it got wrong */
};
_Static_assert(sizeof(struct mf_net_status) == 56, "mf_net_status layout");

#endif
