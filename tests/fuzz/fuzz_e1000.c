/*
 * Fuzz target: what an e1000 writes back. The driver runs against the
 * fake device of tests/unit/fake_e1000.h (its rings and buffers are
 * exact-size host allocations, so any access outside them is an ASan
 * report); the input is a script of device actions between driver calls:
 *
 *   op 0 k b0..b15   overwrite receive descriptor k with 16 bytes
 *                    (address, length, status, errors: anything)
 *   op 1 k s e l0 l1 receive descriptor k: status s, errors e, length
 *   op 2 r           nic_recv into a buffer of exactly NIC_FRAME_MAX
 *                    bytes (r odd: a second, smaller room of r bytes)
 *   op 3 k s         transmit descriptor k's status byte
 *   op 4 l0 l1       nic_send of a frame of that length (an exact-size
 *                    buffer), legal or not
 *
 * The driver must return 0, -1 or a legal length (14..1514, at most the
 * room), keep its counters consistent, and never move RDT or TDT past
 * its ring (the fake aborts).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "exact_buf.h"
#include "script.h"
/* Blocks kept across executions (fake_pool.h): same exact-size blocks, no
 * mmap and munmap of the buffer areas every run. */
#define FAKE_POOL_KEEP
#include "../unit/fake_e1000.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void do_recv(struct nic *nic, uint8_t r, uint64_t *returned)
{
    uint32_t room = (r & 1) ? r : NIC_FRAME_MAX;
    uint8_t *buf = exact_buf_get(room);
    int32_t rc = nic_recv(nic, buf, room);

    fake_check(rc == 0 || rc == -1 || (rc >= 14 && (uint32_t)rc <= NIC_FRAME_MAX &&
                                       (uint32_t)rc <= room), "recv returned a bad length");
    if (rc != 0)
        ++*returned;
    exact_buf_put(buf, room);
}

static void do_send(struct nic *nic, uint32_t len, uint64_t *refused_len)
{
    uint8_t *frame = exact_buf_get(len ? len : 1);
    int rc;

    memset(frame, 0x5a, len);
    rc = nic_send(nic, frame, len);
    fake_check(rc == 0 || rc == -1, "send returned something else");
    if (rc != 0 && (len < 14 || len > NIC_FRAME_MAX))
        ++*refused_len;
    fake_check(!(len < 14 || len > NIC_FRAME_MAX) || rc == -1, "send took an illegal length");
    exact_buf_put(frame, len ? len : 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct script s = { data, size };
    uint64_t returned = 0, refused_len = 0, sends = 0;
    struct nic *nic;
    char why[160];
    uint8_t op, b[17];

    fake_reset();
    nic = fake_attach(why, sizeof(why));
    fake_check(nic != NULL, "attach failed");
    while (script_take(&s, &op, 1) == 0) {
        switch (op % 5) {
        case 0:
            if (script_take(&s, b, 17) != 0)
                break;
            memcpy(&fake_rx_ring()[b[0] % E1000_RX_DESCS], b + 1, 16);
            break;
        case 1:
            if (script_take(&s, b, 5) != 0)
                break;
            fake_rx_ring()[b[0] % E1000_RX_DESCS].status = b[1];
            fake_rx_ring()[b[0] % E1000_RX_DESCS].errors = b[2];
            fake_rx_ring()[b[0] % E1000_RX_DESCS].length = (uint16_t)(b[3] | b[4] << 8);
            break;
        case 2:
            if (script_take(&s, b, 1) == 0)
                do_recv(nic, b[0], &returned);
            break;
        case 3:
            if (script_take(&s, b, 2) == 0)
                fake_tx_ring()[b[0] % E1000_TX_DESCS].status = b[1];
            break;
        default:
            if (script_take(&s, b, 2) != 0)
                break;
            do_send(nic, (uint32_t)(b[0] | (b[1] & 0x07) << 8), &refused_len);
            sends++;
            break;
        }
    }
    fake_check(nic->counters.rx_frames + nic->counters.rx_bad == returned,
               "receive counters out of step");
    fake_check(nic->counters.tx_frames + nic->counters.tx_full + refused_len == sends,
               "transmit counters out of step");
    fake_reset();
    return 0;
}
