/*
 * The network control guest (config 'control net', issue 14). Its image
 * (guests/ctlnet/) is built into the hypervisor, so the line needs no
 * file. At boot it becomes a guest line of its own, called
 * CONFIG_CONTROL_GUEST_NAME, on the line's switch, in the line's class
 * or the smallest that fits; it alone gets the guest-control capability
 * (MF_OBJ_GUEST_CONTROL) for MF_HC_CTL_XFER, in the slot after its
 * network port. When it ends (exit, fault, kill) it is started again
 * after CTLNET_BACKOFF_MS, at most CTLNET_RESTARTS_PER_MINUTE times a
 * minute, so a client that crashes its TCP stack costs a reconnect, not
 * the management plane. The bytes it carries are served by hv/control.c.
 */
#ifndef HV_CTLNET_H
#define HV_CTLNET_H

#include <stdint.h>
#include "boot_info.h"
#include "config.h"
#include "guest.h"

#define CTLNET_BACKOFF_MS           200
#define CTLNET_RESTARTS_PER_MINUTE  5
#define CTLNET_IMAGE_NAME           "ctlnet.elf"

/* With a control net line: the line made and accepted (its instance
 * starts with the others), the restart poller registered. Refuses the
 * boot (fatal) when the guest cannot run: no class fits it, or this
 * hypervisor was built without the image. After fleet_init and
 * control_init. */
void ctlnet_init(const struct config *cfg);

/* Whether l is the control guest's line. */
int ctlnet_line(const struct guest_line *l);

/* The personality's hooks: g, of the control guest's line, was given the
 * guest-control capability in slot (its notifications name it); g is
 * being torn down (any guest: ignored unless it is the control guest). */
void ctlnet_launched(struct guest *g, uint32_t slot);
void ctlnet_released(struct guest *g);

#endif
