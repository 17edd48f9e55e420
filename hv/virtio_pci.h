/*
 * virtio 1.x over PCI, the driver's side of the transport (issue 13):
 * the vendor capabilities in configuration space that place the common,
 * notify, ISR and device-specific structures in BAR memory, and the
 * common configuration's operations (reset, status, features, queue set-
 * up, notification, device configuration reads). Modern devices only:
 * a device without the capabilities (legacy, I/O ports) is refused.
 *
 * What the device reports is input: each capability is checked to lie
 * inside a memory BAR the hypervisor can reach before anything is read
 * through it, and the capability list walk is bounded.
 *
 * BAR memory is reached through struct virtio_pci_io: volatile loads and
 * stores of the field's own width in the hypervisor (identity mapped),
 * a fake device in the unit tests and the fuzz target.
 */
#ifndef HV_VIRTIO_PCI_H
#define HV_VIRTIO_PCI_H

#include <stddef.h>
#include <stdint.h>
#include "pci.h"

#define VIRTIO_PCI_VENDOR           0x1af4u

/* Vendor capability (cap_vndr 0x09) layout and types. */
#define VIRTIO_PCI_CAP_ID           0x09u
#define VIRTIO_PCI_CAP_COMMON       1u
#define VIRTIO_PCI_CAP_NOTIFY       2u
#define VIRTIO_PCI_CAP_ISR          3u
#define VIRTIO_PCI_CAP_DEVICE       4u
#define VIRTIO_PCI_CAP_LEN          16u     /* notify: 20 (notify_off_multiplier) */
#define VIRTIO_PCI_NOTIFY_CAP_LEN   20u

/* Common configuration structure offsets. */
#define VIRTIO_COMMON_DFSELECT      0x00u   /* le32 device_feature_select */
#define VIRTIO_COMMON_DF            0x04u   /* le32 device_feature */
#define VIRTIO_COMMON_GFSELECT      0x08u   /* le32 driver_feature_select */
#define VIRTIO_COMMON_GF            0x0cu   /* le32 driver_feature */
#define VIRTIO_COMMON_MSIX          0x10u   /* le16 msix_config */
#define VIRTIO_COMMON_NUMQ          0x12u   /* le16 num_queues */
#define VIRTIO_COMMON_STATUS        0x14u   /* u8 device_status */
#define VIRTIO_COMMON_CFGGEN        0x15u   /* u8 config_generation */
#define VIRTIO_COMMON_Q_SELECT      0x16u   /* le16 */
#define VIRTIO_COMMON_Q_SIZE        0x18u   /* le16 */
#define VIRTIO_COMMON_Q_MSIX        0x1au   /* le16 */
#define VIRTIO_COMMON_Q_ENABLE      0x1cu   /* le16 */
#define VIRTIO_COMMON_Q_NOFF        0x1eu   /* le16 queue_notify_off */
#define VIRTIO_COMMON_Q_DESCLO      0x20u   /* le64 as two le32 */
#define VIRTIO_COMMON_Q_DESCHI      0x24u
#define VIRTIO_COMMON_Q_AVAILLO     0x28u
#define VIRTIO_COMMON_Q_AVAILHI     0x2cu
#define VIRTIO_COMMON_Q_USEDLO      0x30u
#define VIRTIO_COMMON_Q_USEDHI      0x34u
#define VIRTIO_COMMON_LEN           0x38u

#define VIRTIO_MSI_NO_VECTOR        0xffffu

#define VIRTIO_STATUS_ACKNOWLEDGE   1u
#define VIRTIO_STATUS_DRIVER        2u
#define VIRTIO_STATUS_DRIVER_OK     4u
#define VIRTIO_STATUS_FEATURES_OK   8u
#define VIRTIO_STATUS_NEEDS_RESET   64u
#define VIRTIO_STATUS_FAILED        128u

/* Loads and stores of width 1, 2 or 4 bytes at a BAR address. */
struct virtio_pci_io {
    uint32_t (*read)(void *arg, uint64_t addr, uint32_t width);
    void (*write)(void *arg, uint64_t addr, uint32_t width, uint32_t v);
    void *arg;
};

/* One structure in BAR memory: [addr, addr + len). len 0: absent. */
struct virtio_pci_region {
    uint64_t addr;
    uint32_t len;
};

struct virtio_pci {
    struct virtio_pci_io io;
    struct virtio_pci_region common, notify, isr, device;
    uint32_t notify_mult;           /* notify_off_multiplier */
};

/* The hypervisor's BAR access: the identity map. */
extern const struct virtio_pci_io virtio_pci_mmio;

/* Walks d's capability list (bounded) for the first common, notify, ISR
 * and device structure, each checked to lie inside a memory BAR of d
 * that pci_bar_reachable accepts. Fills t (with io copied). 0, or -1
 * with why: no capability list, a required structure missing (common,
 * notify, device; ISR is optional: Mayfly polls), one outside its BAR,
 * its BAR not usable. Reads configuration space only. */
int virtio_pci_find(const struct pci_access *a, const struct pci_device *d,
                    const struct virtio_pci_io *io, struct virtio_pci *t, char *why, size_t n);

/* Writes 0 to device_status and waits (bounded) until it reads 0. 0 or -1. */
int virtio_pci_reset(const struct virtio_pci *t);

uint8_t virtio_pci_status(const struct virtio_pci *t);
void virtio_pci_status_set(const struct virtio_pci *t, uint8_t status);

/* The device's 64 feature bits; writing the driver's. */
uint64_t virtio_pci_features(const struct virtio_pci *t);
void virtio_pci_features_set(const struct virtio_pci *t, uint64_t features);

/* A queue as the driver sets it up. */
struct virtio_pci_queue {
    uint16_t index;
    uint16_t size;                  /* OUT: entries used (<= the size asked for) */
    uint64_t desc, avail, used;     /* IN: the rings' physical addresses */
    uint64_t notify;                /* OUT: where to write index to kick it */
};

/* Selects q->index, takes min(device's maximum, max) entries (the
 * device's maximum must be a power of two when smaller), writes the
 * rings' addresses, no MSI-X vector, enables it and computes its notify
 * address (checked inside the notify structure). 0, or -1 with why. */
int virtio_pci_queue_setup(const struct virtio_pci *t, struct virtio_pci_queue *q,
                           uint16_t max, char *why, size_t n);

/* Kicks queue q (its notify address). */
void virtio_pci_notify(const struct virtio_pci *t, const struct virtio_pci_queue *q);

/* Reads len bytes at off of the device-specific configuration, retried
 * (bounded) until config_generation is the same before and after. 0, or
 * -1 when the range is outside the structure or it never settles. */
int virtio_pci_device_read(const struct virtio_pci *t, uint32_t off, uint8_t *buf,
                           uint32_t len);

#endif
