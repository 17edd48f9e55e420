/*
 * Fuzz target: what a virtio-net writes back into its used rings. The
 * driver runs against the fake device of tests/unit/fake_virtio_net.h
 * (rings and buffers are exact-size host allocations, so any access
 * outside them is an ASan report); the input is a script of device
 * actions between driver calls:
 *
 *   op 0 q i0..i3 l0..l3  used entry {id, len} on queue q & 1 (anything)
 *   op 1 q n              used idx of queue q & 1 moved on by n (stale entries)
 *   op 2 l0 l1            the device fills the next posted receive buffer
 *                         with a frame of that length (clamped to the buffer)
 *   op 3 r                nic_recv into a buffer of exactly NIC_FRAME_MAX
 *                         bytes (r odd: a smaller room of r bytes)
 *   op 4 l0 l1            nic_send of a frame of that length, legal or not
 *   op 5 d                the device takes the next queued frame (d odd:
 *                         and hands it back at once)
 *
 * The driver must return 0, -1 or a legal length (14..1514, at most the
 * room), refuse illegal send lengths, and never post a descriptor past
 * its ring or notify a wrong queue (the fake aborts).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "exact_buf.h"
#include "script.h"
/* Blocks kept across executions (fake_pool.h): same exact-size blocks, no
 * mmap and munmap of the buffer areas every run. */
#define FAKE_POOL_KEEP
#include "../unit/fake_virtio_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void do_recv(struct nic *nic, uint8_t r)
{
    uint32_t room = (r & 1) ? r : NIC_FRAME_MAX;
    uint8_t *buf = exact_buf_get(room);
    int32_t rc = nic_recv(nic, buf, room);

    fake_check(rc == 0 || rc == -1 || (rc >= 14 && (uint32_t)rc <= NIC_FRAME_MAX &&
                                       (uint32_t)rc <= room), "recv returned a bad length");
    exact_buf_put(buf, room);
}

static void do_send(struct nic *nic, uint32_t len)
{
    uint8_t *frame = exact_buf_get(len ? len : 1);
    int rc;

    memset(frame, 0x5a, len);
    rc = nic_send(nic, frame, len);
    fake_check(rc == 0 || rc == -1, "send returned something else");
    fake_check(!(len < 14 || len > NIC_FRAME_MAX) || rc == -1, "send took an illegal length");
    exact_buf_put(frame, len ? len : 1);
}

/* One scripted device action or driver call; -1 at the script's end. */
static int step(struct script *s, struct nic *nic)
{
    uint8_t op, b[9];
    uint32_t id, len;
    const uint8_t *sent;

    if (script_take(s, &op, 1) != 0)
        return -1;
    switch (op % 6) {
    case 0:
        if (script_take(s, b, 9) != 0)
            return -1;
        memcpy(&id, b + 1, 4);
        memcpy(&len, b + 5, 4);
        fake_used_push(b[0] & 1u, id, len);
        return 0;
    case 1:
        if (script_take(s, b, 2) != 0)
            return -1;
        fake.q[b[0] & 1u].used_idx = (uint16_t)(fake.q[b[0] & 1u].used_idx + b[1]);
        fake_used(b[0] & 1u)->idx = fake.q[b[0] & 1u].used_idx;
        return 0;
    case 2:
        if (script_take(s, b, 2) != 0)
            return -1;
        len = (uint32_t)(b[0] | b[1] << 8) % (VIRTIO_NET_BUF_SIZE - VIRTIO_NET_HDR_SIZE + 1);
        fake_rx_deliver(len, b[0]);
        return 0;
    case 3:
        if (script_take(s, b, 1) != 0)
            return -1;
        do_recv(nic, b[0]);
        return 0;
    case 4:
        if (script_take(s, b, 2) != 0)
            return -1;
        do_send(nic, (uint32_t)(b[0] | b[1] << 8) % 2048u);
        return 0;
    default:
        if (script_take(s, b, 1) != 0)
            return -1;
        fake_tx_take(&sent, &len, b[0] & 1);
        return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct script s = { data, size };
    struct nic *nic;
    char why[200];

    fake_reset();
    nic = fake_attach(why, sizeof(why));
    fake_check(nic != NULL, "attach failed");
    while (step(&s, nic) == 0)
        ;
    fake_check(nic->counters.tx_frames + nic->counters.tx_full <= size, "send counters");
    return 0;
}
