/*
 * The control channel's server. Each complete frame is checked (the
 * parser: magic, version, type, length, checksum; here: authentication,
 * replay, the request's own fields) before anything happens, and gets
 * exactly one reply. Requests act only through hv/run.c and the store.
 */
#include <stdarg.h>

#include "../include/mayfly/abi.h"
#include "../include/mayfly/control.h"
#include "arch.h"
#include "boot_info.h"
#include "console.h"
#include "control.h"
#include "ctl_frame.h"
#include "elf.h"
#include "fmt.h"
#include "hv.h"
#include "lib.h"
#include "logbuf.h"
#include "pool.h"
#include "run.h"
#include "sha256.h"
#include "store.h"

#define TRUNCATED_FRAME_MS  500     /* a partial frame idle this long is dropped */
#define LOG_RING_BYTES      (64 * 1024)
#define HV_VERSION          "mayfly 0.1"

static const struct config *config;
static int enabled;
static struct ctl_parser parser;
static struct store store;
static struct logbuf logs;
static uint8_t nonce[MF_CTL_NONCE_BYTES];
static int session_open;
static uint32_t last_seq;
static uint64_t last_byte_tsc, nonce_counter, requests, errors;
static uint64_t request_tsc;        /* when the request being handled was complete */
static uint8_t reply_buf[CTL_FRAME_MAX];
static uint8_t payload[MF_CTL_PAYLOAD_MAX];
static char line_buf[LOGBUF_LINE_MAX];

int control_enabled(void)
{
    return enabled;
}

uint64_t control_requests(void)
{
    return requests;
}

uint64_t control_errors(void)
{
    return errors;
}

void control_log(uint32_t id, const char *line, uint32_t len)
{
    if (enabled)
        logbuf_append(&logs, id, line, len);
}

void control_logf(uint32_t id, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    if (!enabled)
        return;
    va_start(ap, fmt);
    n = fmt_vsnprintf(line_buf, sizeof(line_buf), fmt, ap);
    va_end(ap);
    logbuf_append(&logs, id, line_buf, (uint32_t)(n < sizeof(line_buf) ? n : sizeof(line_buf) - 1));
}

void control_init(const struct config *cfg, uint8_t *store_base, uint64_t store_size)
{
    uint8_t *ring;

    config = cfg;
    if (!cfg->control)
        return;
    ring = pool_alloc_bytes(LOG_RING_BYTES, 8);
    if (!ring)
        fatal(HV_NO_MEMORY, "hypervisor pool too small for the control channel's log ring");
    logbuf_init(&logs, ring, LOG_RING_BYTES);
    store_init(&store, store_base, store_size);
    ctl_parser_init(&parser);
    control_arch_init();
    enabled = 1;
    kprintf("mayfly: control: listening on COM2 (image store %llu KiB, authentication %s)\n",
            (unsigned long long)(store_size / 1024), cfg->key_len ? "on" : "off");
}

/* A nonce no earlier session had: the hash of a counter and the TSC. */
static void new_nonce(void)
{
    uint8_t seed[16], digest[SHA256_DIGEST_BYTES];
    uint64_t tsc = time_arch_tsc();

    nonce_counter++;
    memcpy(seed, &nonce_counter, 8);
    memcpy(seed + 8, &tsc, 8);
    sha256(seed, sizeof(seed), digest);
    memcpy(nonce, digest, sizeof(nonce));
}

static void send_reply(uint8_t type, uint32_t seq, const void *data, uint32_t len)
{
    int auth = config->key_len && session_open;
    size_t n = ctl_frame_encode(reply_buf, sizeof(reply_buf), (uint8_t)(type | MF_CTL_REPLY), seq,
                                data, len, auth ? config->key : NULL, config->key_len, nonce);
    if (n)
        control_arch_write(reply_buf, n);
}

static void send_error(uint8_t type, uint32_t seq, int32_t status, const char *why)
{
    struct mf_ctl_status st;

    errors++;
    memset(&st, 0, sizeof(st));
    ctl_status_set(&st, status, "%s", why);
    kprintf("mayfly: control: request %u refused: %s\n", seq, why);
    send_reply(type, seq, &st, sizeof(st));
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
    new_nonce();
    memcpy(r->nonce, nonce, sizeof(nonce));
    r->protocol_version = MF_CTL_VERSION;
    r->abi_version = MF_ABI_VERSION;
    r->auth_required = config->key_len != 0;
    r->guests_running = guest_running_count();
    r->store_size = store.size;
    r->store_free = store_free_bytes(&store);
    r->tsc_hz = time_arch_tsc_hz();
    str_copy(r->version, HV_VERSION, sizeof(r->version));
    return sizeof(*r);
}

static uint32_t do_list(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    struct mf_ctl_list_reply *r = (struct mf_ctl_list_reply *)(void *)payload;
    struct mf_ctl_guest_entry *entries = (struct mf_ctl_guest_entry *)(void *)(r + 1);
    uint32_t first = 0, max = (MF_CTL_PAYLOAD_MAX - sizeof(*r)) / sizeof(*entries);

    (void)status, (void)why, (void)n;
    if (len >= 4)
        memcpy(&first, in, 4);
    memset(r, 0, sizeof(*r));
    r->first = first;
    r->count = run_list(first, entries, max, &r->total);
    return (uint32_t)(sizeof(*r) + r->count * sizeof(*entries));
}

static uint32_t ok_reply(void)
{
    memset(payload, 0, sizeof(struct mf_ctl_status));
    return sizeof(struct mf_ctl_status);
}

static uint32_t do_upload_begin(const uint8_t *in, uint32_t len, int32_t *status, char *why,
                                size_t n)
{
    struct mf_ctl_upload_begin req;
    const struct store_image *old;

    (void)len;
    memcpy(&req, in, sizeof(req));
    if (!terminated(req.name, sizeof(req.name))) {
        *status = fmt_error(why, n, -MF_EINVAL, "image name is not NUL-terminated");
        return 0;
    }
    old = store_find(&store, req.name);
    if (old && run_image_in_use(store.base + old->offset)) {
        *status = fmt_error(why, n, -MF_EAGAIN, "image %s is still needed by instances waiting for "
                            "a partition; upload it under another name", req.name);
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
    if (elf_validate(data, size, run_largest_partition(), &elf, reason, sizeof(reason)) < 0) {
        store_abort(&store);
        *status = fmt_error(why, n, -MF_EINVAL, "image %s rejected: %s", store.upload.name, reason);
        return 0;
    }
    kprintf("mayfly: control: stored image %s (%llu bytes)\n", store.upload.name,
            (unsigned long long)size);
    store_commit(&store);
    return ok_reply();
}

static uint32_t do_start(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    static struct mf_ctl_start req;
    struct mf_ctl_start_reply *r = (struct mf_ctl_start_reply *)(void *)payload;
    const struct store_image *im;
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
    im = store_find(&store, req.image);
    memset(r, 0, sizeof(*r));
    if (im) {
        *status = run_start(&req, store.base + im->offset, im->size, request_tsc, r, why, n);
    } else {
        const uint8_t *data;
        uint64_t size;
        if (run_boot_image(req.image, &data, &size) < 0) {
            *status = fmt_error(why, n, -MF_ENOENT, "no image %s in the store or from the boot: "
                                "upload it with mfctl load", req.image);
            return 0;
        }
        *status = run_start(&req, data, size, request_tsc, r, why, n);
    }
    return *status ? 0 : sizeof(*r);
}

static uint32_t do_stop(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    struct mf_ctl_guest_ref req;

    (void)len;
    memcpy(&req, in, sizeof(req));
    *status = run_stop(req.id, why, n);
    if (!*status)
        kprintf("mayfly: control: stopping guest %u\n", req.id);
    return *status ? 0 : ok_reply();
}

static uint32_t do_stats(const uint8_t *in, uint32_t len, int32_t *status, char *why, size_t n)
{
    struct mf_ctl_guest_ref req;
    struct mf_ctl_stats_reply *r = (struct mf_ctl_stats_reply *)(void *)payload;

    (void)len;
    memcpy(&req, in, sizeof(req));
    memset(r, 0, sizeof(*r));
    *status = run_stats(req.id, r, why, n);
    return *status ? 0 : sizeof(*r);
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
    r->length = logbuf_read(&logs, req.id, (char *)(r + 1), room, &truncated);
    r->truncated = (uint32_t)truncated;
    return sizeof(*r) + r->length;
}

static const struct {
    request_fn fn;
    uint32_t min_len;               /* smallest valid payload */
} requests_table[MF_CTL_TYPE_COUNT] = {
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

/* Order, authentication and replay: every request but HELLO carries a
 * seq above the last one; with a key, also a MAC over this session's
 * nonce. */
static int check_auth(const struct ctl_frame *f, char *why, size_t n)
{
    if (f->hdr.type == MF_CTL_HELLO)
        return 0;
    if (!config->key_len) {
        if (session_open && f->hdr.seq <= last_seq)
            return fmt_error(why, n, -MF_EINVAL, "out-of-order request (seq %u, last %u)",
                             f->hdr.seq, last_seq);
        return 0;
    }
    if (!session_open)
        return fmt_error(why, n, -MF_EPERM, "no session: send HELLO first");
    if (!f->has_mac || ctl_frame_verify(f, config->key, config->key_len, nonce) < 0)
        return fmt_error(why, n, -MF_EPERM, "authentication failed: %s", f->has_mac ?
                         "wrong MAC (check the key)" :
                         "the request carries no MAC and this hypervisor has a key");
    if (f->hdr.seq <= last_seq)
        return fmt_error(why, n, -MF_EPERM, "replayed or out-of-order request (seq %u, last %u)",
                         f->hdr.seq, last_seq);
    return 0;
}

static void handle(const struct ctl_frame *f)
{
    uint8_t type = f->hdr.type;
    int32_t status = 0;
    uint32_t out_len;
    char why[MF_CTL_MESSAGE_MAX];
    int r;

    requests++;
    request_tsc = time_arch_tsc();
    r = check_auth(f, why, sizeof(why));
    if (r < 0) {
        send_error(type, f->hdr.seq, r, why);
        return;
    }
    if (f->hdr.length < requests_table[type].min_len) {
        fmt_snprintf(why, sizeof(why), "payload of %u bytes is too short for request type %u "
                     "(needs %u)", f->hdr.length, type, requests_table[type].min_len);
        send_error(type, f->hdr.seq, -MF_EINVAL, why);
        return;
    }
    if (type == MF_CTL_HELLO)
        session_open = 0;           /* the reply to HELLO is not authenticated */
    last_seq = f->hdr.seq;
    why[0] = '\0';
    out_len = requests_table[type].fn(f->payload, f->hdr.length, &status, why, sizeof(why));
    if (status) {
        send_error(type, f->hdr.seq, status, why);
        return;
    }
    send_reply(type, f->hdr.seq, payload, out_len);
    if (type == MF_CTL_HELLO)
        session_open = 1;
}

void control_poll(void)
{
    uint8_t buf[512];
    size_t got, off = 0;

    if (!enabled)
        return;
    got = control_arch_read(buf, sizeof(buf));
    if (got)
        last_byte_tsc = time_arch_tsc();
    /* After a bad frame the parser may already hold the next good one:
     * feed until it asks for more bytes. */
    for (;;) {
        struct ctl_frame f;
        uint32_t bad_seq = 0;
        size_t used = 0;
        char why[MF_CTL_MESSAGE_MAX];
        int r = ctl_parser_feed(&parser, buf + off, got - off, &used, &f, &bad_seq, why,
                                sizeof(why));
        off += used;
        if (r == CTL_FRAME)
            handle(&f);
        else if (r == CTL_BAD)
            send_error(0, bad_seq, -MF_EINVAL, why);
        else
            break;
    }
    if (ctl_parser_pending(&parser) &&
        time_arch_tsc() - last_byte_tsc > time_arch_tsc_hz() / 1000 * TRUNCATED_FRAME_MS) {
        ctl_parser_reset(&parser);
        send_error(0, 0, -MF_EINVAL, "truncated frame: it stopped arriving before its "
                   "length was reached; dropped");
    }
}
