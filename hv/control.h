/*
 * The control channel's server: the protocol of include/mayfly/control.h
 * on COM2, polled by the scheduler. Requests change guests only through
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

#endif
