/*
 * The fixture the NIC driver tests share (test_e1000.c, test_virtio_net.c):
 * before a test, a fresh fake device with the driver attached to it (the
 * fake header's fake_reset and fake_attach); after it, the fake reset,
 * which frees what the driver took from the pool. Include after cmocka
 * and the fake's header.
 */
#ifndef TESTS_NIC_FIXTURE_H
#define TESTS_NIC_FIXTURE_H

static struct nic *nic;
static uint8_t frame[NIC_FRAME_MAX];
static char why[200];

static int setup(void **state)
{
    (void)state;
    fake_reset();
    nic = fake_attach(why, sizeof(why));
    if (!nic)
        fail_msg("attach: %s", why);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_reset();
    return 0;
}

/* nic_recv returns a frame of len bytes of pattern seed. */
static void expect_frame(uint32_t len, uint8_t seed)
{
    uint8_t buf[NIC_FRAME_MAX];

    assert_int_equal(nic_recv(nic, buf, sizeof(buf)), len);
    for (uint32_t k = 0; k < len; k++)
        assert_int_equal(buf[k], (uint8_t)(seed + k));
}

#endif
