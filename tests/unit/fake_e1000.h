/*
 * A fake e1000 for tests/unit/test_e1000.c and tests/fuzz/fuzz_e1000.c:
 * a register file the driver reaches through struct e1000_regs, with the
 * side effects bring-up needs (CTRL.RST clears itself, EERD answers from
 * a fake EEPROM, MPC clears on read), and the hypervisor pool replaced
 * by exact-size host allocations, so that a driver access outside its
 * rings or buffers is an ASan report. The test plays the device's DMA
 * side: the rings' addresses are host pointers (fake_rx_ring). No
 * cmocka here: the fuzz target includes it too.
 */
#ifndef TESTS_FAKE_E1000_H
#define TESTS_FAKE_E1000_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e1000.h"
#include "pool.h"

#define FAKE_ALLOCS_MAX 16

struct fake_e1000 {
    uint32_t regs[E1000_REGS_SIZE / 4];
    uint16_t eeprom[64];
    int reset_stuck;                /* CTRL.RST never clears */
    int eeprom_dead;                /* EERD never says done */
    uint32_t ral_at_reset, rah_at_reset;    /* QEMU loads RAL0/RAH0 at reset; Bochs: 0 */
    uint32_t rdt_writes, tdt_writes, resets;
    int pool_pages_left;            /* pool_alloc_pages fails at 0; < 0: no limit */
    void *allocs[FAKE_ALLOCS_MAX];
    unsigned alloc_count;
};

static struct fake_e1000 fake;

static void fake_check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fake e1000: %s\n", what);
        abort();
    }
}

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

static void *fake_alloc(uint64_t size, uint64_t align)
{
    void *p;

    fake_check(fake.alloc_count < FAKE_ALLOCS_MAX, "too many pool allocations");
    p = aligned_alloc(align, (size + align - 1) / align * align);
    fake_check(p != NULL, "host out of memory");
    memset(p, 0, size);
    fake.allocs[fake.alloc_count++] = p;
    return p;
}

/* The pool, as the driver sees it. */
uint64_t pool_alloc_pages(uint64_t count)
{
    if (fake.pool_pages_left >= 0 && (uint64_t)fake.pool_pages_left < count)
        return 0;
    if (fake.pool_pages_left >= 0)
        fake.pool_pages_left -= (int)count;
    return (uint64_t)(uintptr_t)fake_alloc(count * 4096, 4096);
}

void *pool_alloc_bytes(uint64_t size, uint64_t align)
{
    return fake_alloc(size, align);
}

/* A fresh device with EEPROM MAC 52:54:00:12:34:56 and no pool limit. */
static void fake_reset(void)
{
    for (unsigned i = 0; i < fake.alloc_count; i++)
        free(fake.allocs[i]);
    memset(&fake, 0, sizeof(fake));
    fake.eeprom[0] = 0x5452;
    fake.eeprom[1] = 0x1200;
    fake.eeprom[2] = 0x5634;
    fake.pool_pages_left = -1;
}

static const struct pci_device fake_pci = {
    .bus = 0, .dev = 3, .fn = 0, .vendor = 0x8086, .device = 0x100e, .class_code = 0x020000,
};

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
