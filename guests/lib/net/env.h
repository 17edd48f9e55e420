/*
 * What the network driver needs from its surroundings: the port's
 * hypercalls and the clock. In a guest, env.c implements these with
 * hypercalls (guests/lib/hypercall.h) and the TSC; the host unit tests
 * implement them with a simulated device, so driver.c and stack.c build
 * and run unchanged on the host.
 */
#ifndef GUESTS_NET_ENV_H
#define GUESTS_NET_ENV_H

#include <stdint.h>

#include "../../../include/mayfly/virtio.h"

/* MF_HC_NET_SETUP, MF_HC_NET_KICK, MF_HC_NET_STATUS on the port in slot. */
long net_env_setup(unsigned slot, struct mf_net_setup *setup);
long net_env_kick(unsigned slot, unsigned queue);
long net_env_status(unsigned slot, struct mf_net_status *status);
/* MF_HC_WAIT on the notification capability: fired bits, 0 on timeout. */
long net_env_wait(uint64_t deadline_tsc);
long net_env_yield(void);
/* The TSC and its frequency. */
uint64_t net_env_now(void);
uint64_t net_env_tsc_hz(void);

#endif
