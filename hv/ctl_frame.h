/*
 * The control protocol's frames (include/mayfly/control.h): encoding, an
 * incremental parser for a byte stream, and MAC checks. Shared by the
 * hypervisor (the server, parsing requests from COM2) and mfctl (the
 * client, parsing replies). Pure logic: compiles freestanding and on the
 * host, allocates nothing.
 *
 * Every byte from the wire is hostile: the parser never reads past what it
 * was given, never believes a length above MF_CTL_PAYLOAD_MAX, and reports
 * a malformed frame (CTL_BAD, with a reason) instead of acting on it.
 */
#ifndef HV_CTL_FRAME_H
#define HV_CTL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "../include/mayfly/control.h"

#define CTL_HEADER_BYTES ((uint32_t)sizeof(struct mf_ctl_header))
#define CTL_FRAME_MAX (sizeof(struct mf_ctl_header) + MF_CTL_PAYLOAD_MAX + MF_CTL_MAC_BYTES)

/* A parsed frame. payload points into the parser's buffer and stays valid
 * until the next ctl_parser_feed() or ctl_parser_reset(). */
struct ctl_frame {
    struct mf_ctl_header hdr;           /* decoded to host order */
    const uint8_t *payload;             /* hdr.length bytes */
    uint8_t mac[MF_CTL_MAC_BYTES];      /* when has_mac */
    int has_mac;                        /* hdr.flags has MF_CTL_F_AUTH */
};

/*
 * Builds a frame in out[out_size]: the header (magic, version, type,
 * flags, seq, length, checksum), payload[len], and, when key != NULL,
 * MF_CTL_F_AUTH and the HMAC-SHA-256 over nonce || header || payload
 * (nonce must then not be NULL). Returns the frame's length, or 0 when
 * out_size is too small, len > MF_CTL_PAYLOAD_MAX, payload is NULL with
 * len > 0, or a key comes without a nonce. payload must not overlap out.
 */
size_t ctl_frame_encode(uint8_t *out, size_t out_size, uint8_t type, uint32_t seq,
                        const void *payload, uint32_t len, const uint8_t *key, size_t key_len,
                        const uint8_t nonce[MF_CTL_NONCE_BYTES]);

struct ctl_parser {
    uint32_t state;                     /* private: hunting, header, body, delivered */
    uint32_t have;                      /* bytes in buf */
    uint32_t need;                      /* bytes buf must hold before the next check */
    uint32_t expect_replies;            /* 1: mfctl, types are replies; 0: server */
    uint64_t skipped;                   /* bytes dropped while hunting for a magic,
                                           since init; the caller may clear it */
    uint8_t buf[CTL_FRAME_MAX];
};

enum { CTL_NEED_MORE = 0, CTL_FRAME = 1, CTL_BAD = 2 };

/* A parser for the server side: accepts request types 1..MF_CTL_TYPE_COUNT-1. */
void ctl_parser_init(struct ctl_parser *p);
/* expect_replies != 0: accepts only replies (request type | MF_CTL_REPLY), for mfctl. */
void ctl_parser_init2(struct ctl_parser *p, int expect_replies);

/*
 * Consumes bytes of data[len] (*used says how many) until:
 *   CTL_FRAME      a whole, well-formed frame with a good checksum: *f
 *                  describes it (the MAC is not checked here: see
 *                  ctl_frame_verify);
 *   CTL_BAD        a malformed frame after a magic: why says what was wrong
 *                  ("bad checksum", "unknown protocol version N", "unknown
 *                  request type N", "length N larger than the largest frame
 *                  (4096)", "unknown flags 0xN", "reserved field not zero")
 *                  and *bad_seq is its seq (its header had arrived), else
 *                  0. The parser resumes the hunt for a magic at the byte
 *                  after the bad frame's magic, so frames whose bytes it had
 *                  already taken in are not lost;
 *   CTL_NEED_MORE  data ran out.
 * Bytes before a magic are dropped and counted in p->skipped. Because bytes
 * already held may complete a frame after CTL_BAD, call again (with the rest
 * of data, even none) until CTL_NEED_MORE. bad_seq and why may be NULL.
 */
int ctl_parser_feed(struct ctl_parser *p, const uint8_t *data, size_t len, size_t *used,
                    struct ctl_frame *f, uint32_t *bad_seq, char *why, size_t why_size);

/* Bytes of an unfinished frame held (for the caller's truncation timeout). */
uint32_t ctl_parser_pending(const struct ctl_parser *p);
/* Drops the held bytes; keeps the mode and p->skipped. */
void ctl_parser_reset(struct ctl_parser *p);
/* Gives up the unfinished frame (a truncation timeout) but not the bytes
 * after its magic: a good frame may hide in what a corrupted length made
 * the parser take in. Feed again (even with no data) to hunt through them. */
void ctl_parser_skip(struct ctl_parser *p);

/* 0 when f carries a MAC equal (compared in constant time) to the HMAC of
 * nonce || header || payload under key; -1 otherwise, also when f has no
 * MAC or key or nonce is NULL. */
int ctl_frame_verify(const struct ctl_frame *f, const uint8_t *key, size_t key_len,
                     const uint8_t nonce[MF_CTL_NONCE_BYTES]);

/* Fills a reply's status: zeroes *st, sets status and the message from fmt
 * (fmt_snprintf's conversions; NULL for "", as on success), cut to fit. */
void ctl_status_set(struct mf_ctl_status *st, int32_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
