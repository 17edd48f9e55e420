/*
 * ctlnet's byte pump (pump.c): moves the control protocol's bytes between
 * one TCP client and the hypervisor's MF_HC_CTL_XFER, and decides who may
 * connect. Pure: it sees TCP and the hypercall only through struct
 * ctl_pump_io, so tests/unit/test_ctlnet.c drives it with a fake client
 * and a fake hypervisor. It never parses a frame: the hypervisor does.
 *
 * Flow control: bytes read from TCP wait in `in` until the hypervisor
 * takes them (in_taken); while `in` is full nothing more is read, so TCP's
 * window closes on a client the hypervisor is not keeping up with.
 * Replies wait in `out` until TCP queues them; while `out` is full the
 * hypervisor keeps them (out_pending). Neither buffer grows.
 */
#ifndef GUESTS_CTLNET_PUMP_H
#define GUESTS_CTLNET_PUMP_H

#include <stddef.h>
#include <stdint.h>

#include "../../include/mayfly/abi.h"

#define CTL_PUMP_IN     2048        /* bytes from the client not yet taken */
#define CTL_PUMP_OUT    2048        /* bytes for the client not yet queued in TCP */
#define CTL_PUMP_ROUNDS 32          /* most recv/XFER/send rounds in one turn */

/* The world as the pump sees it. recv and send have tcp_recv's and
 * tcp_send's results (> 0 bytes, 0 end of stream for recv, -MF_EAGAIN,
 * other -MF_E* for a failed connection); xfer is MF_HC_CTL_XFER (0 or
 * -MF_E*) with the buffers' addresses already in x. */
struct ctl_pump_io {
    long (*recv)(void *ctx, void *buf, size_t len);
    long (*send)(void *ctx, const void *buf, size_t len);
    long (*xfer)(void *ctx, struct mf_ctl_xfer *x);
    void *ctx;
};

struct ctl_pump {
    uint8_t in[CTL_PUMP_IN];
    uint8_t out[CTL_PUMP_OUT];
    uint32_t in_len;                /* in[0..in_len) waits for the hypervisor */
    uint32_t out_off, out_len;      /* out[out_off..out_len) waits for TCP */
    uint32_t pending;               /* the last XFER's out_pending */
    uint32_t flags;                 /* for the next XFER: MF_CTL_XFER_NEW_CLIENT */
    uint8_t eof;                    /* the client closed its side */
    uint64_t last;                  /* tick of the last byte moved either way */
    uint64_t bytes_in, bytes_out;   /* taken by the hypervisor, queued for the client */
    long error;                     /* the failure ctl_pump_turn reported */
};

/* What one turn did (ctl_pump_turn). */
enum ctl_pump_result {
    CTL_PUMP_IDLE = 0,              /* nothing moved: wait for an event */
    CTL_PUMP_MOVED,                 /* bytes moved: wait for an event */
    CTL_PUMP_MORE,                  /* bytes moved and more are ready: turn again at once */
    CTL_PUMP_CLIENT_FAILED,         /* recv or send failed (error: its -MF_E*) */
    CTL_PUMP_XFER_FAILED,           /* MF_HC_CTL_XFER failed (error: its -MF_E*) */
};

/* A fresh client at tick now: empty buffers, and the next XFER tells the
 * hypervisor to drop what an earlier client left. */
void ctl_pump_start(struct ctl_pump *p, uint64_t now);
/*
 * Up to CTL_PUMP_ROUNDS rounds of: send what `out` holds, read what `in`
 * has room for, XFER (in, the room in out). Stops early once a round
 * moves nothing. now (a tick count) stamps p->last when bytes move. An
 * XFER that fails with -MF_EAGAIN moved nothing (it is offered again). An
 * XFER whose answer does not fit what it was given (in_taken > in_len,
 * out_len > out_room) is CTL_PUMP_XFER_FAILED with -MF_EIO.
 */
enum ctl_pump_result ctl_pump_turn(struct ctl_pump *p, const struct ctl_pump_io *io,
                                   uint64_t now);
/* Whether the client is done: it closed its side, everything it sent was
 * taken, every reply ready was queued for it, and nothing moved for
 * idle_ticks. */
int ctl_pump_finished(const struct ctl_pump *p, uint64_t now, uint64_t idle_ticks);

/* Who gets the hypervisor when a connection arrives (one client at a time). */
enum ctl_admit {
    CTL_ADMIT_TAKE,                 /* nobody is served: serve the newcomer */
    CTL_ADMIT_REPLACE,              /* the served client is idle or closing: drop it */
    CTL_ADMIT_REFUSE,               /* the served client is active: close the newcomer */
};
/* serving: a client is served by p; it counts as idle once it closed its
 * side or nothing moved for idle_ticks. */
enum ctl_admit ctl_pump_admit(const struct ctl_pump *p, int serving, uint64_t now,
                              uint64_t idle_ticks);

#endif
