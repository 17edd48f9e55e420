/*
 * SHA-256 after FIPS 180-4 section 6.2, HMAC after RFC 2104. Words are
 * assembled from bytes with shifts, so the code does not depend on the
 * host's byte order or on alignment.
 */
#include "sha256.h"
#include "lib.h"

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t sha256_k[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

/* FIPS 180-4 5.3.3: the initial hash value. */
static const uint32_t sha256_h0[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
    0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

#define ROTR(x, n)  (((x) >> (n)) | ((x) << (32 - (n))))
#define CH(x, y, z)  (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

/* Clears memory the compiler must not drop as a dead store: key material. */
static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;

    while (n--)
        *v++ = 0;
}

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* FIPS 180-4 6.2.2: one 64-byte block into the state. */
static void sha256_block(uint32_t state[8], const uint8_t *block)
{
    uint32_t w[64], a, b, c, d, e, f, g, h;

    for (int t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; t++)
        w[t] = SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];
    a = state[0]; b = state[1]; c = state[2]; d = state[3];
    e = state[4]; f = state[5]; g = state[6]; h = state[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = h + BSIG1(e) + CH(e, f, g) + sha256_k[t] + w[t];
        uint32_t t2 = BSIG0(a) + MAJ(a, b, c);
        h = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    state[0] += a; state[1] += b; state[2] += c; state[3] += d;
    state[4] += e; state[5] += f; state[6] += g; state[7] += h;
}

void sha256_init(struct sha256_ctx *ctx)
{
    memcpy(ctx->state, sha256_h0, sizeof(ctx->state));
    ctx->total = 0;
    ctx->used = 0;
}

void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;

    if (!len)
        return;                         /* data may be NULL */
    ctx->total += len;
    if (ctx->used) {
        size_t take = SHA256_BLOCK_BYTES - ctx->used;
        if (take > len)
            take = len;
        memcpy(ctx->block + ctx->used, p, take);
        ctx->used += (uint32_t)take;
        p += take;
        len -= take;
        if (ctx->used < SHA256_BLOCK_BYTES)
            return;
        sha256_block(ctx->state, ctx->block);
        ctx->used = 0;
    }
    for (; len >= SHA256_BLOCK_BYTES; p += SHA256_BLOCK_BYTES, len -= SHA256_BLOCK_BYTES)
        sha256_block(ctx->state, p);
    memcpy(ctx->block, p, len);
    ctx->used = (uint32_t)len;
}

/* FIPS 180-4 5.1.1: a 1 bit, zeros to 56 mod 64, the bit length big-endian. */
void sha256_final(struct sha256_ctx *ctx, uint8_t out[SHA256_DIGEST_BYTES])
{
    uint64_t bits = ctx->total * 8;

    ctx->block[ctx->used++] = 0x80;
    if (ctx->used > SHA256_BLOCK_BYTES - 8) {
        memset(ctx->block + ctx->used, 0, SHA256_BLOCK_BYTES - ctx->used);
        sha256_block(ctx->state, ctx->block);
        ctx->used = 0;
    }
    memset(ctx->block + ctx->used, 0, SHA256_BLOCK_BYTES - 8 - ctx->used);
    store_be32(ctx->block + 56, (uint32_t)(bits >> 32));
    store_be32(ctx->block + 60, (uint32_t)bits);
    sha256_block(ctx->state, ctx->block);
    for (int i = 0; i < 8; i++)
        store_be32(out + 4 * i, ctx->state[i]);
    wipe(ctx, sizeof(*ctx));
}

void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_BYTES])
{
    struct sha256_ctx ctx;

    sha256_init(&ctx);
    sha256_update(&ctx, data, len);
    sha256_final(&ctx, out);
}

void hmac_sha256_init(struct hmac_sha256_ctx *ctx, const uint8_t *key, size_t key_len)
{
    uint8_t k[SHA256_BLOCK_BYTES], pad[SHA256_BLOCK_BYTES];

    memset(k, 0, sizeof(k));
    if (key_len > SHA256_BLOCK_BYTES)
        sha256(key, key_len, k);
    else if (key_len)
        memcpy(k, key, key_len);
    for (int i = 0; i < SHA256_BLOCK_BYTES; i++)
        pad[i] = k[i] ^ 0x36;
    sha256_init(&ctx->inner);
    sha256_update(&ctx->inner, pad, sizeof(pad));
    for (int i = 0; i < SHA256_BLOCK_BYTES; i++)
        pad[i] = k[i] ^ 0x5c;
    sha256_init(&ctx->outer);
    sha256_update(&ctx->outer, pad, sizeof(pad));
    wipe(k, sizeof(k));
    wipe(pad, sizeof(pad));
}

void hmac_sha256_update(struct hmac_sha256_ctx *ctx, const void *data, size_t len)
{
    sha256_update(&ctx->inner, data, len);
}

void hmac_sha256_final(struct hmac_sha256_ctx *ctx, uint8_t out[SHA256_DIGEST_BYTES])
{
    uint8_t inner[SHA256_DIGEST_BYTES];

    sha256_final(&ctx->inner, inner);
    sha256_update(&ctx->outer, inner, sizeof(inner));
    sha256_final(&ctx->outer, out);
    wipe(inner, sizeof(inner));
}

void hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
                 uint8_t out[SHA256_DIGEST_BYTES])
{
    struct hmac_sha256_ctx ctx;

    hmac_sha256_init(&ctx, key, key_len);
    hmac_sha256_update(&ctx, data, len);
    hmac_sha256_final(&ctx, out);
}

int mac_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint32_t diff = 0;

    for (size_t i = 0; i < n; i++)
        diff |= (uint32_t)(a[i] ^ b[i]);
    /* diff is 0..255: diff - 1 borrows into bit 8 only when diff is 0. */
    return (int)(((diff - 1) >> 8) & 1);
}
