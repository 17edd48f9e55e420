/*
 * A port: one place where frames enter and leave a switch. The switch
 * (hv/vswitch.h) knows ports only through this interface; what sits
 * behind one is the implementation's business:
 *
 *   - hv/vport.c: the device side of a Mayfly guest's virtio-net device
 *     (rings in the guest's memory, hypercalls as the transport);
 *   - a copy port for Solo5's NET_WRITE/NET_READ (planned): NET_WRITE
 *     hands the frame to vswitch_forward(), deliver() copies into a small
 *     queue preallocated with the port, NET_READ takes from it;
 *   - hv/uplink.c: a physical NIC (PORT_F_UPLINK); its poller, run from
 *     the run loop, forwards what the NIC received; deliver() queues the
 *     frame to the NIC's transmit ring.
 *
 * The contract, for every implementation:
 *
 *   - Frames are bytes in hypervisor memory, PORT_FRAME_MIN..MF_NET_FRAME_MAX
 *     long (Ethernet header on, no FCS), valid only during the call that
 *     carries them: deliver() copies what it keeps.
 *   - A port sends by calling vswitch_forward() on its own switch, never
 *     from inside its deliver() (deliveries do not nest).
 *   - state is RESET after vswitch_attach(), RUNNING once the
 *     implementation calls port_set_running() (its setup is done, link up),
 *     and FAILED after port_fail(), for good until it is attached again.
 *     The switch delivers only to RUNNING ports.
 *   - Its owner (a guest, a NIC driver) is told through notify(p, event):
 *     PORT_EVENT_WAKE when the port has something the owner asked to hear
 *     about (the implementation decides when: virtio's notification
 *     suppression, a queue turning non-empty), and PORT_EVENT_FAILED
 *     exactly once when it fails, with p->why saying why. notify runs in
 *     whatever context the event happened (possibly inside another port's
 *     send), so it only records and wakes: it never calls back into the
 *     switch or the port.
 *   - A send is a burst: an implementation may leave what its deliver()
 *     did unpublished (a ring's used idx, the notification decision) and
 *     finish it in p->flush, which the switch calls once per burst for
 *     every port it delivered to, before the send returns
 *     (vswitch_burst_end, or at the end of vswitch_forward and
 *     vswitch_deliver outside a burst).
 *   - Counters: the switch counts rx_frames/rx_bytes (what deliver() took),
 *     tx_frames/tx_bytes (what vswitch_forward() accepted) and
 *     drops_malformed for refused sends; the implementation counts
 *     drops_no_buffer (frames deliver() had no room for).
 *
 * All calls on one switch and its ports are serialised by the caller.
 */
#ifndef HV_PORT_H
#define HV_PORT_H

#include <stdint.h>
#include "../include/mayfly/virtio.h"

#define PORT_FRAME_MIN  14u         /* an Ethernet header */
#define PORT_WHY_MAX    160u        /* bytes of a failure reason, NUL included */

/* flags */
#define PORT_F_FIXED_MAC    1u      /* sends only from mac (a guest): others' sources are refused */
#define PORT_F_UPLINK       2u      /* a physical NIC (hv/uplink.c): the outside world */
#define PORT_F_SERVICE      4u      /* an instance behind a summoned service (hv/service.h) */

struct port;
struct service;
struct vswitch;

/* What a port that belongs to a summoned service tells it (hv/service.c
 * sets them on the instance ports it takes in): the switch and the port
 * call them without knowing what a service is. */
struct port_hooks {
    void (*running)(struct port *p);        /* port_set_running */
    void (*sent)(struct port *p);           /* vswitch_forward accepted a frame */
    void (*gone)(struct port *p);           /* vswitch_detach, before it leaves */
};

enum port_event {
    PORT_EVENT_WAKE = 1,            /* something for the owner */
    PORT_EVENT_FAILED,              /* the port failed (once); p->why says why */
};

/* An owner's callback for its ports' events. */
typedef void (*port_notify_fn)(struct port *p, enum port_event event);

struct port_ops {
    /* Takes one frame for the port's far side, on a RUNNING port. Returns
     * 1 if it was taken, 0 if not (counted in drops_no_buffer, or the port
     * failed itself with port_fail() while trying). */
    int (*deliver)(struct port *p, const uint8_t *frame, uint32_t len);
    /* Called once by port_fail(), state already FAILED, before the owner
     * hears: stop touching whatever failed (rings, DMA). May be NULL. */
    void (*fail)(struct port *p);
};

struct port {
    const struct port_ops *ops;
    struct vswitch *sw;             /* NULL while detached */
    uint32_t index;                 /* its slot in sw->ports, set by vswitch_attach */
    uint32_t state;                 /* MF_NET_STATE_* */
    uint32_t flags;                 /* PORT_F_* */
    uint8_t mac[6];                 /* its address (PORT_F_FIXED_MAC: its only source) */
    uint8_t learned;                /* PORT_F_FIXED_MAC: mac is in the switch's table */
    struct mf_net_status stats;     /* counters; stats.state mirrors state */
    void (*notify)(struct port *p, enum port_event event);     /* the owner's, or NULL */
    void *owner;                    /* the owner's, for notify */
    struct service *service;        /* PORT_F_SERVICE: the service it serves */
    uint32_t service_slot;
    const struct port_hooks *hooks; /* PORT_F_SERVICE: its service's (else NULL) */
    /* The implementation's (set after port_init), or NULL when deliver()
     * finishes its work itself: finishes what the deliver() calls since the
     * last flush left pending. The switch calls it also after a deliver()
     * that took nothing, and on a port that failed meanwhile. */
    void (*flush)(struct port *p);
    struct port *flush_next;        /* in the switch's flush list (flush pending) */
    uint8_t flush_queued;           /* on that list */
    char why[PORT_WHY_MAX];         /* why it failed (or why the last setup was refused) */
};

/* Makes p a detached port of the given kind: everything zeroed, then ops,
 * flags, mac, notify and owner set. */
void port_init(struct port *p, const struct port_ops *ops, uint32_t flags, const uint8_t mac[6],
               void (*notify)(struct port *p, enum port_event event), void *owner);

/* RESET -> RUNNING (why cleared). Nothing on a FAILED port: 0, or -1. */
int port_set_running(struct port *p);

/* Fails p for good: state FAILED, why set from fmt, ops->fail, then the
 * owner's notify with PORT_EVENT_FAILED. Only the first call on a port's
 * life on a switch does anything: the owner hears exactly once. */
void port_fail(struct port *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Tells the owner the port has something for it (PORT_EVENT_WAKE). */
void port_wake(struct port *p);

/* The counters and state, as MF_HC_NET_STATUS reports them. */
void port_status(const struct port *p, struct mf_net_status *out);

#endif
