/*
 * mfctl raw: a test helper that sends hand-made frames (or plain bytes)
 * to the control channel and prints every reply as it came, so that the
 * system tests can send what a well-behaved client never would: bad
 * checksums, truncated frames, unknown versions and types, oversized
 * lengths, out-of-order chunks, missing, wrong and replayed MACs.
 *
 * Each --type starts a frame; the frame options after it change that
 * frame. Frames are built by the shared codec (ctl_frame_encode), then
 * the header is altered as asked and its checksum and MAC recomputed
 * (unless --bad-checksum / --bad-mac say otherwise).
 *
 * Replies are read by a decoder of its own that checks framing and
 * checksum but takes any type, so that a reply the codec would refuse
 * (type 0x80 for a frame whose type was unreadable, say) is still shown
 * as it came.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crc32.h"
#include "session.h"
#include "sha256.h"

#define RAW_FRAMES_MAX  32
#define RAW_HEX_MAX     (1u << 20)  /* hex text read from HEXFILE or stdin */

enum {
    OPT_HELLO = OPT_COMMAND, OPT_TYPE, OPT_SEQ, OPT_PAYLOAD_HEX, OPT_VERSION, OPT_FLAGS,
    OPT_LENGTH, OPT_BAD_CHECKSUM, OPT_NO_MAC, OPT_BAD_MAC, OPT_TRUNCATE, OPT_NO_REPLY,
    OPT_REPLAY, OPT_SAVE, OPT_REPLIES,
};

struct raw_frame {
    int replay;                     /* the previous frame's bytes again */
    uint8_t type;
    long long seq;                  /* -1: the next one */
    uint8_t *payload;
    size_t payload_len;
    int version, flags;             /* -1: as the codec makes them */
    long long length;               /* -1: the payload's */
    int bad_checksum, no_mac, bad_mac, no_reply;
    long long truncate;             /* -1: send it whole */
};

struct raw_job {
    struct raw_frame frames[RAW_FRAMES_MAX];
    int count;
    int hello;
    const char *save;
    unsigned long long replies;     /* expected for HEXFILE */
    int bad;                        /* an option error was reported */
};

static struct session session = { .fd = -1 };
static uint8_t rx[2 * CTL_WIRE_MAX];    /* received, not yet decoded */
static size_t rx_len;

/* Hex digits to bytes; white space and ':' between bytes are ignored. */
static int hex_decode(const char *hex, size_t len, uint8_t **out, size_t *out_len,
                      const char *what)
{
    uint8_t *buf = malloc(len / 2 + 1);
    size_t n = 0;
    int hi = -1;

    if (!buf) {
        error_say("out of memory");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)hex[i], v;
        if (isspace(c) || c == ':')
            continue;
        v = isdigit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (v < 0) {
            error_say("%s: '%c' is not a hex digit", what, c);
            free(buf);
            return -1;
        }
        if (hi < 0) {
            hi = v;
        } else {
            buf[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        error_say("%s: an odd number of hex digits", what);
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

static struct raw_frame *frame_new(struct raw_job *job)
{
    struct raw_frame *f;

    if (job->count == RAW_FRAMES_MAX) {
        usage_error("raw", "at most %d frames", RAW_FRAMES_MAX);
        job->bad = 1;
        return NULL;
    }
    f = &job->frames[job->count++];
    memset(f, 0, sizeof(*f));
    f->seq = f->length = f->truncate = -1;
    f->version = f->flags = -1;
    return f;
}

static int number(const char *opt, const char *arg, unsigned long long max, long long *out)
{
    unsigned long long v;

    /* 0x... for the odd hex value (flags, types). */
    if (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X')) {
        char *end;
        v = strtoull(arg + 2, &end, 16);
        if (!arg[2] || *end || v > max)
            return usage_error("raw", "%s takes a number up to %llu, not '%s'", opt, max, arg);
    } else if (number_parse(arg, 0, max, &v) < 0) {
        return usage_error("raw", "%s takes a number up to %llu, not '%s'", opt, max, arg);
    }
    *out = (long long)v;
    return 0;
}

static int raw_option(void *ctx, int opt, const char *arg)
{
    struct raw_job *job = ctx;
    struct raw_frame *f = job->count ? &job->frames[job->count - 1] : NULL;
    long long v;

    switch (opt) {
    case OPT_HELLO: job->hello = 1; return -1;
    case OPT_SAVE: job->save = arg; return -1;
    case OPT_REPLIES:
        if (number("--replies", arg, 1000, &v))
            return EXIT_USAGE;
        job->replies = (unsigned long long)v;
        return -1;
    case OPT_TYPE:
        if (number("--type", arg, 255, &v) || !(f = frame_new(job)))
            return EXIT_USAGE;
        f->type = (uint8_t)v;
        return -1;
    case OPT_REPLAY:
        if (!f)
            return usage_error("raw", "--replay repeats the frame before it: give a --type first");
        if (!(f = frame_new(job)))
            return EXIT_USAGE;
        f->replay = 1;
        return -1;
    default:
        break;
    }
    if (!f || f->replay)
        return usage_error("raw", "the frame options (--seq, --payload-hex, --version, ...) "
                           "change the frame of the --type T before them");
    switch (opt) {
    case OPT_SEQ:
        if (number("--seq", arg, UINT32_MAX, &f->seq))
            return EXIT_USAGE;
        return -1;
    case OPT_PAYLOAD_HEX:
        free(f->payload);
        if (hex_decode(arg, strlen(arg), &f->payload, &f->payload_len, "--payload-hex") < 0)
            return EXIT_USAGE;
        if (f->payload_len > MF_CTL_PAYLOAD_MAX)
            return usage_error("raw", "--payload-hex: %zu bytes, more than a frame holds (%d); "
                               "--length can claim more", f->payload_len, MF_CTL_PAYLOAD_MAX);
        return -1;
    case OPT_VERSION:
        if (number("--version", arg, 255, &v))
            return EXIT_USAGE;
        f->version = (int)v;
        return -1;
    case OPT_FLAGS:
        if (number("--flags", arg, 0xffff, &v))
            return EXIT_USAGE;
        f->flags = (int)v;
        return -1;
    case OPT_LENGTH:
        return number("--length", arg, UINT32_MAX, &f->length) ? EXIT_USAGE : -1;
    case OPT_TRUNCATE:
        return number("--truncate", arg, CTL_WIRE_MAX, &f->truncate) ? EXIT_USAGE : -1;
    case OPT_BAD_CHECKSUM: f->bad_checksum = 1; return -1;
    case OPT_NO_MAC: f->no_mac = 1; return -1;
    case OPT_BAD_MAC: f->bad_mac = 1; return -1;
    case OPT_NO_REPLY: f->no_reply = 1; return -1;
    default: return EXIT_USAGE;
    }
}

/*
 * The bytes of frame f with seq, into wire; returns their count. A frame
 * carries a MAC when a key was given (unless --no-mac): over the HELLO
 * reply's nonce, or sixteen zero bytes without --hello.
 */
static size_t frame_build(const struct raw_frame *f, uint32_t seq, uint8_t *wire, size_t size)
{
    int mac = session.key_len && !f->no_mac;
    struct mf_ctl_header h;
    size_t n;

    n = ctl_frame_encode(wire, size, f->type, seq, f->payload, (uint32_t)f->payload_len,
                         mac ? session.key : NULL, session.key_len, session.nonce);
    if (!n)
        return 0;
    memcpy(&h, wire, sizeof(h));
    if (f->version >= 0)
        h.version = (uint8_t)f->version;
    if (f->flags >= 0)
        h.flags = (uint16_t)f->flags;
    if (f->length >= 0)
        h.length = (uint32_t)f->length;
    h.checksum = 0;
    h.checksum = crc32_update(crc32_update(0, &h, sizeof(h)), f->payload, f->payload_len);
    if (f->bad_checksum)
        h.checksum ^= 0xffffffffu;
    memcpy(wire, &h, sizeof(h));
    if (mac) {
        struct hmac_sha256_ctx ctx;
        uint8_t *out = wire + sizeof(h) + f->payload_len;

        hmac_sha256_init(&ctx, session.key, session.key_len);
        hmac_sha256_update(&ctx, session.nonce, sizeof(session.nonce));
        hmac_sha256_update(&ctx, &h, sizeof(h));
        hmac_sha256_update(&ctx, f->payload, f->payload_len);
        hmac_sha256_final(&ctx, out);
        if (f->bad_mac)
            out[0] ^= 0x01;
    }
    if (f->truncate >= 0 && (size_t)f->truncate < n)
        n = (size_t)f->truncate;
    return n;
}

/* One line per reply: what a test greps for. Returns its status. */
static int32_t reply_print(void)
{
    const struct ctl_reply *r = &session.reply;
    const char *name = ctl_type_name(r->hdr.type);
    char why[128];

    printf("reply type=0x%02x (%s) seq=%u length=%u", r->hdr.type, name ? name : "?",
           r->hdr.seq, r->hdr.length);
    if (r->has_mac)
        printf(" mac=%s", !session.key_len ? "unchecked" : session_reply_mac_ok(&session)
                                                           ? "ok" : "bad");
    if (session_reply_status(&session, why, sizeof(why)) < 0) {
        printf(" status=? (%s)\n", why);
        fflush(stdout);
        return INT32_MIN;
    }
    printf(" status=%d message=", session.status);
    json_string(stdout, session.message, strlen(session.message));
    putchar('\n');
    if (r->hdr.type == (MF_CTL_HELLO | MF_CTL_REPLY) && session.status == 0 &&
        r->hdr.length >= sizeof(struct mf_ctl_hello_reply)) {
        struct mf_ctl_hello_reply h;
        memcpy(&h, r->payload, sizeof(h));
        h.version[sizeof(h.version) - 1] = '\0';
        printf("hello protocol=%u abi=%u auth_required=%u guests_running=%u store_size=%llu "
               "store_free=%llu tsc_hz=%llu nonce=", h.protocol_version, h.abi_version,
               h.auth_required, h.guests_running, (unsigned long long)h.store_size,
               (unsigned long long)h.store_free, (unsigned long long)h.tsc_hz);
        for (size_t i = 0; i < sizeof(h.nonce); i++)
            printf("%02x", h.nonce[i]);
        printf(" version=");
        json_string(stdout, h.version, strlen(h.version));
        putchar('\n');
    }
    fflush(stdout);
    return session.status;
}

static void rx_drop(size_t n)
{
    memmove(rx, rx + n, rx_len - n);
    rx_len -= n;
}

/*
 * The next frame from the hypervisor into session.reply, whatever its
 * type: 1, 0 on timeout, -1 when the connection closed, -2 for a frame
 * with a bad header or checksum (why says which).
 */
static int raw_read(long long deadline_ms, char *why, size_t why_size)
{
    static const uint8_t magic[4] = {
        (uint8_t)MF_CTL_MAGIC, (uint8_t)(MF_CTL_MAGIC >> 8), (uint8_t)(MF_CTL_MAGIC >> 16),
        (uint8_t)(MF_CTL_MAGIC >> 24),
    };
    struct mf_ctl_header h;

    for (;;) {
        size_t at = 0;

        while (at < rx_len && memcmp(rx + at, magic, rx_len - at < 4 ? rx_len - at : 4))
            at++;
        rx_drop(at);
        if (rx_len >= sizeof(h)) {
            memcpy(&h, rx, sizeof(h));
            if (h.version != MF_CTL_VERSION || h.length > MF_CTL_PAYLOAD_MAX) {
                snprintf(why, why_size, "a frame with version %u and length %u", h.version,
                         h.length);
                rx_drop(1);
                return -2;
            }
            size_t mac = (h.flags & MF_CTL_F_AUTH) ? MF_CTL_MAC_BYTES : 0;
            size_t need = sizeof(h) + h.length + mac;
            if (rx_len >= need) {
                uint32_t sum = h.checksum;
                h.checksum = 0;
                h.checksum = crc32_update(crc32_update(0, &h, sizeof(h)), rx + sizeof(h),
                                          h.length);
                if (h.checksum != sum) {
                    snprintf(why, why_size, "a frame with a bad checksum (seq %u)", h.seq);
                    rx_drop(need);
                    return -2;
                }
                session.reply.hdr = h;
                memcpy(session.reply.payload, rx + sizeof(h), h.length);
                session.reply.has_mac = mac != 0;
                memset(session.reply.mac, 0, sizeof(session.reply.mac));
                memcpy(session.reply.mac, rx + sizeof(h) + h.length, mac);
                rx_drop(need);
                return 1;
            }
        }

        long long left = deadline_ms - monotonic_ms();
        struct pollfd pfd = { .fd = session.fd, .events = POLLIN };
        if (left <= 0)
            return 0;
        if (poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left) <= 0)
            continue;
        ssize_t n = recv(session.fd, rx + rx_len, sizeof(rx) - rx_len, 0);
        if (n <= 0) {
            snprintf(why, why_size, "%s", n < 0 ? "receive failed" : "the connection was closed");
            return -1;
        }
        rx_len += (size_t)n;
    }
}

/* Reads and prints one reply; 0, EXIT_REFUSED (an error status) or EXIT_CONNECT. */
static int reply_one(void)
{
    long long deadline = monotonic_ms() + (long long)session.timeout_s * 1000;
    char why[160];
    int r = raw_read(deadline, why, sizeof(why));

    if (r == 0) {
        printf("no reply within %llu s\n", session.timeout_s);
        fflush(stdout);
        return EXIT_CONNECT;
    }
    if (r == -1) {
        printf("connection: %s\n", why);
        fflush(stdout);
        return EXIT_CONNECT;
    }
    if (r == -2) {
        printf("bad reply: %s\n", why);
        fflush(stdout);
        return EXIT_CONNECT;
    }
    int32_t status = reply_print();
    return status == INT32_MIN ? EXIT_CONNECT : status ? EXIT_REFUSED : 0;
}

static int worse(int a, int b)
{
    return a > b ? a : b;
}

static int hex_save(FILE *f, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        fprintf(f, "%02x", data[i]);
    return ferror(f) ? -1 : 0;
}

static int read_hex_input(const char *path, uint8_t **data, size_t *len)
{
    uint8_t *text;
    size_t size = 0, cap = 4096;
    int rc;

    if (strcmp(path, "-")) {
        if (file_read(path, RAW_HEX_MAX, &text, &size) < 0)
            return -1;
    } else {
        text = malloc(cap);
        while (text) {
            size_t n = fread(text + size, 1, cap - size, stdin);
            size += n;
            if (n == 0 || size > RAW_HEX_MAX)
                break;
            if (size == cap) {
                uint8_t *grown = realloc(text, cap *= 2);
                if (!grown)
                    free(text);
                text = grown;
            }
        }
        if (!text) {
            error_say("out of memory");
            return -1;
        }
        if (size > RAW_HEX_MAX) {
            error_say("more than %u bytes of hex on stdin", RAW_HEX_MAX);
            free(text);
            return -1;
        }
    }
    rc = hex_decode((const char *)text, size, data, len, path);
    free(text);
    return rc;
}

static int raw_send(struct raw_job *job, const uint8_t *hex_bytes, size_t hex_len, FILE *save)
{
    static uint8_t wire[CTL_WIRE_MAX], prev[CTL_WIRE_MAX];
    size_t prev_len = 0;
    uint32_t next_seq = job->hello ? 2 : 1;
    int worst = 0, rc;

    for (int i = 0; i < job->count && worst != EXIT_CONNECT; i++) {
        const struct raw_frame *f = &job->frames[i];
        size_t n;

        if (f->replay) {
            memcpy(wire, prev, prev_len);
            n = prev_len;
        } else {
            uint32_t seq = f->seq >= 0 ? (uint32_t)f->seq : next_seq;
            next_seq = seq + 1;
            n = frame_build(f, seq, wire, sizeof(wire));
            if (!n) {
                error_say("raw: cannot build frame %d", i + 1);
                return EXIT_USAGE;
            }
            memcpy(prev, wire, n);
            prev_len = n;
        }
        if (save)
            hex_save(save, wire, n);
        if ((rc = session_send(&session, wire, n)) != 0)
            return rc;
        if (!(f->no_reply || (f->replay && job->frames[i - 1].no_reply)))
            worst = worse(worst, reply_one());
    }
    if (hex_bytes && worst != EXIT_CONNECT) {
        if (save)
            hex_save(save, hex_bytes, hex_len);
        if ((rc = session_send(&session, hex_bytes, hex_len)) != 0)
            return rc;
        for (unsigned long long k = 0; k < job->replies && worst != EXIT_CONNECT; k++)
            worst = worse(worst, reply_one());
    }
    return worst;
}

int cmd_raw(int argc, char **argv)
{
    static const struct option own[] = {
        { "hello", no_argument, NULL, OPT_HELLO },
        { "type", required_argument, NULL, OPT_TYPE },
        { "seq", required_argument, NULL, OPT_SEQ },
        { "payload-hex", required_argument, NULL, OPT_PAYLOAD_HEX },
        { "version", required_argument, NULL, OPT_VERSION },
        { "flags", required_argument, NULL, OPT_FLAGS },
        { "length", required_argument, NULL, OPT_LENGTH },
        { "bad-checksum", no_argument, NULL, OPT_BAD_CHECKSUM },
        { "no-mac", no_argument, NULL, OPT_NO_MAC },
        { "bad-mac", no_argument, NULL, OPT_BAD_MAC },
        { "truncate", required_argument, NULL, OPT_TRUNCATE },
        { "no-reply", no_argument, NULL, OPT_NO_REPLY },
        { "replay", no_argument, NULL, OPT_REPLAY },
        { "save", required_argument, NULL, OPT_SAVE },
        { "replies", required_argument, NULL, OPT_REPLIES },
        { NULL, 0, NULL, 0 },
    };
    static struct raw_job job;
    struct live_options o;
    uint8_t *hex_bytes = NULL;
    size_t hex_len = 0;
    FILE *save = NULL;
    int rc;

    memset(&job, 0, sizeof(job));
    job.replies = 1;
    rc = live_parse("raw", argc, argv, own, raw_option, &job, &o);
    if (rc >= 0)
        goto out;
    if (o.json) {
        rc = usage_error("raw", "raw prints one line per reply; --json is for the other "
                         "commands");
        goto out;
    }
    if (optind + 1 < argc) {
        rc = usage_error("raw", "one HEXFILE at most, not '%s' too", argv[optind + 1]);
        goto out;
    }
    if (optind == argc && !job.count && !job.hello) {
        rc = usage_error("raw", "nothing to send: give --hello, --type T or a HEXFILE");
        goto out;
    }
    if (optind < argc && read_hex_input(argv[optind], &hex_bytes, &hex_len) < 0) {
        rc = EXIT_USAGE;
        goto out;
    }
    if ((rc = session_key(&session, &o)) != 0 || (rc = session_connect(&session, "raw", &o)))
        goto out;
    if (job.save && !(save = fopen(job.save, "w"))) {
        error_say("cannot write %s", job.save);
        rc = EXIT_USAGE;
        goto out;
    }
    if (job.hello) {
        /* A real HELLO for the nonce; its reply is printed like any other. */
        rc = session_hello(&session, 0);
        if (session.reply.hdr.magic)
            reply_print();
        if (rc != 0)
            goto out;
    }
    rc = raw_send(&job, hex_bytes, hex_len, save);
    if (save) {
        fputc('\n', save);
        if (fclose(save) != 0 && rc == 0) {
            error_say("cannot write %s", job.save);
            rc = EXIT_USAGE;
        }
        save = NULL;
    }
out:
    if (save)
        fclose(save);
    session_close(&session);
    free(hex_bytes);
    for (int i = 0; i < job.count; i++)
        free(job.frames[i].payload);
    return rc;
}
