/*
 * libFuzzer target for hv/vport.c and hv/vswitch.c (with the port, virtq
 * and fdb code under them):
 * two or three ports on one switch, each with its own 8 KiB guest memory
 * (a heap block of exactly that size, so ASan sees any stray access), set
 * up and kicked for a few rounds while the input's edits play the drivers
 * between rounds.
 *
 *   [0]      bit 0: three ports (else two); bits 1-3: EVENT_IDX for ports 0-2;
 *            bits 4-5: rounds - 1; bit 6: kick RX too
 *   [1..6]   per port: RX size, TX size (1 << (b % 5); 0xff: 24, refused)
 *   [7]      edit count E (at most 64)
 *   [8..]    E edits of 5 bytes: round, port, offset (u16), value
 *   then     one memory image, copied into every port's memory (zero past its end)
 *
 * Port i's rings sit in the image's block at i * 0x400: RX descriptors +0,
 * avail +0x100, used +0x140; TX descriptors +0x200, avail +0x300, used
 * +0x340. Buffers may be anywhere; the image is shared, so each port's TX
 * descriptors point at frames of their own in it, but every port writes
 * only its own copy. Port i's MAC is 02:00:00:00:00:0<i+1>.
 *
 * Checked after every kick: counters only grow, no port but a failed one
 * changes state (and only to FAILED), a failed kick leaves the kicked port
 * not running, used indices move by at most the kicked TX ring's size, the
 * switch's copies match the receivers' counts, every failed port (and no
 * other) has told its owner exactly once, the kick was counted; at the
 * end, detaching every
 * port empties the switch and its table. Seeds: tests/fuzz/corpus/frame/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vport.h"
#include "../../include/mayfly/abi.h"

#define MEM_SIZE    0x2000u
#define BLOCK       0x400u
#define MAX_PORTS   3
#define EDIT_MAX    64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct snapshot {
    uint32_t state[MAX_PORTS];
    struct mf_net_status stats[MAX_PORTS];
    uint16_t rx_used[MAX_PORTS], tx_used[MAX_PORTS];
    uint64_t frames, drops, kicks;
};

static struct vport ports[MAX_PORTS];
static uint8_t *mems[MAX_PORTS];
static unsigned notified;
static unsigned failures[MAX_PORTS];
static uint64_t fake_tsc;

/* vport_kick times its kicks. */
uint64_t time_arch_tsc(void)
{
    return ++fake_tsc;
}

/* The owner: a failure is told once, on a port that has failed. */
static void on_notify(struct port *p, enum port_event event)
{
    if (event == PORT_EVENT_FAILED) {
        if (p->state != MF_NET_STATE_FAILED || ++failures[p->index] > 1)
            abort();
    } else {
        notified++;
    }
}

static void take(struct snapshot *s, const struct vswitch *sw, int n)
{
    for (int i = 0; i < n; i++) {
        s->state[i] = ports[i].port.state;
        s->stats[i] = ports[i].port.stats;
        s->rx_used[i] = ports[i].rx.used_idx;
        s->tx_used[i] = ports[i].tx.used_idx;
    }
    s->frames = sw->frames;
    s->drops = sw->drops;
    s->kicks = sw->kicks;
}

static void check_grew(uint64_t before, uint64_t after)
{
    if (after < before)
        abort();
}

static void check_step(const struct snapshot *a, const struct snapshot *b, int n, int kicked,
                       int r)
{
    uint64_t rx_frames = 0;

    for (int i = 0; i < n; i++) {
        const struct mf_net_status *x = &a->stats[i], *y = &b->stats[i];

        if (b->state[i] != a->state[i] && b->state[i] != MF_NET_STATE_FAILED)
            abort();
        check_grew(x->rx_frames, y->rx_frames);
        check_grew(x->rx_bytes, y->rx_bytes);
        check_grew(x->tx_frames, y->tx_frames);
        check_grew(x->tx_bytes, y->tx_bytes);
        check_grew(x->drops_no_buffer, y->drops_no_buffer);
        check_grew(x->drops_malformed, y->drops_malformed);
        /* A kick handles at most one TX ring's worth of the kicked port's
         * frames, so no RX ring takes more than that (an RX ring may take
         * more than its own size when the guest aliases its buffers over
         * its avail ring: its own loss). */
        if ((uint16_t)(b->tx_used[i] - a->tx_used[i]) > (i == kicked ? ports[i].tx.size : 0) ||
            (uint16_t)(b->rx_used[i] - a->rx_used[i]) > ports[kicked].tx.size)
            abort();
        if (y->rx_bytes - x->rx_bytes > (y->rx_frames - x->rx_frames) * MF_NET_FRAME_MAX)
            abort();
        rx_frames += y->rx_frames - x->rx_frames;
    }
    check_grew(a->frames, b->frames);
    check_grew(a->drops, b->drops);
    if (b->frames - a->frames != rx_frames)
        abort();
    if (r == -MF_EIO && ports[kicked].port.state == MF_NET_STATE_RUNNING)
        abort();
    /* Every port that failed was reported to its owner exactly once. */
    for (int i = 0; i < n; i++)
        if (failures[i] != (b->state[i] == MF_NET_STATE_FAILED))
            abort();
    if (b->kicks != a->kicks + 1)
        abort();
    if (r >= 0 && (uint64_t)r != b->stats[kicked].tx_frames - a->stats[kicked].tx_frames)
        abort();
    if (r < 0 && r != -MF_EIO)
        abort();
}

static uint32_t queue_size(uint8_t b)
{
    return b == 0xff ? 24 : 1u << (b % 5);
}

static void setup_port(struct vswitch *sw, int i, const uint8_t *image, size_t image_size,
                       int event_idx, uint8_t rx_size, uint8_t tx_size)
{
    struct mf_net_setup s;
    struct vport *p = &ports[i];
    uint64_t base = (uint64_t)i * BLOCK;

    uint8_t mac[6] = { 0x02, 0, 0, 0, 0, (uint8_t)(i + 1) };

    if (posix_memalign((void **)&mems[i], 16, MEM_SIZE))
        abort();
    memset(mems[i], 0, MEM_SIZE);
    memcpy(mems[i], image, image_size < MEM_SIZE ? image_size : MEM_SIZE);
    vport_init(p, mac, &(struct guest_mem){ mems[i], MEM_SIZE }, on_notify, NULL);
    failures[i] = 0;
    if (vswitch_attach(sw, &p->port) < 0)
        abort();
    memset(&s, 0, sizeof(s));
    s.driver_features = MF_FEATURE_BIT(VIRTIO_F_VERSION_1) | MF_FEATURE_BIT(VIRTIO_NET_F_MAC) |
                        (event_idx ? MF_FEATURE_BIT(VIRTIO_RING_F_EVENT_IDX) : 0);
    s.queues[MF_NET_QUEUE_RX] = (struct mf_queue_setup){ base, base + 0x100, base + 0x140,
                                                         queue_size(rx_size), 0 };
    s.queues[MF_NET_QUEUE_TX] = (struct mf_queue_setup){ base + 0x200, base + 0x300, base + 0x340,
                                                         queue_size(tx_size), 0 };
    if (vport_setup(p, &s) < 0 && (p->port.state != MF_NET_STATE_RESET || !p->port.why[0]))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct port *slots[MAX_PORTS];
    static struct fdb_entry fdb[16];
    struct vswitch sw;
    struct snapshot a, b;
    const uint8_t *edits, *image;
    size_t edit_count;
    int n, rounds;

    if (size < 8)
        return 0;
    n = (data[0] & 1) ? 3 : 2;
    rounds = ((data[0] >> 4) & 3) + 1;
    edit_count = data[7] < EDIT_MAX ? data[7] : EDIT_MAX;
    if (size < 8 + 5 * edit_count)
        edit_count = (size - 8) / 5;
    edits = data + 8;
    image = edits + 5 * edit_count;

    vswitch_init(&sw, "fuzz", slots, MAX_PORTS, fdb, 16);
    for (int i = 0; i < n; i++)
        setup_port(&sw, i, image, size - 8 - 5 * edit_count, (data[0] >> (1 + i)) & 1,
                   data[1 + 2 * i], data[2 + 2 * i]);
    for (int round = 0; round < rounds; round++) {
        for (size_t e = 0; e < edit_count; e++) {
            const uint8_t *ed = edits + 5 * e;
            uint32_t off = (uint32_t)(ed[2] | ed[3] << 8) % MEM_SIZE;
            if (ed[0] % 4 == round)
                mems[ed[1] % n][off] = ed[4];
        }
        for (int i = 0; i < n; i++) {
            int r;

            take(&a, &sw, n);
            r = vport_kick(&ports[i], MF_NET_QUEUE_TX);
            take(&b, &sw, n);
            check_step(&a, &b, n, i, r);
            if ((data[0] & 0x40) && vport_kick(&ports[i], MF_NET_QUEUE_RX) > 0)
                abort();
        }
    }
    for (int i = 0; i < n; i++) {
        vswitch_detach(&ports[i].port);
        free(mems[i]);
    }
    if (sw.count != 0 || sw.fdb.count != 0)
        abort();
    return 0;
}
