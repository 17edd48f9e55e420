/*
 * libFuzzer target for whole control sessions: hv/control.c (included,
 * as the unit test does) with hv/ctl_session.c, the store and the codec
 * as they are, and the management layer faked. The input is a program
 * for a client that shares the key, beside an attacker that does not:
 *
 *   [0]      bit 0: the server has a key; bit 1: the client and the attacker
 *            share the network channel (control net) instead of COM2: their
 *            bytes go in through control_net_xfer as far as it takes them,
 *            replies come out in pieces of varying size, and op 7 with bit
 *            3 set is a new client (MF_CTL_XFER_NEW_CLIENT: the connection
 *            is new, its half-read replies gone, the client's nonce lost)
 *   then ops, each one byte (op & 7) and its operands; with op & 8 the
 *   length l of ops 2, 3 and 6 is two bytes (little-endian), so whole
 *   STARTs with their devices and wide LIST requests can be sent:
 *     0 n bytes...     raw bytes on the line (the attacker)
 *     1                HELLO from the client; its nonce is taken from the reply
 *     2 t l payload... a request of type t with l payload bytes, MAC'd with
 *                      the client's nonce and the next seq
 *     3 t l payload... the same, unsigned (the attacker)
 *     4                the client resends its last request (a replay)
 *     5 ms             the clock moves on ms milliseconds
 *     6 t l payload... a request signed with the client's previous nonce
 *     7                a HELLO from the attacker (unsigned, its own)
 *
 * After every op the server is polled until it has read everything and
 * sent everything. Checked: nothing crashes or reads out of bounds
 * (ASan); every byte the server sends parses as a reply frame; nothing
 * ever waits for the UART; with a key, the management layer is only
 * reached by requests the client signed (STOPs counted both ways), and
 * every reply to a signed request verifies under the client's nonce;
 * on the network, XFER never takes more than offered or gives more than
 * room, and everything offered is taken in the end.
 *
 * Seeds seed-upload-* (issue 16) take the whole way an upload goes: a
 * disk (or a real guest image, hello.elf) uploaded in chunks with its
 * CRC, a START whose block device (or image) is that upload, so the
 * store's bytes reach manage_start, and LOGS of the hypervisor and of a
 * guest; on COM2 and on the network channel.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hv/control.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(ok) check_at((ok), __LINE__)

static void check_at(int ok, int line)
{
    if (!ok) {
        fprintf(stderr, "fuzz_control: check at line %d failed\n", line);
        abort();
    }
}

/* ---- the fake world ---- */

#define HZ 1000000000ULL

static uint64_t now_tsc;
static uint8_t rx[1 << 16];
static size_t rx_len, rx_off;
static uint8_t line_out[1 << 18];
static size_t tx_len, tx_parsed;    /* bytes the server wrote, and of them parsed */
static unsigned manage_calls, signed_stops;
static struct ctl_parser replies;

uint64_t time_arch_tsc(void) { return now_tsc; }
uint64_t time_arch_tsc_hz(void) { return HZ; }
void control_arch_init(void) {}

size_t control_arch_read(uint8_t *buf, size_t max)
{
    size_t n = rx_len - rx_off < max ? rx_len - rx_off : max;

    memcpy(buf, rx + rx_off, n);
    rx_off += n;
    return n;
}

size_t control_arch_write_some(const uint8_t *buf, size_t len)
{
    size_t n = len < 16 ? len : 16;

    if (tx_len + n > sizeof(line_out)) {
        /* Full: keep only what is not parsed yet (the parser's place in
         * it stays right); if even that fills it, start over. */
        memmove(line_out, line_out + tx_parsed, tx_len - tx_parsed);
        tx_len -= tx_parsed;
        tx_parsed = 0;
        if (tx_len + n > sizeof(line_out)) {
            tx_len = 0;
            ctl_parser_init2(&replies, 1);
        }
    }
    memcpy(line_out + tx_len, buf, n);
    tx_len += n;
    return n;
}

void control_arch_write(const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    abort();                        /* no reply may wait for the UART */
}

void kprintf(const char *fmt, ...) { (void)fmt; }
void fatal(int status, const char *fmt, ...) { (void)status, (void)fmt; abort(); }
void *pool_alloc_bytes(uint64_t size, uint64_t align) { (void)size, (void)align; return NULL; }
void run_add_poller(const struct run_poller *p) { (void)p; }
uint32_t fleet_running_count(void) { return 0; }
uint64_t manage_largest_partition(void) { return 2 << 20; }
int manage_image_in_use(const uint8_t *image) { (void)image; return 0; }

/* The boot brought one file, "boot.hvt", so STARTs reach manage_start. */
static const uint8_t boot_file[32] = "boot";

int manage_boot_image(const struct boot_info *info, const char *name, const uint8_t **d,
                      uint64_t *n)
{
    (void)info;
    if (strcmp(name, "boot.hvt") != 0)
        return -1;
    *d = boot_file;
    *n = sizeof(boot_file);
    return 0;
}

/* A line as the control channel hands it over: its strings terminated,
 * at most CONFIG_DEVICES_MAX devices; every block backing it names is
 * looked up and read (ASan checks the size is true). */
int manage_start(const struct config_guest *c, const uint8_t *image, uint64_t n,
                 const struct fleet_files *files, uint64_t tsc, struct manage_started *out,
                 char *why, size_t why_size)
{
    volatile uint8_t sum = 0;

    (void)tsc, (void)why, (void)why_size;
    check(image && n && files && files->find);
    check(c->device_count <= CONFIG_DEVICES_MAX && c->net_count <= CONFIG_NETS_MAX);
    check(memchr(c->image, 0, sizeof(c->image)) && memchr(c->args, 0, sizeof(c->args)));
    for (uint32_t i = 0; i < c->device_count; i++) {
        const struct config_device *d = &c->devices[i];
        uint64_t size = 0;
        const uint8_t *data;
        check(d->kind == CONFIG_DEVICE_NET || d->kind == CONFIG_DEVICE_BLOCK);
        check(memchr(d->name, 0, sizeof(d->name)) && memchr(d->target, 0, sizeof(d->target)));
        data = files->find(files->arg, d->target, &size);
        for (uint64_t k = 0; data && k < size; k++)
            sum = (uint8_t)(sum + data[k]);
    }
    manage_calls++;
    out->started = 1, out->pending = 0, out->first_id = 7;
    return 0;
}

int manage_stop(uint32_t id, char *why, size_t why_size)
{
    (void)id, (void)why, (void)why_size;
    manage_calls++;
    signed_stops--;                 /* must have been counted by the client first */
    return 0;
}

uint32_t manage_list(uint32_t first, uint32_t max, uint32_t *total,
                     void (*emit)(const struct manage_entry *e, void *arg), void *arg)
{
    struct manage_entry e = { .id = 3, .state = MANAGE_WAITING, .name = "g.0", .image = "g.elf",
                              .class_name = "small", .personality = "solo5-hvt" };

    *total = 2;
    if (max && !first) {
        emit(&e, arg);
        e.id = 4;
        e.personality = NULL;           /* the fleet may not say */
        if (max > 1)
            emit(&e, arg);
        return max > 1 ? 2 : 1;
    }
    return 0;
}

int manage_guest_stats(uint32_t id, struct manage_guest_stats *out, char *why, size_t n)
{
    memset(out, 0, sizeof(*out));
    return id == 3 ? 0 : fmt_error(why, n, -MF_ENOENT, "no guest %u", id);
}

void manage_stats(struct manage_stats *out) { memset(out, 0, sizeof(*out)); }

/* Two summoned services for SERVICES, the second without a name. */
uint32_t summon_services(void) { return 2; }

int summon_info(uint32_t i, struct summon_info *out)
{
    if (i >= 2)
        return -1;
    memset(out, 0, sizeof(*out));
    out->name = i ? NULL : "web";
    out->ip = 0x0a000009u;
    out->max = 4;
    out->summoned = out->latency_count = i;
    return 0;
}

uint32_t log_read(uint32_t id, char *out, uint32_t max, int *truncated)
{
    (void)id;
    *truncated = 0;
    if (max >= 5)
        memcpy(out, "line\n", 5);
    return max >= 5 ? 5 : 0;
}

/* ---- the client ---- */

static const uint8_t key[16] = "fuzz-key-0123456";
static struct config cfg;
static uint8_t store_mem[1 << 16];
static uint8_t nonce[MF_CTL_NONCE_BYTES], old_nonce[MF_CTL_NONCE_BYTES];
static int have_nonce, awaiting_hello;
static uint32_t seq, signed_seq_min;
static uint8_t last_wire[CTL_FRAME_MAX];
static size_t last_len;
static int net_mode;                /* the network channel, not COM2 */
static uint8_t net_out[1 << 16];    /* bytes not yet offered to XFER */
static size_t net_out_len, net_out_off;
static uint32_t xfers;

static void line_add(const void *p, size_t n)
{
    if (net_mode) {
        if (net_out_len + n <= sizeof(net_out)) {
            memcpy(net_out + net_out_len, p, n);
            net_out_len += n;
        }
        return;
    }
    if (rx_len + n > sizeof(rx))
        return;
    memcpy(rx + rx_len, p, n);
    rx_len += n;
}

static void collect(void);

/* One XFER as the control guest makes it, with room for a piece of
 * varying size (1 to 4 KiB) of the replies; what comes out goes where
 * COM2's bytes go. */
static struct control_xfer_result net_xfer(uint32_t flags)
{
    static uint8_t piece[4096];
    struct control_xfer_result r;
    uint32_t in_len = (uint32_t)(net_out_len - net_out_off);
    uint32_t room = 1 + (xfers++ * 977u) % sizeof(piece);

    check(control_net_xfer(net_out + net_out_off, in_len, piece, room, flags, &r) == 0);
    check(r.in_taken <= in_len && r.out_len <= room);
    net_out_off += r.in_taken;
    if (tx_len + r.out_len > sizeof(line_out)) {
        /* Full: parse what came, keep only the unparsed tail. */
        collect();
        memmove(line_out, line_out + tx_parsed, tx_len - tx_parsed);
        tx_len -= tx_parsed;
        tx_parsed = 0;
    }
    memcpy(line_out + tx_len, piece, r.out_len);
    tx_len += r.out_len;
    return r;
}

static void net_poll_all(void)
{
    for (int i = 0; i < 20000; i++) {
        struct control_xfer_result r = net_xfer(0);
        if (net_out_off == net_out_len && !r.out_pending && !txring_pending(&net_in) &&
            net_held_off == net_held_len)
            return;
        now_tsc += HZ / 1000;
        control_poll();
    }
    check(net_out_off == net_out_len);
}

static void poll_all(void)
{
    if (net_mode) {
        net_poll_all();
        return;
    }
    for (int i = 0; i < 20000 && (rx_off < rx_len || txring_pending(&serial.tx)); i++) {
        now_tsc += HZ / 1000;
        control_poll();
    }
    check(rx_off == rx_len);
}

/* Parses what the server sent: every byte is a reply frame. */
static void collect(void)
{
    for (;;) {
        struct ctl_frame f;
        size_t used = 0;
        int r = ctl_parser_feed(&replies, line_out + tx_parsed, tx_len - tx_parsed, &used, &f, NULL,
                                NULL, 0);
        tx_parsed += used;
        if (r == CTL_NEED_MORE)
            return;
        check(r == CTL_FRAME);
        check(f.hdr.type & MF_CTL_REPLY);
        if (f.hdr.type == (MF_CTL_HELLO | MF_CTL_REPLY) && awaiting_hello && !f.has_mac &&
            f.hdr.length >= sizeof(struct mf_ctl_hello_reply)) {
            const struct mf_ctl_hello_reply *h = (const void *)f.payload;
            memcpy(old_nonce, nonce, sizeof(nonce));
            memcpy(nonce, h->nonce, sizeof(nonce));
            have_nonce = 1;
            awaiting_hello = 0;
        } else if (cfg.key_len && f.hdr.seq >= signed_seq_min && f.has_mac) {
            /* A signed reply to one of ours verifies under our nonce (or
             * the one before, for replies in flight across a HELLO). */
            check(ctl_frame_verify(&f, key, sizeof(key), nonce) == 0 ||
                  ctl_frame_verify(&f, key, sizeof(key), old_nonce) == 0);
        }
    }
}

static void send(uint8_t type, const uint8_t *payload, uint32_t len, const uint8_t *with_nonce,
                 uint32_t s)
{
    uint8_t wire[CTL_FRAME_MAX];
    size_t n = ctl_frame_encode(wire, sizeof(wire), type, s, payload, len,
                                with_nonce && cfg.key_len ? key : NULL, sizeof(key), with_nonce);

    if (!n)
        return;
    line_add(wire, n);
    memcpy(last_wire, wire, n);
    last_len = n;
}

static void reset(int keyed)
{
    memset(&cfg, 0, sizeof(cfg));
    cfg.control = 1;
    cfg.control_line = net_mode ? 0 : 1;
    cfg.control_net.line = net_mode ? 2 : 0;
    cfg.store_size = sizeof(store_mem);
    if (keyed) {
        cfg.key_len = sizeof(key);
        memcpy(cfg.key, key, sizeof(key));
    }
    now_tsc = 1000 * HZ;
    rx_len = rx_off = tx_len = tx_parsed = last_len = 0;
    manage_calls = signed_stops = 0;
    have_nonce = awaiting_hello = 0;
    seq = signed_seq_min = 0;
    memset(nonce, 0, sizeof(nonce));
    memset(old_nonce, 0, sizeof(old_nonce));
    serial.enabled = net.enabled = 0;
    net_out_len = net_out_off = 0;
    xfers = 0;
    control_net_guest(0, NULL, NULL);
    control_init(&cfg, NULL, store_mem, sizeof(store_mem));
    ctl_parser_init2(&replies, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i = 1;

    if (size < 1)
        return 0;
    net_mode = (data[0] >> 1) & 1;
    reset(data[0] & 1);
    while (i < size) {
        uint8_t wide = data[i] & 8, op = data[i++] & 7, type = 0;
        uint32_t len = 0;
        const uint8_t *p = NULL;
        if (op == 2 || op == 3 || op == 6) {
            if (i + 2 + (wide ? 1 : 0) > size)
                break;
            type = data[i] % (MF_CTL_TYPE_COUNT + 1);
            len = data[i + 1];
            if (wide)
                len = (len | (uint32_t)data[i + 2] << 8) % (MF_CTL_PAYLOAD_MAX + 1);
            i += 2 + (wide ? 1 : 0);
            if (i + len > size)
                len = (uint32_t)(size - i);
            p = data + i;
            i += len;
        }
        switch (op) {
        case 0: {
            size_t n = i < size ? data[i++] : 0;
            if (i + n > size)
                n = size - i;
            line_add(data + i, n);
            i += n;
            break;
        }
        case 1:
            seq = 1;
            signed_seq_min = 1;
            awaiting_hello = 1;
            send(MF_CTL_HELLO, NULL, 0, NULL, seq);
            break;
        case 2:
            if (!have_nonce)
                break;
            if (type == MF_CTL_STOP && cfg.key_len)
                signed_stops++;
            send(type, p, len, nonce, ++seq);
            break;
        case 3:
            send(type, p, len, NULL, ++seq);
            break;
        case 4:
            line_add(last_wire, last_len);
            break;
        case 5:
            now_tsc += (uint64_t)(i < size ? data[i++] : 1) * (HZ / 1000);
            break;
        case 6:                     /* still signed with the key: may be admitted */
            if (type == MF_CTL_STOP && cfg.key_len)
                signed_stops++;
            send(type, p, len, old_nonce, ++seq);
            break;
        default:
            if (net_mode && wide) {
                /* A new connection: nothing of the last is read any more. */
                net_out_len = net_out_off = 0;
                net_xfer(MF_CTL_XFER_NEW_CLIENT);
                tx_parsed = tx_len;
                ctl_parser_init2(&replies, 1);
                have_nonce = awaiting_hello = 0;
                break;
            }
            send(MF_CTL_HELLO, NULL, 0, NULL, 1);
            break;
        }
        poll_all();
        collect();
        /* Without a MAC nothing reaches the management layer with a key:
         * every STOP it saw was one the client signed (signed_stops never
         * goes below zero). */
        check(!cfg.key_len || signed_stops < 0x80000000u);
    }
    return 0;
}
