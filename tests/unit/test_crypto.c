/*
 * Unit tests of hv/crc32.c and hv/sha256.c against published vectors:
 * the CRC-32 check value and a bit-by-bit reference, SHA-256 from FIPS
 * 180-2's examples, HMAC-SHA-256 from RFC 4231. Incremental hashing in
 * every split must equal the one-shot result.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crc32.h"
#include "sha256.h"

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
    size_t n = strlen(hex) / 2;

    assert_true(n <= max);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void assert_digest(const uint8_t *got, const char *hex)
{
    uint8_t want[64];
    size_t n = unhex(hex, want, sizeof(want));

    assert_memory_equal(got, want, n);
}

/* The CRC register shifted one bit at a time: the definition itself. */
static uint32_t crc32_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
    }
    return ~crc;
}

static void test_crc32_vectors(void **state)
{
    (void)state;
    assert_int_equal(crc32_update(0, "123456789", 9), 0xcbf43926u);
    assert_int_equal(crc32_update(0, "", 0), 0);
    assert_int_equal(crc32_update(0, NULL, 0), 0);
    assert_int_equal(crc32_update(0, "a", 1), 0xe8b7be43u);
    assert_int_equal(crc32_update(0, "abc", 3), 0x352441c2u);
    assert_int_equal(crc32_update(0, "The quick brown fox jumps over the lazy dog", 43),
                     0x414fa339u);
    /* 32 zero bytes and 32 0xff bytes (values as zlib computes them). */
    uint8_t zeros[32] = { 0 }, ones[32];
    memset(ones, 0xff, sizeof(ones));
    assert_int_equal(crc32_update(0, zeros, sizeof(zeros)), 0x190a55adu);
    assert_int_equal(crc32_update(0, ones, sizeof(ones)), 0xff6cab0bu);
}

static void test_crc32_table_and_continuation(void **state)
{
    uint8_t buf[1000];
    (void)state;

    for (unsigned b = 0; b < 256; b++) {
        uint8_t byte = (uint8_t)b;
        assert_int_equal(crc32_update(0, &byte, 1), crc32_bitwise(0, &byte, 1));
    }
    srand(1);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rand();
    uint32_t whole = crc32_update(0, buf, sizeof(buf));
    assert_int_equal(whole, crc32_bitwise(0, buf, sizeof(buf)));
    for (size_t cut = 0; cut <= sizeof(buf); cut += 37)
        assert_int_equal(crc32_update(crc32_update(0, buf, cut), buf + cut, sizeof(buf) - cut),
                         whole);
}

static void test_sha256_fips(void **state)
{
    uint8_t out[32];
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    (void)state;

    sha256("abc", 3, out);
    assert_digest(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256("", 0, out);
    assert_digest(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256(NULL, 0, out);
    assert_digest(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256(m448, strlen(m448), out);
    assert_digest(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    sha256(m896, strlen(m896), out);
    assert_digest(out, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_sha256_million_a(void **state)
{
    struct sha256_ctx ctx;
    uint8_t out[32], chunk[1000];
    (void)state;

    /* Pieces of 1, 63, 64, 65 and 807 bytes: every path of update. */
    static const size_t sizes[] = { 1, 63, 64, 65, 807 };
    memset(chunk, 'a', sizeof(chunk));
    sha256_init(&ctx);
    size_t left = 1000000, k = 0;
    while (left) {
        size_t n = sizes[k++ % 5];
        if (n > left)
            n = left;
        sha256_update(&ctx, chunk, n);
        left -= n;
    }
    sha256_final(&ctx, out);
    assert_digest(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Message lengths around the padding boundary (55, 56, 63, 64 bytes), in
 * every two-piece split, against the one-shot digest. */
static void test_sha256_incremental_equals_one_shot(void **state)
{
    uint8_t msg[200], one[32], inc[32];
    struct sha256_ctx ctx;
    (void)state;

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    for (size_t len = 0; len <= 130; len++) {
        sha256(msg, len, one);
        for (size_t cut = 0; cut <= len; cut++) {
            sha256_init(&ctx);
            sha256_update(&ctx, msg, cut);
            sha256_update(&ctx, msg + cut, len - cut);
            sha256_final(&ctx, inc);
            assert_memory_equal(one, inc, 32);
        }
    }
    /* Known digests at the boundaries (55 and 56 'a's need one and two blocks). */
    memset(msg, 'a', 64);
    sha256(msg, 55, one);
    assert_digest(one, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    sha256(msg, 56, one);
    assert_digest(one, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    sha256(msg, 64, one);
    assert_digest(one, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

struct hmac_case {
    const char *key_hex;
    const char *data_hex;
    const char *mac_hex;
};

/* RFC 4231 section 4: test cases 1, 2, 3, 4, 6 and 7 (6 and 7 use a
 * 131-byte key, longer than a block, which is hashed first). */
static const struct hmac_case rfc4231[] = {
    { "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
      "4869205468657265",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
    { "4a656665",
      "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
      "dddddddddddddddddddddddddddddddddddd",
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
    { "0102030405060708090a0b0c0d0e0f10111213141516171819",
      "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
      "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaa",
      "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a"
      "65204b6579202d2048617368204b6579204669727374",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaa",
      "5468697320697320612074657374207573696e672061206c6172676572207468"
      "616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074"
      "68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565"
      "647320746f20626520686173686564206265666f7265206265696e6720757365"
      "642062792074686520484d414320616c676f726974686d2e",
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

static void test_hmac_rfc4231(void **state)
{
    uint8_t key[200], data[200], out[32];
    (void)state;

    for (size_t c = 0; c < sizeof(rfc4231) / sizeof(rfc4231[0]); c++) {
        size_t kn = unhex(rfc4231[c].key_hex, key, sizeof(key));
        size_t dn = unhex(rfc4231[c].data_hex, data, sizeof(data));
        hmac_sha256(key, kn, data, dn, out);
        assert_digest(out, rfc4231[c].mac_hex);

        /* Byte by byte, and in two pieces at every cut. */
        struct hmac_sha256_ctx ctx;
        hmac_sha256_init(&ctx, key, kn);
        for (size_t i = 0; i < dn; i++)
            hmac_sha256_update(&ctx, data + i, 1);
        hmac_sha256_final(&ctx, out);
        assert_digest(out, rfc4231[c].mac_hex);
        for (size_t cut = 0; cut <= dn; cut++) {
            hmac_sha256_init(&ctx, key, kn);
            hmac_sha256_update(&ctx, data, cut);
            hmac_sha256_update(&ctx, data + cut, dn - cut);
            hmac_sha256_final(&ctx, out);
            assert_digest(out, rfc4231[c].mac_hex);
        }
    }
}

/* A key of exactly a block is used as is; one byte more is hashed; a key
 * longer than a block equals its own digest used as the key. */
static void test_hmac_key_lengths(void **state)
{
    uint8_t key[100], digest[32], a[32], b[32];
    (void)state;

    memset(key, 0x42, sizeof(key));
    for (size_t kn = 65; kn <= sizeof(key); kn += 7) {
        sha256(key, kn, digest);
        hmac_sha256(key, kn, "msg", 3, a);
        hmac_sha256(digest, sizeof(digest), "msg", 3, b);
        assert_memory_equal(a, b, 32);
    }
    hmac_sha256(key, 64, "msg", 3, a);
    hmac_sha256(key, 63, "msg", 3, b);
    assert_memory_not_equal(a, b, 32);
    /* An empty key (RFC 2104 allows it), NULL with length 0 included. */
    hmac_sha256(NULL, 0, "", 0, a);
    assert_digest(a, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_mac_equal(void **state)
{
    uint8_t a[32], b[32];
    (void)state;

    for (size_t i = 0; i < 32; i++)
        a[i] = b[i] = (uint8_t)(i * 13);
    assert_int_equal(mac_equal(a, b, 32), 1);
    assert_int_equal(mac_equal(a, b, 0), 1);
    for (size_t i = 0; i < 32; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(mac_equal(a, b, 32), 0);
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
    b[31] = (uint8_t)~a[31];
    assert_int_equal(mac_equal(a, b, 31), 1);
    assert_int_equal(mac_equal(a, b, 32), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_vectors),
        cmocka_unit_test(test_crc32_table_and_continuation),
        cmocka_unit_test(test_sha256_fips),
        cmocka_unit_test(test_sha256_million_a),
        cmocka_unit_test(test_sha256_incremental_equals_one_shot),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_hmac_key_lengths),
        cmocka_unit_test(test_mac_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
