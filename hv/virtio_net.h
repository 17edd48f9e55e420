/*
 * The virtio-net driver behind struct nic (hv/nic.h), over the modern
 * PCI transport (hv/virtio_pci.h): 1af4:1041, and the transitional
 * 1af4:1000 where it offers the virtio 1.x capabilities. Polled: no
 * interrupts, no MSI-X vectors, VIRTQ_AVAIL_F_NO_INTERRUPT on both
 * queues. Features: VIRTIO_F_VERSION_1 and VIRTIO_NET_F_MAC only (no
 * offloads, no mergeable buffers, no control queue), so every frame has
 * the 12-byte virtio_net_hdr before it and fits one buffer. Without the
 * control queue a device receives promiscuously (QEMU does).
 *
 * The used rings are untrusted: an entry is read once, its id must name
 * a buffer the driver posted and has not had back, its length must fit
 * the buffer and hold a header and an Ethernet header. A bad entry is
 * dropped and counted (rx_bad); a buffer it named rightly is posted
 * again.
 */
#ifndef HV_VIRTIO_NET_H
#define HV_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>
#include "nic.h"
#include "pci.h"
#include "virtio_pci.h"

#define VIRTIO_NET_QUEUE_SIZE   64u     /* entries per queue (fewer if the device says) */
#define VIRTIO_NET_BUF_SIZE     2048u   /* header + the largest frame fits */
#define VIRTIO_NET_HDR_SIZE     12u
#define VIRTIO_NET_QUEUE_RX     0u
#define VIRTIO_NET_QUEUE_TX     1u
/* Pool a NIC takes at attach: one page for both queues' rings, the
 * buffers, and the driver's state (under a page). Equal to
 * E1000_POOL_BYTES, so the lead's pool sizing covers either driver. */
#define VIRTIO_NET_POOL_PAGES   (1u + 2u * VIRTIO_NET_QUEUE_SIZE * VIRTIO_NET_BUF_SIZE / 4096u)
#define VIRTIO_NET_POOL_BYTES   ((uint64_t)(VIRTIO_NET_POOL_PAGES + 1u) * 4096u)

/* 1 when vendor:device is a virtio-net this driver may take (the
 * transitional id still needs the modern capabilities at probe). */
int virtio_net_supported(uint16_t vendor, uint16_t device);

/* Finds d's virtio capabilities (virtio_pci_find over the identity
 * map), enables it on the bus and brings it up (virtio_net_attach).
 * The ready NIC, or NULL with the reason in why. */
struct nic *virtio_net_probe(const struct pci_access *a, const struct pci_device *d, char *why,
                             size_t n);

/* The bring-up behind virtio_net_probe on transport t (copied): reset,
 * ACKNOWLEDGE | DRIVER, features (VERSION_1 required, MAC taken),
 * FEATURES_OK checked, the MAC from device configuration, rings and
 * buffers from the pool, RX queue 0 filled, TX queue 1, DRIVER_OK. NULL
 * with why on failure (the device is then left FAILED or reset). */
struct nic *virtio_net_attach(const struct virtio_pci *t, const struct pci_device *d, char *why,
                              size_t n);

#endif
