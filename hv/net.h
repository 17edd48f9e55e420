/*
 * The network: the switches the config names and a pool of ports, both
 * allocated at boot. A guest takes one port per net= switch when it
 * starts and gives them back when it ends.
 */
#ifndef HV_NET_H
#define HV_NET_H

#include <stdint.h>
#include "config.h"
#include "vport.h"
#include "vswitch.h"

/* Ports kept for guests started over the control channel. */
#define NET_CONTROL_PORTS 64

/* Allocates switches and ports_needed ports from the pool. 0, or -1. */
int net_init(const struct config *cfg, uint32_t ports_needed);

/* Bytes of pool net_init will need. */
uint64_t net_footprint(const struct config *cfg, uint32_t ports_needed);

/* Ports the config's guest lines can use at once (bounded by partitions). */
uint32_t net_ports_needed(const struct config *cfg, uint32_t partitions);

/* Takes a free virtio port over guest memory mem, with the given MAC and
 * owner (told through notify: hv/port.h), and attaches it to switch index
 * sw. NULL when none is free. */
struct vport *net_port_take(uint32_t sw, const uint8_t mac[6], const struct guest_mem *mem,
                            void (*notify)(struct port *p, enum port_event event), void *owner);

/* Ports free now. */
uint32_t net_ports_free(void);

/* Detaches p from its switch and frees it. */
void net_port_give(struct vport *p);

/* The switch at index (config order), or NULL; and how many there are. */
struct vswitch *net_switch(uint32_t index);
uint32_t net_switch_count(void);

#endif
