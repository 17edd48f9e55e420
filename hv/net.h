/*
 * The network: the switches the config names and a pool of ports, both
 * allocated at boot. A guest takes one port per net= switch when it
 * starts and gives them back when it ends.
 */
#ifndef HV_NET_H
#define HV_NET_H

#include <stdint.h>
#include "config.h"
#include "qport.h"
#include "vport.h"
#include "vswitch.h"

/* Ports kept for guests started over the control channel: virtio ports
 * (Mayfly guests) and queue ports (Solo5 NET_BASIC devices). */
#define NET_CONTROL_PORTS 64
#define NET_CONTROL_QUEUE_PORTS 8

/* How many ports of each kind the pool holds. */
struct net_ports {
    uint32_t virtio, queue;
};

/* Allocates switches and the ports n counts from the pool. 0, or -1. */
int net_init(const struct config *cfg, const struct net_ports *n);

/* Bytes of pool net_init will need. */
uint64_t net_footprint(const struct config *cfg, const struct net_ports *n);

/* Queue ports one instance of guest line g takes: its net: mappings
 * (Solo5 NET_BASIC devices). */
uint32_t net_queue_ports_of(const struct config_guest *g);

/* Ports the config's guest lines can use at once (bounded by partitions). */
void net_ports_needed(const struct config *cfg, uint32_t partitions, struct net_ports *out);

/* Takes a free virtio port over guest memory mem, with the given MAC and
 * owner (told through notify: hv/port.h), and attaches it to switch index
 * sw. NULL when none is free. */
struct vport *net_port_take(uint32_t sw, const uint8_t mac[6], const struct guest_mem *mem,
                            void (*notify)(struct port *p, enum port_event event), void *owner);

/* Ports free now; ports in the pool. */
uint32_t net_ports_free(void);
uint32_t net_ports_total(void);

/* Detaches p from its switch and frees it. */
void net_port_give(struct vport *p);

/* The same for queue ports: one attached to switch index sw and
 * running, NULL when none is free; given back; how many are free. */
struct qport *net_queue_port_take(uint32_t sw, const uint8_t mac[6],
                                  void (*notify)(struct port *p, enum port_event event),
                                  void *owner);
void net_queue_port_give(struct qport *q);
uint32_t net_queue_ports_free(void);
uint32_t net_queue_ports_total(void);

/* The switch at index (config order), or NULL; and how many there are. */
struct vswitch *net_switch(uint32_t index);
uint32_t net_switch_count(void);

#endif
