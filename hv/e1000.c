/*
 * The e1000 driver (hv/e1000.h). Rings: E1000_RX_DESCS receive and
 * E1000_TX_DESCS transmit legacy descriptors in one pool page, each with
 * its own E1000_BUF_SIZE buffer from the pool. The pool is identity
 * mapped, so the addresses handed to the device are the pointers.
 *
 * Receive: rx_next is the next descriptor to look at; the device owns
 * every other one (RDT trails rx_next by one, the ring's one hole). A
 * descriptor is read once (status first, then the rest), checked, its
 * frame copied out of the driver's own buffer for that slot (never from
 * the address in the descriptor) and the descriptor rewritten whole and
 * given back. Transmit: tx_tail is the next slot to fill, tx_clean the
 * oldest not seen done; a slot is reused only after its DD bit.
 */
#include <stdarg.h>

#include "e1000.h"
#include "fmt.h"
#include "lib.h"
#include "pool.h"

#define PAGE_BYTES          4096u
#define RESET_POLLS         100000u     /* CTRL reads; Bochs and QEMU are done at once */
#define EERD_POLLS          100000u
#define MISSED_EVERY        1024u       /* empty polls between reads of MPC */
#define ETH_MIN             14u
#define MAC_BYTES           6u

/* Models and where their EERD puts the word address and the done bit. */
struct e1000_model {
    uint16_t device;
    uint8_t eerd_addr_shift;
    uint32_t eerd_done;
};

static const struct e1000_model models[] = {
    { 0x100e, 8, 1u << 4 },             /* 82540EM: Bochs, QEMU "e1000" */
    { 0x100f, 8, 1u << 4 },             /* 82545EM copper: QEMU "e1000-82545em" */
    { 0x10d3, 2, 1u << 1 },             /* 82574L: QEMU "e1000e" */
};

#define EERD_START          1u
#define EERD_DATA_SHIFT     16

struct e1000 {
    struct nic nic;
    struct e1000_regs regs;
    const struct e1000_model *model;
    volatile struct e1000_rx_desc *rx;
    volatile struct e1000_tx_desc *tx;
    uint8_t *rx_buf, *tx_buf;           /* E1000_BUF_SIZE per slot, in slot order */
    uint32_t rx_next, tx_tail, tx_clean;
    uint32_t empty_polls;
    uint8_t rx_discarding;              /* inside a frame that spans descriptors */
};

static uint32_t reg_read(const struct e1000 *e, uint32_t off)
{
    return e->regs.read(e->regs.arg, off);
}

static void reg_write(const struct e1000 *e, uint32_t off, uint32_t v)
{
    e->regs.write(e->regs.arg, off, v);
}

/* The hypervisor's register access: BAR 0 through the identity map. */
static uint32_t mmio_read(void *arg, uint32_t off)
{
    return *(volatile uint32_t *)((uintptr_t)arg + off);
}

static void mmio_write(void *arg, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)((uintptr_t)arg + off) = v;
}

static const struct e1000_model *model_find(uint16_t vendor, uint16_t device)
{
    if (vendor != 0x8086)
        return NULL;
    for (size_t i = 0; i < ARRAY_SIZE(models); i++)
        if (models[i].device == device)
            return &models[i];
    return NULL;
}

int e1000_supported(uint16_t vendor, uint16_t device)
{
    return model_find(vendor, device) != NULL;
}

/* ---- bring-up ----------------------------------------------------------- */

/* Global reset, waited for by polling (bounded): 0, or -1. */
static int device_reset(const struct e1000 *e)
{
    reg_write(e, E1000_IMC, 0xffffffffu);
    reg_write(e, E1000_CTRL, reg_read(e, E1000_CTRL) | E1000_CTRL_RST);
    for (uint32_t i = 0; i < RESET_POLLS; i++) {
        if ((reg_read(e, E1000_CTRL) & E1000_CTRL_RST) == 0) {
            reg_write(e, E1000_IMC, 0xffffffffu);   /* reset unmasks nothing, but be sure */
            (void)reg_read(e, E1000_ICR);           /* clears what was pending */
            return 0;
        }
    }
    return -1;
}

/* EEPROM word addr through EERD (bounded wait): 0 with *word, or -1. */
static int eeprom_read(const struct e1000 *e, uint32_t addr, uint16_t *word)
{
    reg_write(e, E1000_EERD, addr << e->model->eerd_addr_shift | EERD_START);
    for (uint32_t i = 0; i < EERD_POLLS; i++) {
        uint32_t v = reg_read(e, E1000_EERD);
        if (v & e->model->eerd_done) {
            *word = (uint16_t)(v >> EERD_DATA_SHIFT);
            return 0;
        }
    }
    return -1;
}

/* The MAC from EEPROM words 0..2, else what RAL0/RAH0 hold when valid
 * (QEMU loads them at reset; Bochs does not). */
static int mac_read(const struct e1000 *e, uint8_t mac[MAC_BYTES])
{
    uint16_t w[3];
    uint32_t lo, hi;

    if (eeprom_read(e, 0, &w[0]) == 0 && eeprom_read(e, 1, &w[1]) == 0 &&
        eeprom_read(e, 2, &w[2]) == 0) {
        for (uint32_t i = 0; i < 3; i++) {
            mac[2 * i] = (uint8_t)w[i];
            mac[2 * i + 1] = (uint8_t)(w[i] >> 8);
        }
        return 0;
    }
    hi = reg_read(e, E1000_RAH0);
    if ((hi & E1000_RAH_AV) == 0)
        return -1;
    lo = reg_read(e, E1000_RAL0);
    for (uint32_t i = 0; i < 4; i++)
        mac[i] = (uint8_t)(lo >> (8 * i));
    mac[4] = (uint8_t)hi;
    mac[5] = (uint8_t)(hi >> 8);
    return 0;
}

/* A unicast address that is not all zeroes. */
static int mac_usable(const uint8_t mac[MAC_BYTES])
{
    uint8_t any = 0;

    for (uint32_t i = 0; i < MAC_BYTES; i++)
        any |= mac[i];
    return any != 0 && (mac[0] & 1u) == 0;
}

/* Our address into RAL0/RAH0 (valid): the device's own, for what it
 * sends as pause frames and what a later non-promiscuous mode would
 * take. */
static void address_write(const struct e1000 *e, const uint8_t m[MAC_BYTES])
{
    reg_write(e, E1000_RAL0, (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 |
                             (uint32_t)m[3] << 24);
    reg_write(e, E1000_RAH0, (uint32_t)m[4] | (uint32_t)m[5] << 8 | E1000_RAH_AV);
}

/* The receive filter: our address, no multicast table (receive is
 * promiscuous: RCTL.UPE | MPE, see rings_setup). */
static void filter_setup(const struct e1000 *e)
{
    address_write(e, e->nic.mac);
    for (uint32_t i = 0; i < 128; i++)
        reg_write(e, E1000_MTA + 4 * i, 0);
}

/* Descriptor i of the receive ring, given (back) to the device whole:
 * our buffer's address, nothing written back. */
static void rx_slot_reset(struct e1000 *e, uint32_t i)
{
    e->rx[i].addr = (uint64_t)(uintptr_t)(e->rx_buf + (size_t)i * E1000_BUF_SIZE);
    e->rx[i].length = 0;
    e->rx[i].checksum = 0;
    e->rx[i].errors = 0;
    e->rx[i].special = 0;
    e->rx[i].status = 0;
}

static void rings_setup(struct e1000 *e)
{
    uint64_t rx = (uint64_t)(uintptr_t)e->rx, tx = (uint64_t)(uintptr_t)e->tx;

    for (uint32_t i = 0; i < E1000_RX_DESCS; i++)
        rx_slot_reset(e, i);
    for (uint32_t i = 0; i < E1000_TX_DESCS; i++)
        e->tx[i].addr = (uint64_t)(uintptr_t)(e->tx_buf + (size_t)i * E1000_BUF_SIZE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);        /* rings written before the device looks */
    reg_write(e, E1000_RXCSUM, 0);                   /* no offload: error bits mean the frame */
    reg_write(e, E1000_RDBAL, (uint32_t)rx);
    reg_write(e, E1000_RDBAH, (uint32_t)(rx >> 32));
    reg_write(e, E1000_RDLEN, E1000_RX_DESCS * (uint32_t)sizeof(struct e1000_rx_desc));
    reg_write(e, E1000_RDH, 0);
    reg_write(e, E1000_RDT, E1000_RX_DESCS - 1);
    reg_write(e, E1000_TDBAL, (uint32_t)tx);
    reg_write(e, E1000_TDBAH, (uint32_t)(tx >> 32));
    reg_write(e, E1000_TDLEN, E1000_TX_DESCS * (uint32_t)sizeof(struct e1000_tx_desc));
    reg_write(e, E1000_TDH, 0);
    reg_write(e, E1000_TDT, 0);
    reg_write(e, E1000_TIPG, E1000_TIPG_COPPER);
    reg_write(e, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT | E1000_TCTL_COLD);
    /* Promiscuous (unicast and multicast) with broadcast: every frame the
     * wire brings, for the switch to decide (hv/nic.h). */
    reg_write(e, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_MPE | E1000_RCTL_BAM |
                             E1000_RCTL_SECRC);
}

/* Link up with speed autodetected; no link reset, PHY reset or VLAN
 * stripping (a stripped tag would be lost to the switch). */
static void link_up(const struct e1000 *e)
{
    uint32_t ctrl = reg_read(e, E1000_CTRL);

    ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_ILOS | E1000_CTRL_VME | E1000_CTRL_PHY_RST);
    reg_write(e, E1000_CTRL, ctrl | E1000_CTRL_SLU | E1000_CTRL_ASDE);
}

/* The rings' page and the buffers from the pool. */
static int memory_take(struct e1000 *e)
{
    uint64_t ring = pool_alloc_pages(1);
    uint64_t bufs = pool_alloc_pages(E1000_POOL_PAGES - 1);

    if (!ring || !bufs)
        return -1;
    e->rx = (volatile struct e1000_rx_desc *)(uintptr_t)ring;
    e->tx = (volatile struct e1000_tx_desc *)(uintptr_t)(ring + PAGE_BYTES / 2);
    e->rx_buf = (uint8_t *)(uintptr_t)bufs;
    e->tx_buf = e->rx_buf + (size_t)E1000_RX_DESCS * E1000_BUF_SIZE;
    return 0;
}

_Static_assert(E1000_RX_DESCS * sizeof(struct e1000_rx_desc) <= PAGE_BYTES / 2 &&
               E1000_TX_DESCS * sizeof(struct e1000_tx_desc) <= PAGE_BYTES / 2,
               "both rings fit one page");
_Static_assert((E1000_RX_DESCS * 16u) % 128u == 0 && (E1000_TX_DESCS * 16u) % 128u == 0,
               "RDLEN and TDLEN are multiples of 128 bytes");

/* ---- frames ------------------------------------------------------------- */

static uint32_t ring_next(uint32_t i, uint32_t size)
{
    return i + 1 == size ? 0 : i + 1;
}

/* Moves tx_clean past every slot the device says it has sent. */
static void tx_reclaim(struct e1000 *e)
{
    while (e->tx_clean != e->tx_tail && (e->tx[e->tx_clean].status & E1000_TXD_DD))
        e->tx_clean = ring_next(e->tx_clean, E1000_TX_DESCS);
}

static int e1000_send(struct nic *n, const uint8_t *frame, uint32_t len)
{
    struct e1000 *e = n->priv;
    uint32_t slot = e->tx_tail, next = ring_next(slot, E1000_TX_DESCS);

    if (len < ETH_MIN || len > NIC_FRAME_MAX)
        return -1;
    tx_reclaim(e);
    if (next == e->tx_clean) {
        n->counters.tx_full++;
        return -1;
    }
    memcpy(e->tx_buf + (size_t)slot * E1000_BUF_SIZE, frame, len);
    e->tx[slot].addr = (uint64_t)(uintptr_t)(e->tx_buf + (size_t)slot * E1000_BUF_SIZE);
    e->tx[slot].length = (uint16_t)len;
    e->tx[slot].cso = 0;
    e->tx[slot].css = 0;
    e->tx[slot].special = 0;
    e->tx[slot].status = 0;
    e->tx[slot].cmd = E1000_TXD_EOP | E1000_TXD_IFCS | E1000_TXD_RS;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);        /* frame and descriptor before TDT */
    e->tx_tail = next;
    reg_write(e, E1000_TDT, next);
    n->counters.tx_frames++;
    return 0;
}

/* What the device wrote back into one receive descriptor. */
struct rx_done {
    uint32_t length;
    uint8_t status, errors;
};

/* Whether the frame described by r is whole and good, keeping track of
 * frames that span descriptors (each piece is dropped, up to and
 * including the one with EOP). */
static int rx_check(struct e1000 *e, const struct rx_done *r, uint32_t room)
{
    if (e->rx_discarding) {
        e->rx_discarding = (r->status & E1000_RXD_EOP) == 0;
        return -1;
    }
    if ((r->status & E1000_RXD_EOP) == 0) {
        e->rx_discarding = 1;
        return -1;
    }
    if (r->errors != 0 || (r->status & (E1000_RXD_VP | E1000_RXD_RESERVED)) != 0)
        return -1;
    if (r->length < ETH_MIN || r->length > NIC_FRAME_MAX || r->length > room)
        return -1;
    return 0;
}

/* Adds what the device counted as missed (MPC clears on read), now and
 * then: a register read is a bus round trip. */
static void rx_count_missed(struct e1000 *e)
{
    if (++e->empty_polls < MISSED_EVERY)
        return;
    e->empty_polls = 0;
    e->nic.counters.rx_missed += reg_read(e, E1000_MPC);
}

static int32_t e1000_recv(struct nic *n, uint8_t *buf, uint32_t room)
{
    struct e1000 *e = n->priv;
    uint32_t slot = e->rx_next;
    struct rx_done r;
    int ok;

    r.status = e->rx[slot].status;
    if ((r.status & E1000_RXD_DD) == 0) {
        rx_count_missed(e);
        return 0;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);        /* the rest was written before DD */
    r.length = e->rx[slot].length;
    r.errors = e->rx[slot].errors;
    ok = rx_check(e, &r, room) == 0;
    if (ok)
        memcpy(buf, e->rx_buf + (size_t)slot * E1000_BUF_SIZE, r.length);
    rx_slot_reset(e, slot);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);        /* the copy and reset before RDT */
    e->rx_next = ring_next(slot, E1000_RX_DESCS);
    reg_write(e, E1000_RDT, slot);
    if (!ok) {
        n->counters.rx_bad++;
        return -1;
    }
    n->counters.rx_frames++;
    return (int32_t)r.length;
}

/* An uplink line's mac=: a unicast address into RAL0/RAH0 and n->mac. */
static int e1000_set_mac(struct nic *n, const uint8_t mac[6])
{
    struct e1000 *e = n->priv;

    if (!mac_usable(mac))
        return -1;
    address_write(e, mac);
    memcpy(n->mac, mac, MAC_BYTES);
    return 0;
}

static const struct nic_ops e1000_ops = {
    .send = e1000_send,
    .recv = e1000_recv,
    .set_mac = e1000_set_mac,
};

/* ---- probe -------------------------------------------------------------- */

/* The reason into why; NULL, for the probe's refusals. */
/* A probe's refusal: the reason in why (fmt_error's), and no NIC. */
#define refuse(why, n, ...) (fmt_error((why), (n), 0, __VA_ARGS__), (struct nic *)NULL)

struct nic *e1000_attach(const struct e1000_regs *r, const struct pci_device *d, char *why,
                         size_t n)
{
    const struct e1000_model *model = model_find(d->vendor, d->device);
    struct e1000 probe = { .regs = *r, .model = model }, *e;
    char addr[16];

    if (!model)
        return refuse(why, n, "%04x:%04x is no e1000 model this driver knows",
                      d->vendor, d->device);
    if (device_reset(&probe) != 0)
        return refuse(why, n, "the reset (CTRL.RST) did not finish after %u "
                      "reads", RESET_POLLS);
    if (mac_read(&probe, probe.nic.mac) != 0)
        return refuse(why, n, "no MAC address (EEPROM read timed out, RAH0 not "
                      "valid)");
    if (!mac_usable(probe.nic.mac))
        return refuse(why, n, "the EEPROM's MAC %02x:%02x:%02x:%02x:%02x:%02x is "
                      "not a unicast address", probe.nic.mac[0], probe.nic.mac[1],
                      probe.nic.mac[2], probe.nic.mac[3], probe.nic.mac[4], probe.nic.mac[5]);
    e = pool_alloc_bytes(sizeof(*e), 64);
    if (!e || memory_take(&probe) != 0)
        return refuse(why, n, "the hypervisor pool has no room for its rings (%llu "
                      "bytes per NIC)", (unsigned long long)E1000_POOL_BYTES);
    *e = probe;
    e->nic.ops = &e1000_ops;
    e->nic.priv = e;
    e->nic.bus = d->bus;
    e->nic.dev = d->dev;
    e->nic.fn = d->fn;
    pci_format_address(d, addr, sizeof(addr));
    fmt_snprintf(e->nic.name, sizeof(e->nic.name), "e1000 %s", addr);
    filter_setup(e);
    rings_setup(e);
    link_up(e);
    return &e->nic;
}

struct nic *e1000_probe(const struct pci_access *a, const struct pci_device *d, char *why,
                        size_t n)
{
    const struct pci_bar *b = &d->bars[0];
    struct e1000_regs regs = { mmio_read, mmio_write, NULL };

    if (!e1000_supported(d->vendor, d->device))
        return refuse(why, n, "%04x:%04x is no e1000 model this driver knows",
                      d->vendor, d->device);
    if (d->bars_bad)
        return refuse(why, n, "not used: %s", d->why);
    if (b->kind != PCI_BAR_MEMORY || b->size < E1000_REGS_SIZE)
        return refuse(why, n, "BAR 0 is not a memory BAR of at least %u "
                      "bytes", E1000_REGS_SIZE);
    if (!pci_bar_reachable(b))
        return refuse(why, n, "BAR 0 at 0x%llx is %s (the hypervisor "
                      "reaches BARs below 0x%llx only)", (unsigned long long)b->base,
                      b->base ? "above what the identity map covers" : "unassigned",
                      (unsigned long long)PCI_BAR_REACHABLE_TOP);
    pci_enable(a, d);
    regs.arg = (void *)(uintptr_t)b->base;
    return e1000_attach(&regs, d, why, n);
}
