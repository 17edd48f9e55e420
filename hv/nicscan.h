/*
 * NIC discovery at boot (issue 13): walks PCI, logs one line per device
 * found and brings up every NIC a driver here takes (e1000, virtio-net),
 * for the uplink. Call once, on the boot CPU, after the pool is up.
 */
#ifndef HV_NICSCAN_H
#define HV_NICSCAN_H

#include <stdint.h>
#include "nic.h"

struct boot_info;

/* Fills out[0..max) with the NICs now ready (in PCI order) and returns
 * how many. Every PCI function gets a log line: "mayfly: pci 00:03.0
 * 8086:100e class 020000 (e1000: mac 52:54:00:12:34:56)", "(virtio-net:
 * mac ...)", "(no driver)", or why a NIC was not used; NICs beyond max are left off and say so. */
uint32_t nic_scan(const struct boot_info *info, struct nic **out, uint32_t max);

#endif
