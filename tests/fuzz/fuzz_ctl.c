/*
 * libFuzzer target for hv/ctl_frame.c, server side. The input is
 *
 *   [0..1]   seed of the generator that cuts the stream into pieces
 *   [2..]    the byte stream, as it would arrive on COM2
 *
 * The stream is copied into a heap block of exactly its size (so ASan sees
 * any read past it) and fed to ctl_parser_feed() in pieces of 1 to 5000
 * bytes, calling again until CTL_NEED_MORE as the contract asks, with an
 * occasional ctl_parser_reset() or ctl_parser_skip() as a caller's timeout
 * would do. After every call: used <= len, pending <= CTL_FRAME_MAX,
 * NEED_MORE only with the piece used up; a frame is well-formed, its
 * payload lies in the parser's buffer, its checksum recomputes; a MAC is
 * checked with a fixed key and nonce, and a frame that passes re-encodes to
 * the same bytes. Seeds: tests/fuzz/corpus/ctl/ (valid frames under this
 * key and nonce).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "ctl_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_key[] = "mayfly fuzz key";
static const uint8_t fuzz_nonce[MF_CTL_NONCE_BYTES] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
};

static struct ctl_parser parser;
static uint8_t frame_copy[CTL_FRAME_MAX];

static void check(int ok)
{
    if (!ok)
        abort();
}

static uint32_t next_random(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The checksum from the frame's fields, independently of the codec. */
static uint32_t checksum_of(const struct ctl_frame *f)
{
    uint8_t h[24];
    uint32_t crc;

    put32(h, f->hdr.magic);
    h[4] = f->hdr.version;
    h[5] = f->hdr.type;
    h[6] = (uint8_t)f->hdr.flags;
    h[7] = (uint8_t)(f->hdr.flags >> 8);
    put32(h + 8, f->hdr.seq);
    put32(h + 12, f->hdr.length);
    put32(h + 16, 0);
    put32(h + 20, f->hdr.reserved);
    crc = crc32_update(0, h, sizeof(h));
    return crc32_update(crc, f->payload, f->hdr.length);
}

static void check_frame(const struct ctl_frame *f)
{
    const uint8_t *lo = parser.buf, *hi = parser.buf + sizeof(parser.buf);
    int auth = (f->hdr.flags & MF_CTL_F_AUTH) != 0;
    size_t n;

    check(f->hdr.magic == MF_CTL_MAGIC && f->hdr.version == MF_CTL_VERSION);
    check(f->hdr.type >= 1 && f->hdr.type < MF_CTL_TYPE_COUNT);
    check((f->hdr.flags & ~MF_CTL_F_AUTH) == 0 && f->hdr.reserved == 0);
    check(f->hdr.length <= MF_CTL_PAYLOAD_MAX);
    check(f->has_mac == auth);
    check(f->payload >= lo && f->payload <= hi && f->hdr.length <= (size_t)(hi - f->payload));
    check(checksum_of(f) == f->hdr.checksum);

    if (ctl_frame_verify(f, fuzz_key, sizeof(fuzz_key), fuzz_nonce) == 0) {
        check(auth);
        n = ctl_frame_encode(frame_copy, sizeof(frame_copy), f->hdr.type, f->hdr.seq, f->payload,
                             f->hdr.length, fuzz_key, sizeof(fuzz_key), fuzz_nonce);
        check(n == 24 + f->hdr.length + MF_CTL_MAC_BYTES);
        check(!memcmp(frame_copy + 24 + f->hdr.length, f->mac, MF_CTL_MAC_BYTES));
    } else if (!auth) {
        n = ctl_frame_encode(frame_copy, sizeof(frame_copy), f->hdr.type, f->hdr.seq, f->payload,
                             f->hdr.length, NULL, 0, NULL);
        check(n == 24 + f->hdr.length);
    } else {
        return;                             /* a MAC under another key: nothing to compare */
    }
    /* The encoder gives the same checksum. */
    check((uint32_t)(frame_copy[16] | frame_copy[17] << 8 | frame_copy[18] << 16 |
                     (uint32_t)frame_copy[19] << 24) == f->hdr.checksum);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *stream;
    size_t len, pos = 0, calls = 0;
    uint32_t rng;

    if (size < 2)
        return 0;
    rng = (uint32_t)data[0] << 8 | data[1] | 0x10000u;  /* never 0 */
    len = size - 2;
    stream = malloc(len ? len : 1);
    if (!stream)
        return 0;
    memcpy(stream, data + 2, len);
    ctl_parser_init(&parser);

    while (pos < len) {
        uint32_t r = next_random(&rng);
        size_t piece = (r & 7) == 0 ? 1 + (r >> 3) % 5000 : 1 + (r >> 3) % 64;
        size_t end = pos + (piece < len - pos ? piece : len - pos);

        for (;;) {
            struct ctl_frame f;
            uint32_t bad_seq;
            char why[96];
            size_t used = (size_t)-1;
            int rc = ctl_parser_feed(&parser, stream + pos, end - pos, &used, &f, &bad_seq, why,
                                     sizeof(why));

            check(used <= end - pos);
            check(ctl_parser_pending(&parser) <= CTL_FRAME_MAX);
            check(++calls <= 4 * len + 16);     /* each call makes progress */
            pos += used;
            if (rc == CTL_NEED_MORE) {
                check(pos == end);
                break;
            }
            if (rc == CTL_FRAME) {
                check_frame(&f);
            } else {
                check(rc == CTL_BAD);
                check(why[0] != '\0' && memchr(why, '\0', sizeof(why)) != NULL);
            }
        }
        uint32_t pick = next_random(&rng) & 63;
        if (pick == 0) {
            ctl_parser_reset(&parser);
            check(ctl_parser_pending(&parser) == 0);
        } else if (pick == 1 && ctl_parser_pending(&parser)) {
            /* A caller's timeout giving up only the unfinished frame. */
            uint32_t before = ctl_parser_pending(&parser);
            ctl_parser_skip(&parser);
            check(ctl_parser_pending(&parser) < before);
        }
    }
    free(stream);
    return 0;
}
