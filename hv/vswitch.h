/*
 * The hypervisor's L2 switch: ports (hv/port.h) joined by a learning
 * forwarding table. A port hands the switch a frame in hypervisor memory
 * (vswitch_forward); the switch picks the receivers by destination MAC
 * (learnt unicast to its port, broadcast, multicast and unknown unicast to
 * every other running port, never back to the sender) and hands each a
 * copy through its deliver() operation. The switch knows nothing of what
 * is behind a port (virtio rings, a copy queue, a NIC).
 *
 * The caller allocates every structure at boot and serialises all calls
 * on one switch, and every operation on a port attached to it, with the
 * switch's lock (issue 12: one lock per switch; a frame's whole path,
 * the sender's ring to every receiver's, runs under it). Nothing here
 * takes it.
 */
#ifndef HV_VSWITCH_H
#define HV_VSWITCH_H

#include <stdint.h>
#include "fdb.h"
#include "lock.h"
#include "param.h"
#include "port.h"

struct vswitch {
    char name[SWITCH_NAME_MAX];
    struct port **ports;            /* slot i holds the port with index i, or NULL */
    uint32_t capacity;
    uint32_t count;
    struct fdb fdb;
    struct fdb_memo last_dst;       /* the last unicast lookup (a burst goes to one port) */
    uint64_t frames;                /* copies delivered to ports */
    uint64_t drops;                 /* frames (or flood copies) not delivered, any reason */
    uint64_t busy_tsc;              /* TSC ticks spent serving sends (vswitch_account) */
    uint64_t kicks;                 /* sends served: one per batch, e.g. a virtio TX kick */
    struct port *flush_list;        /* ports delivered to in this burst, to flush at its end */
    uint32_t in_burst;              /* inside vswitch_burst_begin .. _end */
    struct lock lock;
};

void vswitch_init(struct vswitch *sw, const char *name, struct port **port_storage,
                  uint32_t capacity, struct fdb_entry *fdb_storage, uint32_t fdb_capacity);

/* Puts p in the first free slot: state RESET, counters zeroed, why empty.
 * Its ops, flags, mac, notify and owner are kept. 0, or -1 if the switch
 * is full or p is attached already. */
int vswitch_attach(struct vswitch *sw, struct port *p);

/* Removes p and its forwarding entries (O(fdb capacity)); p->sw becomes
 * NULL. Nothing if p is not attached. */
void vswitch_detach(struct port *p);

/* A frame src sends: len bytes in hypervisor memory. Refused (0; counted
 * in src's drops_malformed and the switch's drops) when src is not
 * RUNNING, the length is outside PORT_FRAME_MIN..MF_NET_FRAME_MAX, or a
 * PORT_F_FIXED_MAC port sends from another address; else counted in src's
 * tx counters, its source learnt, and delivered to its receivers (1). */
int vswitch_forward(struct port *src, const uint8_t *frame, uint32_t len);

/* A frame src could not even hand over (unreadable, too long for any
 * buffer): counted as vswitch_forward counts a refused one. */
void vswitch_refuse(struct port *src);

/* One copy to dst through its deliver(): counted in the switch's frames
 * and dst's rx counters if taken, else in the switch's drops (also when
 * dst is detached, not RUNNING, or the frame is NULL or of a bad length). */
void vswitch_deliver(struct port *dst, const uint8_t *frame, uint32_t len);

/* The same for a caller that keeps what was not taken (a summoned
 * service's held frames): 1 taken and counted, 0 not taken, nothing
 * counted. */
int vswitch_try_deliver(struct port *dst, const uint8_t *frame, uint32_t len);

/* A burst: the sends of one batch from one port (a virtio TX kick, an
 * uplink's poll), under the switch's lock. Until vswitch_burst_end the
 * ports delivered to may keep their work pending (struct port's flush);
 * vswitch_burst_end flushes each of them once. Outside a burst every send
 * and delivery is flushed before it returns. Bursts do not nest. */
void vswitch_burst_begin(struct vswitch *sw);
void vswitch_burst_end(struct vswitch *sw);

/* Adds one served send batch that took ticks to the switch's figures. */
void vswitch_account(struct vswitch *sw, uint64_t ticks);

#endif
