/*
 * A queue port (hv/port.h): frames the switch delivers wait, copied, in a
 * small queue of QPORT_FRAMES preallocated with the port, until the owner
 * takes them; the owner sends by copying a frame to the switch. It backs
 * a Solo5 guest's NET_BASIC device: NET_WRITE sends, NET_READ takes, POLL
 * asks whether one waits. A full queue drops (counted in
 * drops_no_buffer); nothing the owner does can fail someone else.
 *
 * Pure logic; the caller serialises all calls on one port's switch.
 */
#ifndef HV_QPORT_H
#define HV_QPORT_H

#include <stdint.h>
#include "port.h"

#define QPORT_FRAMES    16u

struct qport {
    struct port port;               /* what the switch and the owner see */
    uint32_t head, count;           /* oldest frame, frames waiting */
    uint16_t len[QPORT_FRAMES];
    uint8_t frame[QPORT_FRAMES][MF_NET_FRAME_MAX];
};

/* Makes q a detached, empty queue port with address mac, its owner told
 * through notify (a wake-up when the queue turns non-empty). Attach
 * &q->port to a switch, then qport_start. */
void qport_init(struct qport *q, const uint8_t mac[6],
                void (*notify)(struct port *p, enum port_event event), void *owner);

/* The link is up: the switch delivers to it from now on. */
void qport_start(struct qport *q);

/* Sends len bytes at frame (hypervisor memory) to the switch: 0, or -1
 * when the switch refused it (malformed, or the port is not running). */
int qport_send(struct qport *q, const uint8_t *frame, uint32_t len);

/* Takes the oldest waiting frame into dst (room bytes): its length, 0
 * when none waits, or -1 when it does not fit (it is dropped, counted in
 * drops_no_buffer, so that a too small buffer cannot wedge the queue). */
int32_t qport_take(struct qport *q, uint8_t *dst, uint32_t room);

/* Frames waiting. */
uint32_t qport_waiting(const struct qport *q);

#endif
