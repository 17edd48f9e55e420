/*
 * Unit tests of hv/e1000.c against the fake device of fake_e1000.h. The
 * test plays the device: it writes a frame into the buffer a receive
 * descriptor names and sets the descriptor's length, status and errors
 * as the device would (or as a broken device would), and sets transmit
 * descriptors' DD bits; it checks what the driver wrote to the
 * registers (RDT, TDT, the receive set-up) and to the rings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_e1000.h"
#include "nic_fixture.h"

/* The device receives len bytes of pattern seed into slot i. */
static void deliver(uint32_t i, uint32_t len, uint8_t status, uint8_t errors, uint8_t seed)
{
    struct e1000_rx_desc *d = &fake_rx_ring()[i];
    uint8_t *buf = (uint8_t *)(uintptr_t)d->addr;

    for (uint32_t k = 0; k < len && k < E1000_BUF_SIZE; k++)
        buf[k] = (uint8_t)(seed + k);
    d->length = (uint16_t)len;
    d->errors = errors;
    d->status = status;
}

static void test_bring_up(void **state)
{
    uint32_t rctl = fake.regs[E1000_RCTL / 4];

    (void)state;
    assert_int_equal(fake.resets, 1);
    assert_memory_equal(nic->mac, ((uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }), 6);
    assert_string_equal(nic->name, "e1000 00:03.0");
    assert_int_equal(fake.regs[E1000_RAL0 / 4], 0x12005452u);
    assert_int_equal(fake.regs[E1000_RAH0 / 4], 0x5634u | E1000_RAH_AV);
    assert_int_equal(rctl & (E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC),
                     E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC);
    assert_int_equal(rctl & (E1000_RCTL_LPE | E1000_RCTL_BSIZE_MASK), 0);
    assert_true(fake.regs[E1000_TCTL / 4] & E1000_TCTL_EN);
    assert_true(fake.regs[E1000_CTRL / 4] & E1000_CTRL_SLU);
    assert_false(fake.regs[E1000_CTRL / 4] & E1000_CTRL_RST);
    assert_int_equal(fake.regs[E1000_IMC / 4], 0xffffffffu);
    assert_int_equal(fake.regs[E1000_RDLEN / 4], E1000_RX_DESCS * 16);
    assert_int_equal(fake.regs[E1000_TDLEN / 4], E1000_TX_DESCS * 16);
    assert_int_equal(fake.regs[E1000_RDT / 4], E1000_RX_DESCS - 1);
    assert_int_equal(fake.regs[E1000_TDT / 4], 0);
    assert_int_equal(fake_reg64(E1000_RDBAL) % 128, 0);
    assert_int_equal(fake_reg64(E1000_TDBAL) % 128, 0);
    /* Every receive descriptor names its own, distinct 2 KiB buffer. */
    for (uint32_t i = 1; i < E1000_RX_DESCS; i++)
        assert_int_equal(fake_rx_ring()[i].addr - fake_rx_ring()[i - 1].addr, E1000_BUF_SIZE);
    assert_int_equal(nic_recv(nic, frame, sizeof(frame)), 0);
}

static void test_bring_up_refusals(void **state)
{
    (void)state;
    fake_reset();
    fake.reset_stuck = 1;
    assert_null(e1000_attach(&fake_regs, &fake_pci, why, sizeof(why)));
    assert_non_null(strstr(why, "reset"));

    /* No EEPROM: the receive-address registers are used when valid
     * (QEMU), refused when not (Bochs). */
    fake_reset();
    fake.eeprom_dead = 1;
    assert_null(e1000_attach(&fake_regs, &fake_pci, why, sizeof(why)));
    assert_non_null(strstr(why, "no MAC"));

    fake_reset();
    fake.eeprom[0] = 0x0001;                        /* multicast bit */
    assert_null(e1000_attach(&fake_regs, &fake_pci, why, sizeof(why)));
    assert_non_null(strstr(why, "not a unicast"));

    fake_reset();
    fake_pool.pages_left = 10;
    assert_null(e1000_attach(&fake_regs, &fake_pci, why, sizeof(why)));
    assert_non_null(strstr(why, "pool has no room"));
    assert_int_equal(fake.regs[E1000_RCTL / 4], 0);  /* nothing given to the device */
    assert_int_equal(fake.regs[E1000_TCTL / 4], 0);

    fake_reset();
    {
        struct pci_device d = fake_pci;
        d.device = 0x1234;
        assert_null(e1000_attach(&fake_regs, &d, why, sizeof(why)));
        assert_non_null(strstr(why, "8086:1234"));
    }
}

/* QEMU keeps RAL0/RAH0 valid from its EEPROM: without a working EERD
 * that address is used. */
static void test_mac_from_receive_address(void **state)
{
    (void)state;
    fake_reset();
    fake.eeprom_dead = 1;
    fake.ral_at_reset = 0x33221102u;
    fake.rah_at_reset = 0x5544u | E1000_RAH_AV;
    nic = e1000_attach(&fake_regs, &fake_pci, why, sizeof(why));
    if (!nic)
        fail_msg("attach: %s", why);
    assert_memory_equal(nic->mac, ((uint8_t[]){ 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 }), 6);
    assert_int_equal(fake.regs[E1000_RAH0 / 4], 0x5544u | E1000_RAH_AV);
}

static void test_recv_good(void **state)
{
    (void)state;
    deliver(0, 60, E1000_RXD_DD | E1000_RXD_EOP, 0, 7);
    expect_frame(60, 7);
    assert_int_equal(fake.regs[E1000_RDT / 4], 0);  /* slot 0 is the hole now */
    assert_int_equal(fake_rx_ring()[0].status, 0);
    assert_int_equal(nic_recv(nic, frame, sizeof(frame)), 0);
    deliver(1, NIC_FRAME_MAX, E1000_RXD_DD | E1000_RXD_EOP, 0, 9);
    expect_frame(NIC_FRAME_MAX, 9);
    deliver(2, 14, E1000_RXD_DD | E1000_RXD_EOP | 0x60 /* IPCS, TCPCS */, 0, 1);
    expect_frame(14, 1);
    assert_int_equal(nic->counters.rx_frames, 3);
    assert_int_equal(nic->counters.rx_bad, 0);
}

/* Each malformed write-back: dropped, counted, the slot given back
 * whole (its own buffer address restored), and the next frame fine. */
static void test_recv_bad(void **state)
{
    static const struct {
        uint32_t len;
        uint8_t status, errors;
    } bad[] = {
        { 13, E1000_RXD_DD | E1000_RXD_EOP, 0 },                   /* runt */
        { 0, E1000_RXD_DD | E1000_RXD_EOP, 0 },
        { NIC_FRAME_MAX + 1, E1000_RXD_DD | E1000_RXD_EOP, 0 },    /* CRC not stripped */
        { 2048, E1000_RXD_DD | E1000_RXD_EOP, 0 },
        { 65535, E1000_RXD_DD | E1000_RXD_EOP, 0 },                /* past the buffer */
        { 60, E1000_RXD_DD | E1000_RXD_EOP, 0x01 },                /* CRC error */
        { 60, E1000_RXD_DD | E1000_RXD_EOP, 0x80 },                /* RX data error */
        { 60, E1000_RXD_DD | E1000_RXD_EOP, 0x20 },                /* TCP checksum error */
        { 60, E1000_RXD_DD | E1000_RXD_EOP | E1000_RXD_VP, 0 },    /* a tag we did not ask off */
        { 60, E1000_RXD_DD | E1000_RXD_EOP | E1000_RXD_RESERVED, 0 },
    };
    static uint8_t big[4096];
    uint32_t slot = 0;

    (void)state;
    for (uint32_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++, slot++) {
        uint64_t own = fake_rx_ring()[slot].addr;
        deliver(slot, bad[i].len, bad[i].status, bad[i].errors, 3);
        fake_rx_ring()[slot].addr = 0xdead0000u;     /* a device may scribble here too */
        if (nic_recv(nic, big, sizeof(big)) != -1)     /* more room than any frame */
            fail_msg("bad case %u accepted", i);
        assert_int_equal(nic->counters.rx_bad, i + 1);
        assert_int_equal(fake.regs[E1000_RDT / 4], slot);
        assert_int_equal(fake_rx_ring()[slot].status, 0);
        assert_int_equal(fake_rx_ring()[slot].addr, own);
    }
    deliver(slot, 64, E1000_RXD_DD | E1000_RXD_EOP, 0, 5);
    expect_frame(64, 5);
    assert_int_equal(nic->counters.rx_frames, 1);
}

/* A frame in pieces (no EOP): every piece up to and including the one
 * with EOP is dropped, so the tail is never taken for a frame. */
static void test_recv_missing_eop(void **state)
{
    (void)state;
    deliver(0, 1000, E1000_RXD_DD, 0, 1);
    deliver(1, 1000, E1000_RXD_DD, 0, 2);
    deliver(2, 600, E1000_RXD_DD | E1000_RXD_EOP, 0, 3);
    deliver(3, 80, E1000_RXD_DD | E1000_RXD_EOP, 0, 4);
    for (int i = 0; i < 3; i++)
        assert_int_equal(nic_recv(nic, frame, sizeof(frame)), -1);
    expect_frame(80, 4);
    assert_int_equal(nic->counters.rx_bad, 3);
}

/* A frame longer than the caller's room is dropped, never overflows it. */
static void test_recv_room(void **state)
{
    uint8_t *small = malloc(100);

    (void)state;
    deliver(0, 101, E1000_RXD_DD | E1000_RXD_EOP, 0, 1);
    assert_int_equal(nic_recv(nic, small, 100), -1);
    deliver(1, 100, E1000_RXD_DD | E1000_RXD_EOP, 0, 1);
    assert_int_equal(nic_recv(nic, small, 100), 100);
    free(small);
}

/* Five times round the ring, the device filling just behind the driver. */
static void test_recv_wrap(void **state)
{
    (void)state;
    for (uint32_t k = 0; k < 5 * E1000_RX_DESCS; k++) {
        uint32_t slot = k % E1000_RX_DESCS;
        deliver(slot, 60 + k % 100, E1000_RXD_DD | E1000_RXD_EOP, 0, (uint8_t)k);
        expect_frame(60 + k % 100, (uint8_t)k);
        assert_int_equal(fake.regs[E1000_RDT / 4], slot);
    }
    assert_int_equal(fake.rdt_writes, 5 * E1000_RX_DESCS + 1);
    assert_int_equal(nic->counters.rx_frames, 5 * E1000_RX_DESCS);
}

static void test_recv_missed(void **state)
{
    (void)state;
    fake.regs[E1000_MPC / 4] = 5;
    for (int i = 0; i < 1024; i++)
        assert_int_equal(nic_recv(nic, frame, sizeof(frame)), 0);
    assert_int_equal(nic->counters.rx_missed, 5);
    assert_int_equal(fake.regs[E1000_MPC / 4], 0);
}

static void test_send(void **state)
{
    struct e1000_tx_desc *d;
    const uint8_t *sent;

    (void)state;
    for (uint32_t k = 0; k < sizeof(frame); k++)
        frame[k] = (uint8_t)(k * 3);
    assert_int_equal(nic_send(nic, frame, 60), 0);
    assert_int_equal(fake.regs[E1000_TDT / 4], 1);
    d = &fake_tx_ring()[0];
    assert_int_equal(d->length, 60);
    assert_int_equal(d->cmd, E1000_TXD_EOP | E1000_TXD_IFCS | E1000_TXD_RS);
    assert_int_equal(d->status, 0);
    sent = (const uint8_t *)(uintptr_t)d->addr;
    assert_memory_equal(sent, frame, 60);
    assert_int_equal(nic_send(nic, frame, NIC_FRAME_MAX), 0);
    assert_memory_equal((const uint8_t *)(uintptr_t)fake_tx_ring()[1].addr, frame, NIC_FRAME_MAX);
    /* Out of range: refused, not a full ring. */
    assert_int_equal(nic_send(nic, frame, 13), -1);
    assert_int_equal(nic_send(nic, frame, NIC_FRAME_MAX + 1), -1);
    assert_int_equal(nic->counters.tx_full, 0);
    assert_int_equal(nic->counters.tx_frames, 2);
    assert_int_equal(fake.regs[E1000_TDT / 4], 2);
}

/* The device sends nothing: 63 frames fit (one slot stays empty), then
 * full, counted. Ten done: ten more. Then many times round the ring. */
static void test_send_full_and_wrap(void **state)
{
    uint32_t sent = 0;

    (void)state;
    memset(frame, 0xab, sizeof(frame));
    for (uint32_t k = 0; k < E1000_TX_DESCS - 1; k++, sent++)
        assert_int_equal(nic_send(nic, frame, 100), 0);
    assert_int_equal(nic_send(nic, frame, 100), -1);
    assert_int_equal(nic->counters.tx_full, 1);
    assert_int_equal(fake.regs[E1000_TDT / 4], E1000_TX_DESCS - 1);
    for (uint32_t k = 0; k < 10; k++)
        fake_tx_ring()[k].status = E1000_TXD_DD;
    for (uint32_t k = 0; k < 10; k++, sent++)
        assert_int_equal(nic_send(nic, frame, 100), 0);
    assert_int_equal(nic_send(nic, frame, 100), -1);
    assert_int_equal(nic->counters.tx_full, 2);
    /* The device keeps up: every slot it was given is done at once. */
    for (uint32_t k = 0; k < 4 * E1000_TX_DESCS; k++, sent++) {
        for (uint32_t i = 0; i < E1000_TX_DESCS; i++)
            if (fake_tx_ring()[i].cmd)
                fake_tx_ring()[i].status = E1000_TXD_DD;
        assert_int_equal(nic_send(nic, frame, 60 + k % 50), 0);
        assert_int_equal(fake.regs[E1000_TDT / 4], (sent + 1) % E1000_TX_DESCS);
    }
    assert_int_equal(nic->counters.tx_frames, sent);
}

/* Receive is promiscuous (unicast and multicast) with broadcast: the
 * switch decides what reaches a guest, not the NIC's address filter. */
static void test_receive_promiscuous(void **state)
{
    uint32_t rctl = fake.regs[E1000_RCTL / 4];

    (void)state;
    assert_int_equal(rctl & (E1000_RCTL_UPE | E1000_RCTL_MPE | E1000_RCTL_BAM),
                     E1000_RCTL_UPE | E1000_RCTL_MPE | E1000_RCTL_BAM);
}

/* set_mac: a unicast address into RAL0/RAH0 (valid) and the NIC's mac;
 * a multicast or all-zero one refused with nothing changed. */
static void test_set_mac(void **state)
{
    static const uint8_t mine[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

    (void)state;
    assert_non_null(nic->ops->set_mac);
    assert_int_equal(nic->ops->set_mac(nic, mine), 0);
    assert_memory_equal(nic->mac, mine, 6);
    assert_int_equal(fake.regs[E1000_RAL0 / 4], 0x33221102u);
    assert_int_equal(fake.regs[E1000_RAH0 / 4], 0x5544u | E1000_RAH_AV);
    assert_int_equal(nic->ops->set_mac(nic, (uint8_t[]){ 0x01, 0, 0x5e, 0, 0, 1 }), -1);
    assert_int_equal(nic->ops->set_mac(nic, (uint8_t[]){ 0, 0, 0, 0, 0, 0 }), -1);
    assert_memory_equal(nic->mac, mine, 6);
    assert_int_equal(fake.regs[E1000_RAL0 / 4], 0x33221102u);
    assert_int_equal(fake.regs[E1000_RCTL / 4] & E1000_RCTL_EN, E1000_RCTL_EN);
}

/* e1000_probe's refusals before it touches the device. */
static void test_probe_refusals(void **state)
{
    struct pci_device d = fake_pci;

    (void)state;
    d.bars[0] = (struct pci_bar){ .kind = PCI_BAR_MEMORY, .base = 0x800000000ull,
                                  .size = E1000_REGS_SIZE, .is_64 = 1 };
    assert_null(e1000_probe(NULL, &d, why, sizeof(why)));
    assert_non_null(strstr(why, "above what the identity map covers"));
    d.bars[0].base = 0;
    assert_null(e1000_probe(NULL, &d, why, sizeof(why)));
    assert_non_null(strstr(why, "unassigned"));
    d.bars[0] = (struct pci_bar){ .kind = PCI_BAR_IO, .base = 0xc000, .size = 0x40 };
    assert_null(e1000_probe(NULL, &d, why, sizeof(why)));
    assert_non_null(strstr(why, "not a memory BAR"));
    d.bars_bad = 1;
    strcpy(d.why, "BAR 0 sizes to 0x3, not a power of two");
    assert_null(e1000_probe(NULL, &d, why, sizeof(why)));
    assert_non_null(strstr(why, "not a power of two"));
    d.vendor = 0x10ec;
    assert_null(e1000_probe(NULL, &d, why, sizeof(why)));
    assert_true(e1000_supported(0x8086, 0x100e));
    assert_true(e1000_supported(0x8086, 0x100f));
    assert_true(e1000_supported(0x8086, 0x10d3));
    assert_false(e1000_supported(0x8086, 0x1234));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bring_up, setup, teardown),
        cmocka_unit_test_teardown(test_bring_up_refusals, teardown),
        cmocka_unit_test_teardown(test_mac_from_receive_address, teardown),
        cmocka_unit_test_setup_teardown(test_recv_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_missing_eop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_missed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_full_and_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_promiscuous, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_mac, setup, teardown),
        cmocka_unit_test_teardown(test_probe_refusals, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
