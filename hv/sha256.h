/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), incremental, for the
 * control channel's message authentication. Pure logic: compiles
 * freestanding (no floating point, no allocation) and on the host.
 *
 * A context is used as init, any number of updates, final; final wipes
 * the context, so it must be initialised again before reuse.
 */
#ifndef HV_SHA256_H
#define HV_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_BYTES 32
#define SHA256_BLOCK_BYTES  64

struct sha256_ctx {
    uint32_t state[8];
    uint64_t total;                     /* message bytes so far */
    uint32_t used;                      /* bytes waiting in block */
    uint8_t block[SHA256_BLOCK_BYTES];
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
void sha256_final(struct sha256_ctx *ctx, uint8_t out[SHA256_DIGEST_BYTES]);
/* One shot: out = SHA-256(data[len]). */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_BYTES]);

/* The inner hash already holds key ^ ipad and the outer one key ^ opad, so
 * the key itself is not kept. */
struct hmac_sha256_ctx {
    struct sha256_ctx inner;
    struct sha256_ctx outer;
};

/* Any key length; keys longer than a block (64 bytes) are hashed first,
 * as RFC 2104 says. key may be NULL when key_len is 0. */
void hmac_sha256_init(struct hmac_sha256_ctx *ctx, const uint8_t *key, size_t key_len);
void hmac_sha256_update(struct hmac_sha256_ctx *ctx, const void *data, size_t len);
void hmac_sha256_final(struct hmac_sha256_ctx *ctx, uint8_t out[SHA256_DIGEST_BYTES]);
/* One shot: out = HMAC-SHA-256(key, data[len]). */
void hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
                 uint8_t out[SHA256_DIGEST_BYTES]);

/*
 * 1 when a[n] and b[n] are equal, else 0, in time that depends only on n
 * (no early exit), so comparing a received MAC with the expected one does
 * not tell an attacker how many leading bytes were right.
 */
int mac_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
