/*
 * The device side of a Mayfly guest's virtio-net device, as one port
 * implementation (hv/port.h): virtio 1.x split rings in the guest's own
 * memory, hypercalls (MF_HC_NET_SETUP, MF_HC_NET_KICK) as the transport.
 * A TX chain is gathered once into a bounce buffer on the hypervisor's
 * stack and handed to the switch from there; deliver() copies a frame into
 * the guest's next posted RX buffer. A malformed ring fails this port
 * only.
 *
 * The caller serialises all calls on one port's switch.
 */
#ifndef HV_VPORT_H
#define HV_VPORT_H

#include <stdint.h>
#include "gmem.h"
#include "port.h"
#include "virtq.h"
#include "vswitch.h"
#include "../include/mayfly/virtio.h"

/* The header every frame carries on the rings. */
#define VNET_HDR_BYTES          12u
#define VNET_FRAME_MIN          PORT_FRAME_MIN

/* Features the device offers. */
#define VPORT_DEVICE_FEATURES   (MF_FEATURE_BIT(VIRTIO_F_VERSION_1) |   \
                                 MF_FEATURE_BIT(VIRTIO_NET_F_MAC) |     \
                                 MF_FEATURE_BIT(VIRTIO_RING_F_EVENT_IDX))

struct vport {
    struct port port;               /* what the switch and the owner see */
    uint64_t features;              /* negotiated */
    struct guest_mem mem;           /* the guest's, where the rings and buffers are */
    struct virtq rx, tx;
};

/* Makes v a detached virtio port with MAC mac over guest memory mem, its
 * owner told through notify(port, event) with owner (hv/port.h). Attach
 * &v->port to a switch next. */
void vport_init(struct vport *v, const uint8_t mac[6], const struct guest_mem *mem,
                void (*notify)(struct port *p, enum port_event event), void *owner);

/* The virtio port p is, or NULL if p is another kind of port. */
struct vport *vport_of(struct port *p);

/* MF_HC_NET_SETUP on *s (a copy the caller made of the guest's). Returns
 * 0 or -MF_EINVAL (v->port.why says why; the port is unchanged and the
 * guest may retry), or -MF_EIO for a failed or detached port. */
int vport_setup(struct vport *v, struct mf_net_setup *s);

/* MF_HC_NET_KICK: frames sent, -MF_EINVAL for a bad queue, -MF_EIO if the
 * port is detached, failed or not running. A kick on an attached port is
 * counted, with the TSC ticks it took, in its switch's kicks and busy_tsc. */
int vport_kick(struct vport *v, uint64_t queue);

/* Drains v's TX ring (at most one ring's worth per call) into the switch.
 * Returns the frames the switch accepted, or -MF_EIO if v is not running
 * or its TX ring turns out malformed (v is then FAILED). */
int vport_transmit(struct vport *v);

#endif
