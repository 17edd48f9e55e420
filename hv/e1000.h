/*
 * The Intel 8254x ("e1000") driver behind struct nic (hv/nic.h): the
 * 82540EM that Bochs and QEMU emulate (8086:100E), and the 82545EM
 * (8086:100F) and 82574L (8086:10D3, QEMU's e1000e) where they differ
 * only in the EEPROM read register's layout. Polled, legacy descriptors,
 * interrupts masked.
 *
 * Everything the device writes back is untrusted: the driver reads only
 * the status, length and error bytes of a descriptor, never its address
 * (it keeps its own buffer table), never the head registers, and a
 * frame that does not check out is dropped and counted.
 */
#ifndef HV_E1000_H
#define HV_E1000_H

#include <stddef.h>
#include <stdint.h>
#include "nic.h"
#include "pci.h"

#define E1000_RX_DESCS      64u
#define E1000_TX_DESCS      64u
#define E1000_BUF_SIZE      2048u       /* RCTL.BSIZE 2048: every legal frame fits one */
#define E1000_REGS_SIZE     0x20000u    /* BAR 0: 128 KiB of registers */
/* Pool a NIC takes at probe: one page for both rings, the buffers, and
 * the driver's state (well under a page). For the lead's pool sizing. */
#define E1000_POOL_PAGES    (1u + (E1000_RX_DESCS + E1000_TX_DESCS) * E1000_BUF_SIZE / 4096u)
#define E1000_POOL_BYTES    ((uint64_t)(E1000_POOL_PAGES + 1u) * 4096u)

/* ---- the device's layout (82540EM datasheet names) ---------------------- */

#define E1000_CTRL      0x0000u
#define E1000_STATUS    0x0008u
#define E1000_EERD      0x0014u
#define E1000_ICR       0x00c0u
#define E1000_IMC       0x00d8u
#define E1000_RCTL      0x0100u
#define E1000_TCTL      0x0400u
#define E1000_TIPG      0x0410u
#define E1000_MPC       0x4010u         /* missed packets: clears on read */
#define E1000_RXCSUM    0x5000u
#define E1000_MTA       0x5200u         /* 128 registers */
#define E1000_RAL0      0x5400u
#define E1000_RAH0      0x5404u
#define E1000_RDBAL     0x2800u
#define E1000_RDBAH     0x2804u
#define E1000_RDLEN     0x2808u
#define E1000_RDH       0x2810u
#define E1000_RDT       0x2818u
#define E1000_TDBAL     0x3800u
#define E1000_TDBAH     0x3804u
#define E1000_TDLEN     0x3808u
#define E1000_TDH       0x3810u
#define E1000_TDT       0x3818u

#define E1000_CTRL_ASDE     (1u << 5)
#define E1000_CTRL_SLU      (1u << 6)
#define E1000_CTRL_RST      (1u << 26)
#define E1000_CTRL_LRST     (1u << 3)
#define E1000_CTRL_ILOS     (1u << 7)
#define E1000_CTRL_VME      (1u << 30)
#define E1000_CTRL_PHY_RST  (1u << 31)
#define E1000_STATUS_LU     (1u << 1)
#define E1000_RAH_AV        (1u << 31)

#define E1000_RCTL_EN       (1u << 1)
#define E1000_RCTL_UPE      (1u << 3)
#define E1000_RCTL_MPE      (1u << 4)
#define E1000_RCTL_LPE      (1u << 5)
#define E1000_RCTL_BAM      (1u << 15)
#define E1000_RCTL_BSIZE_MASK (3u << 16)   /* 00: 2048 bytes (BSEX clear) */
#define E1000_RCTL_SECRC    (1u << 26)
#define E1000_TCTL_EN       (1u << 1)
#define E1000_TCTL_PSP      (1u << 3)
#define E1000_TCTL_CT       (0x10u << 4)
#define E1000_TCTL_COLD     (0x40u << 12)   /* full duplex */
#define E1000_TIPG_COPPER   (10u | 8u << 10 | 6u << 20)

/* Legacy receive descriptor: the device writes length, checksum,
 * status, errors and special back. */
struct e1000_rx_desc {
    uint64_t addr;
    uint16_t length;
    uint16_t checksum;
    uint8_t status;
    uint8_t errors;
    uint16_t special;
};

/* Legacy transmit descriptor: the device writes status back. */
struct e1000_tx_desc {
    uint64_t addr;
    uint16_t length;
    uint8_t cso;
    uint8_t cmd;
    uint8_t status;
    uint8_t css;
    uint16_t special;
};

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "legacy RX descriptor is 16 bytes");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "legacy TX descriptor is 16 bytes");

#define E1000_RXD_DD        0x01u
#define E1000_RXD_EOP       0x02u
#define E1000_RXD_VP        0x08u       /* a VLAN tag was stripped: only with CTRL.VME */
#define E1000_RXD_RESERVED  0x10u
#define E1000_TXD_EOP       0x01u
#define E1000_TXD_IFCS      0x02u
#define E1000_TXD_RS        0x08u
#define E1000_TXD_DD        0x01u

/* ---- the driver --------------------------------------------------------- */

/* How the driver reaches the device's registers: 32-bit volatile loads
 * and stores through BAR 0 in the hypervisor, a fake register file in the
 * unit tests and the fuzz target. off is a register offset above. */
struct e1000_regs {
    uint32_t (*read)(void *arg, uint32_t off);
    void (*write)(void *arg, uint32_t off, uint32_t v);
    void *arg;
};

/* 1 when vendor:device is a model this driver takes. */
int e1000_supported(uint16_t vendor, uint16_t device);

/* Checks d (a supported model, BARs sane, BAR 0 a reachable memory BAR
 * of at least E1000_REGS_SIZE), enables it on the bus and brings it up
 * (e1000_attach). Returns the ready NIC, or NULL with the reason in why
 * (the device is then left with receive and transmit off). */
struct nic *e1000_probe(const struct pci_access *a, const struct pci_device *d, char *why,
                        size_t n);

/* The bring-up behind e1000_probe, on registers r (copied): reset
 * (bounded wait), MAC from the EEPROM into RAL0/RAH0, rings and buffers
 * from the pool, receive (promiscuous: every unicast and multicast frame
 * and broadcast, CRC stripped) and transmit on, interrupts masked, link
 * up. d gives the model and the PCI
 * address for the name. NULL with why on failure: reset never ends, no
 * MAC, pool exhausted. */
struct nic *e1000_attach(const struct e1000_regs *r, const struct pci_device *d, char *why,
                         size_t n);

#endif
