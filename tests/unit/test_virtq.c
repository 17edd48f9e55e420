/*
 * Unit tests of hv/virtq.c. A 1 MiB calloc'd block plays the guest's
 * memory; the small driver below lays out real split rings in it (the
 * descriptor table at 0x1000, the available ring at 0x2000, the used ring
 * at 0x3000, buffers from 0x10000) and posts chains the way a virtio
 * driver would. Each test breaks one thing and checks what virtq_pop()
 * or virtq_setup() says.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "virtq.h"

#define MEM_SIZE    (1024u * 1024u)
#define DESC_GPA    0x1000ull
#define AVAIL_GPA   0x2000ull
#define USED_GPA    0x3000ull
#define BUF_GPA     0x10000ull

static struct guest_mem mem;
static struct virtq q;
static struct virtq_chain chain;
static char why[160];

/* The driver side. */
static void put16(uint64_t gpa, uint16_t v) { memcpy(mem.base + gpa, &v, 2); }
static void put32(uint64_t gpa, uint32_t v) { memcpy(mem.base + gpa, &v, 4); }
static void put64(uint64_t gpa, uint64_t v) { memcpy(mem.base + gpa, &v, 8); }
static uint16_t get16(uint64_t gpa) { uint16_t v; memcpy(&v, mem.base + gpa, 2); return v; }
static uint32_t get32(uint64_t gpa) { uint32_t v; memcpy(&v, mem.base + gpa, 4); return v; }

static void drv_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint64_t d = DESC_GPA + 16ull * i;
    put64(d, addr);
    put32(d + 8, len);
    put16(d + 12, flags);
    put16(d + 14, next);
}

/* Puts head in the next avail slot and publishes it. */
static void drv_post(uint16_t head)
{
    uint16_t idx = get16(AVAIL_GPA + 2);
    put16(AVAIL_GPA + 4 + 2ull * (idx & (q.size - 1)), head);
    put16(AVAIL_GPA + 2, (uint16_t)(idx + 1));
}

static void drv_set_avail_idx(uint16_t idx) { put16(AVAIL_GPA + 2, idx); }
static void drv_set_used_event(uint16_t v) { put16(AVAIL_GPA + 4 + 2ull * q.size, v); }
static uint16_t drv_avail_event(void) { return get16(USED_GPA + 4 + 8ull * q.size); }
static uint16_t drv_used_idx(void) { return get16(USED_GPA + 2); }

static struct mf_queue_setup layout(uint32_t size)
{
    struct mf_queue_setup s = { .desc = DESC_GPA, .avail = AVAIL_GPA, .used = USED_GPA,
                                .size = size };
    return s;
}

static void setup_queue(uint32_t size, int event_idx)
{
    struct mf_queue_setup s = layout(size);
    assert_int_equal(virtq_setup(&q, &mem, &s, event_idx, why, sizeof(why)), 0);
}

static int setup_test(void **state)
{
    (void)state;
    mem.base = aligned_alloc(4096, MEM_SIZE);
    assert_non_null(mem.base);
    memset(mem.base, 0, MEM_SIZE);
    mem.size = MEM_SIZE;
    memset(&q, 0, sizeof(q));
    memset(&chain, 0, sizeof(chain));
    why[0] = '\0';
    setup_queue(8, 0);
    return 0;
}

static int teardown_test(void **state)
{
    (void)state;
    free(mem.base);
    return 0;
}

static int pop(int want_write)
{
    why[0] = '\0';
    return virtq_pop(&q, &mem, want_write, &chain, why, sizeof(why));
}

static void assert_pop_fails(int want_write, const char *expect)
{
    uint16_t before = q.last_avail;
    assert_int_equal(pop(want_write), -1);
    if (!strstr(why, expect))
        fail_msg("why \"%s\" lacks \"%s\"", why, expect);
    assert_int_equal(q.last_avail, before);
}

/* gmem_at */

static void test_gmem_bounds(void **state)
{
    (void)state;
    assert_ptr_equal(gmem_at(&mem, 0, MEM_SIZE), mem.base);
    assert_ptr_equal(gmem_at(&mem, MEM_SIZE - 1, 1), mem.base + MEM_SIZE - 1);
    assert_null(gmem_at(&mem, MEM_SIZE - 1, 2));
    assert_null(gmem_at(&mem, MEM_SIZE, 1));
    assert_ptr_equal(gmem_at(&mem, MEM_SIZE, 0), mem.base + MEM_SIZE);
    assert_null(gmem_at(&mem, MEM_SIZE + 1, 0));
    assert_null(gmem_at(&mem, 16, UINT64_MAX));
    assert_null(gmem_at(&mem, UINT64_MAX, 2));
    assert_null(gmem_at(&mem, UINT64_MAX - 3, 8));      /* gpa + len wraps to 4 */
    assert_null(gmem_at(&mem, 0x1000, 0xffffffffull));
    assert_null(gmem_at(NULL, 0, 1));
}

/* Setup validation */

static void assert_setup_fails(struct mf_queue_setup s, const char *expect)
{
    struct virtq before = q;
    assert_int_equal(virtq_setup(&q, &mem, &s, 1, why, sizeof(why)), -1);
    if (!strstr(why, expect))
        fail_msg("why \"%s\" lacks \"%s\"", why, expect);
    assert_memory_equal(&q, &before, sizeof(q));       /* untouched on failure */
}

static void test_setup_sizes(void **state)
{
    struct mf_queue_setup s = layout(0);
    (void)state;
    assert_setup_fails(s, "queue size 0 is not a power of two");
    s.size = 3;
    assert_setup_fails(s, "queue size 3");
    s.size = 24;
    assert_setup_fails(s, "queue size 24");
    s.size = 512;
    assert_setup_fails(s, "queue size 512");
    s.size = 0x80000000u;
    assert_setup_fails(s, "not a power of two");
    for (uint32_t size = 1; size <= MF_NET_QUEUE_MAX; size *= 2) {
        s.size = size;
        assert_int_equal(virtq_setup(&q, &mem, &s, 0, why, sizeof(why)), 0);
        assert_int_equal(q.size, size);
        assert_int_equal(q.ready, 1);
    }
}

static void test_setup_alignment(void **state)
{
    struct mf_queue_setup s = layout(8);
    (void)state;
    s.desc = DESC_GPA + 8;
    assert_setup_fails(s, "descriptor ring at 0x1008 is not 16-byte aligned");
    s = layout(8);
    s.avail = AVAIL_GPA + 1;
    assert_setup_fails(s, "available ring at 0x2001 is not 2-byte aligned");
    s = layout(8);
    s.used = USED_GPA + 2;
    assert_setup_fails(s, "used ring at 0x3002 is not 4-byte aligned");
    s = layout(8);
    s.desc = DESC_GPA + 16;
    s.avail = AVAIL_GPA + 2;
    s.used = USED_GPA + 4;
    assert_int_equal(virtq_setup(&q, &mem, &s, 1, why, sizeof(why)), 0);
}

static void test_setup_outside_memory(void **state)
{
    struct mf_queue_setup s = layout(256);
    (void)state;
    s.desc = MEM_SIZE - 16 * 255;                       /* one entry short */
    assert_setup_fails(s, "descriptor ring 0xff010+4096 outside guest memory");
    s.desc = MEM_SIZE - 16 * 256;                       /* exactly fits */
    assert_int_equal(virtq_setup(&q, &mem, &s, 1, why, sizeof(why)), 0);
    s = layout(256);
    s.avail = MEM_SIZE - VIRTQ_AVAIL_BYTES(256) + 2;    /* only the used_event tail is out */
    assert_setup_fails(s, "available ring");
    s = layout(256);
    s.used = MEM_SIZE - VIRTQ_USED_BYTES(256) + 4;      /* likewise avail_event */
    assert_setup_fails(s, "used ring");
    s = layout(8);
    s.used = MEM_SIZE;
    assert_setup_fails(s, "outside guest memory");
}

static void test_setup_wrapping(void **state)
{
    struct mf_queue_setup s = layout(8);
    (void)state;
    s.desc = 0xfffffffffffffff0ull;                     /* desc + 128 wraps to 0x70 */
    assert_setup_fails(s, "descriptor ring 0xfffffffffffffff0+128 outside guest memory");
    s = layout(8);
    s.avail = 0xfffffffffffffffeull;
    assert_setup_fails(s, "available ring");
    s = layout(8);
    s.used = 0xfffffffffffffffcull;
    assert_setup_fails(s, "used ring");
}

/* virtq_pop */

static void test_pop_normal_chain(void **state)
{
    (void)state;
    drv_desc(2, BUF_GPA, 12, VIRTQ_DESC_F_NEXT, 5);
    drv_desc(5, BUF_GPA + 0x100, 100, VIRTQ_DESC_F_NEXT, 0);
    drv_desc(0, BUF_GPA + 0x200, 7, 0, 7);              /* no NEXT: next is ignored */
    drv_post(2);
    assert_int_equal(pop(0), 1);
    assert_int_equal(chain.head, 2);
    assert_int_equal(chain.count, 3);
    assert_int_equal(chain.total, 119);
    assert_int_equal(chain.bufs[0].gpa, BUF_GPA);
    assert_int_equal(chain.bufs[1].len, 100);
    assert_int_equal(chain.bufs[2].gpa, BUF_GPA + 0x200);
    assert_int_equal(q.last_avail, 1);
    assert_int_equal(pop(0), 0);                        /* nothing more */
}

static void test_pop_rx_chain(void **state)
{
    (void)state;
    drv_desc(1, BUF_GPA, 2048, VIRTQ_DESC_F_WRITE, 0);
    drv_post(1);
    assert_int_equal(pop(1), 1);
    assert_int_equal(chain.head, 1);
    assert_int_equal(chain.total, 2048);
}

static void test_pop_empty(void **state)
{
    (void)state;
    assert_int_equal(pop(0), 0);
    assert_int_equal(pop(1), 0);
    assert_int_equal(q.last_avail, 0);
    memset(&q, 0, sizeof(q));                           /* never set up */
    assert_int_equal(pop(0), 0);
}

static void test_pop_full_ring_and_wrap(void **state)
{
    (void)state;
    for (uint16_t i = 0; i < 8; i++) {
        drv_desc(i, BUF_GPA + 64ull * i, 64, 0, 0);
        drv_post(i);
    }
    for (uint16_t i = 0; i < 8; i++) {
        assert_int_equal(pop(0), 1);
        assert_int_equal(chain.head, i);
    }
    assert_int_equal(pop(0), 0);
    /* The 16-bit indices wrap: 3 entries between 0xfffe and 0x0001. */
    q.last_avail = 0xfffe;
    drv_set_avail_idx(0x0001);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pop(0), 1);
    assert_int_equal(q.last_avail, 0x0001);
    assert_int_equal(pop(0), 0);
}

static void test_pop_avail_jump(void **state)
{
    (void)state;
    drv_desc(0, BUF_GPA, 64, 0, 0);
    drv_set_avail_idx(9);
    assert_pop_fails(0, "avail index jumped from 0 to 9 (queue size 8)");
    drv_set_avail_idx(0xffff);                          /* "behind" is a jump too */
    assert_pop_fails(0, "avail index jumped from 0 to 65535");
    drv_set_avail_idx(0x8000);
    assert_pop_fails(0, "jumped");
}

static void test_pop_head_out_of_range(void **state)
{
    (void)state;
    drv_post(8);
    assert_pop_fails(0, "head 8 out of range");
    put16(AVAIL_GPA + 4, 0xffff);
    assert_pop_fails(0, "head 65535 out of range");
}

static void test_pop_next_out_of_range(void **state)
{
    (void)state;
    drv_desc(0, BUF_GPA, 64, VIRTQ_DESC_F_NEXT, 1);
    drv_desc(1, BUF_GPA, 64, VIRTQ_DESC_F_NEXT, 8);
    drv_post(0);
    assert_pop_fails(0, "descriptor 1: next 8 out of range");
}

static void test_pop_loop(void **state)
{
    (void)state;
    drv_desc(0, BUF_GPA, 64, VIRTQ_DESC_F_NEXT, 1);
    drv_desc(1, BUF_GPA, 64, VIRTQ_DESC_F_NEXT, 0);
    drv_post(0);
    assert_pop_fails(0, "descriptor chain longer than 16 (loop?)");
    /* A descriptor pointing at itself, in a queue of one. */
    setup_queue(1, 0);
    drv_desc(0, BUF_GPA, 64, VIRTQ_DESC_F_NEXT, 0);
    put16(AVAIL_GPA + 2, 0);
    drv_post(0);
    assert_pop_fails(0, "longer than 16");
}

static void test_pop_longest_chain(void **state)
{
    (void)state;
    setup_queue(32, 0);
    for (uint16_t i = 0; i < 17; i++)
        drv_desc(i, BUF_GPA + i, 1, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
    drv_desc(15, BUF_GPA + 15, 1, 0, 0);                /* 16 descriptors: the most */
    drv_post(0);
    assert_int_equal(pop(0), 1);
    assert_int_equal(chain.count, 16);
    assert_int_equal(chain.total, 16);
    drv_desc(15, BUF_GPA + 15, 1, VIRTQ_DESC_F_NEXT, 16);   /* 17 */
    drv_post(0);
    assert_pop_fails(0, "longer than 16");
}

static void test_pop_address_outside(void **state)
{
    (void)state;
    drv_post(0);
    drv_desc(0, MEM_SIZE - 4, 8, 0, 0);
    assert_pop_fails(0, "descriptor 0: address 0xffffc+8 outside guest memory");
    drv_desc(0, 0xfffffffffffffffcull, 8, 0, 0);        /* wraps around 2^64 */
    assert_pop_fails(0, "descriptor 0: address 0xfffffffffffffffc+8 outside guest memory");
    drv_desc(0, BUF_GPA, 0xffffffffu, 0, 0);            /* 4 GiB - 1 */
    assert_pop_fails(0, "address 0x10000+4294967295 outside guest memory");
    drv_desc(0, MEM_SIZE, 1, 0, 0);
    assert_pop_fails(0, "outside guest memory");
    drv_desc(0, MEM_SIZE - 8, 8, 0, 0);                 /* the last bytes are fine */
    assert_int_equal(pop(0), 1);
}

static void test_pop_bad_descriptor_in_middle(void **state)
{
    (void)state;
    drv_desc(3, BUF_GPA, 64, VIRTQ_DESC_F_NEXT, 4);
    drv_desc(4, 0xffffffffffff0000ull, 64, 0, 0);
    drv_post(3);
    assert_pop_fails(0, "descriptor 4: address");
}

static void test_pop_indirect(void **state)
{
    (void)state;
    drv_desc(0, BUF_GPA, 64, VIRTQ_DESC_F_INDIRECT, 0);
    drv_post(0);
    assert_pop_fails(0, "descriptor 0: indirect descriptors are not supported");
    assert_pop_fails(1, "indirect");
}

static void test_pop_write_direction(void **state)
{
    (void)state;
    drv_desc(0, BUF_GPA, 64, VIRTQ_DESC_F_WRITE, 0);
    drv_post(0);
    assert_pop_fails(0, "descriptor 0: device-writable buffer in a transmit chain");
    drv_desc(0, BUF_GPA, 64, 0, 0);
    assert_pop_fails(1, "descriptor 0: read-only buffer in a receive chain");
    /* Mixed: the second descriptor of a receive chain is read-only. */
    drv_desc(0, BUF_GPA, 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 6);
    drv_desc(6, BUF_GPA, 64, 0, 0);
    assert_pop_fails(1, "descriptor 6: read-only buffer in a receive chain");
}

static void test_pop_zero_length(void **state)
{
    (void)state;
    drv_desc(0, BUF_GPA, 64, VIRTQ_DESC_F_NEXT, 1);
    drv_desc(1, BUF_GPA, 0, 0, 0);
    drv_post(0);
    assert_pop_fails(0, "descriptor 1: zero-length descriptor");
}

static void test_pop_total_overflow(void **state)
{
    struct guest_mem big;
    (void)state;
    /* Claim 8 GiB of guest memory: pop only touches the rings (inside the
     * real block), never the buffers, so their addresses may lie beyond. */
    big.base = mem.base;
    big.size = 8ull << 30;
    drv_desc(0, 0x10000000ull, 0xf0000000u, VIRTQ_DESC_F_NEXT, 1);
    drv_desc(1, 0x100000000ull, 0x10000000u, 0, 0);    /* total exactly 2^32: overflows */
    drv_post(0);
    assert_int_equal(virtq_pop(&q, &big, 0, &chain, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "chain total length overflows"));
    drv_desc(1, 0x100000000ull, 0x0fffffffu, 0, 0);    /* 2^32 - 1 fits */
    assert_int_equal(virtq_pop(&q, &big, 0, &chain, why, sizeof(why)), 1);
    assert_int_equal(chain.total, 0xffffffffu);
}

/* The same refusals for a chain taken inside a burst (avail idx already
 * read: virtq_pop's inline part reads the head and its descriptor). */
static void burst_then_fails(int want_write, uint16_t head, const char *expect)
{
    uint16_t good_flags = want_write ? VIRTQ_DESC_F_WRITE : 0;

    put16(AVAIL_GPA + 2, 0);
    setup_queue(8, 0);
    drv_desc(7, BUF_GPA, 64, good_flags, 0);
    drv_post(7);
    drv_post(head);
    assert_int_equal(pop(want_write), 1);
    assert_int_equal(chain.head, 7);
    assert_int_equal(q.avail_known, 1);
    assert_pop_fails(want_write, expect);
}

static void test_pop_faults_in_burst(void **state)
{
    (void)state;
    burst_then_fails(0, 8, "head 8 out of range");
    drv_desc(0, BUF_GPA, 64, VIRTQ_DESC_F_INDIRECT, 0);
    burst_then_fails(0, 0, "descriptor 0: indirect descriptors are not supported");
    drv_desc(0, BUF_GPA, 64, VIRTQ_DESC_F_WRITE, 0);
    burst_then_fails(0, 0, "descriptor 0: device-writable buffer in a transmit chain");
    drv_desc(0, BUF_GPA, 64, 0, 0);
    burst_then_fails(1, 0, "descriptor 0: read-only buffer in a receive chain");
    drv_desc(0, BUF_GPA, 0, 0, 0);
    burst_then_fails(0, 0, "descriptor 0: zero-length descriptor");
    drv_desc(0, MEM_SIZE - 4, 8, 0, 0);
    burst_then_fails(0, 0, "descriptor 0: address 0xffffc+8 outside guest memory");
    drv_desc(0, BUF_GPA, 64, VIRTQ_DESC_F_NEXT, 1);
    drv_desc(1, BUF_GPA, 64, VIRTQ_DESC_F_NEXT, 8);
    burst_then_fails(0, 0, "descriptor 1: next 8 out of range");
    drv_desc(1, BUF_GPA, 64, VIRTQ_DESC_F_NEXT, 0);
    burst_then_fails(0, 0, "descriptor chain longer than 16 (loop?)");
    /* and a good chain of three in a burst */
    drv_desc(1, BUF_GPA, 64, VIRTQ_DESC_F_NEXT, 2);
    drv_desc(2, BUF_GPA + 64, 32, 0, 0);
    put16(AVAIL_GPA + 2, 0);
    setup_queue(8, 0);
    drv_desc(7, BUF_GPA, 64, 0, 0);
    drv_post(7);
    drv_post(0);
    assert_int_equal(pop(0), 1);
    assert_int_equal(pop(0), 1);
    assert_int_equal(chain.head, 0);
    assert_int_equal(chain.count, 3);
    assert_int_equal(chain.total, 160);
    assert_int_equal(q.avail_known, 0);
    assert_int_equal(pop(0), 0);
}

static void test_pop_why_may_be_null(void **state)
{
    (void)state;
    drv_post(9);
    assert_int_equal(virtq_pop(&q, &mem, 0, &chain, NULL, 0), -1);
    assert_int_equal(virtq_pop(&q, &mem, 0, &chain, why, 1), -1);
    assert_string_equal(why, "");
}

/* virtq_push */

static void test_push_used(void **state)
{
    (void)state;
    virtq_push(&q, &mem, 5, 1234);
    assert_int_equal(get32(USED_GPA + 4), 5);
    assert_int_equal(get32(USED_GPA + 8), 1234);
    assert_int_equal(drv_used_idx(), 1);
    assert_int_equal(q.used_idx, 1);
    for (uint32_t i = 1; i < 10; i++)
        virtq_push(&q, &mem, (uint16_t)i, i * 10);
    assert_int_equal(drv_used_idx(), 10);
    /* Element 9 sits in slot 9 % 8 = 1. */
    assert_int_equal(get32(USED_GPA + 4 + 8), 9);
    assert_int_equal(get32(USED_GPA + 4 + 12), 90);
    /* The device's idx is its own: a guest scribbling on used idx does not
     * move it. */
    put16(USED_GPA + 2, 0x4444);
    virtq_push(&q, &mem, 0, 0);
    assert_int_equal(drv_used_idx(), 11);
}

static void test_push_used_idx_wraps(void **state)
{
    (void)state;
    q.used_idx = 0xffff;
    virtq_push(&q, &mem, 3, 1);
    assert_int_equal(drv_used_idx(), 0);
    assert_int_equal(get32(USED_GPA + 4 + 8 * 7), 3);   /* 0xffff & 7 */
}

/* A batch: the elements go in one by one, the guest sees them at the
 * one publish, and a publish with nothing new writes nothing. */
static void test_push_elem_then_publish(void **state)
{
    (void)state;
    for (uint16_t i = 0; i < 3; i++)
        virtq_push_elem(&q, &mem, i, 100u + i);
    assert_int_equal(get32(USED_GPA + 4 + 8 * 2), 2);
    assert_int_equal(get32(USED_GPA + 4 + 8 * 2 + 4), 102);
    assert_int_equal(drv_used_idx(), 0);
    assert_int_equal(q.used_idx, 3);
    virtq_publish(&q, &mem);
    assert_int_equal(drv_used_idx(), 3);
    put16(USED_GPA + 2, 0x4444);
    virtq_publish(&q, &mem);
    assert_int_equal(drv_used_idx(), 0x4444);
}

/* Notification decisions */

static void test_need_event_semantics(void **state)
{
    (void)state;
    /* The driver asked to hear when used idx passes event. */
    assert_true(virtq_need_event(0, 1, 0));
    assert_false(virtq_need_event(1, 1, 0));
    assert_true(virtq_need_event(4, 8, 2));
    assert_true(virtq_need_event(2, 8, 2));
    assert_false(virtq_need_event(1, 8, 2));
    assert_false(virtq_need_event(8, 8, 2));
    /* 16-bit wrap. */
    assert_true(virtq_need_event(0xffff, 0x0001, 0xfffe));
    assert_true(virtq_need_event(0x0000, 0x0001, 0xffff));
    assert_false(virtq_need_event(0xfffe, 0x0001, 0xffff));
    assert_false(virtq_need_event(0x0001, 0x0001, 0xffff));
}

static void test_notify_event_idx(void **state)
{
    (void)state;
    setup_queue(8, 1);
    drv_set_used_event(0);
    virtq_push(&q, &mem, 0, 0);
    assert_true(virtq_should_notify(&q, &mem, 0));      /* 0 -> 1 passes 0 */
    virtq_push(&q, &mem, 0, 0);
    assert_false(virtq_should_notify(&q, &mem, 1));     /* 1 -> 2 does not pass 0 */
    drv_set_used_event(5);
    for (int i = 0; i < 3; i++)
        virtq_push(&q, &mem, 0, 0);
    assert_false(virtq_should_notify(&q, &mem, 2));     /* 2 -> 5: 5 not passed yet */
    virtq_push(&q, &mem, 0, 0);
    assert_true(virtq_should_notify(&q, &mem, 5));      /* 5 -> 6 */
    assert_false(virtq_should_notify(&q, &mem, 6));     /* nothing new */
    /* The avail ring's flags are ignored with EVENT_IDX. */
    put16(AVAIL_GPA, VIRTQ_AVAIL_F_NO_INTERRUPT);
    drv_set_used_event(6);
    virtq_push(&q, &mem, 0, 0);
    assert_true(virtq_should_notify(&q, &mem, 6));
    /* Wrap. */
    q.used_idx = 0xffff;
    drv_set_used_event(0xffff);
    virtq_push(&q, &mem, 0, 0);
    assert_true(virtq_should_notify(&q, &mem, 0xffff));
    virtq_push(&q, &mem, 0, 0);
    assert_false(virtq_should_notify(&q, &mem, 0x0000));
}

static void test_notify_flags(void **state)
{
    (void)state;
    assert_false(virtq_should_notify(&q, &mem, 0));     /* nothing added */
    virtq_push(&q, &mem, 0, 0);
    assert_true(virtq_should_notify(&q, &mem, 0));
    put16(AVAIL_GPA, VIRTQ_AVAIL_F_NO_INTERRUPT);
    assert_false(virtq_should_notify(&q, &mem, 0));
    drv_set_used_event(0xffff);                         /* ignored without EVENT_IDX */
    put16(AVAIL_GPA, 0);
    assert_true(virtq_should_notify(&q, &mem, 0));
}

static void test_avail_event(void **state)
{
    (void)state;
    virtq_set_avail_event(&q, &mem, 0x1234);            /* no EVENT_IDX: nothing */
    assert_int_equal(drv_avail_event(), 0);
    setup_queue(8, 1);
    virtq_set_avail_event(&q, &mem, 0x1234);
    assert_int_equal(drv_avail_event(), 0x1234);
    assert_int_equal(drv_used_idx(), 0);                /* the idx next to it is intact */
    virtq_set_used_flags(&q, &mem, VIRTQ_USED_F_NO_NOTIFY);
    assert_int_equal(get16(USED_GPA), VIRTQ_USED_F_NO_NOTIFY);
}

static void test_kick_rearm(void **state)
{
    (void)state;
    assert_int_equal(virtq_kick_rearm(&q, &mem), 0);    /* no EVENT_IDX */
    setup_queue(8, 1);
    drv_desc(0, BUF_GPA, 64, 0, 0);
    drv_post(0);
    drv_post(0);
    assert_int_equal(virtq_avail_idx(&q, &mem), 2);
    assert_int_equal(pop(0), 1);
    assert_int_equal(virtq_kick_rearm(&q, &mem), 1);    /* one more is waiting */
    assert_int_equal(drv_avail_event(), 1);
    assert_int_equal(pop(0), 1);
    assert_int_equal(virtq_kick_rearm(&q, &mem), 0);
    assert_int_equal(drv_avail_event(), 2);
    /* The driver's next buffer (2 -> 3) kicks. */
    assert_true(virtq_need_event(drv_avail_event(), 3, 2));
}

/* gather / scatter */

static void post_three(uint16_t flags)
{
    drv_desc(0, BUF_GPA, 5, flags | VIRTQ_DESC_F_NEXT, 1);
    drv_desc(1, BUF_GPA + 0x100, 7, flags | VIRTQ_DESC_F_NEXT, 2);
    drv_desc(2, BUF_GPA + 0x200, 3, flags, 0);
    drv_post(0);
}

static void test_gather(void **state)
{
    uint8_t out[32];
    (void)state;
    memcpy(mem.base + BUF_GPA, "abcde", 5);
    memcpy(mem.base + BUF_GPA + 0x100, "fghijkl", 7);
    memcpy(mem.base + BUF_GPA + 0x200, "mno", 3);
    post_three(0);
    assert_int_equal(pop(0), 1);
    memset(out, 0, sizeof(out));
    assert_int_equal(virtq_gather(&mem, &chain, 0, out, sizeof(out)), 15);
    assert_string_equal((char *)out, "abcdefghijklmno");
    for (uint32_t skip = 0; skip <= 16; skip++) {
        memset(out, 0, sizeof(out));
        uint32_t want = skip < 15 ? 15 - skip : 0;
        assert_int_equal(virtq_gather(&mem, &chain, skip, out, sizeof(out)), want);
        assert_memory_equal(out, "abcdefghijklmno" + (skip < 15 ? skip : 15), want);
    }
    memset(out, 0, sizeof(out));
    assert_int_equal(virtq_gather(&mem, &chain, 3, out, 6), 6);   /* bounded by max */
    assert_string_equal((char *)out, "defghi");
    assert_int_equal(virtq_gather(&mem, &chain, 0, out, 0), 0);
}

static void test_scatter(void **state)
{
    (void)state;
    post_three(VIRTQ_DESC_F_WRITE);
    assert_int_equal(pop(1), 1);
    assert_int_equal(virtq_scatter(&mem, &chain, 0, (const uint8_t *)"ABCDEFGHIJKLMNOPQRS", 19), 15);
    assert_memory_equal(mem.base + BUF_GPA, "ABCDE", 5);
    assert_memory_equal(mem.base + BUF_GPA + 0x100, "FGHIJKL", 7);
    assert_memory_equal(mem.base + BUF_GPA + 0x200, "MNO", 3);
    assert_int_equal(mem.base[BUF_GPA + 5], 0);         /* nothing past a buffer */
    assert_int_equal(mem.base[BUF_GPA + 0x203], 0);
    assert_int_equal(virtq_scatter(&mem, &chain, 4, (const uint8_t *)"xyz", 3), 3);
    assert_memory_equal(mem.base + BUF_GPA, "ABCDx", 5);
    assert_memory_equal(mem.base + BUF_GPA + 0x100, "yzHIJKL", 7);
    assert_int_equal(virtq_scatter(&mem, &chain, 14, (const uint8_t *)"!?", 2), 1);
    assert_memory_equal(mem.base + BUF_GPA + 0x200, "MN!", 3);
    assert_int_equal(virtq_scatter(&mem, &chain, 15, (const uint8_t *)"!", 1), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_test, teardown_test)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_gmem_bounds),
        T(test_setup_sizes),
        T(test_setup_alignment),
        T(test_setup_outside_memory),
        T(test_setup_wrapping),
        T(test_pop_normal_chain),
        T(test_pop_rx_chain),
        T(test_pop_empty),
        T(test_pop_full_ring_and_wrap),
        T(test_pop_avail_jump),
        T(test_pop_head_out_of_range),
        T(test_pop_next_out_of_range),
        T(test_pop_loop),
        T(test_pop_longest_chain),
        T(test_pop_address_outside),
        T(test_pop_bad_descriptor_in_middle),
        T(test_pop_indirect),
        T(test_pop_write_direction),
        T(test_pop_zero_length),
        T(test_pop_total_overflow),
        T(test_pop_faults_in_burst),
        T(test_pop_why_may_be_null),
        T(test_push_used),
        T(test_push_used_idx_wraps),
        T(test_push_elem_then_publish),
        T(test_need_event_semantics),
        T(test_notify_event_idx),
        T(test_notify_flags),
        T(test_avail_event),
        T(test_kick_rearm),
        T(test_gather),
        T(test_scatter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
