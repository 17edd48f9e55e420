/*
 * The control channel's server, on two channels: COM2 ('control com2')
 * and the network ('control net'), whose bytes the network control guest
 * carries through MF_HC_CTL_XFER. Each channel has its own parser,
 * session, rate limits, transmit ring and truncation timer; the store,
 * the request handlers and the counters are shared. Each complete frame is checked (the
 * parser: magic, version, type, length, checksum; then the session:
 * authentication, replay; then the request's own fields) before anything
 * happens. An admitted request gets exactly one reply. A frame that is
 * not admitted (unreadable, unauthenticated, replayed) changes nothing
 * and gets at most one reply: such replies are rate-limited (the rest
 * are dropped and counted, and summed up in one log line a second), and
 * they go out only while the line is nearly idle. Every reply leaves
 * through a transmit ring drained without waiting, so no reply stalls
 * the guests. Requests act only through the management layer (hv/manage.c)
 * and the store; this file alone converts wire structs.
 */
#include <stdarg.h>

#include "../include/mayfly/abi.h"
#include "../include/mayfly/control.h"
#include "arch.h"
#include "boot_info.h"
#include "console.h"
#include "control.h"
#include "ctl_frame.h"
#include "ctl_session.h"
#include "elf.h"
#include "fmt.h"
#include "hv.h"
#include "lib.h"
#include "fleet.h"
#include "lock.h"
#include "log.h"
#include "manage.h"
#include "pool.h"
#include "run.h"
#include "store.h"
#include "summon.h"
#include "txring.h"

_Static_assert(MF_CTL_DEVICES_MAX == CONFIG_DEVICES_MAX, "START carries every device of a line");
_Static_assert(MF_CTL_DEVICE_NAME_MAX == CONFIG_DEVICE_NAME_MAX, "device names fit both ways");
_Static_assert(MF_CTL_TARGET_MAX == BOOT_NAME_MAX, "device targets fit both ways");

#define TRUNCATED_FRAME_MS  500     /* a partial frame idle this long is dropped */
#define HV_VERSION          "mayfly 0.1"

/* Replies to frames that were not admitted: at most UNAUTH_PER_SECOND a
 * second on average (UNAUTH_BURST at once); with a key, HELLOs likewise
 * (a budget of their own, so junk cannot starve them); one summary line
 * per SUMMARY_MS. Such a reply goes out only while at most
 * UNAUTH_TX_BYTES wait to be sent, so it never delays an admitted one by
 * more than that. */
#define UNAUTH_PER_SECOND   4
#define UNAUTH_BURST        8
#define HELLO_PER_SECOND    8
#define HELLO_BURST         16
#define SUMMARY_MS          1000
#define UNAUTH_TX_BYTES     512
#define TX_RING_BYTES       (4 * CTL_FRAME_MAX)
#define NET_IN_BYTES        (2 * CTL_FRAME_MAX)
#define NET_REFILLS_PER_POLL 4      /* net_held fills per poll: bounds one poll's work */

/* One channel's state. The network channel's transmit ring is emptied by
 * MF_HC_CTL_XFER on whichever CPU runs the control guest, so it is
 * touched only under net_lock; everything else here belongs to the
 * poller (the boot CPU). */
struct ctl_channel {
    const char *name;               /* for the log */
    int enabled;
    int net;                        /* replies leave through MF_HC_CTL_XFER */
    struct ctl_parser parser;
    struct ctl_session session;
    struct ctl_limit unauth_limit, hello_limit;
    uint64_t last_byte_tsc;
    char last_unauth_why[MF_CTL_MESSAGE_MAX];
    struct txring tx;
};

static const struct config *config;
static struct store store;
static const struct boot_info *boot;
static uint64_t requests, errors;  /* over both channels */
static uint64_t request_tsc;        /* when the request being handled was complete */
static uint32_t request_seq;        /* and its seq */
static uint8_t request_type;        /* and type */
static uint8_t reply_buf[CTL_FRAME_MAX];
static uint8_t payload[MF_CTL_PAYLOAD_MAX];

static struct ctl_channel serial = { .name = "COM2" };
static struct ctl_channel net = { .name = "the network", .net = 1 };
static struct ctl_channel *chan = &serial;      /* the channel being served */
static uint8_t serial_tx_storage[TX_RING_BYTES];

/* The network channel's byte queues. net_in holds what XFER took from
 * the client until the poller takes it into net_held (its own, parsed
 * from there); net.tx holds replies until XFER hands them out. A new
 * client (MF_CTL_XFER_NEW_CLIENT) empties both, bumps net_gen and asks
 * the poller to reset the parser and session (net_reset): replies the
 * poller still makes for the earlier client's bytes (gen differs) are
 * dropped, never handed to the new one. */
static struct lock net_lock;
static uint8_t net_in_storage[NET_IN_BYTES], net_tx_storage[TX_RING_BYTES];
static struct txring net_in;
static uint32_t net_gen, net_gen_seen;
static int net_reset, net_replied;
static int net_starved;             /* XFER found net_in full: tell the guest when room frees */
static uint8_t net_held[NET_IN_BYTES];
static uint32_t net_held_len, net_held_off;
static uint64_t net_replies_dropped;
static uint32_t net_guest_id;       /* the control guest: not stoppable over the channel */
static void (*net_notify)(void *arg);
static void *net_notify_arg;

uint64_t control_unanswered(void)
{
    return serial.unauth_limit.dropped_total + serial.hello_limit.dropped_total +
           net.unauth_limit.dropped_total + net.hello_limit.dropped_total;
}

static int control_wanted(void)
{
    return 1;                       /* bytes may arrive at any time */
}

static const struct run_poller control_poller = { control_poll, control_wanted, 1, 0, NULL };

static void channel_init(struct ctl_channel *ch, const struct config *cfg, uint8_t *tx_storage)
{
    uint64_t hz = time_arch_tsc_hz();

    ctl_parser_init(&ch->parser);
    ctl_session_init(&ch->session, cfg->key, cfg->key_len);
    ctl_limit_init(&ch->unauth_limit, hz, UNAUTH_PER_SECOND, UNAUTH_BURST,
                   hz / 1000 * SUMMARY_MS);
    ctl_limit_init(&ch->hello_limit, hz, HELLO_PER_SECOND, HELLO_BURST, hz / 1000 * SUMMARY_MS);
    txring_init(&ch->tx, tx_storage, TX_RING_BYTES);
    ch->last_byte_tsc = 0;
    ch->last_unauth_why[0] = '\0';
    ch->enabled = 1;
}

void control_init(const struct config *cfg, const struct boot_info *info, uint8_t *store_base,
                  uint64_t store_size)
{
    config = cfg;
    boot = info;
    serial.enabled = net.enabled = 0;
    if (!cfg->control)
        return;
    store_init(&store, store_base, store_size);
    if (cfg->control_line) {
        channel_init(&serial, cfg, serial_tx_storage);
        control_arch_init();
    }
    if (cfg->control_net.line) {
        channel_init(&net, cfg, net_tx_storage);
        txring_init(&net_in, net_in_storage, NET_IN_BYTES);
        net_held_len = net_held_off = 0;
        net_gen = net_gen_seen = 0;
        net_reset = net_replied = 0;
    }
    run_add_poller(&control_poller);
    if (serial.enabled)
        kprintf("mayfly: control: listening on COM2 (image store %llu KiB, authentication "
                "%s)\n", (unsigned long long)(store_size / 1024), cfg->key_len ? "on" : "off");
    if (net.enabled)
        kprintf("mayfly: control: listening on the network through the control guest "
                "(image store %llu KiB, authentication on)\n",
                (unsigned long long)(store_size / 1024));
}

/* Sends what the UART takes now (the network channel's replies wait
 * for MF_HC_CTL_XFER). */
static void tx_pump(void)
{
    if (!chan->net)
        txring_pump(&chan->tx, control_arch_write_some);
}

/* Bytes waiting to be sent on the channel. */
static uint64_t tx_pending(void)
{
    uint64_t n;

    if (!chan->net)
        return txring_pending(&chan->tx);
    lock_take(&net_lock);
    n = txring_pending(&chan->tx);
    lock_give(&net_lock);
    return n;
}

/* A reply for the network channel: dropped when a new client came since
 * its request's bytes were taken (it is not that client's), else queued
 * (the poller parses a frame only while a whole reply fits: see
 * net_room). */
static void net_queue(const uint8_t *frame, size_t n)
{
    lock_take(&net_lock);
    if (net_gen != net_gen_seen || txring_room(&net.tx) < n) {
        net_replies_dropped++;
    } else {
        txring_put(&net.tx, frame, (uint32_t)n);
        net_replied = 1;
    }
    lock_give(&net_lock);
}

/* Queues a whole frame. On COM2 only an admitted request's reply may find
 * the ring full (a client sending requests without reading replies): it
 * then waits for room, as that client asked for it. */
static void tx_queue(const uint8_t *frame, size_t n)
{
    if (chan->net) {
        net_queue(frame, n);
        return;
    }
    while (txring_room(&chan->tx) < n) {
        uint8_t c = txring_take(&chan->tx);
        control_arch_write(&c, 1);
    }
    txring_put(&chan->tx, frame, (uint32_t)n);
    tx_pump();
}

/* Whether an unauthenticated reply of n bytes may be queued now. */
static int tx_unauth_room(size_t n)
{
    return tx_pending() + n <= UNAUTH_TX_BYTES;
}

/* Encodes a reply, with a MAC under the session's nonce when signed. */
static size_t reply_encode(uint8_t type, uint32_t seq, const void *data, uint32_t len, int sign)
{
    return ctl_frame_encode(reply_buf, sizeof(reply_buf), (uint8_t)(type | MF_CTL_REPLY), seq,
                            data, len, sign ? config->key : NULL, config->key_len, chan->session.nonce);
}

/* The reply to an admitted request: always sent. */
static void send_reply(uint8_t type, uint32_t seq, const void *data, uint32_t len)
{
    size_t n = reply_encode(type, seq, data, len, ctl_session_signs(&chan->session));

    if (n)
        tx_queue(reply_buf, n);
}

static void status_fill(struct mf_ctl_status *st, int32_t status, const char *why)
{
    ctl_status_set(st, status, "%s", why);
}

/* An admitted request refused by its handler: logged and answered. */
static void send_error(uint8_t type, uint32_t seq, int32_t status, const char *why)
{
    struct mf_ctl_status st;

    errors++;
    status_fill(&st, status, why);
    kprintf("mayfly: control: request %u refused: %s\n", seq, why);
    send_reply(type, seq, &st, sizeof(st));
}

/* A frame that was not admitted: an unsigned error reply if the limit
 * and the line allow, else nothing; counted, and logged in the summary. */
static void refuse_unadmitted(uint8_t type, uint32_t seq, int32_t status, const char *why)
{
    struct mf_ctl_status st;
    uint64_t now = time_arch_tsc();
    size_t n;

    errors++;
    str_copy(chan->last_unauth_why, why, sizeof(chan->last_unauth_why));
    status_fill(&st, status, why);
    n = reply_encode(type, seq, &st, sizeof(st), 0);
    if (!n || !tx_unauth_room(n)) {
        ctl_limit_drop(&chan->unauth_limit, now);
        return;
    }
    if (ctl_limit_take(&chan->unauth_limit, now))
        tx_queue(reply_buf, n);
}

/* One line per interval for what was refused without being admitted. */
static void summarise(void)
{
    uint64_t now = time_arch_tsc();
    uint32_t answered, dropped;

    if (ctl_limit_summary(&chan->unauth_limit, now, &answered, &dropped))
        kprintf("mayfly: control: %u unadmitted frames refused on %s in the last %u ms, %u "
                "answered, %u dropped unanswered (at most %u answers a second); last: %s\n",
                answered + dropped, chan->name, SUMMARY_MS, answered, dropped,
                UNAUTH_PER_SECOND, chan->last_unauth_why);
    if (ctl_limit_summary(&chan->hello_limit, now, &answered, &dropped) && dropped)
        kprintf("mayfly: control: %u HELLOs on %s in the last %u ms, %u answered, %u dropped "
                "unanswered (at most %u a second while a key is set)\n", answered + dropped,
                chan->name, SUMMARY_MS, answered, dropped, HELLO_PER_SECOND);
}

/* Whether a fixed-size string field from the wire holds its NUL. */
static int terminated(const char *field, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (!field[i])
            return 1;
    return 0;
}

/* A request's payload into its struct (zeroed first): as long as the
 * struct's first version (v1 bytes) or at least as long as the struct
 * now (what follows is a later version's and is ignored). 0, or
 * -MF_EINVAL with why for a length in between. */
static int request_copy(void *dst, size_t full, size_t v1, const uint8_t *in, uint32_t len,
                        char *why, size_t n)
{
    memset(dst, 0, full);
    if (len > v1 && len < full)
        return fmt_error(why, n, -MF_EINVAL, "payload of %u bytes is neither the %zu-byte "
                         "first version of request type %u nor the %zu-byte one (is mfctl "
                         "from another build?)", len, v1, request_type, full);
    memcpy(dst, in, len < full ? len : full);
    return 0;
}

/* Where a START finds the files it names, its image and its block
 * devices' backings: an upload in the store first, then the boot's files. */
static const uint8_t *find_file(void *arg, const char *name, uint64_t *size)
{
    const struct store_image *im = store_find(&store, name);
    const uint8_t *data;

    (void)arg;
    if (im) {
        *size = im->size;
        return store.base + im->offset;
    }
    return manage_boot_image(boot, name, &data, size) == 0 ? data : NULL;
}

static const struct fleet_files start_files = { find_file, NULL };

/* Each handler gets the payload, already length-checked by the table, and
 * fills the reply into `payload`; it returns the reply's length, or sets
 * *status and why for an error reply. */
typedef uint32_t (*request_fn)(const uint8_t *in, uint32_t len, int32_t *status, char *why,
                               size_t why_size);

static uint32_t do_hello(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    struct mf_ctl_hello_reply *r = (struct mf_ctl_hello_reply *)(void *)payload;

    (void)in, (void)len, (void)status, (void)why, (void)n;
    memset(r, 0, sizeof(*r));
    ctl_session_hello(&chan->session, request_seq, time_arch_tsc(), r->nonce);
    r->protocol_version = MF_CTL_VERSION;
    r->abi_version = MF_ABI_VERSION;
    r->auth_required = config->key_len != 0;
    r->guests_running = fleet_running_count();
    r->store_size = store.size;
    r->store_free = store_free_bytes(&store);
    r->tsc_hz = time_arch_tsc_hz();
    str_copy(r->version, HV_VERSION, sizeof(r->version));
    return sizeof(*r);
}

static uint32_t wire_state(enum manage_state s)
{
    switch (s) {
    case MANAGE_WAITING: return MF_CTL_GUEST_WAITING;
    case MANAGE_PENDING: return MF_CTL_GUEST_PENDING;
    case MANAGE_RUNNING: return MF_CTL_GUEST_RUNNING;
    default: return 0;
    }
}

/* Appends one listed guest to the LIST reply being built, in entries of
 * r->entry_size bytes (the personality and the service only in the
 * longer ones). */
static void emit_entry(const struct manage_entry *e, void *arg)
{
    struct mf_ctl_list_reply *r = arg;
    uint8_t *at = (uint8_t *)(r + 1) + (size_t)r->count++ * r->entry_size;
    struct mf_ctl_guest_entry *out = (struct mf_ctl_guest_entry *)(void *)at;

    memset(at, 0, r->entry_size);
    if (r->entry_size >= sizeof(struct mf_ctl_guest_entry2))
        str_copy(((struct mf_ctl_guest_entry2 *)(void *)at)->personality,
                 e->personality ? e->personality : "", MF_CTL_PERSONALITY_MAX);
    if (r->entry_size >= sizeof(struct mf_ctl_guest_entry3) && e->service) {
        struct mf_ctl_guest_entry3 *e3 = (struct mf_ctl_guest_entry3 *)(void *)at;
        str_copy(e3->service, e->service, sizeof(e3->service));
        e3->service_slot = e->service_slot;
    }
    out->id = e->id;
    out->state = wire_state(e->state);
    str_copy(out->name, e->name, sizeof(out->name));
    str_copy(out->image, e->image, sizeof(out->image));
    str_copy(out->class_name, e->class_name, sizeof(out->class_name));
    out->mem_size = e->mem_size;
    out->uptime_tsc = e->uptime_tsc;
    out->hypercalls = e->hypercalls;
}

/* LIST: the first, 128-byte entries to a client that asks for nothing
 * else (older mfctl sends first alone, or nothing); the longest entries
 * this hypervisor knows that are no longer than the client asked for
 * (with the personality, then the service too). */
static uint32_t do_list(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    struct mf_ctl_list_reply *r = (struct mf_ctl_list_reply *)(void *)payload;
    struct mf_ctl_list req = { 0, 0 };
    uint32_t max;

    (void)status, (void)why, (void)n;
    if (len >= sizeof(req))
        memcpy(&req, in, sizeof(req));
    else if (len >= sizeof(req.first))
        memcpy(&req.first, in, sizeof(req.first));
    memset(r, 0, sizeof(*r));
    r->first = req.first;
    r->entry_size = req.entry_size >= sizeof(struct mf_ctl_guest_entry3)
                    ? sizeof(struct mf_ctl_guest_entry3)
                    : req.entry_size >= sizeof(struct mf_ctl_guest_entry2)
                    ? sizeof(struct mf_ctl_guest_entry2) : sizeof(struct mf_ctl_guest_entry);
    max = (uint32_t)((MF_CTL_PAYLOAD_MAX - sizeof(*r)) / r->entry_size);
    manage_list(req.first, max, &r->total, emit_entry, r);
    return (uint32_t)(sizeof(*r) + r->count * r->entry_size);
}

static uint32_t ok_reply(void)
{
    memset(payload, 0, sizeof(struct mf_ctl_status));
    return sizeof(struct mf_ctl_status);
}

/* Whether replacing a stored image called name would pull bytes from
 * under instances still waiting to start from them. */
static int image_needed(const char *name)
{
    const struct store_image *old = store_find(&store, name);

    return old && manage_image_in_use(store.base + old->offset);
}

/* What the upload in progress is (MF_CTL_UPLOAD_*), from its BEGIN. */
static uint32_t upload_kind;

static const char *upload_kind_name(uint32_t kind)
{
    return kind == MF_CTL_UPLOAD_DISK ? "disk" : "image";
}

static uint32_t do_upload_begin(const uint8_t *in, uint32_t len, int32_t *status, char *why,
                                size_t n)
{
    struct mf_ctl_upload_begin req;

    *status = request_copy(&req, sizeof(req), MF_CTL_UPLOAD_BEGIN_V1_BYTES, in, len, why, n);
    if (*status)
        return 0;
    if (!terminated(req.name, sizeof(req.name))) {
        *status = fmt_error(why, n, -MF_EINVAL, "image name is not NUL-terminated");
        return 0;
    }
    if (req.kind != MF_CTL_UPLOAD_IMAGE && req.kind != MF_CTL_UPLOAD_DISK) {
        *status = fmt_error(why, n, -MF_EINVAL, "unknown upload kind %u (0: a guest image, "
                            "1: a disk for a block device)", req.kind);
        return 0;
    }
    if (image_needed(req.name)) {
        *status = fmt_error(why, n, -MF_EAGAIN, "%s %s is in use by instances running or "
                            "waiting for a partition; stop them (mfctl ps) or upload it under "
                            "another name", upload_kind_name(req.kind), req.name);
        return 0;
    }
    *status = store_begin(&store, req.name, req.size, why, n);
    if (*status)
        return 0;
    upload_kind = req.kind;
    return ok_reply();
}

static uint32_t do_upload_chunk(const uint8_t *in, uint32_t len, int32_t *status, char *why,
                                size_t n)
{
    uint64_t offset;

    memcpy(&offset, in, sizeof(offset));
    *status = store_chunk(&store, offset, in + 8, len - 8, why, n);
    return *status ? 0 : ok_reply();
}

static uint32_t do_upload_end(const uint8_t *in, uint32_t len, int32_t *status, char *why,
                              size_t n)
{
    /* Static: an elf_image with its manifest is several KiB. */
    static struct elf_image elf;
    struct mf_ctl_upload_end req;
    const uint8_t *data;
    uint64_t size;
    char reason[160];

    (void)len;
    memcpy(&req, in, sizeof(req));
    *status = store_finish(&store, req.crc32, &data, &size, why, n);
    if (*status)
        return 0;
    /* Checked at BEGIN too, but a START may have started instances of
     * the old image since. */
    if (image_needed(store.upload.name)) {
        *status = fmt_error(why, n, -MF_EAGAIN, "%s %s is in use by instances running or "
                            "waiting for a partition; end the upload again once they have "
                            "ended, or upload it under another name",
                            upload_kind_name(upload_kind), store.upload.name);
        return 0;
    }
    /* A disk is bytes for a block device: a START checks its size
     * against the device's sector size. */
    if (upload_kind == MF_CTL_UPLOAD_IMAGE &&
        elf_validate(data, size, manage_largest_partition(), &elf, reason, sizeof(reason)) < 0) {
        /* Complete, checksummed and invalid: nothing could mend it. */
        store_abort(&store);
        *status = fmt_error(why, n, -MF_EINVAL, "image %s rejected: %s", store.upload.name, reason);
        return 0;
    }
    kprintf("mayfly: control: stored %s %s (%llu bytes)\n", upload_kind_name(upload_kind),
            store.upload.name, (unsigned long long)size);
    store_commit(&store);
    return ok_reply();
}

/* Whether a wire string fits a field of size bytes (with its NUL). */
static int fits(const char *s, size_t size)
{
    return strlen(s) < size;
}

/* Whether every text field of a START holds its NUL, the unused device
 * slots' too. */
static int start_terminated(const struct mf_ctl_start *req)
{
    int ok = 1;

    ok &= terminated(req->name, sizeof(req->name));
    ok &= terminated(req->image, sizeof(req->image));
    ok &= terminated(req->class_name, sizeof(req->class_name));
    ok &= terminated(req->args, sizeof(req->args));
    for (uint32_t i = 0; i < MF_CTL_NETS_MAX; i++)
        ok &= terminated(req->nets[i], sizeof(req->nets[i]));
    for (uint32_t i = 0; i < MF_CTL_DEVICES_MAX; i++) {
        ok &= terminated(req->devices[i].name, sizeof(req->devices[i].name));
        ok &= terminated(req->devices[i].target, sizeof(req->devices[i].target));
    }
    return ok;
}

/* A START's device mappings as the line's devices (the config's rules
 * check them after). 0, or -MF_EINVAL with why. */
static int start_devices(const struct mf_ctl_start *req, struct config_guest *c, char *why,
                         size_t n)
{
    if (req->device_count > MF_CTL_DEVICES_MAX)
        return fmt_error(why, n, -MF_EINVAL, "%u devices, at most %d can be mapped",
                         req->device_count, MF_CTL_DEVICES_MAX);
    for (uint32_t i = 0; i < req->device_count; i++) {
        const struct mf_ctl_device *d = &req->devices[i];
        struct config_device *out = &c->devices[i];

        if (d->kind == MF_CTL_DEVICE_NET)
            out->kind = CONFIG_DEVICE_NET;
        else if (d->kind == MF_CTL_DEVICE_BLOCK)
            out->kind = CONFIG_DEVICE_BLOCK;
        else
            return fmt_error(why, n, -MF_EINVAL, "device %s has kind %u (1: net, 2: block)",
                             d->name, d->kind);
        if (!fits(d->name, sizeof(out->name)) || !fits(d->target, sizeof(out->target)))
            return fmt_error(why, n, -MF_EINVAL, "device %u: its name or target is too long", i);
        out->sector_size = d->sector_size;
        str_copy(out->name, d->name, sizeof(out->name));
        str_copy(out->target, d->target, sizeof(out->target));
    }
    c->device_count = req->device_count;
    return 0;
}

/* A START request as a guest line (the management layer checks it with
 * the config's rules). 0, or -MF_EINVAL with why. */
static int start_line(const struct mf_ctl_start *req, struct config_guest *c, char *why,
                      size_t n)
{
    memset(c, 0, sizeof(*c));
    if (!fits(req->name, sizeof(c->name)) || !fits(req->image, sizeof(c->image)) ||
        !fits(req->class_name, sizeof(c->class_name)) || !fits(req->args, sizeof(c->args)))
        return fmt_error(why, n, -MF_EINVAL, "a name or args is too long");
    str_copy(c->name, req->name, sizeof(c->name));
    str_copy(c->image, req->image, sizeof(c->image));
    str_copy(c->class_name, req->class_name, sizeof(c->class_name));
    str_copy(c->args, req->args, sizeof(c->args));
    c->count = req->count;
    c->timeout_ms = req->timeout_ms;
    for (uint32_t i = 0; i < MF_CTL_NETS_MAX && req->nets[i][0]; i++) {
        if (!fits(req->nets[i], SWITCH_NAME_MAX) || c->net_count == CONFIG_NETS_MAX)
            return fmt_error(why, n, -MF_EINVAL, "too many or too long switch names");
        str_copy(c->nets[c->net_count++], req->nets[i], SWITCH_NAME_MAX);
    }
    return start_devices(req, c, why, n);
}

static uint32_t do_start(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    static struct mf_ctl_start req;
    static struct config_guest line;
    struct mf_ctl_start_reply *r = (struct mf_ctl_start_reply *)(void *)payload;
    struct manage_started started;
    const uint8_t *data;
    uint64_t size;

    if ((*status = request_copy(&req, sizeof(req), MF_CTL_START_V1_BYTES, in, len, why, n)))
        return 0;
    if (!start_terminated(&req)) {
        *status = fmt_error(why, n, -MF_EINVAL, "a text field of the request is not "
                            "NUL-terminated");
        return 0;
    }
    if ((*status = start_line(&req, &line, why, n)) != 0)
        return 0;
    data = find_file(NULL, req.image, &size);
    if (!data) {
        *status = fmt_error(why, n, -MF_ENOENT, "no image %s in the store or from the boot: "
                            "upload it with mfctl load", req.image);
        return 0;
    }
    *status = manage_start(&line, data, size, &start_files, request_tsc, &started, why, n);
    if (*status)
        return 0;
    memset(r, 0, sizeof(*r));
    r->started = started.started;
    r->pending = started.pending;
    r->first_id = started.first_id;
    return sizeof(*r);
}

static uint32_t do_stop(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    struct mf_ctl_guest_ref req;

    (void)len;
    memcpy(&req, in, sizeof(req));
    if (req.id && req.id == net_guest_id) {
        *status = fmt_error(why, n, -MF_EPERM, "the network control guest cannot be stopped "
                            "over the control channel: it carries the network channel (it is "
                            "started again when it ends; drop the control net line to remove "
                            "it)");
        return 0;
    }
    *status = manage_stop(req.id, why, n);
    if (!*status)
        kprintf("mayfly: control: stopping guest %u\n", req.id);
    return *status ? 0 : ok_reply();
}

/* The whole hypervisor's counters (STATS of id 0). */
static void global_stats(struct mf_ctl_stats_reply *r)
{
    struct manage_stats m;

    manage_stats(&m);
    r->uptime_tsc = m.uptime_tsc;
    r->guests_started = m.counts.started;
    r->guests_running = m.counts.running;
    r->guests_exited = m.counts.exited_ok;
    r->guests_failed = m.counts.failed + m.counts.killed + m.counts.launch_failures;
    r->guests_pending = m.counts.pending;
    r->partitions_free = m.partitions_free;
    r->net_rx_frames = m.frames;
    r->net_drops = m.drops;
    r->control_requests = requests;
    r->control_errors = errors;
    r->control_unanswered = control_unanswered();
}

static uint32_t do_stats(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    struct mf_ctl_guest_ref req;
    struct mf_ctl_stats_reply *r = (struct mf_ctl_stats_reply *)(void *)payload;
    struct manage_guest_stats g;

    (void)len;
    memcpy(&req, in, sizeof(req));
    memset(r, 0, sizeof(*r));
    r->id = req.id;
    if (!req.id) {
        global_stats(r);
        return sizeof(*r);
    }
    *status = manage_guest_stats(req.id, &g, why, n);
    if (*status)
        return 0;
    r->state = wire_state(g.state);
    r->uptime_tsc = g.uptime_tsc;
    r->hypercalls = g.hypercalls;
    r->preemptions = g.preemptions;
    r->net_rx_frames = g.rx_frames;
    r->net_tx_frames = g.tx_frames;
    r->net_drops = g.drops;
    return sizeof(*r);
}

static uint32_t do_logs(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    struct mf_ctl_logs req;
    struct mf_ctl_logs_reply *r = (struct mf_ctl_logs_reply *)(void *)payload;
    uint32_t room = MF_CTL_PAYLOAD_MAX - sizeof(*r);
    int truncated;

    (void)len, (void)status, (void)why, (void)n;
    memcpy(&req, in, sizeof(req));
    if (req.max_bytes && req.max_bytes < room)
        room = req.max_bytes;
    memset(r, 0, sizeof(*r));
    r->length = log_read(req.id, (char *)(r + 1), room, &truncated);
    r->truncated = (uint32_t)truncated;
    return sizeof(*r) + r->length;
}

/* One summoned service's figures as a SERVICES entry. */
static void service_entry(const struct summon_info *s, struct mf_ctl_service_entry *out)
{
    memset(out, 0, sizeof(*out));
    str_copy(out->name, s->name ? s->name : "", sizeof(out->name));
    out->ip = s->ip;
    out->port = s->port;
    out->max = s->max;
    out->running = s->running;
    out->idle_ms = s->idle_ms;
    out->summoned = s->summoned;
    out->idled = s->idled;
    out->ended = s->ended;
    out->launch_failures = s->launch_failures;
    out->flows = s->flows;
    out->held = s->held;
    out->flushed = s->flushed;
    out->hold_drops = s->hold_drops;
    out->no_instance_drops = s->no_instance_drops;
    out->arp_answered = s->arp_answered;
    out->latency_avg = s->latency_avg;
    out->latency_min = s->latency_min;
    out->latency_max = s->latency_max;
    out->latency_count = s->latency_count;
}

/* SERVICES: the summoned services from first on, as many as fit. */
static uint32_t do_services(const uint8_t *in, uint32_t len, int32_t *status, char *why,
                            size_t n)
{
    struct mf_ctl_services_reply *r = (struct mf_ctl_services_reply *)(void *)payload;
    struct mf_ctl_service_entry *out = (struct mf_ctl_service_entry *)(void *)(r + 1);
    struct mf_ctl_services req;
    uint32_t max = (uint32_t)((MF_CTL_PAYLOAD_MAX - sizeof(*r)) / sizeof(*out));
    struct summon_info s;

    if ((*status = request_copy(&req, sizeof(req), sizeof(req), in, len, why, n)))
        return 0;
    memset(r, 0, sizeof(*r));
    r->first = req.first;
    r->total = summon_services();
    r->entry_size = sizeof(*out);
    for (uint32_t i = req.first; i < r->total && r->count < max; i++)
        if (summon_info(i, &s) == 0)
            service_entry(&s, &out[r->count++]);
    return (uint32_t)(sizeof(*r) + r->count * sizeof(*out));
}

/* A request type the protocol names but this table does not serve (or
 * one out of range): refused like hc_bad refuses an unknown hypercall. */
static uint32_t do_bad(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    (void)in, (void)len;
    *status = fmt_error(why, n, -MF_ENOSYS, "request type %u is not served by this hypervisor "
                        "(is mfctl from another build?)", request_type);
    return 0;
}

struct request_entry {
    request_fn fn;
    uint32_t min_len;               /* smallest valid payload */
};

static const struct request_entry request_bad = { do_bad, 0 };

static const struct request_entry requests_table[MF_CTL_TYPE_COUNT] = {
    [MF_CTL_HELLO] = { do_hello, 0 },
    [MF_CTL_LIST] = { do_list, 0 },
    [MF_CTL_UPLOAD_BEGIN] = { do_upload_begin, MF_CTL_UPLOAD_BEGIN_V1_BYTES },
    [MF_CTL_UPLOAD_CHUNK] = { do_upload_chunk, sizeof(struct mf_ctl_upload_chunk) },
    [MF_CTL_UPLOAD_END] = { do_upload_end, sizeof(struct mf_ctl_upload_end) },
    [MF_CTL_START] = { do_start, MF_CTL_START_V1_BYTES },
    [MF_CTL_STOP] = { do_stop, sizeof(struct mf_ctl_guest_ref) },
    [MF_CTL_STATS] = { do_stats, sizeof(struct mf_ctl_guest_ref) },
    [MF_CTL_LOGS] = { do_logs, sizeof(struct mf_ctl_logs) },
    [MF_CTL_SERVICES] = { do_services, sizeof(struct mf_ctl_services) },
};

/* table[type] of a table of count entries; empty slots and types out of
 * range get request_bad, never a NULL call. */
static const struct request_entry *request_lookup_in(const struct request_entry *table,
                                                     uint32_t count, uint32_t type)
{
    if (type < count && table[type].fn)
        return &table[type];
    return &request_bad;
}

static const struct request_entry *request_lookup(uint32_t type)
{
    return request_lookup_in(requests_table, MF_CTL_TYPE_COUNT, type);
}

/* HELLO: always answered without a MAC (the client learns the nonce
 * from it). With a key it is not authenticated, so its reply is limited
 * like a refusal's, and a HELLO that is not answered opens nothing. */
static void answer_hello(const struct ctl_frame *f)
{
    int32_t status = 0;
    char why[MF_CTL_MESSAGE_MAX];
    size_t n, want = CTL_HEADER_BYTES + sizeof(struct mf_ctl_hello_reply);
    uint32_t out_len;

    if (config->key_len) {
        uint64_t now = time_arch_tsc();
        if (!tx_unauth_room(want)) {
            ctl_limit_drop(&chan->hello_limit, now);
            return;
        }
        if (!ctl_limit_take(&chan->hello_limit, now))
            return;
    }
    out_len = request_lookup(MF_CTL_HELLO)->fn(f->payload, f->hdr.length, &status, why,
                                               sizeof(why));
    n = reply_encode(MF_CTL_HELLO, f->hdr.seq, payload, out_len, 0);
    if (n)
        tx_queue(reply_buf, n);
}

static void handle(const struct ctl_frame *f)
{
    const struct request_entry *entry;
    uint8_t type = f->hdr.type;
    int32_t status = 0;
    uint32_t out_len;
    char why[MF_CTL_MESSAGE_MAX];
    int r;

    requests++;
    request_tsc = time_arch_tsc();
    request_seq = f->hdr.seq;
    request_type = type;
    if (type == MF_CTL_HELLO) {
        answer_hello(f);
        return;
    }
    r = ctl_session_admit(&chan->session, f, why, sizeof(why));
    if (r < 0) {
        refuse_unadmitted(type, f->hdr.seq, r, why);
        return;
    }
    entry = request_lookup(type);
    if (f->hdr.length < entry->min_len) {
        fmt_snprintf(why, sizeof(why), "payload of %u bytes is too short for request type %u "
                     "(needs %u)", f->hdr.length, type, entry->min_len);
        send_error(type, f->hdr.seq, -MF_EINVAL, why);
        return;
    }
    why[0] = '\0';
    out_len = entry->fn(f->payload, f->hdr.length, &status, why, sizeof(why));
    if (status) {
        send_error(type, f->hdr.seq, status, why);
        return;
    }
    send_reply(type, f->hdr.seq, payload, out_len);
}

/* Whether the network channel can take one more reply: its frames are
 * parsed only then, so no reply ever waits for room (the control guest
 * may be on this very CPU, waiting for us). A frame has at most one. */
static int net_room(void)
{
    uint64_t room;

    lock_take(&net_lock);
    room = txring_room(&net.tx);
    lock_give(&net_lock);
    return room >= CTL_FRAME_MAX;
}

/* Feeds data[len] (and what the parser holds) until it wants more,
 * handling every frame and refusing every bad one on the way; on the
 * network channel only while a reply fits. Returns the bytes used. */
static size_t feed(const uint8_t *data, size_t len)
{
    size_t off = 0;

    /* After a bad frame the parser may already hold the next good one. */
    for (;;) {
        struct ctl_frame f;
        uint32_t bad_seq = 0;
        size_t used = 0;
        char why[MF_CTL_MESSAGE_MAX];
        int r;

        if (chan->net && !net_room())
            return off;
        r = ctl_parser_feed(&chan->parser, data + off, len - off, &used, &f, &bad_seq, why,
                            sizeof(why));
        off += used;
        if (r == CTL_FRAME)
            handle(&f);
        else if (r == CTL_BAD)
            refuse_unadmitted(0, bad_seq, -MF_EINVAL, why);
        else
            return off;
    }
}

/* A frame that stopped arriving is given up, but not the bytes after its
 * magic: they may hold a whole good frame (someone else's request behind
 * a forged length), which must not be lost with it. */
static void truncation_timeout(void)
{
    while (ctl_parser_pending(&chan->parser) &&
           time_arch_tsc() - chan->last_byte_tsc > time_arch_tsc_hz() / 1000 * TRUNCATED_FRAME_MS &&
           (!chan->net || net_room())) {
        static const uint8_t none[1];
        ctl_parser_skip(&chan->parser);
        refuse_unadmitted(0, 0, -MF_EINVAL, "truncated frame: it stopped arriving before its "
                          "length was reached; dropped");
        feed(none, 0);
    }
}

static void poll_serial(void)
{
    uint8_t buf[512];
    size_t got;

    chan = &serial;
    tx_pump();
    got = control_arch_read(buf, sizeof(buf));
    if (got)
        serial.last_byte_tsc = time_arch_tsc();
    feed(buf, got);
    truncation_timeout();
    summarise();
    tx_pump();
}

/* Takes what the control guest handed over into net_held once that is
 * used up; a new client first resets the parser and session. 0 when
 * nothing new came. */
static int net_refill(void)
{
    int reset, got = 0;

    lock_take(&net_lock);
    reset = net_reset;
    net_reset = 0;
    if (reset)
        net_held_len = net_held_off = 0;
    if (net_held_off == net_held_len) {
        net_held_off = 0;
        net_held_len = (uint32_t)txring_get(&net_in, net_held, sizeof(net_held));
        got = net_held_len != 0;
    }
    net_gen_seen = net_gen;
    if (got && net_starved) {
        net_starved = 0;
        net_replied = 1;            /* room again: the guest offers the rest now, not later */
    }
    lock_give(&net_lock);
    if (reset) {
        ctl_parser_reset(&net.parser);
        ctl_session_close(&net.session);
    }
    return got;
}

/* The network channel: what the control guest brought, then a
 * notification to it when replies wait. */
static void poll_net(void)
{
    int notify;

    chan = &net;
    for (uint32_t i = 0; i < NET_REFILLS_PER_POLL; i++) {
        if (net_refill())
            net.last_byte_tsc = time_arch_tsc();
        net_held_off += (uint32_t)feed(net_held + net_held_off, net_held_len - net_held_off);
        if (net_held_off != net_held_len)
            break;                  /* waiting for room for replies */
    }
    truncation_timeout();
    summarise();
    lock_take(&net_lock);
    notify = net_replied;
    net_replied = 0;
    lock_give(&net_lock);
    if (notify && net_notify)
        net_notify(net_notify_arg);
}

void control_poll(void)
{
    if (serial.enabled)
        poll_serial();
    if (net.enabled)
        poll_net();
    chan = &serial;
}

int control_net_xfer(const uint8_t *in, uint32_t in_len, uint8_t *out, uint32_t out_room,
                     uint32_t flags, struct control_xfer_result *r)
{
    uint64_t room;

    if (!net.enabled)
        return -MF_ENOENT;
    if (flags & ~(uint32_t)MF_CTL_XFER_NEW_CLIENT)
        return -MF_EINVAL;
    lock_take(&net_lock);
    if (flags & MF_CTL_XFER_NEW_CLIENT) {
        net_in.sent = net_in.written;
        net.tx.sent = net.tx.written;
        net_gen++;
        net_reset = 1;
    }
    room = txring_room(&net_in);
    r->in_taken = in_len < room ? in_len : (uint32_t)room;
    if (r->in_taken < in_len)
        net_starved = 1;
    txring_put(&net_in, in, r->in_taken);
    r->out_len = (uint32_t)txring_get(&net.tx, out, out_room);
    r->out_pending = (uint32_t)txring_pending(&net.tx);
    lock_give(&net_lock);
    r->wake_poller = r->in_taken || (flags & MF_CTL_XFER_NEW_CLIENT);
    return 0;
}

void control_net_guest(uint32_t id, void (*notify)(void *arg), void *arg)
{
    lock_take(&net_lock);
    net_guest_id = id;
    net_notify = notify;
    net_notify_arg = arg;
    lock_give(&net_lock);
}
