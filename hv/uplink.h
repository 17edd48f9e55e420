/*
 * Uplinks (issue 13): a physical NIC as a port on a switch, so that
 * guests are reachable from outside the machine. What the NIC receives
 * is polled from the boot CPU's run loop and forwarded like any port's
 * frames (the switch learns the outside addresses on the uplink); what
 * the switch delivers to the uplink goes out through the NIC. The switch
 * drops unknown unicast from the wire and never floods a guest's unknown
 * unicast out (hv/vswitch.c), and a frame from the wire cannot claim a
 * guest's address.
 */
#ifndef HV_UPLINK_H
#define HV_UPLINK_H

#include <stdint.h>
#include "config.h"
#include "nic.h"

/* Binds each uplink line of cfg to one of the count NICs in nics (its
 * pci= one, else the first not bound yet) and attaches it to its switch,
 * one log line each; a line whose NIC is missing is logged and left out
 * (its switch works without it). After net_init. Returns how many are
 * bound; the caller then runs uplink_poll from the boot CPU's pollers. */
uint32_t uplink_init(const struct config *cfg, struct nic **nics, uint32_t count);

/* The poller: what each NIC received, a burst each, forwarded under its
 * switch's lock; and whether it wants to run (always, once bound:
 * nothing says a frame has come). */
void uplink_poll(void);
int uplink_wanted(void);

/* One line per bound uplink with the NIC's counters, for the report. */
void uplink_report(void);

/* Frames read from the NICs and handed to their switches per poll, at
 * most (a burst; the rest waits for the next poll). */
#define UPLINK_POLL_BUDGET 32

#endif
