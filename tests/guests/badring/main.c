/*
 * badring: a guest that breaks its own virtio ring on purpose, to show the
 * hypervisor fails the port (and only the port) instead of following it.
 * It drives the transport by hand with the raw hypercalls of
 * guests/lib/hypercall.h: the network library would never build these rings.
 *
 * The first argument picks the mode:
 *   loop      a TX descriptor whose next is itself, with F_NEXT
 *   outside   a TX descriptor at mem_size + 0x1000 (past our memory)
 *   wrap      addr 0xfffffffffffff000, len 0x2000 (wraps past 2^64)
 *   huge      a TX descriptor of len 0xffffffff (in a partition of 4 GiB or
 *             more, where that is inside our memory, "dropped as malformed,
 *             nothing sent, port running" passes too)
 *   ahead     avail idx 1000 entries ahead of what was posted
 *   badsize   queue size 100 at setup: expects -MF_EINVAL and no running port
 *   flip      100 kicks, each re-posting one TX descriptor whose address
 *             alternates between a valid buffer and one past our memory
 *   indirect  a TX descriptor with VIRTQ_DESC_F_INDIRECT (not offered)
 * Each mode sets the port up correctly, says what it breaks, kicks, reads
 * MF_HC_NET_STATUS and prints
 *     badring: <mode>: kick returned R; port <state>, tx_frames T, drops_malformed D
 *     badring: <mode>: PASS: ...     or     badring: <mode>: FAIL: ...
 * Exit status: 0 PASS (the port failed; for badsize, setup was refused);
 * 1 FAIL; 2 bad arguments or no network port.
 */
#include "mf.h"

#include <mayfly/virtio.h>

#define QSIZE           8
#define FRAME_LEN       60
#define BAD_QSIZE       100

struct rings {
    struct virtq_desc desc[QSIZE];
    uint16_t avail[3 + QSIZE];          /* flags, idx, ring[], used_event */
    struct {
        uint16_t flags;
        uint16_t idx;
        struct virtq_used_elem ring[QSIZE];
        uint16_t avail_event;
    } used;
};

static struct rings rx __attribute__((aligned(4096)));
static struct rings tx __attribute__((aligned(4096)));
static uint8_t tx_buffer[2048] __attribute__((aligned(64)));
static struct virtq_desc indirect_table[2] __attribute__((aligned(16)));

static unsigned port_slot;
static uint8_t port_mac[6];              /* from setup: the switch drops other sources */
static uint16_t tx_next;                 /* our next TX avail index */

static uint64_t gpa(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static const char *state_name(uint32_t state)
{
    switch (state) {
    case MF_NET_STATE_RESET: return "reset";
    case MF_NET_STATE_RUNNING: return "running";
    case MF_NET_STATE_FAILED: return "failed";
    default: return "in an unknown state";
    }
}

static void queue_fill(struct mf_queue_setup *q, struct rings *r, uint32_t size)
{
    q->desc = gpa(r->desc);
    q->avail = gpa(r->avail);
    q->used = gpa(&r->used);
    q->size = size;
}

static long port_setup(uint32_t tx_size)
{
    struct mf_net_setup setup;
    long ret;

    memset(&setup, 0, sizeof(setup));
    setup.driver_features = MF_FEATURE_BIT(VIRTIO_F_VERSION_1) | MF_FEATURE_BIT(VIRTIO_NET_F_MAC);
    queue_fill(&setup.queues[MF_NET_QUEUE_RX], &rx, QSIZE);
    queue_fill(&setup.queues[MF_NET_QUEUE_TX], &tx, tx_size);
    ret = mf_hypercall2(MF_HC_NET_SETUP, port_slot, gpa(&setup));
    if (ret == 0)
        memcpy(port_mac, setup.mac, sizeof(port_mac));
    return ret;
}

static long port_kick(void)
{
    return mf_hypercall2(MF_HC_NET_KICK, port_slot, MF_NET_QUEUE_TX);
}

static long port_status(struct mf_net_status *st)
{
    memset(st, 0, sizeof(*st));
    return mf_hypercall2(MF_HC_NET_STATUS, port_slot, gpa(st));
}

/* A harmless frame: from our MAC to a locally administered one nobody has. */
static void frame_build(void)
{
    static const uint8_t dst[6] = { 0x02, 0x00, 0x00, 0xba, 0xd0, 0x00 };

    memset(tx_buffer, 0, sizeof(tx_buffer));
    memcpy(tx_buffer + sizeof(struct virtio_net_hdr), dst, sizeof(dst));
    memcpy(tx_buffer + sizeof(struct virtio_net_hdr) + 6, port_mac, sizeof(port_mac));
    tx_buffer[sizeof(struct virtio_net_hdr) + 12] = 0x88;   /* local experimental type */
    tx_buffer[sizeof(struct virtio_net_hdr) + 13] = 0xb5;
}

static void desc_set(uint16_t id, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    tx.desc[id].addr = addr;
    tx.desc[id].len = len;
    tx.desc[id].flags = flags;
    tx.desc[id].next = next;
}

/* Puts head into the TX avail ring and publishes it (plus extra). */
static void avail_post(uint16_t head, uint16_t extra)
{
    tx.avail[2 + (tx_next & (QSIZE - 1))] = head;
    tx_next++;
    __asm__ volatile("" ::: "memory");
    tx.avail[1] = (uint16_t)(tx_next + extra);
}

static int report(const char *mode, long kick, int want_failed)
{
    struct mf_net_status st;
    long ret = port_status(&st);

    if (ret < 0) {
        mf_printf("badring: %s: FAIL: MF_HC_NET_STATUS returned %ld\n", mode, ret);
        return 1;
    }
    mf_printf("badring: %s: kick returned %ld; port %s, tx_frames %lu, drops_malformed %lu\n",
              mode, kick, state_name(st.state), (unsigned long)st.tx_frames,
              (unsigned long)st.drops_malformed);
    if (want_failed && st.state == MF_NET_STATE_FAILED) {
        mf_printf("badring: %s: PASS: the port failed as expected\n", mode);
        return 0;
    }
    mf_printf("badring: %s: FAIL: the port is %s, expected failed\n", mode, state_name(st.state));
    return 1;
}

/* Sets up a correct port; 0, or 1 after saying why not. */
static int setup_ok(const char *mode)
{
    long ret = port_setup(QSIZE);

    if (ret < 0) {
        mf_printf("badring: %s: FAIL: a correct MF_HC_NET_SETUP returned %ld\n", mode, ret);
        return 1;
    }
    frame_build();
    return 0;
}

static const uint32_t frame_len = (uint32_t)(sizeof(struct virtio_net_hdr) + FRAME_LEN);

static int mode_simple(const char *mode, uint64_t addr, uint32_t len, uint16_t flags,
                       uint16_t extra)
{
    if (setup_ok(mode))
        return 1;
    desc_set(0, addr, len, flags, 0);
    avail_post(0, extra);
    return report(mode, port_kick(), 1);
}

static int mode_loop(const char *mode)
{
    mf_printf("badring: %s: TX descriptor 0 chains to itself (F_NEXT, next 0)\n", mode);
    if (setup_ok(mode))
        return 1;
    desc_set(0, gpa(tx_buffer), frame_len, VIRTQ_DESC_F_NEXT, 0);
    avail_post(0, 0);
    return report(mode, port_kick(), 1);
}

static int mode_outside(const char *mode)
{
    uint64_t addr = mf_mem_size() + 0x1000;

    mf_printf("badring: %s: TX descriptor at 0x%lx, past our %lu bytes of memory\n", mode,
              (unsigned long)addr, (unsigned long)mf_mem_size());
    return mode_simple(mode, addr, frame_len, 0, 0);
}

static int mode_wrap(const char *mode)
{
    mf_printf("badring: %s: TX descriptor addr 0xfffffffffffff000 len 0x2000 (wraps)\n", mode);
    return mode_simple(mode, 0xfffffffffffff000ULL, 0x2000, 0, 0);
}

/* In a partition under 4 GiB the buffer runs past our memory: the port
 * must fail. In a bigger one it is inside our memory, merely longer than
 * any frame: dropping it as malformed (nothing sent) is right too. */
static int mode_huge(const char *mode)
{
    struct mf_net_status st;
    long kick;

    mf_printf("badring: %s: TX descriptor len 0xffffffff\n", mode);
    if (gpa(tx_buffer) + 0xffffffffULL <= mf_mem_size()) {
        if (setup_ok(mode))
            return 1;
        desc_set(0, gpa(tx_buffer), 0xffffffffu, 0, 0);
        avail_post(0, 0);
        kick = port_kick();
        if (port_status(&st) == 0 && st.state == MF_NET_STATE_RUNNING && st.tx_frames == 0 &&
            st.drops_malformed == 1) {
            mf_printf("badring: %s: kick returned %ld; port running, tx_frames 0, "
                      "drops_malformed 1\n", mode, kick);
            mf_printf("badring: %s: PASS: inside our memory, dropped as malformed\n", mode);
            return 0;
        }
        return report(mode, kick, 1);
    }
    return mode_simple(mode, gpa(tx_buffer), 0xffffffffu, 0, 0);
}

static int mode_ahead(const char *mode)
{
    mf_printf("badring: %s: TX avail idx 1000 entries past what was posted\n", mode);
    return mode_simple(mode, gpa(tx_buffer), frame_len, 0, 1000);
}

static int mode_indirect(const char *mode)
{
    mf_printf("badring: %s: TX descriptor with VIRTQ_DESC_F_INDIRECT (not offered)\n", mode);
    indirect_table[0].addr = gpa(tx_buffer);
    indirect_table[0].len = frame_len;
    return mode_simple(mode, gpa(indirect_table), sizeof(struct virtq_desc),
                       VIRTQ_DESC_F_INDIRECT, 0);
}

static int mode_badsize(const char *mode)
{
    struct mf_net_status st;
    long ret, sret;

    mf_printf("badring: %s: MF_HC_NET_SETUP with a TX queue of %u entries\n", mode, BAD_QSIZE);
    ret = port_setup(BAD_QSIZE);
    sret = port_status(&st);
    mf_printf("badring: %s: setup returned %ld; port %s\n", mode, ret,
              sret < 0 ? "status unreadable" : state_name(st.state));
    if (ret == -MF_EINVAL && sret == 0 && st.state != MF_NET_STATE_RUNNING) {
        mf_printf("badring: %s: PASS: setup refused with -MF_EINVAL\n", mode);
        return 0;
    }
    mf_printf("badring: %s: FAIL: expected -MF_EINVAL (%d) and a port not running\n", mode,
              -MF_EINVAL);
    return 1;
}

/*
 * Each of 100 rounds re-posts descriptor 0 with a valid buffer, then (every
 * other round) rewrites its address to one past our memory before the
 * kick. Acceptable: while the port runs, a kick succeeds and tx_frames
 * counts exactly the valid rounds; once it has failed it stays failed,
 * kicks fail and tx_frames stops. Anything else is wrong.
 */
static int mode_flip(const char *mode)
{
    uint64_t bad_addr = mf_mem_size() + 0x1000, valid = 0;
    int failed_at = -1, wrong = 0;
    long kick = 0;

    mf_printf("badring: %s: 100 kicks of one TX descriptor flipping between 0x%lx and 0x%lx\n",
              mode, (unsigned long)gpa(tx_buffer), (unsigned long)bad_addr);
    if (setup_ok(mode))
        return 1;
    for (int i = 0; i < 100 && !wrong; i++) {
        struct mf_net_status st;

        desc_set(0, gpa(tx_buffer), frame_len, 0, 0);
        avail_post(0, 0);
        if (i & 1)
            tx.desc[0].addr = bad_addr;
        __asm__ volatile("" ::: "memory");
        kick = port_kick();
        if (port_status(&st) < 0) {
            mf_printf("badring: %s: kick %d: MF_HC_NET_STATUS failed\n", mode, i);
            wrong = 1;
        } else if (st.state == MF_NET_STATE_RUNNING && failed_at < 0) {
            valid += !(i & 1);
            if (kick < 0 || st.tx_frames != valid) {
                mf_printf("badring: %s: kick %d returned %ld, tx_frames %lu, expected %lu\n",
                          mode, i, kick, (unsigned long)st.tx_frames, (unsigned long)valid);
                wrong = 1;
            }
        } else if (st.state == MF_NET_STATE_FAILED) {
            if (failed_at < 0)
                failed_at = i;
            if ((failed_at < i && kick >= 0) || st.tx_frames > valid) {
                mf_printf("badring: %s: kick %d on a failed port returned %ld, tx_frames %lu\n",
                          mode, i, kick, (unsigned long)st.tx_frames);
                wrong = 1;
            }
        } else {
            mf_printf("badring: %s: kick %d: port %s\n", mode, i, state_name(st.state));
            wrong = 1;
        }
    }
    if (failed_at < 0)
        mf_printf("badring: %s: %lu clean sends, the port never failed\n", mode,
                  (unsigned long)valid);
    else
        mf_printf("badring: %s: %lu clean sends, the port failed at kick %d (%s address)\n",
                  mode, (unsigned long)valid, failed_at, failed_at & 1 ? "a bad" : "a valid");
    if (wrong)
        return report(mode, kick, 0);
    if (failed_at >= 0)
        return report(mode, kick, 1);
    mf_printf("badring: %s: PASS: every valid kick sent cleanly and no bad one got through\n",
              mode);
    return 0;
}

struct badring_mode {
    const char *name;
    int (*run)(const char *mode);
};

static const struct badring_mode modes[] = {
    { "loop", mode_loop },
    { "outside", mode_outside },
    { "wrap", mode_wrap },
    { "huge", mode_huge },
    { "ahead", mode_ahead },
    { "badsize", mode_badsize },
    { "flip", mode_flip },
    { "indirect", mode_indirect },
};

static int find_port(const struct mf_boot_info *bi)
{
    for (uint32_t i = 0; i < bi->cap_count && i < MF_CAP_SLOTS; i++) {
        if (bi->caps[i].type == MF_OBJ_NET_PORT) {
            port_slot = bi->caps[i].slot;
            return 0;
        }
    }
    return -1;
}

int main(const struct mf_boot_info *bi)
{
    const char *mode = mf_arg(0);

    if (find_port(bi) < 0) {
        mf_puts("badring: no network port (net=<switch> in the config)\n");
        return 2;
    }
    for (size_t i = 0; mode != NULL && i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(mode, modes[i].name) == 0)
            return modes[i].run(mode);
    mf_puts("badring: usage: loop|outside|wrap|huge|ahead|badsize|flip|indirect\n");
    return 2;
}
