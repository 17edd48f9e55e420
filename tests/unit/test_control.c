/*
 * Unit tests of the control server (hv/control.c, included here so its
 * static table and lookup are in reach) with hv/ctl_session.c, the store
 * and the codec linked as they are. The rest of the hypervisor is faked
 * below: a TSC the test moves, a COM2 whose receive side is a byte queue
 * and whose transmit side takes at most a FIFO's worth per call (and
 * counts calls that would have waited), the console as a line counter,
 * and the management layer (hv/manage.h) and the log as stubs.
 *
 * What is tested: every request type the protocol names has a handler
 * and everything else gets the bad-request one (issue 8 item 15); an
 * unauthenticated HELLO does not replace the session, a pending one
 * becomes it only when a request authenticated with its nonce arrives,
 * and frames that are not admitted get few, unsigned replies and one log
 * line per second, however many arrive (item 6); a refused UPLOAD_BEGIN
 * or UPLOAD_END leaves the upload in progress (item 9); no reply waits
 * for the UART; LIST's entry sizes and SERVICES (issue 14: summoned
 * services) as the wire carries them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../hv/control.c"
#include "../../hv/crc32.h"

/* ---- the fake world ---------------------------------------------------- */

#define HZ          1000000000ULL       /* a 1 GHz TSC */
#define FIFO        16

static uint64_t now_tsc;
static uint8_t rx_bytes[1 << 16];
static size_t rx_len, rx_off;
static uint8_t tx_bytes[1 << 20];
static size_t tx_len;
static unsigned blocking_writes;        /* calls of the waiting write */
static unsigned log_lines;
static unsigned summaries;              /* lines summing up refusals */
static char last_log[512];
static unsigned stops;
static const uint8_t *image_in_use;

uint64_t time_arch_tsc(void) { return now_tsc; }
uint64_t time_arch_tsc_hz(void) { return HZ; }
void control_arch_init(void) {}

size_t control_arch_read(uint8_t *buf, size_t max)
{
    size_t n = rx_len - rx_off < max ? rx_len - rx_off : max;

    memcpy(buf, rx_bytes + rx_off, n);
    rx_off += n;
    return n;
}

size_t control_arch_write_some(const uint8_t *buf, size_t len)
{
    size_t n = len < FIFO ? len : FIFO;

    assert_true(tx_len + n <= sizeof(tx_bytes));
    memcpy(tx_bytes + tx_len, buf, n);
    tx_len += n;
    return n;
}

void control_arch_write(const uint8_t *buf, size_t len)
{
    blocking_writes++;
    assert_true(tx_len + len <= sizeof(tx_bytes));
    memcpy(tx_bytes + tx_len, buf, len);
    tx_len += len;
}

void kprintf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_log, sizeof(last_log), fmt, ap);
    va_end(ap);
    log_lines++;
    summaries += strstr(last_log, "unadmitted frames refused") != NULL;
}

void fatal(int status, const char *fmt, ...)
{
    (void)status, (void)fmt;
    fail_msg("fatal() called");
    abort();
}

void *pool_alloc_bytes(uint64_t size, uint64_t align)
{
    static uint8_t pool[LOG_RING_BYTES] __attribute__((aligned(8)));

    (void)align;
    return size <= sizeof(pool) ? pool : NULL;
}

uint32_t fleet_running_count(void) { return 0; }
uint64_t manage_largest_partition(void) { return 2 << 20; }
/* The boot brought one file, "boot.hvt". */
static const uint8_t boot_file[24] = "boot file bytes";

int manage_boot_image(const struct boot_info *info, const char *name, const uint8_t **data,
                      uint64_t *size)
{
    (void)info;
    if (strcmp(name, "boot.hvt") != 0)
        return -1;
    *data = boot_file;
    *size = sizeof(boot_file);
    return 0;
}
int manage_image_in_use(const uint8_t *image) { return image_in_use && image == image_in_use; }

/* What the last START handed the management layer; start_ok makes it
 * succeed (else: no partition). */
static struct config_guest started_line;
static const uint8_t *started_image;
static uint64_t started_size;
static const struct fleet_files *started_files;
static unsigned start_calls;
static int start_ok;

int manage_start(const struct config_guest *c, const uint8_t *image, uint64_t size,
                 const struct fleet_files *files, uint64_t request_tsc_,
                 struct manage_started *out, char *why, size_t why_size)
{
    (void)request_tsc_;
    start_calls++;
    started_line = *c;
    started_image = image;
    started_size = size;
    started_files = files;
    if (!start_ok)
        return fmt_error(why, why_size, -MF_ENOMEM, "no partition (test)");
    out->started = c->count;
    out->pending = 0;
    out->first_id = 40;
    return 0;
}

/* Called inside a STOP, as another CPU would act meanwhile. */
static void (*during_stop)(void);

int manage_stop(uint32_t id, char *why, size_t why_size)
{
    if (id != 5)
        return fmt_error(why, why_size, -MF_ENOENT, "no guest %u", id);
    stops++;
    if (during_stop)
        during_stop();
    return 0;
}

/* The guests LIST shows: list_count of them, a Solo5 one first, then
 * Mayfly ones, and one whose personality the fleet left NULL; from the
 * third on, instances of summoned service "web" in slot i - 2. */
static uint32_t list_count;

uint32_t manage_list(uint32_t first, uint32_t max, uint32_t *total,
                     void (*emit)(const struct manage_entry *e, void *arg), void *arg)
{
    uint32_t n = 0;

    *total = list_count;
    for (uint32_t i = first; i < list_count && n < max; i++, n++) {
        struct manage_entry e = {
            .id = 100 + i, .state = MANAGE_RUNNING, .image = i ? "hello.elf" : "www.hvt",
            .class_name = "small", .personality = i == 0 ? "solo5-hvt"
                                                 : i == 1 ? NULL : "mayfly",
            .service = i >= 2 ? "web" : NULL, .service_slot = i >= 2 ? i - 2 : 0,
            .mem_size = 2 << 20, .hypercalls = i,
        };
        snprintf(e.name, sizeof(e.name), "g.%u", i);
        emit(&e, arg);
    }
    return n;
}

int manage_guest_stats(uint32_t id, struct manage_guest_stats *out, char *why, size_t why_size)
{
    (void)id, (void)why, (void)why_size;
    memset(out, 0, sizeof(*out));
    return 0;
}

void manage_stats(struct manage_stats *out)
{
    memset(out, 0, sizeof(*out));
}

/* The services SERVICES shows: service_count of them, service i with
 * figures made from i (so each field's place on the wire is checked). */
static uint32_t service_count;

uint32_t summon_services(void) { return service_count; }

int summon_info(uint32_t i, struct summon_info *out)
{
    static char names[64][16];

    if (i >= service_count)
        return -1;
    snprintf(names[i % 64], sizeof(names[0]), "svc%u", i);
    *out = (struct summon_info){
        .name = i == 1 ? NULL : names[i % 64], .ip = 0x0a000009u + i, .port = (uint16_t)(80 + i),
        .max = 4, .running = i % 3, .idle_ms = 100 * i,
        .summoned = 1000 + i, .idled = 2000 + i, .ended = 3000 + i, .launch_failures = 4000 + i,
        .flows = 5000 + i, .held = 6000 + i, .flushed = 7000 + i, .hold_drops = 8000 + i,
        .no_instance_drops = 9000 + i, .arp_answered = 10000 + i,
        .latency_avg = 11000 + i, .latency_min = 12000 + i, .latency_max = 13000 + i,
        .latency_count = 14000 + i,
    };
    return 0;
}

uint32_t log_read(uint32_t id, char *out, uint32_t max, int *truncated)
{
    (void)id, (void)out, (void)max;
    *truncated = 0;
    return 0;
}

void run_add_poller(const struct run_poller *p)
{
    (void)p;
}

/* ---- the server under test, and a client ------------------------------ */

static const uint8_t test_key[16] = "0123456789abcdef";
static struct config cfg;
static uint8_t store_mem[64 * 1024];

struct client {
    uint8_t nonce[MF_CTL_NONCE_BYTES];
    uint32_t seq;
};

struct reply {
    struct mf_ctl_header hdr;
    uint8_t payload[MF_CTL_PAYLOAD_MAX];
    uint8_t mac[MF_CTL_MAC_BYTES];
    int has_mac, mac_ok_a;              /* MAC verifies under mac_check's nonce */
    int32_t status;
};

static struct reply replies[4096];
static unsigned reply_count;
static struct ctl_parser reply_parser;
static size_t tx_parsed;
static const struct client *mac_check;  /* whose nonce replies are checked under */

/* A server with a COM2 channel (serial_line) and a network channel
 * (net_line), the line numbers of their control lines (0: none). */
static void server_new_on(int keyed, uint32_t serial_line, uint32_t net_line)
{
    memset(&cfg, 0, sizeof(cfg));
    cfg.control = 1;
    cfg.control_line = serial_line;
    cfg.control_net.line = net_line;
    cfg.store_size = sizeof(store_mem);
    if (keyed) {
        cfg.key_len = sizeof(test_key);
        memcpy(cfg.key, test_key, sizeof(test_key));
    }
    now_tsc = 1000 * HZ;
    rx_len = rx_off = tx_len = tx_parsed = 0;
    blocking_writes = log_lines = stops = reply_count = 0;
    during_stop = NULL;
    image_in_use = NULL;
    mac_check = NULL;
    start_calls = 0;
    start_ok = 0;
    list_count = 0;
    service_count = 0;
    memset(&started_line, 0, sizeof(started_line));
    started_files = NULL;
    serial.enabled = net.enabled = 0;
    requests = errors = 0;
    control_net_guest(0, NULL, NULL);
    control_init(&cfg, NULL, store_mem, sizeof(store_mem));
    log_lines = 0;
    ctl_parser_init2(&reply_parser, 1);
}

static void server_new(int keyed)
{
    server_new_on(keyed, 1, 0);
}

/* Bytes a channel sent, parsed from *parsed on into replies[]. */
static void collect_from(struct ctl_parser *p, const uint8_t *bytes, size_t len, size_t *parsed)
{
    for (;;) {
        struct ctl_frame f;
        size_t used = 0;
        int r = ctl_parser_feed(p, bytes + *parsed, len - *parsed, &used, &f, NULL, NULL, 0);
        *parsed += used;
        if (r == CTL_NEED_MORE)
            return;
        assert_int_equal(r, CTL_FRAME);
        assert_true(reply_count < sizeof(replies) / sizeof(replies[0]));
        struct reply *out = &replies[reply_count++];
        struct mf_ctl_status st;
        out->hdr = f.hdr;
        memcpy(out->payload, f.payload, f.hdr.length);
        out->has_mac = f.has_mac;
        memcpy(out->mac, f.mac, sizeof(out->mac));
        out->mac_ok_a = mac_check && ctl_frame_verify(&f, test_key, sizeof(test_key),
                                                      mac_check->nonce) == 0;
        assert_true(f.hdr.length >= sizeof(st));
        memcpy(&st, f.payload, sizeof(st));
        out->status = st.status;
    }
}

/* Everything the server sent on COM2 so far, parsed into replies[]. */
static void collect(void)
{
    collect_from(&reply_parser, tx_bytes, tx_len, &tx_parsed);
}

static void rx_add(const void *data, size_t len)
{
    assert_true(rx_len + len <= sizeof(rx_bytes));
    memcpy(rx_bytes + rx_len, data, len);
    rx_len += len;
}

/* Polls (each poll 1 ms of TSC later) until every byte was read and the
 * transmit ring is empty. */
static void run_server(void)
{
    for (int i = 0; i < 100000 && (rx_off < rx_len || txring_pending(&serial.tx)); i++) {
        now_tsc += HZ / 1000;
        control_poll();
    }
    assert_int_equal(rx_off, rx_len);
    assert_true(txring_pending(&serial.tx) == 0);
    collect();
}

static void send_frame(uint8_t type, uint32_t seq, const void *data, uint32_t len,
                       const uint8_t *nonce)
{
    uint8_t wire[CTL_FRAME_MAX];
    size_t n = ctl_frame_encode(wire, sizeof(wire), type, seq, data, len,
                                nonce ? test_key : NULL, sizeof(test_key), nonce);

    assert_true(n > 0);
    rx_add(wire, n);
}

static const struct reply *last_reply(void)
{
    assert_true(reply_count > 0);
    return &replies[reply_count - 1];
}

/* HELLO, answered: the client's nonce. */
static void hello(struct client *c)
{
    struct mf_ctl_hello_reply h;
    unsigned before = reply_count;

    c->seq = 1;
    send_frame(MF_CTL_HELLO, 1, NULL, 0, NULL);
    run_server();
    assert_int_equal(reply_count, before + 1);
    assert_int_equal(last_reply()->hdr.type, MF_CTL_HELLO | MF_CTL_REPLY);
    assert_false(last_reply()->has_mac);
    memcpy(&h, last_reply()->payload, sizeof(h));
    memcpy(c->nonce, h.nonce, sizeof(c->nonce));
}

/* One request of c (MAC'd when the server is keyed) and its one reply. */
static const struct reply *call(struct client *c, uint8_t type, const void *data, uint32_t len)
{
    unsigned before = reply_count;

    c->seq++;
    send_frame(type, c->seq, data, len, cfg.key_len ? c->nonce : NULL);
    run_server();
    assert_int_equal(reply_count, before + 1);
    assert_int_equal(last_reply()->hdr.seq, c->seq);
    return last_reply();
}

static int verifies_under(const struct reply *r, const struct client *c)
{
    struct ctl_frame f = { .hdr = r->hdr, .payload = r->payload, .has_mac = r->has_mac };

    memcpy(f.mac, r->mac, sizeof(f.mac));
    return ctl_frame_verify(&f, test_key, sizeof(test_key), c->nonce) == 0;
}

/* ---- item 15: the table ------------------------------------------------ */

/* txring_get (the network channel's copies in and out): takes the oldest
 * bytes first, at most what was asked, across the ring's end. */
static void test_txring_get_wraps(void **state)
{
    uint8_t storage[8], out[8];
    struct txring r;

    (void)state;
    txring_init(&r, storage, sizeof(storage));
    txring_put(&r, "abcdef", 6);
    assert_int_equal(txring_get(&r, out, 4), 4);
    assert_memory_equal(out, "abcd", 4);
    txring_put(&r, "ghijk", 5);             /* wraps: "ef" then "ghijk" */
    assert_int_equal(txring_pending(&r), 7);
    assert_int_equal(txring_get(&r, out, sizeof(out)), 7);
    assert_memory_equal(out, "efghijk", 7);
    assert_int_equal(txring_get(&r, out, sizeof(out)), 0);
    txring_put(&r, "lmn", 3);
    assert_int_equal(txring_get(&r, out, 1), 1);
    assert_int_equal(out[0], 'l');
    assert_int_equal(txring_pending(&r), 2);
}

static void test_every_type_has_a_handler(void **state)
{
    (void)state;
    for (uint32_t t = 1; t < MF_CTL_TYPE_COUNT; t++)
        assert_ptr_not_equal(request_lookup(t), &request_bad);
    assert_ptr_equal(request_lookup(0), &request_bad);
    assert_ptr_equal(request_lookup(MF_CTL_TYPE_COUNT), &request_bad);
    assert_ptr_equal(request_lookup(255), &request_bad);
    assert_ptr_equal(request_lookup(UINT32_MAX), &request_bad);
}

/* A table with a hole (a type named in control.h, no handler yet). */
static void test_empty_slot_gets_bad_request(void **state)
{
    static const struct request_entry holey[4] = {
        [1] = { do_hello, 0 },
        [3] = { do_stats, sizeof(struct mf_ctl_guest_ref) },
    };
    int32_t status = 0;
    char why[MF_CTL_MESSAGE_MAX] = "";
    const struct request_entry *e;

    (void)state;
    assert_ptr_equal(request_lookup_in(holey, 4, 1), &holey[1]);
    assert_ptr_equal(request_lookup_in(holey, 4, 3), &holey[3]);
    e = request_lookup_in(holey, 4, 2);
    assert_ptr_equal(e, &request_bad);
    assert_ptr_equal(request_lookup_in(holey, 4, 4), &request_bad);
    request_type = 2;
    assert_int_equal(e->fn(NULL, 0, &status, why, sizeof(why)), 0);
    assert_int_equal(status, -MF_ENOSYS);
    assert_non_null(strstr(why, "request type 2 is not served"));
}

/* ---- item 6: sessions --------------------------------------------------- */

static void test_foreign_hello_keeps_session(void **state)
{
    struct client a, b;
    struct mf_ctl_guest_ref ref = { .id = 0 };
    const struct reply *r;

    (void)state;
    server_new(1);
    hello(&a);
    r = call(&a, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, 0);
    assert_true(verifies_under(r, &a));
    /* Someone else says HELLO: a's session goes on. */
    hello(&b);
    assert_memory_not_equal(a.nonce, b.nonce, sizeof(a.nonce));
    r = call(&a, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, 0);
    assert_true(verifies_under(r, &a));
    /* Three more HELLOs nobody follows up, and a replay of a's HELLO. */
    for (int i = 0; i < 3; i++) {
        struct client junk;
        hello(&junk);
    }
    r = call(&a, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, 0);
    assert_true(verifies_under(r, &a));
    /* b authenticates (its nonce was among the last four): the session is
     * b's now, and a's requests are refused, unsigned. */
    r = call(&b, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, 0);
    assert_true(verifies_under(r, &b));
    r = call(&a, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, -MF_EPERM);
    assert_false(r->has_mac);
    /* b's seq must keep growing: an older one, then the same again. */
    b.seq -= 2;
    r = call(&b, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, -MF_EPERM);
    assert_false(r->has_mac);
    r = call(&b, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, -MF_EPERM);
    r = call(&b, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, 0);
}

/* A pending session's first request must come after its HELLO (seq). */
static void test_pending_session_needs_larger_seq(void **state)
{
    struct client c;
    struct mf_ctl_guest_ref ref = { .id = 0 };
    const struct reply *r;

    (void)state;
    server_new(1);
    hello(&c);
    c.seq = 0;                          /* next request gets seq 1: not after HELLO's */
    r = call(&c, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, -MF_EPERM);
    assert_false(r->has_mac);
    r = call(&c, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, 0);
    assert_true(verifies_under(r, &c));
}

/* Without a key a HELLO opens the session at once, and seq must grow. */
static void test_unkeyed_session(void **state)
{
    struct client c;
    struct mf_ctl_guest_ref ref = { .id = 0 };
    const struct reply *r;

    (void)state;
    server_new(0);
    hello(&c);
    r = call(&c, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, 0);
    assert_false(r->has_mac);
    c.seq--;
    r = call(&c, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, -MF_EINVAL);
}

/* ---- item 6: the flood ------------------------------------------------- */

/* Feeds len bytes at 115200 baud (about 11.5 bytes a millisecond),
 * polling every millisecond as the run loop does when it idles. */
static void feed_at_line_rate(const uint8_t *data, size_t len)
{
    for (size_t off = 0; off < len; off += 12) {
        rx_add(data + off, len - off < 12 ? len - off : 12);
        now_tsc += HZ / 1000;
        control_poll();
    }
}

static void test_flood_is_rate_limited(void **state)
{
    static uint8_t junk[8000];
    struct client a;
    struct mf_ctl_guest_ref ref = { .id = 0 };
    uint64_t start;
    unsigned refusals = 0, hellos = 0, for_a = 0, lines_before;
    const struct reply *r;

    (void)state;
    server_new(1);
    hello(&a);
    r = call(&a, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, 0);
    mac_check = &a;
    /* 2000 magics, each the start of a bad frame: 2000 refusals before. */
    for (size_t i = 0; i < sizeof(junk); i += 4)
        memcpy(junk + i, "MCTL", 4);
    start = now_tsc;
    lines_before = log_lines;
    summaries = 0;
    unsigned before = reply_count;
    feed_at_line_rate(junk, sizeof(junk) / 2);
    /* In the middle: foreign HELLOs, requests with no MAC and wrong MACs,
     * and one of a's own. */
    for (int i = 0; i < 50; i++) {
        uint8_t wrong[MF_CTL_NONCE_BYTES] = { (uint8_t)i };
        send_frame(MF_CTL_HELLO, 1, NULL, 0, NULL);
        send_frame(MF_CTL_STOP, 7, &(struct mf_ctl_guest_ref){ .id = 5 }, 8, NULL);
        send_frame(MF_CTL_STOP, 8, &(struct mf_ctl_guest_ref){ .id = 5 }, 8, wrong);
    }
    a.seq++;
    send_frame(MF_CTL_STATS, a.seq, &ref, sizeof(ref), a.nonce);
    feed_at_line_rate(junk + sizeof(junk) / 2, sizeof(junk) / 2);
    run_server();
    uint64_t seconds = (now_tsc - start) / HZ + 1;
    for (unsigned i = before; i < reply_count; i++) {
        const struct reply *x = &replies[i];
        if (x->hdr.type == (MF_CTL_HELLO | MF_CTL_REPLY)) {
            hellos++;
        } else if (x->hdr.seq == a.seq && x->hdr.type == (MF_CTL_STATS | MF_CTL_REPLY) &&
                   x->mac_ok_a) {
            for_a++;
            assert_int_equal(x->status, 0);
        } else {
            refusals++;
            assert_true(x->status < 0);
            assert_false(x->has_mac);           /* never signed: they are nobody's */
        }
    }
    assert_int_equal(for_a, 1);                 /* a's request: answered, exactly */
    assert_int_equal(stops, 0);                 /* no unauthenticated STOP acted */
    assert_true(refusals <= UNAUTH_BURST + UNAUTH_PER_SECOND * seconds);
    assert_true(hellos <= HELLO_BURST + HELLO_PER_SECOND * seconds);
    /* The last five magics never get a whole header: they wait for the
     * truncation timeout, below. */
    assert_int_equal(errors, 2000 - 5 + 100);
    assert_int_equal(control_unanswered() + refusals + hellos, errors + 50);
    /* One summary line a second at most, not one per refusal. */
    assert_true(log_lines - lines_before <= 2 * seconds + 2);
    assert_int_equal(blocking_writes, 0);
    /* After it (and the last magic's truncation timeout): a's session
     * still works; the summary is in the log. */
    now_tsc += 2 * HZ;
    control_poll();
    assert_true(summaries > 0);
    run_server();
    r = call(&a, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, 0);
    assert_true(r->mac_ok_a);
}

/* A refusal of a frame that was not admitted waits for the line: it is
 * dropped when more than UNAUTH_TX_BYTES are still to be sent. */
static void test_unadmitted_reply_needs_idle_line(void **state)
{
    uint8_t frame[CTL_FRAME_MAX];
    size_t n;

    (void)state;
    server_new(1);
    n = reply_encode(MF_CTL_LIST, 1, payload, 1000, 0);
    tx_queue(reply_buf, n);             /* 1000 bytes waiting */
    assert_true(txring_pending(&serial.tx) > UNAUTH_TX_BYTES);
    n = ctl_frame_encode(frame, sizeof(frame), MF_CTL_STATS, 9, &(struct mf_ctl_guest_ref){ 0 },
                         8, NULL, 0, NULL);
    rx_add(frame, n);
    control_poll();
    assert_int_equal(control_unanswered(), 1);
    run_server();
    assert_int_equal(reply_count, 1);   /* the LIST reply only */
}

/* Someone else's unfinished frame claiming 4000 bytes swallows a's
 * request; once the unfinished one times out, a's request is still
 * answered. */
static void test_truncated_frame_does_not_eat_the_next(void **state)
{
    struct client a;
    struct mf_ctl_guest_ref ref = { .id = 0 };
    uint8_t forged[CTL_FRAME_MAX];
    size_t n;

    (void)state;
    server_new(1);
    hello(&a);
    mac_check = &a;
    n = ctl_frame_encode(forged, sizeof(forged), MF_CTL_LOGS, 50, &ref, 8, NULL, 0, NULL);
    forged[12] = 4000 & 0xff;                   /* length 4000: never completes */
    forged[13] = 4000 >> 8;
    rx_add(forged, n);
    a.seq++;
    send_frame(MF_CTL_STATS, a.seq, &ref, sizeof(ref), a.nonce);
    for (int i = 0; i < 20; i++) {
        now_tsc += HZ / 10;
        control_poll();
    }
    run_server();
    int answered = 0;
    for (unsigned i = 0; i < reply_count; i++)
        answered += replies[i].hdr.seq == a.seq && replies[i].mac_ok_a && !replies[i].status;
    assert_int_equal(answered, 1);
}

/* ---- item 9 through the wire ------------------------------------------- */

static void test_refused_begin_keeps_upload(void **state)
{
    struct client c;
    struct mf_ctl_upload_begin begin = { .name = "keep.elf", .size = 100 };
    struct mf_ctl_upload_begin bad = { .name = "bad name", .size = 100 };
    struct mf_ctl_upload_begin zero = { .name = "zero.elf", .size = 0 };
    uint8_t chunk[8 + 50];
    const struct reply *r;

    (void)state;
    server_new(0);
    hello(&c);
    memset(chunk, 0, sizeof(chunk));
    assert_int_equal(call(&c, MF_CTL_UPLOAD_BEGIN, &begin, sizeof(begin))->status, 0);
    assert_int_equal(call(&c, MF_CTL_UPLOAD_CHUNK, chunk, sizeof(chunk))->status, 0);
    assert_int_equal(call(&c, MF_CTL_UPLOAD_BEGIN, &bad, sizeof(bad))->status, -MF_EINVAL);
    assert_int_equal(call(&c, MF_CTL_UPLOAD_BEGIN, &zero, sizeof(zero))->status, -MF_ERANGE);
    /* An END too early is refused and changes nothing either. */
    r = call(&c, MF_CTL_UPLOAD_END, &(struct mf_ctl_upload_end){ 0 }, 8);
    assert_int_equal(r->status, -MF_EINVAL);
    uint64_t offset = 50;
    memcpy(chunk, &offset, 8);
    assert_int_equal(call(&c, MF_CTL_UPLOAD_CHUNK, chunk, sizeof(chunk))->status, 0);
    assert_int_equal(store.upload.received, 100);
    assert_string_equal(store.upload.name, "keep.elf");
}


/* ---- issue 10: devices, upload kinds, personalities --------------------- */

/* Uploads data as name with a BEGIN of begin_len bytes (40: the first
 * version, an image); the END's status. */
static int32_t upload(struct client *c, const char *name, const void *data, uint32_t len,
                      uint32_t kind, uint32_t begin_len)
{
    struct mf_ctl_upload_begin begin = { .size = len, .kind = kind };
    struct mf_ctl_upload_end end = { .crc32 = crc32_update(0, data, len) };
    uint8_t chunk[8 + 512];
    const struct reply *r;

    assert_true(len <= 512);
    strcpy(begin.name, name);
    r = call(c, MF_CTL_UPLOAD_BEGIN, &begin, begin_len);
    if (r->status)
        return r->status;
    memset(chunk, 0, 8);
    memcpy(chunk + 8, data, len);
    assert_int_equal(call(c, MF_CTL_UPLOAD_CHUNK, chunk, 8 + len)->status, 0);
    return call(c, MF_CTL_UPLOAD_END, &end, sizeof(end))->status;
}

static void start_request(struct mf_ctl_start *req)
{
    memset(req, 0, sizeof(*req));
    strcpy(req->name, "www");
    strcpy(req->image, "boot.hvt");
    req->count = 2;
    req->device_count = 2;
    req->devices[0].kind = MF_CTL_DEVICE_NET;
    strcpy(req->devices[0].name, "service");
    strcpy(req->devices[0].target, "lan0");
    req->devices[1].kind = MF_CTL_DEVICE_BLOCK;
    req->devices[1].sector_size = 4096;
    strcpy(req->devices[1].name, "storage");
    strcpy(req->devices[1].target, "site.img");
}

/* A disk upload is stored as it is; an image upload is validated. */
static void test_upload_kinds(void **state)
{
    static const char disk[100] = "not an ELF: a disk";
    struct mf_ctl_upload_begin begin = { .name = "x.img", .size = 10, .kind = 2 };
    struct client c;
    const struct reply *r;

    (void)state;
    server_new(0);
    hello(&c);
    assert_int_equal(upload(&c, "site.img", disk, sizeof(disk), MF_CTL_UPLOAD_DISK,
                            sizeof(struct mf_ctl_upload_begin)), 0);
    assert_non_null(strstr(last_log, "stored disk site.img (100 bytes)"));
    assert_non_null(store_find(&store, "site.img"));
    /* The same bytes as an image, by the first version's 40-byte BEGIN
     * and by the whole struct, are refused at END. */
    assert_int_equal(upload(&c, "bad.elf", disk, sizeof(disk), 0, MF_CTL_UPLOAD_BEGIN_V1_BYTES),
                     -MF_EINVAL);
    assert_non_null(strstr(last_log, "image bad.elf rejected"));
    assert_int_equal(upload(&c, "bad.elf", disk, sizeof(disk), MF_CTL_UPLOAD_IMAGE,
                            sizeof(struct mf_ctl_upload_begin)), -MF_EINVAL);
    assert_null(store_find(&store, "bad.elf"));
    /* An unknown kind, and a BEGIN between the two lengths. */
    r = call(&c, MF_CTL_UPLOAD_BEGIN, &begin, sizeof(begin));
    assert_int_equal(r->status, -MF_EINVAL);
    assert_non_null(strstr(last_log, "unknown upload kind 2"));
    begin.kind = MF_CTL_UPLOAD_DISK;
    r = call(&c, MF_CTL_UPLOAD_BEGIN, &begin, 44);
    assert_int_equal(r->status, -MF_EINVAL);
    assert_non_null(strstr(last_log, "44 bytes is neither the 40-byte"));
    /* A disk a guest uses is not replaced. */
    image_in_use = store.base + store_find(&store, "site.img")->offset;
    assert_int_equal(upload(&c, "site.img", disk, 10, MF_CTL_UPLOAD_DISK,
                            sizeof(struct mf_ctl_upload_begin)), -MF_EAGAIN);
    assert_non_null(strstr(last_log, "disk site.img is in use"));
    assert_int_equal(store_find(&store, "site.img")->size, sizeof(disk));
}

static void test_start_with_devices(void **state)
{
    static const char disk[64] = "disk bytes";
    static struct mf_ctl_start req;
    struct mf_ctl_start_reply reply;
    struct client c;
    const struct reply *r;
    const uint8_t *found;
    uint64_t size = 0;

    (void)state;
    server_new(0);
    hello(&c);
    assert_int_equal(upload(&c, "site.img", disk, sizeof(disk), MF_CTL_UPLOAD_DISK,
                            sizeof(struct mf_ctl_upload_begin)), 0);
    start_ok = 1;
    start_request(&req);
    r = call(&c, MF_CTL_START, &req, sizeof(req));
    assert_int_equal(r->status, 0);
    memcpy(&reply, r->payload, sizeof(reply));
    assert_int_equal(reply.started, 2);
    assert_int_equal(reply.first_id, 40);
    /* The line the management layer got: the devices converted. */
    assert_ptr_equal(started_image, boot_file);
    assert_int_equal(started_size, sizeof(boot_file));
    assert_string_equal(started_line.name, "www");
    assert_int_equal(started_line.count, 2);
    assert_int_equal(started_line.device_count, 2);
    assert_int_equal(started_line.devices[0].kind, CONFIG_DEVICE_NET);
    assert_string_equal(started_line.devices[0].name, "service");
    assert_string_equal(started_line.devices[0].target, "lan0");
    assert_int_equal(started_line.devices[0].sector_size, 0);
    assert_int_equal(started_line.devices[1].kind, CONFIG_DEVICE_BLOCK);
    assert_string_equal(started_line.devices[1].target, "site.img");
    assert_int_equal(started_line.devices[1].sector_size, 4096);
    /* Its files: the store first, then the boot's. */
    assert_non_null(started_files);
    found = started_files->find(started_files->arg, "site.img", &size);
    assert_ptr_equal(found, store.base + store_find(&store, "site.img")->offset);
    assert_int_equal(size, sizeof(disk));
    found = started_files->find(started_files->arg, "boot.hvt", &size);
    assert_ptr_equal(found, boot_file);
    assert_int_equal(size, sizeof(boot_file));
    assert_null(started_files->find(started_files->arg, "none.img", &size));
    /* Up to 8 devices. */
    req.device_count = MF_CTL_DEVICES_MAX;
    for (uint32_t i = 2; i < MF_CTL_DEVICES_MAX; i++) {
        req.devices[i].kind = MF_CTL_DEVICE_BLOCK;
        snprintf(req.devices[i].name, sizeof(req.devices[i].name), "d%u", i);
        strcpy(req.devices[i].target, "site.img");
    }
    assert_int_equal(call(&c, MF_CTL_START, &req, sizeof(req))->status, 0);
    assert_int_equal(started_line.device_count, MF_CTL_DEVICES_MAX);
    assert_string_equal(started_line.devices[7].name, "d7");
    /* A longer payload (a later version's fields) is taken too. */
    {
        static uint8_t longer[sizeof(req) + 16];
        memcpy(longer, &req, sizeof(req));
        assert_int_equal(call(&c, MF_CTL_START, longer, sizeof(longer))->status, 0);
    }
    /* The first version's 424 bytes: a line without devices. */
    start_request(&req);
    r = call(&c, MF_CTL_START, &req, MF_CTL_START_V1_BYTES);
    assert_int_equal(r->status, 0);
    assert_int_equal(started_line.device_count, 0);
    assert_string_equal(started_line.image, "boot.hvt");
}

/* START requests that never reach the management layer. */
static void test_start_devices_refused(void **state)
{
    static struct mf_ctl_start req;
    struct client c;
    const struct reply *r;

    (void)state;
    server_new(0);
    hello(&c);
    start_ok = 1;
#define START_REFUSED(len, word) do {                                     \
        r = call(&c, MF_CTL_START, &req, (len));                          \
        assert_int_equal(r->status, -MF_EINVAL);                          \
        if (!strstr(last_log, word))                                      \
            fail_msg("'%s' lacks '%s'", last_log, word);                  \
        assert_int_equal(start_calls, 0);                                 \
        start_request(&req);                                              \
    } while (0)
    start_request(&req);
    START_REFUSED(600, "600 bytes is neither the 424-byte");
    START_REFUSED(sizeof(req) - 1, "neither");
    memset(req.devices[0].name, 'a', sizeof(req.devices[0].name));
    START_REFUSED(sizeof(req), "not NUL-terminated");
    memset(req.devices[1].target, 'b', sizeof(req.devices[1].target));
    START_REFUSED(sizeof(req), "not NUL-terminated");
    memset(req.devices[7].target, 'c', sizeof(req.devices[7].target));   /* an unused slot */
    START_REFUSED(sizeof(req), "not NUL-terminated");
    req.device_count = MF_CTL_DEVICES_MAX + 1;
    START_REFUSED(sizeof(req), "9 devices, at most 8");
    req.device_count = UINT32_MAX;
    START_REFUSED(sizeof(req), "at most 8");
    req.devices[1].kind = 3;
    START_REFUSED(sizeof(req), "device storage has kind 3");
    req.devices[0].kind = 0;
    START_REFUSED(sizeof(req), "device service has kind 0");
    strcpy(req.image, "none.hvt");
    r = call(&c, MF_CTL_START, &req, sizeof(req));
    assert_int_equal(r->status, -MF_ENOENT);
    assert_int_equal(start_calls, 0);
#undef START_REFUSED
}

/* LIST entries, parsed from a reply of entry_size-byte entries. */
static void list_entry(const struct reply *r, uint32_t i, struct mf_ctl_guest_entry2 *out)
{
    struct mf_ctl_list_reply lr;
    uint32_t size;

    memcpy(&lr, r->payload, sizeof(lr));
    size = lr.entry_size;
    assert_true(i < lr.count);
    assert_int_equal(r->hdr.length, sizeof(lr) + lr.count * size);
    memset(out, 0, sizeof(*out));
    memcpy(out, r->payload + sizeof(lr) + i * size, size);
}

static void test_list_personality(void **state)
{
    struct mf_ctl_list wide = { .first = 0, .entry_size = sizeof(struct mf_ctl_guest_entry2) };
    struct mf_ctl_guest_entry2 e;
    struct mf_ctl_list_reply lr;
    struct client c;
    const struct reply *r;
    uint32_t first = 1;

    (void)state;
    server_new(0);
    hello(&c);
    list_count = 3;
    r = call(&c, MF_CTL_LIST, &wide, sizeof(wide));
    memcpy(&lr, r->payload, sizeof(lr));
    assert_int_equal(lr.entry_size, 144);
    assert_int_equal(lr.count, 3);
    list_entry(r, 0, &e);
    assert_int_equal(e.e.id, 100);
    assert_string_equal(e.e.image, "www.hvt");
    assert_string_equal(e.personality, "solo5-hvt");
    list_entry(r, 1, &e);
    assert_int_equal(e.e.id, 101);
    assert_string_equal(e.personality, "");        /* NULL: not known */
    list_entry(r, 2, &e);
    assert_string_equal(e.e.name, "g.2");
    assert_string_equal(e.personality, "mayfly");
    /* Older clients: first alone, or nothing: 128-byte entries. */
    r = call(&c, MF_CTL_LIST, &first, sizeof(first));
    memcpy(&lr, r->payload, sizeof(lr));
    assert_int_equal(lr.entry_size, 128);
    assert_int_equal(lr.count, 2);
    assert_int_equal(lr.first, 1);
    list_entry(r, 1, &e);
    assert_int_equal(e.e.id, 102);
    assert_string_equal(e.e.name, "g.2");
    r = call(&c, MF_CTL_LIST, NULL, 0);
    memcpy(&lr, r->payload, sizeof(lr));
    assert_int_equal(lr.entry_size, 128);
    assert_int_equal(lr.count, 3);
    /* A client asking for more than this hypervisor knows gets what it knows. */
    wide.entry_size = 1000;
    r = call(&c, MF_CTL_LIST, &wide, sizeof(wide));
    memcpy(&lr, r->payload, sizeof(lr));
    assert_int_equal(lr.entry_size, 184);
    /* Between two sizes: the shorter one. */
    wide.entry_size = 183;
    r = call(&c, MF_CTL_LIST, &wide, sizeof(wide));
    memcpy(&lr, r->payload, sizeof(lr));
    assert_int_equal(lr.entry_size, 144);
    /* A full page of wide entries fits the frame. */
    list_count = 100;
    wide.entry_size = 144;
    r = call(&c, MF_CTL_LIST, &wide, sizeof(wide));
    memcpy(&lr, r->payload, sizeof(lr));
    assert_int_equal(lr.count, (MF_CTL_PAYLOAD_MAX - sizeof(lr)) / 144);
    assert_int_equal(lr.total, 100);
}

/* Entry 3 of a LIST reply of entry_size-byte entries (zero past them). */
static void list_entry3(const struct reply *r, uint32_t i, struct mf_ctl_guest_entry3 *out)
{
    struct mf_ctl_list_reply lr;

    memcpy(&lr, r->payload, sizeof(lr));
    assert_true(i < lr.count);
    assert_true(lr.entry_size <= sizeof(*out));
    assert_int_equal(r->hdr.length, sizeof(lr) + lr.count * lr.entry_size);
    memset(out, 0, sizeof(*out));
    memcpy(out, r->payload + sizeof(lr) + i * lr.entry_size, lr.entry_size);
}

/* Entries of 184 bytes say which service an instance serves and its
 * slot; other guests' say "" and 0; shorter entries stay as they were. */
static void test_list_service(void **state)
{
    struct mf_ctl_list req = { .first = 0, .entry_size = sizeof(struct mf_ctl_guest_entry3) };
    struct mf_ctl_guest_entry3 e;
    struct mf_ctl_list_reply lr;
    struct client c;
    const struct reply *r;

    (void)state;
    server_new(1);
    hello(&c);
    list_count = 5;
    r = call(&c, MF_CTL_LIST, &req, sizeof(req));
    assert_int_equal(r->status, 0);
    memcpy(&lr, r->payload, sizeof(lr));
    assert_int_equal(lr.entry_size, 184);
    assert_int_equal(lr.count, 5);
    list_entry3(r, 0, &e);
    assert_int_equal(e.e2.e.id, 100);
    assert_string_equal(e.e2.personality, "solo5-hvt");
    assert_string_equal(e.service, "");
    assert_int_equal(e.service_slot, 0);
    assert_int_equal(e.reserved, 0);
    list_entry3(r, 2, &e);
    assert_string_equal(e.e2.e.name, "g.2");
    assert_string_equal(e.e2.personality, "mayfly");
    assert_string_equal(e.service, "web");
    assert_int_equal(e.service_slot, 0);
    list_entry3(r, 4, &e);
    assert_int_equal(e.e2.e.id, 104);
    assert_string_equal(e.service, "web");
    assert_int_equal(e.service_slot, 2);
    /* A client that knows only the personality gets 144-byte entries. */
    req.entry_size = sizeof(struct mf_ctl_guest_entry2);
    r = call(&c, MF_CTL_LIST, &req, sizeof(req));
    memcpy(&lr, r->payload, sizeof(lr));
    assert_int_equal(lr.entry_size, 144);
    assert_int_equal(r->hdr.length, sizeof(lr) + 5 * 144);
    list_entry3(r, 4, &e);
    assert_string_equal(e.e2.personality, "mayfly");
    assert_string_equal(e.service, "");
    /* A full page of the longest entries fits the frame. */
    list_count = 100;
    req.entry_size = sizeof(struct mf_ctl_guest_entry3);
    r = call(&c, MF_CTL_LIST, &req, sizeof(req));
    memcpy(&lr, r->payload, sizeof(lr));
    assert_int_equal(lr.count, (MF_CTL_PAYLOAD_MAX - sizeof(lr)) / 184);
    list_entry3(r, lr.count - 1, &e);
    assert_int_equal(e.service_slot, lr.count - 3);
}

/* Service i of a SERVICES reply. */
static void service_entry_at(const struct reply *r, uint32_t i, struct mf_ctl_service_entry *out)
{
    struct mf_ctl_services_reply sr;

    memcpy(&sr, r->payload, sizeof(sr));
    assert_int_equal(sr.entry_size, sizeof(*out));
    assert_true(i < sr.count);
    assert_int_equal(r->hdr.length, sizeof(sr) + sr.count * sizeof(*out));
    memcpy(out, r->payload + sizeof(sr) + i * sizeof(*out), sizeof(*out));
}

/* SERVICES: every figure of summon_info in its place, paged from first
 * on; none configured, none listed; a short payload refused. */
static void test_services(void **state)
{
    struct mf_ctl_services req = { 0, 0 };
    struct mf_ctl_services_reply sr;
    struct mf_ctl_service_entry e;
    struct client c;
    const struct reply *r;
    uint32_t per_page = (MF_CTL_PAYLOAD_MAX - sizeof(sr)) / sizeof(e);

    (void)state;
    server_new(1);
    hello(&c);
    r = call(&c, MF_CTL_SERVICES, &req, sizeof(req));
    assert_int_equal(r->status, 0);
    assert_int_equal(r->hdr.type, MF_CTL_SERVICES | MF_CTL_REPLY);
    assert_true(verifies_under(r, &c));
    memcpy(&sr, r->payload, sizeof(sr));
    assert_int_equal(sr.count, 0);
    assert_int_equal(sr.total, 0);
    assert_int_equal(r->hdr.length, sizeof(sr));

    service_count = 3;
    r = call(&c, MF_CTL_SERVICES, &req, sizeof(req));
    memcpy(&sr, r->payload, sizeof(sr));
    assert_int_equal(sr.count, 3);
    assert_int_equal(sr.total, 3);
    assert_int_equal(sr.first, 0);
    service_entry_at(r, 2, &e);
    assert_string_equal(e.name, "svc2");
    assert_int_equal(e.ip, 0x0a00000b);
    assert_int_equal(e.port, 82);
    assert_int_equal(e.reserved, 0);
    assert_int_equal(e.max, 4);
    assert_int_equal(e.running, 2);
    assert_int_equal(e.idle_ms, 200);
    assert_int_equal(e.reserved2, 0);
    assert_int_equal(e.summoned, 1002);
    assert_int_equal(e.idled, 2002);
    assert_int_equal(e.ended, 3002);
    assert_int_equal(e.launch_failures, 4002);
    assert_int_equal(e.flows, 5002);
    assert_int_equal(e.held, 6002);
    assert_int_equal(e.flushed, 7002);
    assert_int_equal(e.hold_drops, 8002);
    assert_int_equal(e.no_instance_drops, 9002);
    assert_int_equal(e.arp_answered, 10002);
    assert_int_equal(e.latency_avg, 11002);
    assert_int_equal(e.latency_min, 12002);
    assert_int_equal(e.latency_max, 13002);
    assert_int_equal(e.latency_count, 14002);
    service_entry_at(r, 1, &e);
    assert_string_equal(e.name, "");            /* no name given: empty, not garbage */

    /* More than a frame holds: pages, each as full as it can be. */
    service_count = per_page + 5;
    r = call(&c, MF_CTL_SERVICES, &req, sizeof(req));
    memcpy(&sr, r->payload, sizeof(sr));
    assert_int_equal(sr.count, per_page);
    assert_int_equal(sr.total, per_page + 5);
    req.first = per_page;
    r = call(&c, MF_CTL_SERVICES, &req, sizeof(req));
    memcpy(&sr, r->payload, sizeof(sr));
    assert_int_equal(sr.count, 5);
    assert_int_equal(sr.first, per_page);
    service_entry_at(r, 0, &e);
    snprintf(sr.st.message, sizeof(sr.st.message), "svc%u", per_page);
    assert_string_equal(e.name, sr.st.message);
    req.first = UINT32_MAX;
    r = call(&c, MF_CTL_SERVICES, &req, sizeof(req));
    memcpy(&sr, r->payload, sizeof(sr));
    assert_int_equal(sr.count, 0);
    assert_int_equal(r->hdr.length, sizeof(sr));

    /* A payload shorter than the request is refused, changing nothing. */
    r = call(&c, MF_CTL_SERVICES, &req, 4);
    assert_int_equal(r->status, -MF_EINVAL);
}

/* ---- the network channel ---------------------------------------------- */

/* The network client: bytes it has not yet handed to MF_HC_CTL_XFER, the
 * bytes that came back, and the notifications the server raised. */
static uint8_t nrx_bytes[1 << 16];
static size_t nrx_len, nrx_off;
static uint8_t ntx_bytes[1 << 20];
static size_t ntx_len, ntx_parsed;
static struct ctl_parser net_reply_parser;
static unsigned notifies;

static void count_notify(void *arg)
{
    assert_ptr_equal(arg, &notifies);
    notifies++;
}

static void net_server_new(uint32_t serial_line)
{
    server_new_on(1, serial_line, 2);
    nrx_len = nrx_off = ntx_len = ntx_parsed = 0;
    notifies = 0;
    ctl_parser_init2(&net_reply_parser, 1);
    control_net_guest(7, count_notify, &notifies);
}

static void net_send_frame(uint8_t type, uint32_t seq, const void *data, uint32_t len,
                           const uint8_t *nonce)
{
    size_t n = ctl_frame_encode(nrx_bytes + nrx_len, sizeof(nrx_bytes) - nrx_len, type, seq,
                                data, len, nonce ? test_key : NULL, sizeof(test_key), nonce);

    assert_true(n > 0);
    nrx_len += n;
}

/* One XFER as the control guest makes it: what is waiting to go in, room
 * for out_room bytes back. */
static struct control_xfer_result net_xfer(uint32_t out_room, uint32_t flags)
{
    struct control_xfer_result r;
    uint32_t in_len = (uint32_t)(nrx_len - nrx_off);

    assert_true(ntx_len + out_room <= sizeof(ntx_bytes));
    assert_int_equal(control_net_xfer(nrx_bytes + nrx_off, in_len, ntx_bytes + ntx_len, out_room,
                                      flags, &r), 0);
    assert_true(r.in_taken <= in_len && r.out_len <= out_room);
    nrx_off += r.in_taken;
    ntx_len += r.out_len;
    return r;
}

/* Whether the server holds bytes it has not parsed yet. */
static int net_parser_busy(void)
{
    return txring_pending(&net_in) || net_held_off < net_held_len;
}

/* XFERs and polls (1 ms apart) until everything went in and came out. */
static void net_run(void)
{
    for (int i = 0; i < 100000; i++) {
        struct control_xfer_result r = net_xfer(4096, 0);
        if (nrx_off == nrx_len && !r.out_pending && !net_parser_busy())
            break;
        now_tsc += HZ / 1000;
        control_poll();
    }
    assert_int_equal(nrx_off, nrx_len);
    collect_from(&net_reply_parser, ntx_bytes, ntx_len, &ntx_parsed);
}

static void net_hello(struct client *c)
{
    struct mf_ctl_hello_reply h;
    unsigned before = reply_count;

    c->seq = 1;
    net_send_frame(MF_CTL_HELLO, 1, NULL, 0, NULL);
    net_run();
    assert_int_equal(reply_count, before + 1);
    assert_int_equal(last_reply()->hdr.type, MF_CTL_HELLO | MF_CTL_REPLY);
    memcpy(&h, last_reply()->payload, sizeof(h));
    memcpy(c->nonce, h.nonce, sizeof(c->nonce));
}

static const struct reply *net_call(struct client *c, uint8_t type, const void *data,
                                    uint32_t len)
{
    unsigned before = reply_count;

    c->seq++;
    net_send_frame(type, c->seq, data, len, c->nonce);
    net_run();
    assert_int_equal(reply_count, before + 1);
    assert_int_equal(last_reply()->hdr.seq, c->seq);
    return last_reply();
}

/* Without a control net line there is no channel: XFER is refused and
 * takes nothing; unknown flags likewise. */
static void test_net_xfer_refused(void **state)
{
    struct control_xfer_result r = { 99, 99, 99, 99 };
    uint8_t in[8] = { 0 }, out[8];

    (void)state;
    server_new(1);
    assert_int_equal(control_net_xfer(in, sizeof(in), out, sizeof(out), 0, &r), -MF_ENOENT);
    assert_int_equal(r.in_taken, 99);
    net_server_new(0);
    assert_int_equal(control_net_xfer(in, sizeof(in), out, sizeof(out), 1u << 1, &r),
                     -MF_EINVAL);
    assert_int_equal(control_net_xfer(in, sizeof(in), out, sizeof(out), 0, &r), 0);
    assert_int_equal(r.in_taken, sizeof(in));
    assert_true(r.wake_poller);
}

/* Both channels at once: each its own session, the counters shared;
 * replies on the network raise the control guest's notification. */
static void test_net_and_serial(void **state)
{
    struct client a, b;
    struct mf_ctl_guest_ref ref = { .id = 0 };
    const struct reply *r;

    (void)state;
    net_server_new(1);
    net_hello(&a);
    assert_true(notifies > 0);
    r = net_call(&a, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, 0);
    assert_true(verifies_under(r, &a));
    assert_int_equal(tx_len, 0);                /* nothing went to COM2 */
    hello(&b);
    r = call(&b, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, 0);
    assert_true(verifies_under(r, &b));
    /* b's session on COM2 did not replace a's on the network. */
    r = net_call(&a, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, 0);
    assert_true(verifies_under(r, &a));
    {
        struct mf_ctl_stats_reply st;
        memcpy(&st, r->payload, sizeof(st));
        assert_int_equal(st.control_requests, 5);   /* 2 HELLOs, 3 STATS, both channels */
    }
    /* a's frames sent on COM2 are under no session there. */
    r = call(&a, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(r->status, -MF_EPERM);
}

/* XFER takes only what the receive queue has room for; the rest is
 * offered again later. */
static void test_net_in_bounded(void **state)
{
    struct control_xfer_result r;

    (void)state;
    net_server_new(0);
    memset(nrx_bytes, 'x', 3 * NET_IN_BYTES);
    nrx_len = 3 * NET_IN_BYTES;
    r = net_xfer(0, 0);
    assert_int_equal(r.in_taken, NET_IN_BYTES);
    r = net_xfer(0, 0);
    assert_int_equal(r.in_taken, 0);
    assert_false(r.wake_poller);
    control_poll();
    r = net_xfer(0, 0);
    assert_int_equal(r.in_taken, NET_IN_BYTES);
    net_run();                                  /* garbage: skipped, never answered */
    assert_int_equal(reply_count, 0);
}

/* A client that sends requests without reading replies: the server
 * stops parsing while a reply would not fit, never drops or blocks one;
 * once the client reads, every request is answered in order. */
static void test_net_backpressure(void **state)
{
    struct client a;
    struct mf_ctl_guest_ref ref = { .id = 0 };
    struct control_xfer_result r;

    (void)state;
    net_server_new(0);
    net_hello(&a);
    list_count = 100;
    for (uint32_t i = 0; i < 40; i++)
        net_send_frame(MF_CTL_LIST, ++a.seq, &ref, 0, a.nonce);
    for (int i = 0; i < 200; i++) {
        r = net_xfer(0, 0);
        control_poll();
        now_tsc += HZ / 1000;
    }
    r = net_xfer(0, 0);
    assert_true(r.out_pending <= TX_RING_BYTES);
    assert_true(nrx_off < nrx_len || net_held_off < net_held_len || txring_pending(&net_in));
    net_run();
    assert_int_equal(reply_count, 41);
    for (uint32_t i = 1; i < 41; i++) {
        assert_int_equal(replies[i].status, 0);
        assert_int_equal(replies[i].hdr.seq, i + 1);
        assert_true(verifies_under(&replies[i], &a));
    }
    assert_int_equal(net_replies_dropped, 0);
}

/* A new client: what the last one left half-sent is not parsed into the
 * new one's frames, replies it never read are not handed over, and its
 * session is closed. */
static void test_net_new_client(void **state)
{
    struct client a, b;
    struct mf_ctl_guest_ref ref = { .id = 0 };
    struct control_xfer_result r;
    const struct reply *rp;
    uint8_t half[CTL_FRAME_MAX];
    size_t n;

    (void)state;
    net_server_new(0);
    net_hello(&a);
    assert_int_equal(net_call(&a, MF_CTL_STATS, &ref, sizeof(ref))->status, 0);
    /* A request whose reply a never takes. */
    net_send_frame(MF_CTL_STATS, ++a.seq, &ref, sizeof(ref), a.nonce);
    net_xfer(0, 0);
    control_poll();
    r = net_xfer(0, 0);
    assert_true(r.out_pending > 0);
    /* Half a frame, then the connection ends. */
    n = ctl_frame_encode(half, sizeof(half), MF_CTL_STATS, ++a.seq, &ref, sizeof(ref), test_key,
                         sizeof(test_key), a.nonce);
    memcpy(nrx_bytes + nrx_len, half, n / 2);
    nrx_len += n / 2;
    net_xfer(0, 0);
    /* b connects: its HELLO is answered alone. */
    net_send_frame(MF_CTL_HELLO, 1, NULL, 0, NULL);
    r = net_xfer(0, MF_CTL_XFER_NEW_CLIENT);
    assert_int_equal(r.out_pending, 0);
    assert_true(r.wake_poller);
    ntx_parsed = ntx_len;
    ctl_parser_init2(&net_reply_parser, 1);
    reply_count = 0;
    net_run();
    assert_int_equal(reply_count, 1);
    assert_int_equal(replies[0].hdr.type, MF_CTL_HELLO | MF_CTL_REPLY);
    memcpy(b.nonce, ((struct mf_ctl_hello_reply *)(void *)replies[0].payload)->nonce,
           sizeof(b.nonce));
    b.seq = 1;
    /* a's session is gone with its connection (b has not authenticated
     * yet, so nothing else would have closed it). */
    rp = net_call(&a, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(rp->status, -MF_EPERM);
    assert_false(rp->has_mac);
    rp = net_call(&b, MF_CTL_STATS, &ref, sizeof(ref));
    assert_int_equal(rp->status, 0);
    assert_true(verifies_under(rp, &b));
}

/* Bytes taken before a new client arrives are the old client's: a
 * request among them is not answered to the new one. */
static void test_net_new_client_before_poll(void **state)
{
    struct client a;
    struct mf_ctl_guest_ref ref = { .id = 0 };

    (void)state;
    net_server_new(0);
    net_hello(&a);
    net_send_frame(MF_CTL_STATS, ++a.seq, &ref, sizeof(ref), a.nonce);
    net_xfer(0, 0);
    net_xfer(0, MF_CTL_XFER_NEW_CLIENT);
    reply_count = 0;
    net_run();
    assert_int_equal(reply_count, 0);
}

/* Bytes the poller had taken in but could not parse yet (no room for
 * replies) belong to the client that sent them: after a new client they
 * are dropped, not answered to it. */
static void test_net_new_client_drops_held(void **state)
{
    struct client a;
    struct mf_ctl_guest_ref ref = { .id = 0 };

    (void)state;
    net_server_new(0);
    net_hello(&a);
    list_count = 100;
    for (uint32_t i = 0; i < 12; i++)
        net_send_frame(MF_CTL_LIST, ++a.seq, &ref, 0, a.nonce);
    for (int i = 0; i < 20; i++) {
        net_xfer(0, 0);
        control_poll();
    }
    assert_true(net_held_off < net_held_len);  /* parsing waits for room */
    net_xfer(0, MF_CTL_XFER_NEW_CLIENT);
    ntx_parsed = ntx_len;
    ctl_parser_init2(&net_reply_parser, 1);
    reply_count = 0;
    net_run();
    assert_int_equal(reply_count, 0);
}

/* A new client arriving while a request of the old one is being handled
 * (the control guest runs on another CPU): the request's reply is
 * dropped, not handed to the new client. */
static void new_client_now(void)
{
    struct control_xfer_result r;
    uint8_t none[1] = { 0 };

    assert_int_equal(control_net_xfer(none, 0, none, 0, MF_CTL_XFER_NEW_CLIENT, &r), 0);
}

static void test_net_new_client_mid_request(void **state)
{
    struct client a;
    struct mf_ctl_guest_ref ref = { .id = 5 };

    (void)state;
    net_server_new(0);
    net_hello(&a);
    during_stop = new_client_now;
    reply_count = 0;
    net_send_frame(MF_CTL_STOP, ++a.seq, &ref, sizeof(ref), a.nonce);
    net_run();
    assert_int_equal(stops, 1);
    assert_int_equal(reply_count, 0);
    assert_int_equal(net_replies_dropped, 1);
}

/* The control guest cannot be stopped over the control channel: a STOP
 * of its id is refused before the management layer sees it. */
static void test_stop_control_guest_refused(void **state)
{
    struct client a;
    struct mf_ctl_guest_ref ref = { .id = 7 };
    const struct reply *r;

    (void)state;
    net_server_new(1);
    net_hello(&a);
    r = net_call(&a, MF_CTL_STOP, &ref, sizeof(ref));
    assert_int_equal(r->status, -MF_EPERM);
    assert_non_null(strstr((const char *)r->payload + offsetof(struct mf_ctl_status, message),
                           "network control guest cannot be stopped"));
    assert_int_equal(stops, 0);
    ref.id = 5;
    assert_int_equal(net_call(&a, MF_CTL_STOP, &ref, sizeof(ref))->status, 0);
    assert_int_equal(stops, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_txring_get_wraps),
        cmocka_unit_test(test_every_type_has_a_handler),
        cmocka_unit_test(test_empty_slot_gets_bad_request),
        cmocka_unit_test(test_foreign_hello_keeps_session),
        cmocka_unit_test(test_pending_session_needs_larger_seq),
        cmocka_unit_test(test_unkeyed_session),
        cmocka_unit_test(test_flood_is_rate_limited),
        cmocka_unit_test(test_unadmitted_reply_needs_idle_line),
        cmocka_unit_test(test_truncated_frame_does_not_eat_the_next),
        cmocka_unit_test(test_refused_begin_keeps_upload),
        cmocka_unit_test(test_upload_kinds),
        cmocka_unit_test(test_start_with_devices),
        cmocka_unit_test(test_start_devices_refused),
        cmocka_unit_test(test_list_personality),
        cmocka_unit_test(test_list_service),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_net_xfer_refused),
        cmocka_unit_test(test_net_and_serial),
        cmocka_unit_test(test_net_in_bounded),
        cmocka_unit_test(test_net_backpressure),
        cmocka_unit_test(test_net_new_client),
        cmocka_unit_test(test_net_new_client_before_poll),
        cmocka_unit_test(test_net_new_client_drops_held),
        cmocka_unit_test(test_net_new_client_mid_request),
        cmocka_unit_test(test_stop_control_guest_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
