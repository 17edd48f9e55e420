/*
 * Control protocol frames. The header is (de)serialised field by field
 * with shifts, never by casting the buffer, so the code is independent of
 * the host's byte order and alignment. A frame is always parsed at
 * buf[0], and the parser takes from the caller only what that frame still
 * needs. Only after a bad frame can buf hold more than the frame being
 * parsed: the bytes after the bad frame's magic, which are hunted through
 * again because a good frame may hide in them (a corrupted length makes the
 * parser swallow the frames after it).
 */
#include <stdarg.h>

#include "ctl_frame.h"
#include "crc32.h"
#include "fmt.h"
#include "lib.h"
#include "sha256.h"

_Static_assert(MF_CTL_MAC_BYTES == SHA256_DIGEST_BYTES, "the MAC is one HMAC-SHA-256");
_Static_assert(CTL_FRAME_MAX < UINT32_MAX / 2, "frame sizes fit 32 bits with room");

/* Parser states. */
#define HUNT      0     /* looking for a magic; buf holds a prefix of one */
#define HEADER    1     /* buf starts with a magic; collecting the header */
#define BODY      2     /* header checked; collecting payload and MAC */
#define DELIVERED 3     /* buf holds the frame last returned */

/* Field offsets in the wire header. */
#define OFF_MAGIC    0
#define OFF_VERSION  4
#define OFF_TYPE     5
#define OFF_FLAGS    6
#define OFF_SEQ      8
#define OFF_LENGTH   12
#define OFF_CHECKSUM 16
#define OFF_RESERVED 20

static uint32_t get_le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void header_encode(uint8_t out[CTL_HEADER_BYTES], const struct mf_ctl_header *h)
{
    put_le32(out + OFF_MAGIC, h->magic);
    out[OFF_VERSION] = h->version;
    out[OFF_TYPE] = h->type;
    put_le16(out + OFF_FLAGS, h->flags);
    put_le32(out + OFF_SEQ, h->seq);
    put_le32(out + OFF_LENGTH, h->length);
    put_le32(out + OFF_CHECKSUM, h->checksum);
    put_le32(out + OFF_RESERVED, h->reserved);
}

static void header_decode(struct mf_ctl_header *h, const uint8_t in[CTL_HEADER_BYTES])
{
    h->magic = get_le32(in + OFF_MAGIC);
    h->version = in[OFF_VERSION];
    h->type = in[OFF_TYPE];
    h->flags = (uint16_t)get_le16(in + OFF_FLAGS);
    h->seq = get_le32(in + OFF_SEQ);
    h->length = get_le32(in + OFF_LENGTH);
    h->checksum = get_le32(in + OFF_CHECKSUM);
    h->reserved = get_le32(in + OFF_RESERVED);
}

/* CRC-32 over the wire header with checksum = 0, then the payload. */
static uint32_t frame_checksum(const uint8_t header[CTL_HEADER_BYTES], const uint8_t *payload,
                               uint32_t len)
{
    static const uint8_t zero[4];
    uint32_t crc;

    crc = crc32_update(0, header, OFF_CHECKSUM);
    crc = crc32_update(crc, zero, sizeof(zero));
    crc = crc32_update(crc, header + OFF_RESERVED, CTL_HEADER_BYTES - OFF_RESERVED);
    return crc32_update(crc, payload, len);
}

static void frame_mac(uint8_t out[MF_CTL_MAC_BYTES], const uint8_t *key, size_t key_len,
                      const uint8_t *nonce, const uint8_t header[CTL_HEADER_BYTES],
                      const uint8_t *payload, uint32_t len)
{
    struct hmac_sha256_ctx ctx;

    hmac_sha256_init(&ctx, key, key_len);
    hmac_sha256_update(&ctx, nonce, MF_CTL_NONCE_BYTES);
    hmac_sha256_update(&ctx, header, CTL_HEADER_BYTES);
    hmac_sha256_update(&ctx, payload, len);
    hmac_sha256_final(&ctx, out);
}

size_t ctl_frame_encode(uint8_t *out, size_t out_size, uint8_t type, uint32_t seq,
                        const void *payload, uint32_t len, const uint8_t *key, size_t key_len,
                        const uint8_t nonce[MF_CTL_NONCE_BYTES])
{
    struct mf_ctl_header h = {
        .magic = MF_CTL_MAGIC, .version = MF_CTL_VERSION, .type = type,
        .flags = key ? MF_CTL_F_AUTH : 0, .seq = seq, .length = len,
    };
    size_t total;

    if (len > MF_CTL_PAYLOAD_MAX || (len && !payload) || (key && !nonce))
        return 0;
    total = CTL_HEADER_BYTES + (size_t)len + (key ? MF_CTL_MAC_BYTES : 0);
    if (!out || out_size < total)
        return 0;
    if (len)
        memcpy(out + CTL_HEADER_BYTES, payload, len);
    header_encode(out, &h);
    put_le32(out + OFF_CHECKSUM, frame_checksum(out, out + CTL_HEADER_BYTES, len));
    if (key)
        frame_mac(out + CTL_HEADER_BYTES + len, key, key_len, nonce, out,
                  out + CTL_HEADER_BYTES, len);
    return total;
}

void ctl_parser_init2(struct ctl_parser *p, int expect_replies)
{
    p->state = HUNT;
    p->have = 0;
    p->need = 0;
    p->expect_replies = expect_replies ? 1 : 0;
    p->skipped = 0;
}

void ctl_parser_init(struct ctl_parser *p)
{
    ctl_parser_init2(p, 0);
}

uint32_t ctl_parser_pending(const struct ctl_parser *p)
{
    return p->state == DELIVERED ? p->have - p->need : p->have;
}

void ctl_parser_reset(struct ctl_parser *p)
{
    p->state = HUNT;
    p->have = 0;
    p->need = 0;
}

static void drop_front(struct ctl_parser *p, uint32_t n)
{
    memmove(p->buf, p->buf + n, p->have - n);
    p->have -= n;
}

void ctl_parser_skip(struct ctl_parser *p)
{
    if (p->state == DELIVERED) {
        drop_front(p, p->need);     /* the frame already handed out */
        p->state = HUNT;
    }
    if (p->have)
        drop_front(p, 1);           /* the unfinished frame's magic */
    p->state = HUNT;
    p->need = 0;
}

/* Whether buf[at, have) is a prefix of the magic (or the whole magic). */
static int magic_prefix_at(const struct ctl_parser *p, uint32_t at)
{
    for (uint32_t i = 0; i < 4 && at + i < p->have; i++)
        if (p->buf[at + i] != (uint8_t)(MF_CTL_MAGIC >> (8 * i)))
            return 0;
    return 1;
}

/* HUNT: drops held bytes that cannot begin a magic; with a whole magic at
 * buf[0], moves on to HEADER. */
static void hunt_held(struct ctl_parser *p)
{
    uint32_t at = 0;

    while (at < p->have && !magic_prefix_at(p, at))
        at++;
    if (at) {
        drop_front(p, at);
        p->skipped += at;
    }
    if (p->have >= 4) {
        p->state = HEADER;
        p->need = CTL_HEADER_BYTES;
    }
}

/* HUNT with nothing held: skips input up to the magic's first byte. */
static size_t hunt_input(struct ctl_parser *p, const uint8_t *data, size_t len)
{
    size_t n = 0;

    while (n < len && data[n] != (uint8_t)MF_CTL_MAGIC)
        n++;
    p->skipped += n;
    return n;
}

static void say(char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t why_size, const char *fmt, ...)
{
    va_list ap;

    if (!why || !why_size)
        return;
    va_start(ap, fmt);
    fmt_vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
}

/* The header at buf[0] (magic already matched): 0, or -1 with why. The
 * version is checked first: under another version the rest may mean
 * something else. */
static int header_check(const struct ctl_parser *p, char *why, size_t why_size)
{
    const uint8_t *b = p->buf;
    uint32_t type = b[OFF_TYPE], base = type & ~(uint32_t)MF_CTL_REPLY;
    uint32_t is_reply = (type & MF_CTL_REPLY) ? 1 : 0;
    uint32_t flags = get_le16(b + OFF_FLAGS), length = get_le32(b + OFF_LENGTH);
    uint32_t reserved = get_le32(b + OFF_RESERVED);

    if (b[OFF_VERSION] != MF_CTL_VERSION) {
        say(why, why_size, "unknown protocol version %u (this side speaks %u: "
            "use an mfctl built with this hypervisor)", b[OFF_VERSION], MF_CTL_VERSION);
        return -1;
    }
    if (length > MF_CTL_PAYLOAD_MAX) {
        say(why, why_size, "length %u larger than the largest frame (%u)", length,
            MF_CTL_PAYLOAD_MAX);
        return -1;
    }
    /* A reply of type 0 (MF_CTL_REPLY alone) answers a frame the server
     * could not read, whose type it therefore does not know. */
    if (is_reply != p->expect_replies || (base == 0 && !is_reply) ||
        base >= MF_CTL_TYPE_COUNT) {
        say(why, why_size, "unknown %s type %u", p->expect_replies ? "reply" : "request", type);
        return -1;
    }
    if (flags & ~(uint32_t)MF_CTL_F_AUTH) {
        say(why, why_size, "unknown flags 0x%x", flags);
        return -1;
    }
    if (reserved) {
        say(why, why_size, "reserved field not zero (0x%x)", reserved);
        return -1;
    }
    return 0;
}

static uint32_t frame_bytes(const uint8_t *header)
{
    uint32_t mac = (get_le16(header + OFF_FLAGS) & MF_CTL_F_AUTH) ? MF_CTL_MAC_BYTES : 0;

    /* length was checked against MF_CTL_PAYLOAD_MAX: no overflow. */
    return CTL_HEADER_BYTES + get_le32(header + OFF_LENGTH) + mac;
}

/* The whole frame is in buf: checks the checksum and describes it in *f. */
static int frame_finish(struct ctl_parser *p, struct ctl_frame *f, char *why, size_t why_size)
{
    uint32_t length = get_le32(p->buf + OFF_LENGTH);
    uint32_t want = get_le32(p->buf + OFF_CHECKSUM);
    uint32_t got = frame_checksum(p->buf, p->buf + CTL_HEADER_BYTES, length);

    if (want != got) {
        say(why, why_size, "bad checksum (frame says 0x%08x, bytes give 0x%08x)", want, got);
        return -1;
    }
    header_decode(&f->hdr, p->buf);
    f->payload = p->buf + CTL_HEADER_BYTES;
    f->has_mac = (f->hdr.flags & MF_CTL_F_AUTH) ? 1 : 0;
    if (f->has_mac)
        memcpy(f->mac, p->buf + CTL_HEADER_BYTES + length, MF_CTL_MAC_BYTES);
    else
        memset(f->mac, 0, sizeof(f->mac));
    return 0;
}

/* A bad frame: start hunting again at the byte after its magic. */
static int frame_reject(struct ctl_parser *p, uint32_t *bad_seq)
{
    if (bad_seq && p->have >= CTL_HEADER_BYTES)
        *bad_seq = get_le32(p->buf + OFF_SEQ);
    drop_front(p, 1);
    p->state = HUNT;
    p->need = 0;
    return CTL_BAD;
}

/* Moves up to p->need - p->have bytes of input into buf; returns how many. */
static size_t take_input(struct ctl_parser *p, const uint8_t *data, size_t len)
{
    size_t n = p->need > p->have ? p->need - p->have : 0;

    if (n > len)
        n = len;
    memcpy(p->buf + p->have, data, n);
    p->have += (uint32_t)n;
    return n;
}

int ctl_parser_feed(struct ctl_parser *p, const uint8_t *data, size_t len, size_t *used,
                    struct ctl_frame *f, uint32_t *bad_seq, char *why, size_t why_size)
{
    size_t pos = 0;
    int rc = CTL_NEED_MORE;

    if (bad_seq)
        *bad_seq = 0;
    if (why && why_size)
        why[0] = '\0';
    if (p->state == DELIVERED) {
        /* Bytes after the frame were taken in while hunting: keep them. */
        drop_front(p, p->need);
        p->state = HUNT;
        p->need = 0;
    }
    for (;;) {
        if (p->state == HUNT) {
            hunt_held(p);
            if (p->state == HUNT) {
                if (p->have == 0)
                    pos += hunt_input(p, data + pos, len - pos);
                if (pos == len)
                    break;
                p->need = 4;
                pos += take_input(p, data + pos, len - pos);
                continue;
            }
        }
        if (p->have < p->need) {
            pos += take_input(p, data + pos, len - pos);
            if (p->have < p->need)
                break;
        }
        if (p->state == HEADER) {
            if (header_check(p, why, why_size) != 0) {
                rc = frame_reject(p, bad_seq);
                break;
            }
            p->state = BODY;
            p->need = frame_bytes(p->buf);
        } else {
            if (frame_finish(p, f, why, why_size) != 0) {
                rc = frame_reject(p, bad_seq);
                break;
            }
            p->state = DELIVERED;
            rc = CTL_FRAME;
            break;
        }
    }
    *used = pos;
    return rc;
}

int ctl_frame_verify(const struct ctl_frame *f, const uint8_t *key, size_t key_len,
                     const uint8_t nonce[MF_CTL_NONCE_BYTES])
{
    uint8_t header[CTL_HEADER_BYTES], mac[MF_CTL_MAC_BYTES];

    if (!f || !key || !nonce || !f->has_mac || !(f->hdr.flags & MF_CTL_F_AUTH) ||
        f->hdr.length > MF_CTL_PAYLOAD_MAX || (f->hdr.length && !f->payload))
        return -1;
    header_encode(header, &f->hdr);
    frame_mac(mac, key, key_len, nonce, header, f->payload, f->hdr.length);
    return mac_equal(mac, f->mac, MF_CTL_MAC_BYTES) ? 0 : -1;
}

void ctl_status_set(struct mf_ctl_status *st, int32_t status, const char *fmt, ...)
{
    va_list ap;

    memset(st, 0, sizeof(*st));
    st->status = status;
    if (!fmt)
        return;
    va_start(ap, fmt);
    fmt_vsnprintf(st->message, sizeof(st->message), fmt, ap);
    va_end(ap);
}
