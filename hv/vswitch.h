/*
 * The hypervisor's L2 switch: virtio-net ports (the device side of each
 * guest's network device) joined by a learning forwarding table. A frame
 * is copied once from the sender's TX buffers into a bounce buffer, checked
 * there, and copied into each receiver's posted RX buffer: guests never
 * share memory. A malformed ring fails only the port it belongs to.
 *
 * The caller allocates every structure at boot and serialises all calls
 * on one switch (no locking here).
 */
#ifndef HV_VSWITCH_H
#define HV_VSWITCH_H

#include <stddef.h>
#include <stdint.h>
#include "fdb.h"
#include "virtq.h"
#include "../include/mayfly/virtio.h"

/* The header every frame carries on the rings. */
#define VNET_HDR_BYTES          12u
#define VNET_FRAME_MIN          14u     /* an Ethernet header */

/* Features the device offers. */
#define VPORT_DEVICE_FEATURES   (MF_FEATURE_BIT(VIRTIO_F_VERSION_1) |   \
                                 MF_FEATURE_BIT(VIRTIO_NET_F_MAC) |     \
                                 MF_FEATURE_BIT(VIRTIO_RING_F_EVENT_IDX))

struct vswitch;

struct vport {
    struct vswitch *sw;
    uint32_t index;                 /* in sw->ports, set by vswitch_attach */
    uint8_t mac[6];                 /* assigned by the hypervisor */
    uint32_t state;                 /* MF_NET_STATE_* */
    uint64_t features;              /* negotiated */
    struct guest_mem mem;
    struct virtq rx, tx;
    struct mf_net_status stats;     /* counters (state mirrored on read) */
    void (*notify)(struct vport *p);    /* wake the owner: used entries it asked to hear about */
    void *owner;                    /* for the caller */
    char why[160];                  /* why it failed, when state == FAILED */
    uint8_t learned;                /* its MAC is in the table: no need to learn again */
};

struct vswitch {
    char name[16];
    struct vport **ports;           /* slot i holds the port with index i, or NULL */
    uint32_t capacity;
    uint32_t count;
    struct fdb fdb;
    uint64_t frames;                /* copies delivered into RX buffers */
    uint64_t drops;                 /* frames (or flood copies) not delivered, any reason */
    uint64_t busy_tsc;              /* TSC ticks spent in kicks (kept by the caller) */
    uint64_t kicks;                 /* transmit kicks served (kept by the caller) */
};

void vswitch_init(struct vswitch *sw, const char *name, struct vport **port_storage,
                  uint32_t capacity, struct fdb_entry *fdb_storage, uint32_t fdb_capacity);

/* Puts p in the first free slot: state RESET, counters zeroed, queues not
 * ready. p->mac, mem, notify and owner are the caller's and kept. 0, or -1
 * if the switch is full. */
int vswitch_attach(struct vswitch *sw, struct vport *p);

/* Removes p and its forwarding entries (O(fdb capacity)); p->sw becomes
 * NULL. Nothing if p is not attached. */
void vswitch_detach(struct vport *p);

/* MF_HC_NET_SETUP on *s (a copy the caller made of the guest's). Returns
 * 0 or -MF_EINVAL (p->why says why; the port is unchanged and the guest
 * may retry), or -MF_EIO for a failed or detached port. */
int vport_setup(struct vport *p, struct mf_net_setup *s);

/* MF_HC_NET_KICK: frames processed, -MF_EINVAL for a bad queue, -MF_EIO if
 * the port is failed or not running. */
int vport_kick(struct vport *p, uint64_t queue);

/* Drains p's TX ring (at most one ring's worth per call) and forwards the
 * frames. Returns the frames accepted, or -MF_EIO if p is not running or
 * its TX ring turns out malformed (p is then FAILED). */
int vswitch_transmit(struct vport *p);

/* Copies one frame (len bytes, VNET_FRAME_MIN..MF_NET_FRAME_MAX, in
 * hypervisor memory) into dst's next RX buffer. */
void vswitch_deliver(struct vport *dst, const uint8_t *frame, uint32_t len);

#endif
