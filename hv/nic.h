/*
 * A physical NIC as the uplink sees it (issue 13). A driver (hv/e1000.c,
 * later virtio-net over PCI) fills a struct nic at boot and then only
 * moves frames: the uplink port (hv/uplink.c) polls nic_recv from the
 * run loop and hands what came in to its switch; a frame the switch
 * delivers to the uplink goes out with nic_send. No interrupts are
 * needed for correctness: everything is polled.
 *
 * DMA: every buffer and descriptor ring a driver gives the device comes
 * from the hypervisor pool at boot (identity mapped: physical = virtual),
 * so the device can only write there. Everything the device writes back
 * (descriptor status, lengths, indexes) is untrusted input: a driver
 * checks it before use, and a bad value drops that frame and counts it,
 * never more.
 *
 * A driver receives every frame the wire brings (promiscuous, where the
 * device filters by address): the switch decides what reaches a guest.
 *
 * Calls on one NIC are serialised by the caller (the uplink holds its
 * switch's lock around them).
 */
#ifndef HV_NIC_H
#define HV_NIC_H

#include <stdint.h>

#define NIC_NAME_MAX 32
#define NIC_FRAME_MAX 1514u         /* Ethernet header and payload, no FCS */

struct nic;

/* Counters a driver keeps; the uplink reports them. */
struct nic_counters {
    uint64_t rx_frames, tx_frames;
    uint64_t rx_bad;                /* frames written back malformed: runt, oversized, bad
                                     * length, error bits, descriptor out of step */
    uint64_t rx_missed;             /* frames the device dropped for lack of buffers, if it says */
    uint64_t tx_full;               /* sends refused: the transmit ring was full */
};

struct nic_ops {
    /* Queues len bytes (14..NIC_FRAME_MAX, copied: the caller's buffer is
     * valid during the call only) for transmission. 0, or -1 when the
     * transmit ring is full (counted in tx_full) or len is out of range. */
    int (*send)(struct nic *n, const uint8_t *frame, uint32_t len);
    /* The next received frame, copied into buf (room >= NIC_FRAME_MAX):
     * its length (14..NIC_FRAME_MAX), 0 when nothing has arrived, or -1
     * when the next descriptor held a malformed frame, which is dropped
     * (counted in rx_bad) and its buffer given back to the device. */
    int32_t (*recv)(struct nic *n, uint8_t *buf, uint32_t room);
    /* Programs mac as the device's own address (an uplink line's mac=).
     * 0, or -1 when the device cannot; NULL when the driver has no way. */
    int (*set_mac)(struct nic *n, const uint8_t mac[6]);
};

struct nic {
    const struct nic_ops *ops;
    char name[NIC_NAME_MAX];        /* for the log: "e1000 00:03.0" */
    uint8_t mac[6];                 /* the device's own address */
    uint8_t bus, dev, fn;           /* its PCI address */
    struct nic_counters counters;
    void *priv;                     /* the driver's */
};

static inline int nic_send(struct nic *n, const uint8_t *frame, uint32_t len)
{
    return n->ops->send(n, frame, len);
}

static inline int32_t nic_recv(struct nic *n, uint8_t *buf, uint32_t room)
{
    return n->ops->recv(n, buf, room);
}

#endif
