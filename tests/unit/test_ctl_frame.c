/*
 * Unit tests of hv/ctl_frame.c: the wire layout, round trips of every
 * request and reply type with and without a MAC, frames cut at every byte
 * and packed several to a feed, garbage, each kind of malformed header, a
 * bad checksum followed by a good frame, truncation, MAC failures, and
 * encode's refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "crc32.h"
#include "ctl_frame.h"
#include "sha256.h"

static const uint8_t key[] = "correct horse battery staple";
static const uint8_t nonce[MF_CTL_NONCE_BYTES] = {
    0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f,
};

static struct ctl_parser parser;
static uint8_t wire[4 * CTL_FRAME_MAX];

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Recomputes the checksum of the frame at f after a test edited it (over
 * at most MF_CTL_PAYLOAD_MAX payload bytes when the length was made wrong). */
static void fix_checksum(uint8_t *f)
{
    uint32_t len = le32(f + 12), crc;

    if (len > MF_CTL_PAYLOAD_MAX)
        len = MF_CTL_PAYLOAD_MAX;
    put32(f + 16, 0);
    crc = crc32_update(0, f, 24);
    crc = crc32_update(crc, f + 24, len);
    put32(f + 16, crc);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

struct result {
    int rc;
    size_t used;
    struct ctl_frame f;
    uint32_t bad_seq;
    char why[128];
};

static struct result feed(const uint8_t *data, size_t len)
{
    struct result r;
    memset(&r, 0x5a, sizeof(r));
    r.rc = ctl_parser_feed(&parser, data, len, &r.used, &r.f, &r.bad_seq, r.why, sizeof(r.why));
    assert_true(r.used <= len);
    assert_true(ctl_parser_pending(&parser) <= CTL_FRAME_MAX);
    return r;
}

static void assert_frame(const struct result *r, uint8_t type, uint32_t seq, const uint8_t *payload,
                         uint32_t len, int auth)
{
    assert_int_equal(r->rc, CTL_FRAME);
    assert_int_equal(r->f.hdr.magic, MF_CTL_MAGIC);
    assert_int_equal(r->f.hdr.version, MF_CTL_VERSION);
    assert_int_equal(r->f.hdr.type, type);
    assert_int_equal(r->f.hdr.seq, seq);
    assert_int_equal(r->f.hdr.length, len);
    assert_int_equal(r->f.hdr.flags, auth ? MF_CTL_F_AUTH : 0);
    assert_int_equal(r->f.hdr.reserved, 0);
    assert_int_equal(r->f.has_mac, auth);
    if (len)
        assert_memory_equal(r->f.payload, payload, len);
    if (auth)
        assert_int_equal(ctl_frame_verify(&r->f, key, sizeof(key), nonce), 0);
    else
        assert_int_equal(ctl_frame_verify(&r->f, key, sizeof(key), nonce), -1);
}

static void assert_bad(const struct result *r, uint32_t seq, const char *why_prefix)
{
    assert_int_equal(r->rc, CTL_BAD);
    assert_int_equal(r->bad_seq, seq);
    assert_memory_equal(r->why, why_prefix, strlen(why_prefix));
}

static size_t encode(uint8_t *out, uint8_t type, uint32_t seq, const void *payload, uint32_t len,
                     int auth)
{
    size_t n = ctl_frame_encode(out, CTL_FRAME_MAX, type, seq, payload, len,
                                auth ? key : NULL, sizeof(key), nonce);
    assert_int_equal(n, 24 + len + (auth ? 32 : 0));
    return n;
}

static int setup(void **state)
{
    (void)state;
    ctl_parser_init(&parser);
    return 0;
}

static void test_wire_layout(void **state)
{
    uint8_t payload[5] = { 1, 2, 3, 4, 5 }, mac[32];
    size_t n;
    (void)state;

    n = encode(wire, MF_CTL_STOP, 0x01020304u, payload, 5, 1);
    assert_memory_equal(wire, "MCTL", 4);
    assert_int_equal(wire[4], MF_CTL_VERSION);
    assert_int_equal(wire[5], MF_CTL_STOP);
    assert_int_equal(wire[6] | wire[7] << 8, MF_CTL_F_AUTH);
    assert_int_equal(le32(wire + 8), 0x01020304u);
    assert_int_equal(le32(wire + 12), 5);
    assert_int_equal(le32(wire + 20), 0);
    assert_memory_equal(wire + 24, payload, 5);
    /* checksum: CRC-32 of the header with checksum 0, then the payload. */
    uint8_t copy[29];
    memcpy(copy, wire, 29);
    put32(copy + 16, 0);
    assert_int_equal(le32(wire + 16), crc32_update(0, copy, 29));
    /* mac: HMAC over nonce || header (checksum in) || payload. */
    uint8_t msg[16 + 29];
    memcpy(msg, nonce, 16);
    memcpy(msg + 16, wire, 29);
    hmac_sha256(key, sizeof(key), msg, sizeof(msg), mac);
    assert_memory_equal(wire + 29, mac, 32);
    assert_int_equal(n, 61);
}

static void test_round_trip_every_type(void **state)
{
    static uint8_t payload[MF_CTL_PAYLOAD_MAX];
    static const uint32_t lengths[] = { 0, 1, 8, 168, 424, MF_CTL_PAYLOAD_MAX };
    (void)state;

    for (int auth = 0; auth <= 1; auth++) {
        for (int replies = 0; replies <= 1; replies++) {
            ctl_parser_init2(&parser, replies);
            for (uint8_t t = 1; t < MF_CTL_TYPE_COUNT; t++) {
                for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++) {
                    uint8_t type = (uint8_t)(replies ? t | MF_CTL_REPLY : t);
                    uint32_t seq = 1000u * t + (uint32_t)l;
                    fill(payload, lengths[l], seq);
                    size_t n = encode(wire, type, seq, payload, lengths[l], auth);
                    struct result r = feed(wire, n);
                    assert_int_equal(r.used, n);
                    assert_frame(&r, type, seq, payload, lengths[l], auth);
                    assert_int_equal(ctl_parser_pending(&parser), 0);
                    r = feed(NULL, 0);
                    assert_int_equal(r.rc, CTL_NEED_MORE);
                    assert_int_equal(r.used, 0);
                }
            }
            assert_int_equal(parser.skipped, 0);
        }
    }
}

/* Every frame cut into single bytes: NEED_MORE until the last. */
static void test_byte_by_byte(void **state)
{
    uint8_t payload[300];
    (void)state;

    for (int auth = 0; auth <= 1; auth++) {
        fill(payload, sizeof(payload), 9);
        size_t n = encode(wire, MF_CTL_UPLOAD_CHUNK, 77, payload, sizeof(payload), auth);
        for (size_t i = 0; i < n; i++) {
            struct result r = feed(wire + i, 1);
            assert_int_equal(r.used, 1);
            if (i + 1 < n) {
                assert_int_equal(r.rc, CTL_NEED_MORE);
                assert_int_equal(ctl_parser_pending(&parser), i + 1);
            } else {
                assert_frame(&r, MF_CTL_UPLOAD_CHUNK, 77, payload, sizeof(payload), auth);
            }
        }
    }
}

/* Two-piece splits at every cut. */
static void test_split_everywhere(void **state)
{
    uint8_t payload[40];
    (void)state;

    fill(payload, sizeof(payload), 3);
    size_t n = encode(wire, MF_CTL_START, 5, payload, sizeof(payload), 1);
    for (size_t cut = 0; cut <= n; cut++) {
        ctl_parser_init(&parser);
        struct result r = feed(wire, cut);
        if (cut < n) {
            assert_int_equal(r.rc, CTL_NEED_MORE);
            assert_int_equal(r.used, cut);
            r = feed(wire + cut, n - cut);
        }
        assert_int_equal(r.used, n - (cut < n ? cut : 0));
        assert_frame(&r, MF_CTL_START, 5, payload, sizeof(payload), 1);
    }
}

static void test_several_frames_in_one_feed(void **state)
{
    uint8_t payload[3][50];
    size_t off = 0, len[3];
    (void)state;

    for (uint32_t i = 0; i < 3; i++) {
        fill(payload[i], sizeof(payload[i]), i);
        len[i] = encode(wire + off, (uint8_t)(MF_CTL_LIST + i), 10 + i, payload[i], 10 + 20 * i,
                        (int)(i & 1));
        off += len[i];
    }
    size_t pos = 0;
    for (uint32_t i = 0; i < 3; i++) {
        struct result r = feed(wire + pos, off - pos);
        assert_int_equal(r.used, len[i]);
        assert_frame(&r, (uint8_t)(MF_CTL_LIST + i), 10 + i, payload[i], 10 + 20 * i, (int)(i & 1));
        pos += r.used;
    }
    struct result r = feed(wire + pos, off - pos);
    assert_int_equal(r.rc, CTL_NEED_MORE);
    assert_int_equal(r.used, 0);
}

/* Garbage, including lone and repeated pieces of the magic, is skipped. */
static void test_garbage_before_frame(void **state)
{
    static const char junk[] = "hello\r\nMCT MMCTMCxMC\0\xff" "MCT";
    size_t j = sizeof(junk) - 1;
    (void)state;

    memcpy(wire, junk, j);
    size_t n = encode(wire + j, MF_CTL_HELLO, 1, NULL, 0, 0);
    struct result r = feed(wire, j + n);
    assert_int_equal(r.used, j + n);
    assert_frame(&r, MF_CTL_HELLO, 1, NULL, 0, 0);
    assert_int_equal(parser.skipped, j);

    /* The same, one byte at a time. */
    ctl_parser_init(&parser);
    for (size_t i = 0; i < j + n; i++) {
        r = feed(wire + i, 1);
        assert_int_equal(r.rc, i + 1 < j + n ? CTL_NEED_MORE : CTL_FRAME);
    }
    assert_frame(&r, MF_CTL_HELLO, 1, NULL, 0, 0);
    assert_int_equal(parser.skipped, j);
}

/* Feeds until NEED_MORE or a result; returns it with the bytes used in total. */
static struct result feed_all(const uint8_t *data, size_t len, size_t *pos)
{
    struct result r = feed(data + *pos, len - *pos);
    *pos += r.used;
    return r;
}

static void test_bad_checksum_then_good_frame(void **state)
{
    uint8_t payload[20];
    size_t a, b, pos = 0;
    (void)state;

    fill(payload, sizeof(payload), 1);
    a = encode(wire, MF_CTL_STOP, 41, payload, sizeof(payload), 0);
    wire[30] ^= 0x10;                               /* a payload byte */
    b = encode(wire + a, MF_CTL_STATS, 42, payload, 8, 0);
    struct result r = feed_all(wire, a + b, &pos);
    assert_bad(&r, 41, "bad checksum");
    r = feed_all(wire, a + b, &pos);
    assert_frame(&r, MF_CTL_STATS, 42, payload, 8, 0);
    assert_int_equal(pos, a + b);
    /* The bad frame's remaining bytes were hunted through. */
    assert_int_equal(parser.skipped, a - 1);
}

/* A length made larger (but legal) swallows the next frame; after the bad
 * checksum the parser hunts through what it held and still finds it. */
static void test_corrupt_length_does_not_lose_next_frame(void **state)
{
    uint8_t payload[16], big[200];
    size_t a, b, c, pos = 0;
    (void)state;

    fill(payload, sizeof(payload), 2);
    fill(big, sizeof(big), 4);
    a = encode(wire, MF_CTL_LOGS, 7, payload, 8, 0);
    put32(wire + 12, 100);                          /* claims 100 bytes */
    b = encode(wire + a, MF_CTL_LOGS, 8, payload, 8, 1);
    c = encode(wire + a + b, MF_CTL_UPLOAD_CHUNK, 9, big, sizeof(big), 0);
    struct result r = feed_all(wire, a + b + c, &pos);
    assert_bad(&r, 7, "bad checksum");
    r = feed_all(wire, a + b + c, &pos);
    assert_frame(&r, MF_CTL_LOGS, 8, payload, 8, 1);
    r = feed_all(wire, a + b + c, &pos);
    assert_frame(&r, MF_CTL_UPLOAD_CHUNK, 9, big, sizeof(big), 0);
    assert_int_equal(pos, a + b + c);

    /* The claimed length reaching exactly to the end of the next frame,
     * which arrives in the same, last feed: the caller calls again with no
     * data and gets the frame held. */
    ctl_parser_init(&parser);
    put32(wire + 12, (uint32_t)(8 + b));
    pos = 0;
    r = feed_all(wire, a + b, &pos);
    assert_bad(&r, 7, "bad checksum");
    assert_int_equal(pos, a + b);
    r = feed(NULL, 0);
    assert_frame(&r, MF_CTL_LOGS, 8, payload, 8, 1);
}

/* Each malformed header: CTL_BAD with the seq and reason, then the next
 * good frame. */
static void expect_bad_header(void (*edit)(uint8_t *), const char *why)
{
    size_t a, b, pos = 0;
    uint8_t payload[12] = "twelve bytes";

    ctl_parser_init(&parser);
    a = encode(wire, MF_CTL_STOP, 0xdeadbeefu, payload, sizeof(payload), 1);
    edit(wire);
    fix_checksum(wire);
    b = encode(wire + a, MF_CTL_STOP, 0xdeadbef0u, payload, 8, 1);
    struct result r = feed_all(wire, a + b, &pos);
    assert_bad(&r, 0xdeadbeefu, why);
    assert_int_equal(ctl_parser_pending(&parser), 23);  /* the header, less its first byte */
    r = feed_all(wire, a + b, &pos);
    assert_frame(&r, MF_CTL_STOP, 0xdeadbef0u, payload, 8, 1);
    assert_int_equal(pos, a + b);
}

static void version_2(uint8_t *f) { f[4] = 2; }
static void version_0(uint8_t *f) { f[4] = 0; }
static void type_0(uint8_t *f) { f[5] = 0; }
static void type_count(uint8_t *f) { f[5] = MF_CTL_TYPE_COUNT; }
static void type_255(uint8_t *f) { f[5] = 255; }
static void type_reply(uint8_t *f) { f[5] = MF_CTL_STOP | MF_CTL_REPLY; }
static void length_4097(uint8_t *f) { put32(f + 12, MF_CTL_PAYLOAD_MAX + 1); }
static void length_huge(uint8_t *f) { put32(f + 12, 0xffffffe0u); }
static void flag_bit_1(uint8_t *f) { f[6] |= 2; }
static void flag_bit_15(uint8_t *f) { f[7] |= 0x80; }
static void reserved_low(uint8_t *f) { f[20] = 1; }
static void reserved_high(uint8_t *f) { f[23] = 0x80; }

static void test_bad_headers(void **state)
{
    char count_why[48];             /* one past the last type, whatever it is now */

    (void)state;
    expect_bad_header(version_2, "unknown protocol version 2");
    expect_bad_header(version_0, "unknown protocol version 0");
    expect_bad_header(type_0, "unknown request type 0");
    snprintf(count_why, sizeof(count_why), "unknown request type %d", MF_CTL_TYPE_COUNT);
    expect_bad_header(type_count, count_why);
    expect_bad_header(type_255, "unknown request type 255");
    expect_bad_header(type_reply, "unknown request type 135");
    expect_bad_header(length_4097, "length 4097 larger than the largest frame (4096)");
    expect_bad_header(length_huge, "length 4294967264 larger than the largest frame (4096)");
    expect_bad_header(flag_bit_1, "unknown flags 0x3");
    expect_bad_header(flag_bit_15, "unknown flags 0x8001");
    expect_bad_header(reserved_low, "reserved field not zero");
    expect_bad_header(reserved_high, "reserved field not zero");
}

/* mfctl's parser takes replies only. */
static void test_reply_parser_refuses_requests(void **state)
{
    size_t n, pos = 0;
    (void)state;

    ctl_parser_init2(&parser, 1);
    n = encode(wire, MF_CTL_LIST, 3, NULL, 0, 0);
    struct result r = feed_all(wire, n, &pos);
    assert_bad(&r, 3, "unknown reply type 2");
    /* Type 0 with the reply bit answers a frame the server could not read. */
    n = encode(wire, MF_CTL_REPLY, 4, NULL, 0, 0);
    pos = 0;
    r = feed_all(wire, n, &pos);
    assert_frame(&r, MF_CTL_REPLY, 4, NULL, 0, 0);
    /* A request of type 0 is still nothing. */
    ctl_parser_init2(&parser, 0);
    n = encode(wire, 0, 6, NULL, 0, 0);
    pos = 0;
    r = feed_all(wire, n, &pos);
    assert_bad(&r, 6, "unknown request type 0");
    ctl_parser_init2(&parser, 1);
    n = encode(wire, MF_CTL_LIST | MF_CTL_REPLY, 5, NULL, 0, 0);
    pos = 0;
    r = feed_all(wire, n, &pos);
    assert_frame(&r, MF_CTL_LIST | MF_CTL_REPLY, 5, NULL, 0, 0);
    /* reset keeps the mode. */
    ctl_parser_reset(&parser);
    pos = 0;
    r = feed_all(wire, n, &pos);
    assert_int_equal(r.rc, CTL_FRAME);
}

static void test_truncated_frame(void **state)
{
    uint8_t payload[100];
    size_t n;
    (void)state;

    fill(payload, sizeof(payload), 5);
    n = encode(wire, MF_CTL_UPLOAD_BEGIN, 12, payload, sizeof(payload), 1);
    for (size_t cut = 1; cut < n; cut += 13) {
        ctl_parser_init(&parser);
        struct result r = feed(wire, cut);
        assert_int_equal(r.rc, CTL_NEED_MORE);
        assert_int_equal(r.used, cut);
        assert_int_equal(ctl_parser_pending(&parser), cut);
        /* The caller's timeout drops it; the next frame parses cleanly. */
        ctl_parser_reset(&parser);
        assert_int_equal(ctl_parser_pending(&parser), 0);
        r = feed(wire, n);
        assert_frame(&r, MF_CTL_UPLOAD_BEGIN, 12, payload, sizeof(payload), 1);
    }
}

/* A forged length that never completes swallows the good frame behind
 * it; the caller's timeout gives up the forged frame with
 * ctl_parser_skip(), not the good one (ctl_parser_reset() would lose it). */
static void test_skip_keeps_frame_behind_truncated_one(void **state)
{
    uint8_t payload[8] = "8 bytes";
    size_t a, b;
    (void)state;

    a = encode(wire, MF_CTL_LOGS, 7, payload, 8, 0);
    put32(wire + 12, 4000);                         /* claims 4000 bytes */
    fix_checksum(wire);
    b = encode(wire + a, MF_CTL_STOP, 8, payload, 8, 1);
    struct result r = feed(wire, a + b);
    assert_int_equal(r.rc, CTL_NEED_MORE);
    assert_int_equal(ctl_parser_pending(&parser), a + b);
    ctl_parser_skip(&parser);
    r = feed(NULL, 0);
    assert_frame(&r, MF_CTL_STOP, 8, payload, 8, 1);
    r = feed(NULL, 0);
    assert_int_equal(r.rc, CTL_NEED_MORE);
    assert_int_equal(ctl_parser_pending(&parser), 0);

    /* Skipped right after a frame was handed out: that frame stays handed
     * out, the unfinished one behind it goes, the next parses. */
    ctl_parser_init(&parser);
    b = encode(wire, MF_CTL_STOP, 9, payload, 8, 0);
    memcpy(wire + b, wire, 10);                     /* 10 bytes of a second one */
    r = feed(wire, b + 10);
    assert_frame(&r, MF_CTL_STOP, 9, payload, 8, 0);
    ctl_parser_skip(&parser);
    r = feed(NULL, 0);
    assert_int_equal(r.rc, CTL_NEED_MORE);
    assert_int_equal(ctl_parser_pending(&parser), 0);
    b = encode(wire, MF_CTL_STOP, 10, payload, 8, 1);
    r = feed(wire, b);
    assert_frame(&r, MF_CTL_STOP, 10, payload, 8, 1);
}

static void test_auth_failures(void **state)
{
    uint8_t payload[64], other_nonce[MF_CTL_NONCE_BYTES];
    size_t n;
    struct result r;
    (void)state;

    fill(payload, sizeof(payload), 8);
    memcpy(other_nonce, nonce, sizeof(other_nonce));
    other_nonce[15] ^= 1;
    n = encode(wire, MF_CTL_START, 99, payload, sizeof(payload), 1);

    r = feed(wire, n);
    assert_int_equal(r.rc, CTL_FRAME);
    assert_int_equal(ctl_frame_verify(&r.f, key, sizeof(key), nonce), 0);
    /* (HMAC pads short keys with zeros: dropping the key's final NUL would
     * not change the MAC, dropping a letter does.) */
    assert_int_equal(ctl_frame_verify(&r.f, key, sizeof(key) - 2, nonce), -1);
    uint8_t near_key[sizeof(key)];
    memcpy(near_key, key, sizeof(key));
    near_key[0] ^= 1;
    assert_int_equal(ctl_frame_verify(&r.f, near_key, sizeof(near_key), nonce), -1);
    assert_int_equal(ctl_frame_verify(&r.f, (const uint8_t *)"wrong key", 9, nonce), -1);
    assert_int_equal(ctl_frame_verify(&r.f, key, sizeof(key), other_nonce), -1);
    assert_int_equal(ctl_frame_verify(&r.f, NULL, 0, nonce), -1);
    assert_int_equal(ctl_frame_verify(&r.f, key, sizeof(key), NULL), -1);

    /* Every payload bit flipped (checksum fixed, so only the MAC can tell). */
    for (size_t bit = 0; bit < 8 * sizeof(payload); bit += 5) {
        wire[24 + bit / 8] ^= (uint8_t)(1u << bit % 8);
        fix_checksum(wire);
        r = feed(wire, n);
        assert_int_equal(r.rc, CTL_FRAME);
        assert_int_equal(ctl_frame_verify(&r.f, key, sizeof(key), nonce), -1);
        wire[24 + bit / 8] ^= (uint8_t)(1u << bit % 8);
    }
    /* The seq and the MAC itself. */
    put32(wire + 8, 100);
    fix_checksum(wire);
    r = feed(wire, n);
    assert_int_equal(ctl_frame_verify(&r.f, key, sizeof(key), nonce), -1);
    put32(wire + 8, 99);
    fix_checksum(wire);
    wire[n - 1] ^= 0x80;
    r = feed(wire, n);
    assert_int_equal(r.rc, CTL_FRAME);                  /* the MAC is not checksummed */
    assert_int_equal(ctl_frame_verify(&r.f, key, sizeof(key), nonce), -1);

    /* No MAC: verify fails whatever the key. */
    n = encode(wire, MF_CTL_START, 100, payload, sizeof(payload), 0);
    r = feed(wire, n);
    assert_frame(&r, MF_CTL_START, 100, payload, sizeof(payload), 0);
    assert_int_equal(ctl_frame_verify(&r.f, key, sizeof(key), nonce), -1);

    /* The MAC stripped and the flag cleared: a valid unauthenticated frame,
     * which verify still refuses. */
    n = encode(wire, MF_CTL_START, 101, payload, sizeof(payload), 1);
    wire[6] = 0;
    fix_checksum(wire);
    r = feed(wire, n - 32);
    assert_int_equal(r.rc, CTL_FRAME);
    assert_int_equal(ctl_frame_verify(&r.f, key, sizeof(key), nonce), -1);

    /* A forged has_mac on a frame without the flag is refused too. */
    r.f.has_mac = 1;
    assert_int_equal(ctl_frame_verify(&r.f, key, sizeof(key), nonce), -1);
}

static void test_encode_refusals(void **state)
{
    static uint8_t payload[MF_CTL_PAYLOAD_MAX + 1];
    (void)state;

    /* Every buffer size short of the frame. */
    for (size_t size = 0; size < 24 + 10 + 32; size++) {
        assert_int_equal(ctl_frame_encode(wire, size, MF_CTL_LIST, 1, payload, 10, key,
                                          sizeof(key), nonce), 0);
        if (size < 24 + 10)
            assert_int_equal(ctl_frame_encode(wire, size, MF_CTL_LIST, 1, payload, 10, NULL, 0,
                                              NULL), 0);
    }
    assert_int_equal(ctl_frame_encode(wire, 66, MF_CTL_LIST, 1, payload, 10, key, sizeof(key),
                                      nonce), 66);
    assert_int_equal(ctl_frame_encode(wire, 34, MF_CTL_LIST, 1, payload, 10, NULL, 0, NULL), 34);
    /* Payloads over the limit, however big the buffer. */
    assert_int_equal(ctl_frame_encode(wire, sizeof(wire), MF_CTL_LIST, 1, payload,
                                      MF_CTL_PAYLOAD_MAX + 1, NULL, 0, NULL), 0);
    assert_int_equal(ctl_frame_encode(wire, sizeof(wire), MF_CTL_LIST, 1, payload, 0xffffffffu,
                                      key, sizeof(key), nonce), 0);
    assert_int_equal(ctl_frame_encode(wire, sizeof(wire), MF_CTL_LIST, 1, payload,
                                      MF_CTL_PAYLOAD_MAX, key, sizeof(key), nonce),
                     CTL_FRAME_MAX);
    /* No payload for a length, and a key without a nonce. */
    assert_int_equal(ctl_frame_encode(wire, sizeof(wire), MF_CTL_LIST, 1, NULL, 4, NULL, 0, NULL),
                     0);
    assert_int_equal(ctl_frame_encode(wire, sizeof(wire), MF_CTL_LIST, 1, payload, 4, key,
                                      sizeof(key), NULL), 0);
    assert_int_equal(ctl_frame_encode(NULL, 100, MF_CTL_LIST, 1, payload, 4, NULL, 0, NULL), 0);
}

/* Frames with random lengths and random garbage between them, fed in
 * random pieces: every frame comes out, in order, and nothing else. */
static void test_random_stream(void **state)
{
    static uint8_t stream[64 * 1024], payload[MF_CTL_PAYLOAD_MAX];
    uint32_t lens[64], count = 0, got = 0;
    size_t off = 0, pos = 0;
    (void)state;

    srand(7);
    while (count < 64) {
        uint32_t len = (uint32_t)rand() % 600, gap = (uint32_t)rand() % 8;
        if (off + gap + CTL_FRAME_MAX > sizeof(stream))
            break;
        for (uint32_t i = 0; i < gap; i++)
            stream[off++] = (uint8_t)("MCxyz\n"[rand() % 6]);
        fill(payload, len, count);
        lens[count] = len;
        off += encode(stream + off, (uint8_t)(1 + count % 9), count, payload, len, (int)(count % 3 == 0));
        count++;
    }
    while (pos < off) {
        size_t piece = 1 + (size_t)rand() % 700;
        if (piece > off - pos)
            piece = off - pos;
        size_t end = pos + piece;
        for (;;) {
            struct result r = feed(stream + pos, end - pos);
            pos += r.used;
            if (r.rc == CTL_NEED_MORE)
                break;
            assert_int_equal(r.rc, CTL_FRAME);
            fill(payload, lens[got], got);
            assert_frame(&r, (uint8_t)(1 + got % 9), got, payload, lens[got], got % 3 == 0);
            got++;
        }
        assert_int_equal(pos, end);
    }
    assert_int_equal(got, count);
}

static void test_status_set(void **state)
{
    struct mf_ctl_status st;
    char longer[300];
    (void)state;

    memset(&st, 0x77, sizeof(st));
    ctl_status_set(&st, 0, NULL);
    assert_int_equal(st.status, 0);
    assert_int_equal(st.reserved, 0);
    assert_string_equal(st.message, "");
    for (size_t i = 0; i < sizeof(st.message); i++)
        assert_int_equal(st.message[i], 0);

    ctl_status_set(&st, -1, "no guest %u: see mfctl list", 42u);
    assert_int_equal(st.status, -1);
    assert_string_equal(st.message, "no guest 42: see mfctl list");

    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    ctl_status_set(&st, -7, "%s", longer);
    assert_int_equal(strlen(st.message), MF_CTL_MESSAGE_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_wire_layout, setup),
        cmocka_unit_test_setup(test_round_trip_every_type, setup),
        cmocka_unit_test_setup(test_byte_by_byte, setup),
        cmocka_unit_test_setup(test_split_everywhere, setup),
        cmocka_unit_test_setup(test_several_frames_in_one_feed, setup),
        cmocka_unit_test_setup(test_garbage_before_frame, setup),
        cmocka_unit_test_setup(test_bad_checksum_then_good_frame, setup),
        cmocka_unit_test_setup(test_corrupt_length_does_not_lose_next_frame, setup),
        cmocka_unit_test_setup(test_bad_headers, setup),
        cmocka_unit_test_setup(test_reply_parser_refuses_requests, setup),
        cmocka_unit_test_setup(test_truncated_frame, setup),
        cmocka_unit_test_setup(test_skip_keeps_frame_behind_truncated_one, setup),
        cmocka_unit_test_setup(test_auth_failures, setup),
        cmocka_unit_test_setup(test_encode_refusals, setup),
        cmocka_unit_test_setup(test_random_stream, setup),
        cmocka_unit_test_setup(test_status_set, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
