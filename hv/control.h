/*
 * The control channel's server: the protocol of include/mayfly/control.h
 * on COM2 and on the network (bytes the network control guest carries
 * with MF_HC_CTL_XFER), polled by the scheduler on the boot CPU. Requests change guests only through
 * hv/run.c; a request that is malformed, unauthenticated or refused gets
 * an error reply and changes nothing.
 */
#ifndef HV_CONTROL_H
#define HV_CONTROL_H

#include <stdint.h>
#include "boot_info.h"
#include "config.h"

/* Sets the channel up if the config asks for it; store is the image
 * store's memory (store_size bytes, reserved by the caller). */
void control_init(const struct config *cfg, const struct boot_info *info, uint8_t *store,
                  uint64_t store_size);

/* Reads whatever arrived and answers complete requests. Never blocks for
 * long: replies are written out, requests are not waited for. */
void control_poll(void);

/* Frames not admitted (unreadable, unauthenticated, replayed) and keyed
 * HELLOs whose replies were dropped by the rate limit: counted here, not
 * answered. */
uint64_t control_unanswered(void);

/* What one MF_HC_CTL_XFER did (the struct mf_ctl_xfer OUT fields), and
 * whether the poller should run soon (bytes came in, or a new client). */
struct control_xfer_result {
    uint32_t in_taken, out_len, out_pending;
    int wake_poller;
};

/*
 * The network channel's side of MF_HC_CTL_XFER, from any CPU, never
 * blocking and never handling a request itself (that is the poller's, on
 * the boot CPU): with MF_CTL_XFER_NEW_CLIENT in flags first drops what the
 * earlier client left (bytes not yet parsed, replies not yet taken; the
 * poller then resets the channel's parser and closes its session); then
 * takes as much of in[in_len] as the receive queue has room for and
 * copies up to out_room queued reply bytes to out. 0 with *r filled, or
 * -MF_ENOENT (no network channel) / -MF_EINVAL (unknown flags) with
 * nothing done. in and out are the caller's checked buffers.
 */
int control_net_xfer(const uint8_t *in, uint32_t in_len, uint8_t *out, uint32_t out_room,
                     uint32_t flags, struct control_xfer_result *r);

/* The control guest now running (id; 0 none): it cannot be stopped over
 * the control channel, and notify(arg) tells it replies wait (called by
 * the poller, outside any lock of this module). */
void control_net_guest(uint32_t id, void (*notify)(void *arg), void *arg);

#endif
