/*
 * A fake e1000 for tests/unit/test_e1000.c and tests/fuzz/fuzz_e1000.c:
 * a register file the driver reaches through struct e1000_regs, with the
 * side effects bring-up needs (CTRL.RST clears itself, EERD answers from
 * a fake EEPROM, MPC clears on read), and the hypervisor pool replaced
 * by exact-size host allocations (fake_pool.h), so that a driver access
 * outside its rings or buffers is an ASan report. The test plays the device's DMA
 * side: the rings' addresses are host pointers (fake_rx_ring). No
 * cmocka here: the fuzz target includes it too.
 */
#ifndef TESTS_FAKE_E1000_H
#define TESTS_FAKE_E1000_H

#include <stdint.h>
#include <string.h>

#include "e1000.h"

#define FAKE_NAME "e1000"
#include "fake_pool.h"

struct fake_e1000 {
    uint32_t regs[E1000_REGS_SIZE / 4];
    uint16_t eeprom[64];
    int reset_stuck;                /* CTRL.RST never clears */
    int eeprom_dead;                /* EERD never says done */
    uint32_t ral_at_reset, rah_at_reset;    /* QEMU loads RAL0/RAH0 at reset; Bochs: 0 */
    uint32_t rdt_writes, tdt_writes, resets;
};

static struct fake_e1000 fake;

static uint32_t fake_reg_read(void *arg, uint32_t off)
{
    uint32_t v;

    (void)arg;
    fake_check(off % 4 == 0 && off < E1000_REGS_SIZE, "register read outside BAR 0");
    v = fake.regs[off / 4];
    if (off == E1000_MPC || off == E1000_ICR)
        fake.regs[off / 4] = 0;
    return v;
}

static void fake_reg_write(void *arg, uint32_t off, uint32_t v)
{
    (void)arg;
    fake_check(off % 4 == 0 && off < E1000_REGS_SIZE, "register write outside BAR 0");
    switch (off) {
    case E1000_CTRL:
        if (v & E1000_CTRL_RST) {
            memset(fake.regs, 0, sizeof(fake.regs));
            fake.regs[E1000_RAL0 / 4] = fake.ral_at_reset;
            fake.regs[E1000_RAH0 / 4] = fake.rah_at_reset;
            fake.resets++;
            if (!fake.reset_stuck)
                v &= ~E1000_CTRL_RST;
        }
        break;
    case E1000_EERD:
        if ((v & 1u) && !fake.eeprom_dead) {
            uint32_t addr = (v >> 8) & 0xffu;
            fake_check(addr < 64, "EEPROM word out of range");
            v = (uint32_t)fake.eeprom[addr] << 16 | (addr << 8) | (1u << 4);
        } else {
            v &= ~(1u << 4);
        }
        break;
    case E1000_RDT:
        fake_check(v < E1000_RX_DESCS, "RDT past the ring");
        fake.rdt_writes++;
        break;
    case E1000_TDT:
        fake_check(v < E1000_TX_DESCS, "TDT past the ring");
        fake.tdt_writes++;
        break;
    default:
        break;
    }
    fake.regs[off / 4] = v;
}

static const struct e1000_regs fake_regs = { fake_reg_read, fake_reg_write, NULL };

/* A fresh device with EEPROM MAC 52:54:00:12:34:56 and a fresh, zeroed
 * pool with no limit. */
static void fake_reset(void)
{
    fake_pool_reset(0);
    memset(&fake, 0, sizeof(fake));
    fake.eeprom[0] = 0x5452;
    fake.eeprom[1] = 0x1200;
    fake.eeprom[2] = 0x5634;
}

static const struct pci_device fake_pci = {
    .bus = 0, .dev = 3, .fn = 0, .vendor = 0x8086, .device = 0x100e, .class_code = 0x020000,
};

/* e1000_attach on the fake. */
static struct nic *fake_attach(char *why, size_t n)
{
    return e1000_attach(&fake_regs, &fake_pci, why, n);
}

static uint64_t fake_reg64(uint32_t lo)
{
    return (uint64_t)fake.regs[lo / 4] | (uint64_t)fake.regs[lo / 4 + 1] << 32;
}

static struct e1000_rx_desc *fake_rx_ring(void)
{
    return (struct e1000_rx_desc *)(uintptr_t)fake_reg64(E1000_RDBAL);
}

static struct e1000_tx_desc *fake_tx_ring(void)
{
    return (struct e1000_tx_desc *)(uintptr_t)fake_reg64(E1000_TDBAL);
}

#endif
