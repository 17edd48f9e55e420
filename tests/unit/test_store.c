/*
 * Unit tests of hv/store.c: a whole upload in chunks, every way an upload
 * is refused or dropped (and that it then stays invisible and writes
 * nothing), names, sizes, room, the 32-image limit, replacement, and a
 * long random run checked against a plain list of what should be stored.
 * The store is a heap block of exactly its size, so ASan reports any
 * write past it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store.h"
#include "crc32.h"
#include "../include/mayfly/abi.h"

#define FILL 0xa5

static struct store st;
static uint8_t *region;
static uint64_t region_size;
static uint8_t *snapshot;
static char why[200];

static void store_new(uint64_t size)
{
    free(region);
    free(snapshot);
    region_size = size;
    region = malloc(size);
    snapshot = malloc(size);
    assert_non_null(region);
    assert_non_null(snapshot);
    memset(region, FILL, size);
    store_init(&st, region, size);
}

static int teardown(void **state)
{
    (void)state;
    free(region);
    free(snapshot);
    region = snapshot = NULL;
    return 0;
}

static void take_snapshot(void)
{
    memcpy(snapshot, region, region_size);
}

static void expect_unchanged(void)
{
    assert_memory_equal(region, snapshot, region_size);
}

static void pattern(uint8_t *p, uint64_t n, uint32_t seed)
{
    for (uint64_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static uint32_t crc_of(const uint8_t *p, uint64_t n)
{
    return crc32_update(0, p, n);
}

/* Expects rc and, for an error, a reason. */
static void expect_rc(int rc, int want)
{
    assert_int_equal(rc, want);
    if (want)
        assert_true(why[0] != '\0');
    why[0] = '\0';
}

static void send_chunks(const uint8_t *data, uint64_t size, uint64_t chunk)
{
    for (uint64_t off = 0; off < size; off += chunk) {
        uint64_t len = size - off < chunk ? size - off : chunk;
        expect_rc(store_chunk(&st, off, data + off, len, why, sizeof(why)), 0);
    }
}

/* begin, chunks, finish (checking what it hands back) and commit. */
static void upload(const char *name, const uint8_t *data, uint64_t size, uint64_t chunk)
{
    const struct store_image *before;
    const uint8_t *got;
    uint64_t got_size;

    expect_rc(store_begin(&st, name, size, why, sizeof(why)), 0);
    send_chunks(data, size, chunk);
    expect_rc(store_finish(&st, crc_of(data, size), &got, &got_size, why, sizeof(why)), 0);
    assert_int_equal(got_size, size);
    assert_memory_equal(got, data, size);
    /* Not visible before the commit: absent, or still the old copy. */
    before = store_find(&st, name);
    assert_true(before == NULL || before->offset != (uint64_t)(got - region));
    store_commit(&st);
}

static void expect_image(const char *name, const uint8_t *data, uint64_t size)
{
    const struct store_image *im = store_find(&st, name);

    assert_non_null(im);
    assert_string_equal(im->name, name);
    assert_int_equal(im->size, size);
    assert_true(im->offset <= region_size && size <= region_size - im->offset);
    assert_memory_equal(region + im->offset, data, size);
}

static int visible_count(void)
{
    int n = 0;
    for (int i = 0; i < STORE_IMAGES_MAX; i++)
        n += st.images[i].valid != 0;
    return n;
}

/* Visible images lie inside the store, never overlap, have distinct
 * names, and the free bytes are the store less their sizes. */
static void check_invariants(void)
{
    uint64_t used = 0;

    for (int i = 0; i < STORE_IMAGES_MAX; i++) {
        const struct store_image *a = &st.images[i];
        if (!a->valid)
            continue;
        assert_true(a->size > 0);
        assert_true(a->offset <= region_size && a->size <= region_size - a->offset);
        assert_ptr_equal(store_find(&st, a->name), a);
        used += a->size;
        for (int j = i + 1; j < STORE_IMAGES_MAX; j++) {
            const struct store_image *b = &st.images[j];
            if (!b->valid)
                continue;
            assert_true(a->offset + a->size <= b->offset || b->offset + b->size <= a->offset);
            assert_string_not_equal(a->name, b->name);
        }
    }
    assert_int_equal(store_free_bytes(&st), region_size - used);
}

static void test_full_upload(void **state)
{
    uint8_t data[1000];

    (void)state;
    store_new(4096);
    assert_int_equal(store_free_bytes(&st), 4096);
    assert_null(store_find(&st, "kernel.elf"));
    pattern(data, sizeof(data), 1);
    upload("kernel.elf", data, sizeof(data), 300);
    expect_image("kernel.elf", data, sizeof(data));
    assert_int_equal(store_free_bytes(&st), 4096 - 1000);
    assert_null(store_find(&st, "kernel"));
    assert_null(store_find(&st, "kernel.elf2"));
    check_invariants();
}

/* Chunks of one byte, and a second image beside the first. */
static void test_two_images(void **state)
{
    uint8_t a[37], b[500];

    (void)state;
    store_new(2048);
    pattern(a, sizeof(a), 2);
    pattern(b, sizeof(b), 3);
    upload("a", a, sizeof(a), 1);
    upload("B-2_x.y", b, sizeof(b), 499);
    expect_image("a", a, sizeof(a));
    expect_image("B-2_x.y", b, sizeof(b));
    check_invariants();
}

static void test_store_exactly_full(void **state)
{
    uint8_t data[512];

    (void)state;
    store_new(512);
    pattern(data, sizeof(data), 4);
    upload("all", data, sizeof(data), 512);
    expect_image("all", data, sizeof(data));
    assert_int_equal(store_free_bytes(&st), 0);
    expect_rc(store_begin(&st, "more", 1, why, sizeof(why)), -MF_ENOMEM);
}

static void test_chunk_out_of_order(void **state)
{
    uint8_t data[100];
    const uint8_t *got;
    uint64_t size;

    (void)state;
    store_new(1024);
    pattern(data, sizeof(data), 5);
    expect_rc(store_begin(&st, "img", sizeof(data), why, sizeof(why)), 0);
    expect_rc(store_chunk(&st, 0, data, 50, why, sizeof(why)), 0);
    take_snapshot();
    expect_rc(store_chunk(&st, 60, data + 60, 10, why, sizeof(why)), -MF_EINVAL);
    expect_rc(store_chunk(&st, 49, data + 49, 10, why, sizeof(why)), -MF_EINVAL);
    expect_rc(store_chunk(&st, 0, data, 10, why, sizeof(why)), -MF_EINVAL);
    expect_rc(store_chunk(&st, UINT64_MAX, data, 10, why, sizeof(why)), -MF_EINVAL);
    expect_unchanged();
    /* The upload goes on from where it was. */
    expect_rc(store_chunk(&st, 50, data + 50, 50, why, sizeof(why)), 0);
    expect_rc(store_finish(&st, crc_of(data, sizeof(data)), &got, &size, why, sizeof(why)), 0);
    store_commit(&st);
    expect_image("img", data, sizeof(data));
}

static void test_chunk_past_size(void **state)
{
    uint8_t data[200];
    const uint8_t *got;
    uint64_t size;

    (void)state;
    store_new(1024);
    pattern(data, sizeof(data), 6);
    expect_rc(store_begin(&st, "img", 100, why, sizeof(why)), 0);
    take_snapshot();
    expect_rc(store_chunk(&st, 0, data, 101, why, sizeof(why)), -MF_ERANGE);
    expect_rc(store_chunk(&st, 0, data, UINT64_MAX, why, sizeof(why)), -MF_ERANGE);
    expect_unchanged();
    expect_rc(store_chunk(&st, 0, data, 60, why, sizeof(why)), 0);
    take_snapshot();
    expect_rc(store_chunk(&st, 60, data + 60, 41, why, sizeof(why)), -MF_ERANGE);
    expect_unchanged();
    expect_rc(store_chunk(&st, 60, data + 60, 40, why, sizeof(why)), 0);
    expect_rc(store_chunk(&st, 100, data + 100, 1, why, sizeof(why)), -MF_ERANGE);
    expect_rc(store_chunk(&st, 100, data + 100, 0, why, sizeof(why)), 0);
    expect_rc(store_finish(&st, crc_of(data, 100), &got, &size, why, sizeof(why)), 0);
    store_commit(&st);
    expect_image("img", data, 100);
}

static void test_no_upload(void **state)
{
    uint8_t data[8] = { 0 };
    const uint8_t *got;
    uint64_t size;

    (void)state;
    store_new(1024);
    take_snapshot();
    expect_rc(store_chunk(&st, 0, data, sizeof(data), why, sizeof(why)), -MF_EINVAL);
    expect_rc(store_finish(&st, 0, &got, &size, why, sizeof(why)), -MF_EINVAL);
    store_abort(&st);
    expect_unchanged();
    assert_int_equal(visible_count(), 0);
}

/* The upload is gone after a failed finish: no retry, nothing visible. */
static void expect_dropped(const char *name)
{
    uint8_t byte = 0;
    const uint8_t *got;
    uint64_t size;

    assert_null(store_find(&st, name));
    expect_rc(store_chunk(&st, 0, &byte, 1, why, sizeof(why)), -MF_EINVAL);
    expect_rc(store_finish(&st, 0, &got, &size, why, sizeof(why)), -MF_EINVAL);
    assert_null(store_find(&st, name));
}

/* A refused finish changes nothing: the missing bytes may still come,
 * then the same upload finishes. */
static void test_finish_incomplete(void **state)
{
    uint8_t data[100];
    const uint8_t *got;
    uint64_t size;

    (void)state;
    store_new(1024);
    pattern(data, sizeof(data), 7);
    expect_rc(store_begin(&st, "short", sizeof(data), why, sizeof(why)), 0);
    expect_rc(store_chunk(&st, 0, data, 99, why, sizeof(why)), 0);
    expect_rc(store_finish(&st, crc_of(data, 99), &got, &size, why, sizeof(why)), -MF_EINVAL);
    assert_null(store_find(&st, "short"));
    store_commit(&st);                  /* not finished: publishes nothing */
    assert_null(store_find(&st, "short"));
    expect_rc(store_chunk(&st, 99, data + 99, 1, why, sizeof(why)), 0);
    expect_rc(store_finish(&st, crc_of(data, sizeof(data)), &got, &size, why, sizeof(why)), 0);
    store_commit(&st);
    expect_image("short", data, sizeof(data));
    expect_rc(store_begin(&st, "none", 10, why, sizeof(why)), 0);
    expect_rc(store_finish(&st, crc_of(data, 0), &got, &size, why, sizeof(why)), -MF_EINVAL);
    assert_null(store_find(&st, "none"));
    store_abort(&st);
    expect_dropped("none");
    assert_int_equal(store_free_bytes(&st), 1024 - sizeof(data));
}

/* A wrong CRC is refused and publishes nothing; END again with the right
 * one (the bytes were fine, the client's sum was not) still works. */
static void test_finish_wrong_crc(void **state)
{
    uint8_t data[300];
    const uint8_t *got;
    uint64_t size;

    (void)state;
    store_new(1024);
    pattern(data, sizeof(data), 8);
    expect_rc(store_begin(&st, "bad", sizeof(data), why, sizeof(why)), 0);
    send_chunks(data, sizeof(data), 128);
    expect_rc(store_finish(&st, crc_of(data, sizeof(data)) ^ 1, &got, &size, why, sizeof(why)),
              -MF_EINVAL);
    store_commit(&st);
    assert_null(store_find(&st, "bad"));
    assert_int_equal(store_free_bytes(&st), 1024);
    expect_rc(store_finish(&st, crc_of(data, sizeof(data)), &got, &size, why, sizeof(why)), 0);
    store_commit(&st);
    expect_image("bad", data, sizeof(data));
    /* The same name uploads fine afterwards. */
    upload("bad", data, sizeof(data), 300);
    expect_image("bad", data, sizeof(data));
}

static void test_abort(void **state)
{
    uint8_t data[64];
    const uint8_t *got;
    uint64_t size;

    (void)state;
    store_new(1024);
    pattern(data, sizeof(data), 9);
    /* Part way through. */
    expect_rc(store_begin(&st, "gone", sizeof(data), why, sizeof(why)), 0);
    expect_rc(store_chunk(&st, 0, data, 32, why, sizeof(why)), 0);
    store_abort(&st);
    expect_dropped("gone");
    /* Finished but rejected (the caller's ELF check), as control.c does. */
    expect_rc(store_begin(&st, "gone", sizeof(data), why, sizeof(why)), 0);
    send_chunks(data, sizeof(data), 64);
    expect_rc(store_finish(&st, crc_of(data, sizeof(data)), &got, &size, why, sizeof(why)), 0);
    store_abort(&st);
    expect_dropped("gone");
    assert_int_equal(visible_count(), 0);
    assert_int_equal(store_free_bytes(&st), 1024);
}

/*
 * BUG (latent): store_commit() does not check that there is a finished
 * upload. Called after a begin and half the chunks, after store_abort(),
 * or after a failed store_finish(), it still makes the upload visible,
 * with bytes that were never sent or never checked, though store.h
 * promises that an unfinished upload never becomes visible. control.c
 * calls it only after a successful finish today, so this is not reachable
 * from the wire yet. Expected: each commit below does nothing.
 */
static void test_commit_needs_finished_upload(void **state)
{
    uint8_t data[100];
    const uint8_t *got;
    uint64_t size;

    (void)state;
    store_new(1024);
    pattern(data, sizeof(data), 20);
    expect_rc(store_begin(&st, "half", sizeof(data), why, sizeof(why)), 0);
    expect_rc(store_chunk(&st, 0, data, 50, why, sizeof(why)), 0);
    store_commit(&st);
    assert_null(store_find(&st, "half"));
    expect_rc(store_begin(&st, "aborted", sizeof(data), why, sizeof(why)), 0);
    store_abort(&st);
    store_commit(&st);
    assert_null(store_find(&st, "aborted"));
    expect_rc(store_begin(&st, "badcrc", sizeof(data), why, sizeof(why)), 0);
    send_chunks(data, sizeof(data), 100);
    expect_rc(store_finish(&st, crc_of(data, sizeof(data)) ^ 1, &got, &size, why, sizeof(why)),
              -MF_EINVAL);
    store_commit(&st);
    assert_null(store_find(&st, "badcrc"));
    assert_int_equal(store_free_bytes(&st), 1024);
}

/* An abandoned or aborted upload does not take the old image away. */
static void test_failed_replacement_keeps_old(void **state)
{
    uint8_t v1[100], v2[100];
    const uint8_t *got;
    uint64_t size;

    (void)state;
    store_new(1024);
    pattern(v1, sizeof(v1), 10);
    pattern(v2, sizeof(v2), 11);
    upload("img", v1, sizeof(v1), 100);
    expect_rc(store_begin(&st, "img", sizeof(v2), why, sizeof(why)), 0);
    send_chunks(v2, sizeof(v2), 30);
    expect_rc(store_finish(&st, crc_of(v2, sizeof(v2)) ^ 1, &got, &size, why, sizeof(why)),
              -MF_EINVAL);
    expect_image("img", v1, sizeof(v1));
    expect_rc(store_begin(&st, "img", sizeof(v2), why, sizeof(why)), 0);
    send_chunks(v2, sizeof(v2), 30);
    store_abort(&st);
    expect_image("img", v1, sizeof(v1));
    check_invariants();
}

static void test_begin_abandons(void **state)
{
    uint8_t a[100], b[80];
    const uint8_t *got;
    uint64_t size;

    (void)state;
    store_new(1024);
    pattern(a, sizeof(a), 12);
    pattern(b, sizeof(b), 13);
    expect_rc(store_begin(&st, "old", sizeof(a), why, sizeof(why)), 0);
    expect_rc(store_chunk(&st, 0, a, 50, why, sizeof(why)), 0);
    expect_rc(store_begin(&st, "new", sizeof(b), why, sizeof(why)), 0);
    /* The old upload's next chunk is now out of order. */
    expect_rc(store_chunk(&st, 50, a + 50, 50, why, sizeof(why)), -MF_EINVAL);
    send_chunks(b, sizeof(b), 33);
    expect_rc(store_finish(&st, crc_of(b, sizeof(b)), &got, &size, why, sizeof(why)), 0);
    store_commit(&st);
    expect_image("new", b, sizeof(b));
    assert_null(store_find(&st, "old"));
    assert_int_equal(visible_count(), 1);
    check_invariants();
}

/* Issue 8 item 9: a refused BEGIN (bad name, size 0, too large, no room,
 * the image limit) leaves the upload in progress as it was: it goes on
 * and is stored, and the refused one never appears. */
static void test_refused_begin_keeps_upload(void **state)
{
    uint8_t a[100], small[8];
    char name[24];
    const uint8_t *got;
    uint64_t size;

    (void)state;
    store_new(STORE_IMAGES_MAX * 8 + 2 * sizeof(a));
    pattern(a, sizeof(a), 14);
    pattern(small, sizeof(small), 15);
    expect_rc(store_begin(&st, "keep", sizeof(a), why, sizeof(why)), 0);
    expect_rc(store_chunk(&st, 0, a, 40, why, sizeof(why)), 0);
    expect_rc(store_begin(&st, "bad name", sizeof(a), why, sizeof(why)), -MF_EINVAL);
    expect_rc(store_begin(&st, "", sizeof(a), why, sizeof(why)), -MF_EINVAL);
    expect_rc(store_begin(&st, "zero", 0, why, sizeof(why)), -MF_ERANGE);
    expect_rc(store_begin(&st, "huge", region_size + 1, why, sizeof(why)), -MF_ERANGE);
    expect_rc(store_chunk(&st, 40, a + 40, 60, why, sizeof(why)), 0);
    expect_rc(store_finish(&st, crc_of(a, sizeof(a)), &got, &size, why, sizeof(why)), 0);
    store_commit(&st);
    expect_image("keep", a, sizeof(a));
    assert_null(store_find(&st, "zero"));
    assert_null(store_find(&st, "huge"));
    /* Fill the 32 slots, then: no room, and a 33rd name, both refused
     * while a replacement of one of them is half-way. */
    for (int i = 1; i < STORE_IMAGES_MAX; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        upload(name, small, sizeof(small), 8);
    }
    expect_rc(store_begin(&st, "s1", sizeof(small), why, sizeof(why)), 0);
    expect_rc(store_chunk(&st, 0, small, 4, why, sizeof(why)), 0);
    expect_rc(store_begin(&st, "keep", region_size, why, sizeof(why)), -MF_ENOMEM);
    expect_rc(store_begin(&st, "one-more", 8, why, sizeof(why)), -MF_ENOMEM);
    expect_rc(store_chunk(&st, 4, small + 4, 4, why, sizeof(why)), 0);
    expect_rc(store_finish(&st, crc_of(small, sizeof(small)), &got, &size, why, sizeof(why)), 0);
    store_commit(&st);
    expect_image("s1", small, sizeof(small));
    expect_image("keep", a, sizeof(a));
    assert_null(store_find(&st, "one-more"));
    check_invariants();
}

static void test_sizes(void **state)
{
    (void)state;
    store_new(1024);
    take_snapshot();
    expect_rc(store_begin(&st, "img", 0, why, sizeof(why)), -MF_ERANGE);
    expect_rc(store_begin(&st, "img", 1025, why, sizeof(why)), -MF_ERANGE);
    expect_rc(store_begin(&st, "img", UINT64_MAX, why, sizeof(why)), -MF_ERANGE);
    expect_rc(store_begin(&st, "img", 1ULL << 63, why, sizeof(why)), -MF_ERANGE);
    expect_dropped("img");
    expect_rc(store_begin(&st, "img", 1024, why, sizeof(why)), 0);
    expect_rc(store_begin(&st, "img", 1, why, sizeof(why)), 0);
    expect_unchanged();
}

static void test_names(void **state)
{
    static const char *const bad[] = {
        "", "a/b", "/", "a b", " a", "a ", "a\tb", "a\nb", "..\\x", "a:b", "\xc3\xa9",
        "0123456789abcdef0123456789abcdef",             /* 32 characters */
        "0123456789abcdef0123456789abcdef0123456789",
    };
    static const char *const good[] = {
        "a", "Z", "0", "kernel.elf", "net-echo_v2", "...", "-",
        "0123456789abcdef0123456789abcde",              /* 31 characters */
    };
    uint8_t byte = 1;

    (void)state;
    store_new(4096);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_rc(store_begin(&st, bad[i], 16, why, sizeof(why)), -MF_EINVAL);
        expect_rc(store_chunk(&st, 0, &byte, 1, why, sizeof(why)), -MF_EINVAL);
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        upload(good[i], &byte, 1, 1);
        expect_image(good[i], &byte, 1);
    }
    assert_int_equal(visible_count(), sizeof(good) / sizeof(good[0]));
    check_invariants();
}

static void test_no_room(void **state)
{
    uint8_t big[600], small[400];

    (void)state;
    store_new(1024);
    pattern(big, sizeof(big), 14);
    pattern(small, sizeof(small), 15);
    upload("big", big, sizeof(big), 200);
    expect_rc(store_begin(&st, "other", 500, why, sizeof(why)), -MF_ENOMEM);
    /* A replacement needs room beside the old copy, kept until commit. */
    expect_rc(store_begin(&st, "big", 600, why, sizeof(why)), -MF_ENOMEM);
    expect_image("big", big, sizeof(big));
    upload("small", small, sizeof(small), 400);
    expect_image("small", small, sizeof(small));
    expect_rc(store_begin(&st, "one", 25, why, sizeof(why)), -MF_ENOMEM);
    check_invariants();
}

/* A replacement is found with the new bytes; the old space is reused. */
static void test_replace(void **state)
{
    uint8_t v1[400], v2[300], v3[320], other[400];

    (void)state;
    store_new(1024);
    pattern(v1, sizeof(v1), 16);
    pattern(v2, sizeof(v2), 17);
    pattern(v3, sizeof(v3), 18);
    pattern(other, sizeof(other), 19);
    upload("x", v1, sizeof(v1), 128);
    upload("x", v2, sizeof(v2), 128);
    expect_image("x", v2, sizeof(v2));
    assert_int_equal(visible_count(), 1);
    assert_int_equal(store_free_bytes(&st), 1024 - 300);
    /* 400 + 300 used before the commit; only v1's old space fits 400 now. */
    upload("other", other, sizeof(other), 400);
    expect_image("other", other, sizeof(other));
    expect_image("x", v2, sizeof(v2));
    /* Beside both: 704 + 320 ends the store exactly. */
    upload("x", v3, sizeof(v3), 100);
    expect_image("x", v3, sizeof(v3));
    expect_image("other", other, sizeof(other));
    assert_int_equal(visible_count(), 2);
    assert_int_equal(store_free_bytes(&st), 1024 - 400 - 320);
    check_invariants();
}

static void test_image_limit(void **state)
{
    char name[24];
    uint8_t data[16], repl[24];

    (void)state;
    store_new(STORE_IMAGES_MAX * 64);
    for (int i = 0; i < STORE_IMAGES_MAX; i++) {
        snprintf(name, sizeof(name), "img%d", i);
        pattern(data, sizeof(data), (uint32_t)i);
        upload(name, data, sizeof(data), 16);
    }
    assert_int_equal(visible_count(), STORE_IMAGES_MAX);
    expect_rc(store_begin(&st, "one-more", 16, why, sizeof(why)), -MF_ENOMEM);
    /* Replacing one of the 32 is allowed. */
    pattern(repl, sizeof(repl), 99);
    upload("img5", repl, sizeof(repl), 10);
    expect_image("img5", repl, sizeof(repl));
    assert_int_equal(visible_count(), STORE_IMAGES_MAX);
    for (int i = 0; i < STORE_IMAGES_MAX; i++) {
        if (i == 5)
            continue;
        snprintf(name, sizeof(name), "img%d", i);
        pattern(data, sizeof(data), (uint32_t)i);
        expect_image(name, data, sizeof(data));
    }
    check_invariants();
}

/* ---- a random run against a list of what should be visible ---- */

#define NAMES    40
#define RAND_CAP 32768

struct expected {
    uint64_t size;                  /* 0: not visible */
    uint8_t data[RAND_CAP];
};

static uint32_t rng_state;

static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* Some 8-aligned place (the store's own rule) holds size bytes. */
static int room_exists(uint64_t size)
{
    for (int i = -1; i < STORE_IMAGES_MAX; i++) {
        uint64_t at = 0;
        int clash = 0;
        if (i >= 0) {
            if (!st.images[i].valid)
                continue;
            at = (st.images[i].offset + st.images[i].size + 7) & ~7ULL;
        }
        if (at > region_size || size > region_size - at)
            continue;
        for (int j = 0; j < STORE_IMAGES_MAX; j++)
            clash |= st.images[j].valid &&
                     at < st.images[j].offset + st.images[j].size &&
                     st.images[j].offset < at + size;
        if (!clash)
            return 1;
    }
    return 0;
}

static void test_random(void **state)
{
    static struct expected want[NAMES];
    static uint8_t data[RAND_CAP];
    char name[24];
    int committed = 0, full = 0, no_room = 0;

    (void)state;
    memset(want, 0, sizeof(want));
    store_new(RAND_CAP);
    rng_state = 42;
    for (int step = 0; step < 3000; step++) {
        uint32_t n = rng() % NAMES, outcome = rng() % 8;
        uint32_t kind = rng() % 16;
        uint64_t size = kind == 0 ? RAND_CAP + 1 + rng() % 100      /* too large */
                        : kind == 1 ? 1 + rng() % (RAND_CAP / 4)
                        : 1 + rng() % 1500;
        uint64_t chunk = 1 + rng() % 700, sent = 0;
        int visible = 0, rc;
        const uint8_t *got;
        uint64_t got_size;

        for (int i = 0; i < NAMES; i++)
            visible += want[i].size != 0;
        snprintf(name, sizeof(name), "image-%u", n);
        if (size <= RAND_CAP)
            pattern(data, size, (uint32_t)step);
        rc = store_begin(&st, name, size, why, sizeof(why));
        if (size > RAND_CAP) {
            expect_rc(rc, -MF_ERANGE);
        } else if (!want[n].size && visible == STORE_IMAGES_MAX) {
            expect_rc(rc, -MF_ENOMEM);
            full++;
        } else if (rc) {
            expect_rc(rc, -MF_ENOMEM);
            assert_false(room_exists(size));
            no_room++;
        } else {
            assert_true(room_exists(size));
            /* outcome 0: stops short; 1: wrong CRC; 2: abort; 3: a begin
             * that is refused half-way, which changes nothing (the upload
             * goes on and is committed); others: committed. */
            uint64_t stop = outcome == 0 || outcome == 3 ? rng() % size : size;
            while (sent < stop) {
                uint64_t len = stop - sent < chunk ? stop - sent : chunk;
                expect_rc(store_chunk(&st, sent, data + sent, len, why, sizeof(why)), 0);
                sent += len;
            }
            if (outcome == 3)
                expect_rc(store_begin(&st, "", 1, why, sizeof(why)), -MF_EINVAL);
            while (sent < size && outcome == 3) {
                uint64_t len = size - sent < chunk ? size - sent : chunk;
                expect_rc(store_chunk(&st, sent, data + sent, len, why, sizeof(why)), 0);
                sent += len;
            }
            if (outcome == 2) {
                store_abort(&st);
            } else {
                uint32_t crc = crc_of(data, size) ^ (outcome == 1);
                rc = store_finish(&st, crc, &got, &got_size, why, sizeof(why));
                if (outcome <= 1) {
                    expect_rc(rc, -MF_EINVAL);
                } else {
                    expect_rc(rc, 0);
                    store_commit(&st);
                    memcpy(want[n].data, data, size);
                    want[n].size = size;
                    committed++;
                }
            }
        }
        check_invariants();
        for (int i = 0; i < NAMES; i++) {
            snprintf(name, sizeof(name), "image-%d", i);
            if (want[i].size)
                expect_image(name, want[i].data, want[i].size);
            else
                assert_null(store_find(&st, name));
        }
    }
    /* Every path was taken often. */
    assert_true(committed > 500 && full > 20 && no_room > 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_full_upload, teardown),
        cmocka_unit_test_teardown(test_two_images, teardown),
        cmocka_unit_test_teardown(test_store_exactly_full, teardown),
        cmocka_unit_test_teardown(test_chunk_out_of_order, teardown),
        cmocka_unit_test_teardown(test_chunk_past_size, teardown),
        cmocka_unit_test_teardown(test_no_upload, teardown),
        cmocka_unit_test_teardown(test_finish_incomplete, teardown),
        cmocka_unit_test_teardown(test_finish_wrong_crc, teardown),
        cmocka_unit_test_teardown(test_abort, teardown),
        cmocka_unit_test_teardown(test_commit_needs_finished_upload, teardown),
        cmocka_unit_test_teardown(test_failed_replacement_keeps_old, teardown),
        cmocka_unit_test_teardown(test_begin_abandons, teardown),
        cmocka_unit_test_teardown(test_refused_begin_keeps_upload, teardown),
        cmocka_unit_test_teardown(test_sizes, teardown),
        cmocka_unit_test_teardown(test_names, teardown),
        cmocka_unit_test_teardown(test_no_room, teardown),
        cmocka_unit_test_teardown(test_replace, teardown),
        cmocka_unit_test_teardown(test_image_limit, teardown),
        cmocka_unit_test_teardown(test_random, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
