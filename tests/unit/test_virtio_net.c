/*
 * Unit tests of hv/virtio_pci.c and hv/virtio_net.c against the fake
 * device of fake_virtio_net.h. The test plays the device: it takes the
 * buffers the driver posted, writes frames and used entries as a device
 * would (or as a broken one would), and checks what the driver wrote to
 * the common configuration, the rings and the notify registers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_virtio_net.h"
#include "nic_fixture.h"

static void test_bring_up(void **state)
{
    (void)state;
    assert_int_equal(fake.resets, 1);
    assert_int_equal(fake.status, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                  VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    /* Only VERSION_1 and MAC, whatever else is offered. */
    assert_int_equal(fake.driver_features, MF_FEATURE_BIT(VIRTIO_F_VERSION_1) |
                                           MF_FEATURE_BIT(VIRTIO_NET_F_MAC));
    assert_memory_equal(nic->mac, fake.mac, 6);
    assert_string_equal(nic->name, "virtio-net 00:04.0");
    for (unsigned qi = 0; qi < 2; qi++) {
        assert_int_equal(fake.q[qi].enable, 1);
        assert_int_equal(fake.q[qi].size, VIRTIO_NET_QUEUE_SIZE);
        assert_int_equal(fake.q[qi].msix, VIRTIO_MSI_NO_VECTOR);
        assert_int_equal(fake.q[qi].desc % 16, 0);
        assert_int_equal(fake.q[qi].avail % 2, 0);
        assert_int_equal(fake.q[qi].used % 4, 0);
        assert_int_equal(fake_avail(qi)->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    assert_int_equal(fake.q[2].enable, 0);          /* no control queue */
    /* Every receive buffer posted, each its own 2 KiB, device-writable. */
    assert_int_equal(fake_avail(0)->idx, VIRTIO_NET_QUEUE_SIZE);
    assert_true(fake.notifies[0] >= 1);
    for (uint32_t i = 0; i < VIRTIO_NET_QUEUE_SIZE; i++) {
        assert_int_equal(fake_desc(0)[i].len, VIRTIO_NET_BUF_SIZE);
        assert_int_equal(fake_desc(0)[i].flags, VIRTQ_DESC_F_WRITE);
        if (i)
            assert_int_equal(fake_desc(0)[i].addr - fake_desc(0)[i - 1].addr,
                             VIRTIO_NET_BUF_SIZE);
    }
    assert_int_equal(fake_avail(1)->idx, 0);
    assert_int_equal(nic_recv(nic, frame, sizeof(frame)), 0);
}

/* A device with fewer entries than the driver's 64: its size is used. */
static void test_small_queues(void **state)
{
    (void)state;
    fake_reset();
    fake.q[0].max = fake.q[1].max = 16;
    nic = fake_attach(why, sizeof(why));
    if (!nic)
        fail_msg("attach: %s", why);
    assert_int_equal(fake.q[0].size, 16);
    assert_int_equal(fake_avail(0)->idx, 16);
    for (uint32_t k = 0; k < 40; k++) {
        assert_true(fake_rx_deliver(60, (uint8_t)k) >= 0);
        expect_frame(60, (uint8_t)k);
    }
    assert_int_equal(nic_recv(nic, frame, sizeof(frame)), 0);
}

static void test_bring_up_refusals(void **state)
{
    struct virtio_pci t;

    (void)state;
    fake_reset();
    fake.features &= ~MF_FEATURE_BIT(VIRTIO_F_VERSION_1);
    assert_null(fake_attach(why, sizeof(why)));
    assert_non_null(strstr(why, "VIRTIO_F_VERSION_1"));
    assert_true(fake.status & VIRTIO_STATUS_FAILED);

    fake_reset();
    fake.features &= ~MF_FEATURE_BIT(VIRTIO_NET_F_MAC);
    assert_null(fake_attach(why, sizeof(why)));
    assert_non_null(strstr(why, "VIRTIO_NET_F_MAC"));

    fake_reset();
    fake.refuse_features = 1;
    assert_null(fake_attach(why, sizeof(why)));
    assert_non_null(strstr(why, "FEATURES_OK"));

    fake_reset();
    fake.reset_stuck = 1;
    assert_null(fake_attach(why, sizeof(why)));
    assert_non_null(strstr(why, "reset"));

    fake_reset();
    fake.generation_flips = 1;
    assert_null(fake_attach(why, sizeof(why)));
    assert_non_null(strstr(why, "never read stable"));

    fake_reset();
    fake.mac[0] = 0x01;
    assert_null(fake_attach(why, sizeof(why)));
    assert_non_null(strstr(why, "not a unicast"));

    fake_reset();
    fake.q[1].max = 0;
    assert_null(fake_attach(why, sizeof(why)));
    assert_non_null(strstr(why, "no queue 1"));
    assert_int_equal(fake.status & VIRTIO_STATUS_DRIVER_OK, 0);

    fake_reset();
    fake.q[0].max = 48;
    assert_null(fake_attach(why, sizeof(why)));
    assert_non_null(strstr(why, "not a power of two"));

    fake_reset();
    fake_pool.pages_left = 10;
    assert_null(fake_attach(why, sizeof(why)));
    assert_non_null(strstr(why, "pool has no room"));
    assert_int_equal(fake.q[0].enable, 0);

    /* Capabilities: each required one missing, or pointing outside its BAR. */
    fake_reset();
    fake.cfg[6] = 0;
    assert_int_equal(virtio_pci_find(&fake_access, &fake_pci, &fake_io, &t, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "legacy-only"));
    fake_reset();
    fake.cfg[0x70 + 3] = 9;                          /* notify becomes a type we skip */
    assert_int_equal(virtio_pci_find(&fake_access, &fake_pci, &fake_io, &t, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "notify capability"));
    fake_reset();
    fake_cap(0x60, 0x70, VIRTIO_PCI_CAP_DEVICE, 4, 0x3ff0, 0x20);
    assert_int_equal(virtio_pci_find(&fake_access, &fake_pci, &fake_io, &t, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "does not fit BAR 4"));
    fake_reset();
    fake_cap(0x60, 0x70, VIRTIO_PCI_CAP_DEVICE, 4, 0xfffffff0u, 0x20);    /* wraps */
    assert_int_equal(virtio_pci_find(&fake_access, &fake_pci, &fake_io, &t, why, sizeof(why)), -1);
    fake_reset();
    fake_cap(0x40, 0x50, VIRTIO_PCI_CAP_COMMON, 7, 0, 0x1000);
    assert_int_equal(virtio_pci_find(&fake_access, &fake_pci, &fake_io, &t, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "BAR 7"));
    fake_reset();
    fake_cap(0x40, 0x50, VIRTIO_PCI_CAP_COMMON, 2, 0, 0x1000);          /* BAR 2: none */
    assert_int_equal(virtio_pci_find(&fake_access, &fake_pci, &fake_io, &t, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "not a memory BAR"));
    fake_reset();
    fake_pci.bars[4].base = 0x800000000ull;          /* above 4 GiB, no mapper on the host */
    assert_int_equal(virtio_pci_find(&fake_access, &fake_pci, &fake_io, &t, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "not reachable"));
    fake_reset();
    fake.cfg[0x70 + 1] = 0x40;                       /* the list loops: the walk still ends */
    assert_int_equal(virtio_pci_find(&fake_access, &fake_pci, &fake_io, &t, why, sizeof(why)), 0);
    assert_int_equal(t.notify_mult, FAKE_MULT);
    assert_int_equal(t.device.addr, FAKE_BAR + FAKE_DEVICE);
}

static void test_probe_refusals(void **state)
{
    (void)state;
    fake_reset();
    assert_true(virtio_net_supported(0x1af4, 0x1041));
    assert_true(virtio_net_supported(0x1af4, 0x1000));
    assert_false(virtio_net_supported(0x1af4, 0x1001));        /* virtio-blk */
    assert_false(virtio_net_supported(0x8086, 0x1041));
    fake_pci.device = 0x1042;
    assert_null(virtio_net_probe(&fake_access, &fake_pci, why, sizeof(why)));
    assert_non_null(strstr(why, "no virtio-net"));
    fake_pci.device = 0x1000;
    fake_pci.bars_bad = 1;
    strcpy(fake_pci.why, "BAR 1 sizes to 0x3");
    assert_null(virtio_net_probe(&fake_access, &fake_pci, why, sizeof(why)));
    assert_non_null(strstr(why, "BAR 1 sizes"));
    /* A transitional device without the modern capabilities. */
    fake_pci.bars_bad = 0;
    fake.cfg[0x34] = 0;
    assert_null(virtio_net_probe(&fake_access, &fake_pci, why, sizeof(why)));
    assert_non_null(strstr(why, "legacy-only"));
}

static void test_recv_good(void **state)
{
    (void)state;
    assert_int_equal(fake_rx_deliver(60, 7), 0);
    expect_frame(60, 7);
    assert_int_equal(nic_recv(nic, frame, sizeof(frame)), 0);
    fake_rx_deliver(NIC_FRAME_MAX, 9);
    expect_frame(NIC_FRAME_MAX, 9);
    fake_rx_deliver(14, 1);
    expect_frame(14, 1);
    assert_int_equal(nic->counters.rx_frames, 3);
    assert_int_equal(nic->counters.rx_bad, 0);
    /* Each buffer went back at once: posted again, the device kicked. */
    assert_int_equal(fake_avail(0)->idx, VIRTIO_NET_QUEUE_SIZE + 3);
    assert_int_equal(fake_avail(0)->ring[VIRTIO_NET_QUEUE_SIZE & 63], 0);
    assert_true(fake.notifies[0] >= 4);
}

/* Out-of-order returns (a device may use buffers in any order). */
static void test_recv_out_of_order(void **state)
{
    struct virtq_desc *d;

    (void)state;
    for (int i = 0; i < 3; i++)
        fake_avail_take(0);
    for (uint32_t id = 2;; id--) {
        d = &fake_desc(0)[id];
        memset((uint8_t *)(uintptr_t)d->addr, 0, VIRTIO_NET_HDR_SIZE);
        memset((uint8_t *)(uintptr_t)d->addr + VIRTIO_NET_HDR_SIZE, (int)id, 100);
        fake_used_push(0, id, VIRTIO_NET_HDR_SIZE + 100);
        if (id == 0)
            break;
    }
    for (uint32_t id = 2;; id--) {
        assert_int_equal(nic_recv(nic, frame, sizeof(frame)), 100);
        assert_int_equal(frame[99], id);
        if (id == 0)
            break;
    }
    assert_int_equal(nic->counters.rx_bad, 0);
}

/* Each malformed used entry: dropped, counted; a buffer it named rightly
 * is posted again; the next frame is fine. */
static void test_recv_bad(void **state)
{
    static const struct {
        uint32_t id, len;
        int repost;                     /* the entry named a buffer we had posted */
    } bad[] = {
        { 0, VIRTIO_NET_HDR_SIZE + 13, 1 },             /* runt */
        { 1, 0, 1 },                                    /* not even a header */
        { 2, VIRTIO_NET_HDR_SIZE - 1, 1 },
        { 3, VIRTIO_NET_HDR_SIZE + NIC_FRAME_MAX + 1, 1 },
        { 4, VIRTIO_NET_BUF_SIZE + 1, 1 },              /* past the buffer */
        { 5, 0xffffffffu, 1 },
        { 64, 100, 0 },                                 /* id past the ring */
        { 0xffffffffu, 100, 0 },
        { 7, 100, 1 },                                  /* fine */
        { 9, VIRTIO_NET_HDR_SIZE + 13, 1 },             /* and bad again */
    };
    static uint8_t big[4096];

    (void)state;
    for (uint32_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint16_t avail_before = fake_avail(0)->idx;
        int32_t rc;
        fake_used_push(0, bad[i].id, bad[i].len);
        rc = nic_recv(nic, big, sizeof(big));           /* more room than any frame */
        if (i == 8) {
            assert_int_equal(rc, 100 - VIRTIO_NET_HDR_SIZE);
            continue;
        }
        if (rc != -1)
            fail_msg("bad case %u accepted", i);
        assert_int_equal(fake_avail(0)->idx, (uint16_t)(avail_before + bad[i].repost));
    }
    assert_int_equal(nic->counters.rx_bad, sizeof(bad) / sizeof(bad[0]) - 1);
    /* The device takes what was posted again; the ring still works. */
    for (uint32_t i = 0; i < VIRTIO_NET_QUEUE_SIZE; i++)
        fake_avail_take(0);
    for (uint32_t k = 0; k < 3 * VIRTIO_NET_QUEUE_SIZE; k++) {
        if (fake_rx_deliver(64, (uint8_t)k) < 0)
            fail_msg("no buffer posted at frame %u", k);
        expect_frame(64, (uint8_t)k);
    }
}

/* A used idx far ahead of what the device can have filled: the stale
 * entries are read in turn, each checked like any other (a lying device
 * only spoils its own frames), and the driver catches up and stops. */
static void test_recv_used_idx_runs_ahead(void **state)
{
    uint32_t bad = 0;
    int32_t rc;

    (void)state;
    fake_rx_deliver(60, 3);
    fake_used(0)->idx = (uint16_t)(fake.q[0].used_idx + 200);
    fake.q[0].used_idx = fake_used(0)->idx;
    expect_frame(60, 3);
    while ((rc = nic_recv(nic, frame, sizeof(frame))) != 0) {
        assert_true(rc == -1 || rc >= 14);
        if (rc == -1)
            bad++;
        assert_true(bad <= 200);
    }
    assert_int_equal(nic->counters.rx_bad + nic->counters.rx_frames - 1, 200);
}

static void test_recv_room(void **state)
{
    uint8_t *small = malloc(100);

    (void)state;
    fake_rx_deliver(101, 1);
    assert_int_equal(nic_recv(nic, small, 100), -1);
    fake_rx_deliver(100, 1);
    assert_int_equal(nic_recv(nic, small, 100), 100);
    free(small);
}

/* Many times round the ring, the device filling just behind the driver. */
static void test_recv_wrap(void **state)
{
    (void)state;
    for (uint32_t k = 0; k < 1100; k++) {
        assert_true(fake_rx_deliver(60 + k % 100, (uint8_t)k) >= 0);
        expect_frame(60 + k % 100, (uint8_t)k);
    }
    assert_int_equal(nic->counters.rx_frames, 1100);
}

static void test_send(void **state)
{
    const uint8_t *sent;
    uint32_t len;

    (void)state;
    for (uint32_t k = 0; k < sizeof(frame); k++)
        frame[k] = (uint8_t)(k * 3);
    assert_int_equal(nic_send(nic, frame, 60), 0);
    assert_int_equal(fake.notifies[1], 1);
    assert_true(fake_tx_take(&sent, &len, 1) >= 0);
    assert_int_equal(len, 60);
    assert_memory_equal(sent, frame, 60);
    assert_int_equal(nic_send(nic, frame, NIC_FRAME_MAX), 0);
    assert_true(fake_tx_take(&sent, &len, 1) >= 0);
    assert_int_equal(len, NIC_FRAME_MAX);
    assert_memory_equal(sent, frame, NIC_FRAME_MAX);
    assert_int_equal(nic_send(nic, frame, 13), -1);
    assert_int_equal(nic_send(nic, frame, NIC_FRAME_MAX + 1), -1);
    assert_int_equal(nic->counters.tx_full, 0);
    assert_int_equal(nic->counters.tx_frames, 2);
}

/* The device sends nothing: 64 frames fit, then full, counted. Ten done
 * (and a bogus used entry, ignored): ten more. Then many times round. */
static void test_send_full_and_wrap(void **state)
{
    const uint8_t *sent;
    uint32_t len, count = 0;
    int ids[10];

    (void)state;
    memset(frame, 0xab, sizeof(frame));
    for (uint32_t k = 0; k < VIRTIO_NET_QUEUE_SIZE; k++)
        assert_int_equal(nic_send(nic, frame, 100), 0);
    assert_int_equal(nic_send(nic, frame, 100), -1);
    assert_int_equal(nic->counters.tx_full, 1);
    for (int k = 0; k < 10; k++)
        ids[k] = fake_tx_take(&sent, &len, 0);
    fake_used_push(1, 999, 0);
    fake_used_push(1, (uint32_t)ids[0], 0);
    fake_used_push(1, (uint32_t)ids[0], 0);                   /* twice: once counts */
    for (int k = 1; k < 10; k++)
        fake_used_push(1, (uint32_t)ids[k], 0);
    for (uint32_t k = 0; k < 10; k++)
        assert_int_equal(nic_send(nic, frame, 100), 0);
    assert_int_equal(nic_send(nic, frame, 100), -1);
    assert_int_equal(nic->counters.tx_full, 2);
    while (fake_tx_take(&sent, &len, 1) >= 0)
        count++;
    assert_int_equal(count, VIRTIO_NET_QUEUE_SIZE);
    for (uint32_t k = 0; k < 4 * VIRTIO_NET_QUEUE_SIZE; k++) {
        assert_int_equal(nic_send(nic, frame, 60 + k % 50), 0);
        assert_true(fake_tx_take(&sent, &len, 1) >= 0);
        assert_int_equal(len, 60 + k % 50);
    }
}

static void test_set_mac(void **state)
{
    (void)state;
    assert_non_null(nic->ops->set_mac);
    assert_int_equal(nic->ops->set_mac(nic, fake.mac), 0);
    assert_int_equal(nic->ops->set_mac(nic, (uint8_t[]){ 2, 0, 0, 0, 0, 1 }), -1);
    assert_memory_equal(nic->mac, fake.mac, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bring_up, setup, teardown),
        cmocka_unit_test_teardown(test_small_queues, teardown),
        cmocka_unit_test_teardown(test_bring_up_refusals, teardown),
        cmocka_unit_test_teardown(test_probe_refusals, teardown),
        cmocka_unit_test_setup_teardown(test_recv_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_used_idx_runs_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_full_and_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_mac, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
