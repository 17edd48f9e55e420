/*
 * The control channel's server. Each complete frame is checked (the
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
#include "log.h"
#include "manage.h"
#include "pool.h"
#include "run.h"
#include "store.h"
#include "txring.h"

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

static const struct config *config;
static int enabled;
static struct ctl_parser parser;
static struct ctl_session session;
static struct ctl_limit unauth_limit, hello_limit;
static struct store store;
static const struct boot_info *boot;
static uint64_t last_byte_tsc, requests, errors;
static uint64_t request_tsc;        /* when the request being handled was complete */
static uint32_t request_seq;        /* and its seq */
static uint8_t request_type;        /* and type */
static uint8_t reply_buf[CTL_FRAME_MAX];
static uint8_t payload[MF_CTL_PAYLOAD_MAX];
static char last_unauth_why[MF_CTL_MESSAGE_MAX];

/* Replies waiting for the UART. */
static uint8_t tx_storage[TX_RING_BYTES];
static struct txring tx;

uint64_t control_unanswered(void)
{
    return unauth_limit.dropped_total + hello_limit.dropped_total;
}

static int control_wanted(void)
{
    return 1;                       /* bytes may arrive at any time */
}

static const struct run_poller control_poller = { control_poll, control_wanted, 1 };

void control_init(const struct config *cfg, const struct boot_info *info, uint8_t *store_base,
                  uint64_t store_size)
{
    uint64_t hz = time_arch_tsc_hz();

    config = cfg;
    boot = info;
    if (!cfg->control)
        return;
    store_init(&store, store_base, store_size);
    ctl_parser_init(&parser);
    ctl_session_init(&session, cfg->key, cfg->key_len);
    ctl_limit_init(&unauth_limit, hz, UNAUTH_PER_SECOND, UNAUTH_BURST, hz / 1000 * SUMMARY_MS);
    ctl_limit_init(&hello_limit, hz, HELLO_PER_SECOND, HELLO_BURST, hz / 1000 * SUMMARY_MS);
    txring_init(&tx, tx_storage, TX_RING_BYTES);
    control_arch_init();
    enabled = 1;
    run_add_poller(&control_poller);
    kprintf("mayfly: control: listening on COM2 (image store %llu KiB, authentication %s)\n",
            (unsigned long long)(store_size / 1024), cfg->key_len ? "on" : "off");
}

/* Sends what the UART takes now. */
static void tx_pump(void)
{
    txring_pump(&tx, control_arch_write_some);
}

/* Queues a whole frame. Only an admitted request's reply may find the
 * ring full (a client sending requests without reading replies): it then
 * waits for room, as that client asked for it. */
static void tx_queue(const uint8_t *frame, size_t n)
{
    while (txring_room(&tx) < n) {
        uint8_t c = txring_take(&tx);
        control_arch_write(&c, 1);
    }
    txring_put(&tx, frame, (uint32_t)n);
    tx_pump();
}

/* Whether an unauthenticated reply of n bytes may be queued now. */
static int tx_unauth_room(size_t n)
{
    return txring_pending(&tx) + n <= UNAUTH_TX_BYTES;
}

/* Encodes a reply, with a MAC under the session's nonce when signed. */
static size_t reply_encode(uint8_t type, uint32_t seq, const void *data, uint32_t len, int sign)
{
    return ctl_frame_encode(reply_buf, sizeof(reply_buf), (uint8_t)(type | MF_CTL_REPLY), seq,
                            data, len, sign ? config->key : NULL, config->key_len, session.nonce);
}

/* The reply to an admitted request: always sent. */
static void send_reply(uint8_t type, uint32_t seq, const void *data, uint32_t len)
{
    size_t n = reply_encode(type, seq, data, len, ctl_session_signs(&session));

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
    str_copy(last_unauth_why, why, sizeof(last_unauth_why));
    status_fill(&st, status, why);
    n = reply_encode(type, seq, &st, sizeof(st), 0);
    if (!n || !tx_unauth_room(n)) {
        ctl_limit_drop(&unauth_limit, now);
        return;
    }
    if (ctl_limit_take(&unauth_limit, now))
        tx_queue(reply_buf, n);
}

/* One line per interval for what was refused without being admitted. */
static void summarise(void)
{
    uint64_t now = time_arch_tsc();
    uint32_t answered, dropped;

    if (ctl_limit_summary(&unauth_limit, now, &answered, &dropped))
        kprintf("mayfly: control: %u unadmitted frames refused in the last %u ms, %u answered, "
                "%u dropped unanswered (at most %u answers a second); last: %s\n",
                answered + dropped, SUMMARY_MS, answered, dropped, UNAUTH_PER_SECOND,
                last_unauth_why);
    if (ctl_limit_summary(&hello_limit, now, &answered, &dropped) && dropped)
        kprintf("mayfly: control: %u HELLOs in the last %u ms, %u answered, %u dropped "
                "unanswered (at most %u a second while a key is set)\n", answered + dropped,
                SUMMARY_MS, answered, dropped, HELLO_PER_SECOND);
}

/* Whether a fixed-size string field from the wire holds its NUL. */
static int terminated(const char *field, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (!field[i])
            return 1;
    return 0;
}

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
    ctl_session_hello(&session, request_seq, time_arch_tsc(), r->nonce);
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

/* Appends one listed guest to the LIST reply being built. */
static void emit_entry(const struct manage_entry *e, void *arg)
{
    struct mf_ctl_list_reply *r = arg;
    struct mf_ctl_guest_entry *out = (struct mf_ctl_guest_entry *)(void *)(r + 1) + r->count++;

    memset(out, 0, sizeof(*out));
    out->id = e->id;
    out->state = wire_state(e->state);
    str_copy(out->name, e->name, sizeof(out->name));
    str_copy(out->image, e->image, sizeof(out->image));
    str_copy(out->class_name, e->class_name, sizeof(out->class_name));
    out->mem_size = e->mem_size;
    out->uptime_tsc = e->uptime_tsc;
    out->hypercalls = e->hypercalls;
}

static uint32_t do_list(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    struct mf_ctl_list_reply *r = (struct mf_ctl_list_reply *)(void *)payload;
    uint32_t first = 0, max = (MF_CTL_PAYLOAD_MAX - sizeof(*r)) / sizeof(struct mf_ctl_guest_entry);

    (void)status, (void)why, (void)n;
    if (len >= 4)
        memcpy(&first, in, 4);
    memset(r, 0, sizeof(*r));
    r->first = first;
    manage_list(first, max, &r->total, emit_entry, r);
    return (uint32_t)(sizeof(*r) + r->count * sizeof(struct mf_ctl_guest_entry));
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

static uint32_t do_upload_begin(const uint8_t *in, uint32_t len, int32_t *status, char *why,
                                size_t n)
{
    struct mf_ctl_upload_begin req;

    (void)len;
    memcpy(&req, in, sizeof(req));
    if (!terminated(req.name, sizeof(req.name))) {
        *status = fmt_error(why, n, -MF_EINVAL, "image name is not NUL-terminated");
        return 0;
    }
    if (image_needed(req.name)) {
        *status = fmt_error(why, n, -MF_EAGAIN, "image %s is in use by instances running or "
                            "waiting for a partition; stop them (mfctl ps) or upload it under "
                            "another name", req.name);
        return 0;
    }
    *status = store_begin(&store, req.name, req.size, why, n);
    return *status ? 0 : ok_reply();
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
    struct mf_ctl_upload_end req;
    struct elf_image elf;
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
        *status = fmt_error(why, n, -MF_EAGAIN, "image %s is in use by instances running or "
                            "waiting for a partition; end the upload again once they have "
                            "ended, or upload it under another name", store.upload.name);
        return 0;
    }
    if (elf_validate(data, size, manage_largest_partition(), &elf, reason, sizeof(reason)) < 0) {
        /* Complete, checksummed and invalid: nothing could mend it. */
        store_abort(&store);
        *status = fmt_error(why, n, -MF_EINVAL, "image %s rejected: %s", store.upload.name, reason);
        return 0;
    }
    kprintf("mayfly: control: stored image %s (%llu bytes)\n", store.upload.name,
            (unsigned long long)size);
    store_commit(&store);
    return ok_reply();
}

/* Whether a wire string fits a field of size bytes (with its NUL). */
static int fits(const char *s, size_t size)
{
    return strlen(s) < size;
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
    return 0;
}

static uint32_t do_start(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    static struct mf_ctl_start req;
    static struct config_guest line;
    struct mf_ctl_start_reply *r = (struct mf_ctl_start_reply *)(void *)payload;
    struct manage_started started;
    const struct store_image *im;
    const uint8_t *data;
    uint64_t size;
    int ok = 1;

    (void)len;
    memcpy(&req, in, sizeof(req));
    ok &= terminated(req.name, sizeof(req.name));
    ok &= terminated(req.image, sizeof(req.image));
    ok &= terminated(req.class_name, sizeof(req.class_name));
    ok &= terminated(req.args, sizeof(req.args));
    for (uint32_t i = 0; i < MF_CTL_NETS_MAX; i++)
        ok &= terminated(req.nets[i], sizeof(req.nets[i]));
    if (!ok) {
        *status = fmt_error(why, n, -MF_EINVAL, "a text field of the request is not "
                            "NUL-terminated");
        return 0;
    }
    if ((*status = start_line(&req, &line, why, n)) != 0)
        return 0;
    im = store_find(&store, req.image);
    if (im) {
        data = store.base + im->offset;
        size = im->size;
    } else if (manage_boot_image(boot, req.image, &data, &size) < 0) {
        *status = fmt_error(why, n, -MF_ENOENT, "no image %s in the store or from the boot: "
                            "upload it with mfctl load", req.image);
        return 0;
    }
    *status = manage_start(&line, data, size, NULL, request_tsc, &started, why, n);
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
    [MF_CTL_UPLOAD_BEGIN] = { do_upload_begin, sizeof(struct mf_ctl_upload_begin) },
    [MF_CTL_UPLOAD_CHUNK] = { do_upload_chunk, sizeof(struct mf_ctl_upload_chunk) },
    [MF_CTL_UPLOAD_END] = { do_upload_end, sizeof(struct mf_ctl_upload_end) },
    [MF_CTL_START] = { do_start, sizeof(struct mf_ctl_start) },
    [MF_CTL_STOP] = { do_stop, sizeof(struct mf_ctl_guest_ref) },
    [MF_CTL_STATS] = { do_stats, sizeof(struct mf_ctl_guest_ref) },
    [MF_CTL_LOGS] = { do_logs, sizeof(struct mf_ctl_logs) },
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
            ctl_limit_drop(&hello_limit, now);
            return;
        }
        if (!ctl_limit_take(&hello_limit, now))
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
    r = ctl_session_admit(&session, f, why, sizeof(why));
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

/* Feeds data[len] (and what the parser holds) until it wants more,
 * handling every frame and refusing every bad one on the way. */
static void feed(const uint8_t *data, size_t len)
{
    size_t off = 0;

    /* After a bad frame the parser may already hold the next good one. */
    for (;;) {
        struct ctl_frame f;
        uint32_t bad_seq = 0;
        size_t used = 0;
        char why[MF_CTL_MESSAGE_MAX];
        int r = ctl_parser_feed(&parser, data + off, len - off, &used, &f, &bad_seq, why,
                                sizeof(why));
        off += used;
        if (r == CTL_FRAME)
            handle(&f);
        else if (r == CTL_BAD)
            refuse_unadmitted(0, bad_seq, -MF_EINVAL, why);
        else
            return;
    }
}

void control_poll(void)
{
    uint8_t buf[512];
    size_t got;

    if (!enabled)
        return;
    tx_pump();
    got = control_arch_read(buf, sizeof(buf));
    if (got)
        last_byte_tsc = time_arch_tsc();
    feed(buf, got);
    /* A frame that stopped arriving is given up, but not the bytes after
     * its magic: they may hold a whole good frame (someone else's request
     * behind a forged length), which must not be lost with it. */
    while (ctl_parser_pending(&parser) &&
           time_arch_tsc() - last_byte_tsc > time_arch_tsc_hz() / 1000 * TRUNCATED_FRAME_MS) {
        static const uint8_t none[1];
        ctl_parser_skip(&parser);
        refuse_unadmitted(0, 0, -MF_EINVAL, "truncated frame: it stopped arriving before its "
                          "length was reached; dropped");
        feed(none, 0);
    }
    summarise();
    tx_pump();
}
