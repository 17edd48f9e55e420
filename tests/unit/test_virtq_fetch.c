/*
 * hv/virtq.c reads every ring field once (issue 16): the guest can change
 * its rings at any moment, so a field read twice may be checked with one
 * value and used with another. This test watches every read virtq_pop()
 * makes of guest memory, unchanged code and all: the guest's memory is
 * mapped PROT_NONE while the device side runs, each access faults, the
 * SIGSEGV handler notes the address (reads only: the page-fault error
 * code says which), opens the memory and sets the trap flag, and after
 * that one instruction SIGTRAP closes it again. So reads[] counts the
 * reads that start at each byte.
 *
 * Two checks: each field of the available ring and of each descriptor
 * of a chain is read exactly once per pop (and nothing else is read);
 * and a field the "guest" changes right after that first read (from the
 * SIGTRAP handler, before the next instruction) changes nothing: the
 * chain is what the first reads said. Built without ASan's SIGSEGV
 * handler (__asan_default_options).
 */
#define _GNU_SOURCE             /* REG_ERR, REG_EFL */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <cmocka.h>

#include "virtq.h"

#define MEM_SIZE    (16u * 4096u)
#define DESC_GPA    0x1000u
#define AVAIL_GPA   0x2000u
#define USED_GPA    0x3000u
#define BUF_GPA     0x8000u
#define QSIZE       8u
#define EFLAGS_TF   0x100
#define PF_WRITE    0x2         /* page-fault error code: the access was a write */

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "handle_segv=0:allow_user_segv_handler=1";
}

static struct guest_mem mem;
static struct virtq q;
static struct virtq_chain chain;
static char why[160];

/* What the handlers see and do; volatile: they run between instructions. */
static volatile uint32_t reads[MEM_SIZE];
static volatile uint32_t writes;
static volatile uint32_t stray;                 /* faults outside mem */
static volatile int64_t flip_at = -1;           /* offset to change after its first read */
static volatile uint64_t flip_value;
static volatile uint32_t flip_width;
static volatile int flipped;
static struct sigaction saved_segv, saved_trap;     /* cmocka's own */

static void close_mem(void)
{
    mprotect(mem.base, MEM_SIZE, PROT_NONE);
}

static void open_mem(void)
{
    mprotect(mem.base, MEM_SIZE, PROT_READ | PROT_WRITE);
}

static void on_segv(int sig, siginfo_t *si, void *ctx);
static void on_trap(int sig, siginfo_t *si, void *ctx);

/* The handlers go in inside the test body (cmocka puts its own in
 * around each setup, test and teardown call) and come out after. */
static void watch_begin(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sa.sa_sigaction = on_segv;
    assert_int_equal(sigaction(SIGSEGV, &sa, &saved_segv), 0);
    sa.sa_sigaction = on_trap;
    assert_int_equal(sigaction(SIGTRAP, &sa, &saved_trap), 0);
    close_mem();
}

static void watch_end(void)
{
    open_mem();
    sigaction(SIGSEGV, &saved_segv, NULL);
    sigaction(SIGTRAP, &saved_trap, NULL);
}

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    uint8_t *a = si->si_addr;

    (void)sig;
    if (a < mem.base || a >= mem.base + MEM_SIZE) {
        stray++;
        sigaction(SIGSEGV, &saved_segv, NULL);  /* a real crash: cmocka reports it */
        return;
    }
    if (uc->uc_mcontext.gregs[REG_ERR] & PF_WRITE)
        writes++;
    else
        reads[a - mem.base]++;
    open_mem();
    uc->uc_mcontext.gregs[REG_EFL] |= EFLAGS_TF;
}

/* One instruction later: the guest's move, then the memory closes again. */
static void on_trap(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;

    (void)sig;
    (void)si;
    if (flip_at >= 0 && !flipped && reads[flip_at]) {
        uint64_t v = flip_value;
        memcpy(mem.base + flip_at, &v, flip_width);
        flipped = 1;
    }
    uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)EFLAGS_TF;
    close_mem();
}

static void put16(uint32_t gpa, uint16_t v) { memcpy(mem.base + gpa, &v, 2); }
static void put32(uint32_t gpa, uint32_t v) { memcpy(mem.base + gpa, &v, 4); }
static void put64(uint32_t gpa, uint64_t v) { memcpy(mem.base + gpa, &v, 8); }

static void drv_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint32_t d = DESC_GPA + 16u * i;
    put64(d, addr);
    put32(d + 8, len);
    put16(d + 12, flags);
    put16(d + 14, next);
}

/* A 3-descriptor transmit chain 5 -> 2 -> 7 in avail slot 0. */
static void post_chain(void)
{
    drv_desc(5, BUF_GPA, 100, VIRTQ_DESC_F_NEXT, 2);
    drv_desc(2, BUF_GPA + 0x400, 200, VIRTQ_DESC_F_NEXT, 7);
    drv_desc(7, BUF_GPA + 0x800, 300, 0, 0);
    put16(AVAIL_GPA + 4, 5);
    put16(AVAIL_GPA + 2, 1);
}

static int setup_test(void **state)
{
    struct mf_queue_setup s = { .desc = DESC_GPA, .avail = AVAIL_GPA, .used = USED_GPA,
                                .size = QSIZE };

    (void)state;
    mem.base = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(mem.base != MAP_FAILED);
    mem.size = MEM_SIZE;
    memset(&q, 0, sizeof(q));
    assert_int_equal(virtq_setup(&q, &mem, &s, 0, why, sizeof(why)), 0);
    for (uint32_t a = 0; a < MEM_SIZE; a++)
        reads[a] = 0;
    writes = stray = 0;
    flip_at = -1;
    flipped = 0;
    return 0;
}

static int teardown_test(void **state)
{
    (void)state;
    munmap(mem.base, MEM_SIZE);
    return 0;
}

/* virtq_pop with the guest's memory watched. */
static int watched_pop(void)
{
    int r;

    watch_begin();
    r = virtq_pop(&q, &mem, 0, &chain, why, sizeof(why));
    watch_end();
    return r;
}

/* The fields a pop of post_chain's chain must read once each. */
static const uint32_t fields[] = {
    AVAIL_GPA + 2, AVAIL_GPA + 4,
    DESC_GPA + 16 * 5, DESC_GPA + 16 * 5 + 8, DESC_GPA + 16 * 5 + 12, DESC_GPA + 16 * 5 + 14,
    DESC_GPA + 16 * 2, DESC_GPA + 16 * 2 + 8, DESC_GPA + 16 * 2 + 12, DESC_GPA + 16 * 2 + 14,
    DESC_GPA + 16 * 7, DESC_GPA + 16 * 7 + 8, DESC_GPA + 16 * 7 + 12,
};

static void expect_chain_as_posted(void)
{
    assert_int_equal(chain.head, 5);
    assert_int_equal(chain.count, 3);
    assert_int_equal(chain.bufs[0].gpa, BUF_GPA);
    assert_int_equal(chain.bufs[0].len, 100);
    assert_int_equal(chain.bufs[1].gpa, BUF_GPA + 0x400);
    assert_int_equal(chain.bufs[1].len, 200);
    assert_int_equal(chain.bufs[2].gpa, BUF_GPA + 0x800);
    assert_int_equal(chain.bufs[2].len, 300);
    assert_int_equal(chain.total, 600);
}

/* The watch itself works: a read through the memory is counted. */
static void test_watch_counts_reads(void **state)
{
    volatile uint16_t *p;

    (void)state;
    p = (volatile uint16_t *)(void *)(mem.base + AVAIL_GPA + 2);
    watch_begin();
    (void)*p;
    (void)*p;
    watch_end();
    assert_int_equal(reads[AVAIL_GPA + 2], 2);
    assert_int_equal(stray, 0);
}

static void test_pop_reads_each_field_once(void **state)
{
    uint32_t total = 0;

    (void)state;
    post_chain();
    assert_int_equal(watched_pop(), 1);
    expect_chain_as_posted();
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (reads[fields[i]] != 1)
            fail_msg("guest memory at 0x%x read %u times in one pop, not once", fields[i],
                     reads[fields[i]]);
    }
    for (uint32_t a = 0; a < MEM_SIZE; a++)
        total += reads[a];
    /* The last descriptor's next is not needed (no NEXT flag): 13 or 14. */
    if (total > sizeof(fields) / sizeof(fields[0]) + 1)
        fail_msg("%u reads of guest memory for one 3-descriptor pop", total);
    assert_int_equal(writes, 0);
    assert_int_equal(stray, 0);
}

/* A burst: two chains behind one avail idx, two pops, one read of it
 * (the first pop's); each head is read once. */
static void test_burst_reads_idx_once(void **state)
{
    (void)state;
    drv_desc(1, BUF_GPA, 64, 0, 0);
    drv_desc(3, BUF_GPA + 0x400, 64, 0, 0);
    put16(AVAIL_GPA + 4, 1);
    put16(AVAIL_GPA + 6, 3);
    put16(AVAIL_GPA + 2, 2);
    watch_begin();
    assert_int_equal(virtq_pop(&q, &mem, 0, &chain, why, sizeof(why)), 1);
    assert_int_equal(chain.head, 1);
    assert_int_equal(virtq_pop(&q, &mem, 0, &chain, why, sizeof(why)), 1);
    assert_int_equal(chain.head, 3);
    watch_end();
    assert_int_equal(reads[AVAIL_GPA + 2], 1);
    assert_int_equal(reads[AVAIL_GPA + 4], 1);
    assert_int_equal(reads[AVAIL_GPA + 6], 1);
    assert_int_equal(writes, 0);
}

static void test_empty_ring_reads_idx_once(void **state)
{
    (void)state;
    assert_int_equal(watched_pop(), 0);
    assert_int_equal(reads[AVAIL_GPA + 2], 1);
    assert_int_equal(writes, 0);
}

/* Inside a burst: a one-descriptor chain (descriptor 0) in avail slot 0
 * taken first, unwatched, then post_chain's chain in slot 1. The next pop
 * is virtq_pop's inline part (avail idx known): it reads no avail idx. */
static void post_chain_in_burst(void)
{
    drv_desc(5, BUF_GPA, 100, VIRTQ_DESC_F_NEXT, 2);
    drv_desc(2, BUF_GPA + 0x400, 200, VIRTQ_DESC_F_NEXT, 7);
    drv_desc(7, BUF_GPA + 0x800, 300, 0, 0);
    drv_desc(0, BUF_GPA + 0xc00, 64, 0, 0);
    put16(AVAIL_GPA + 4, 0);
    put16(AVAIL_GPA + 6, 5);
    put16(AVAIL_GPA + 2, 2);
    assert_int_equal(virtq_pop(&q, &mem, 0, &chain, why, sizeof(why)), 1);
    assert_int_equal(chain.head, 0);
}

static void test_pop_in_burst_reads_each_field_once(void **state)
{
    uint32_t total = 0;

    (void)state;
    post_chain_in_burst();
    assert_int_equal(watched_pop(), 1);
    expect_chain_as_posted();
    /* fields[] less avail idx, with the head in slot 1 */
    for (size_t i = 2; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (reads[fields[i]] != 1)
            fail_msg("guest memory at 0x%x read %u times in one pop, not once", fields[i],
                     reads[fields[i]]);
    }
    assert_int_equal(reads[AVAIL_GPA + 6], 1);
    assert_int_equal(reads[AVAIL_GPA + 2], 0);
    for (uint32_t a = 0; a < MEM_SIZE; a++)
        total += reads[a];
    if (total > sizeof(fields) / sizeof(fields[0]))
        fail_msg("%u reads of guest memory for one 3-descriptor pop in a burst", total);
    assert_int_equal(writes, 0);
    assert_int_equal(stray, 0);
}

/* Changes the field at gpa (width bytes) to value right after its first
 * read; the pop must still give the chain as posted. */
static int flip_in_burst;       /* the chain is popped inside a burst (post_chain_in_burst) */

static void flip_after_first_read(uint32_t gpa, uint64_t value, uint32_t width)
{
    if (flip_in_burst) {
        post_chain_in_burst();
        if (gpa == AVAIL_GPA + 4)
            gpa = AVAIL_GPA + 6;    /* the head's slot */
    } else {
        post_chain();
    }
    flip_at = gpa;
    flip_value = value;
    flip_width = width;
    assert_int_equal(watched_pop(), 1);
    assert_true(flipped);
    expect_chain_as_posted();
}

static void test_head_changed_after_read(void **state)
{
    (void)state;
    flip_after_first_read(AVAIL_GPA + 4, 3, 2);
}

static void test_len_changed_after_read(void **state)
{
    (void)state;
    flip_after_first_read(DESC_GPA + 16 * 2 + 8, 0xfffffff0u, 4);
}

static void test_addr_changed_after_read(void **state)
{
    (void)state;
    flip_after_first_read(DESC_GPA + 16 * 2, 0xfffffffffffff000ull, 8);
}

static void test_flags_changed_after_read(void **state)
{
    (void)state;
    flip_after_first_read(DESC_GPA + 16 * 2 + 12, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT, 2);
}

static void test_next_changed_after_read(void **state)
{
    (void)state;
    flip_after_first_read(DESC_GPA + 16 * 5 + 14, 0xffff, 2);
}

/* The same changes inside a burst: virtq_pop's inline part reads the
 * head and its descriptor, virtq_pop_rest goes on with that copy. */
static void test_flips_in_burst(void **state)
{
    flip_in_burst = 1;
    test_head_changed_after_read(state);
    flip_in_burst = 0;
}

static void test_len_flip_in_burst(void **state)
{
    flip_in_burst = 1;
    test_len_changed_after_read(state);
    flip_in_burst = 0;
}

static void test_addr_flip_in_burst(void **state)
{
    flip_in_burst = 1;
    test_addr_changed_after_read(state);
    flip_in_burst = 0;
}

static void test_flags_flip_in_burst(void **state)
{
    flip_in_burst = 1;
    test_flags_changed_after_read(state);
    flip_in_burst = 0;
}

static void test_next_flip_in_burst(void **state)
{
    flip_in_burst = 1;
    test_next_changed_after_read(state);
    flip_in_burst = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_watch_counts_reads, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_pop_reads_each_field_once, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_empty_ring_reads_idx_once, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_burst_reads_idx_once, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_head_changed_after_read, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_len_changed_after_read, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_addr_changed_after_read, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_flags_changed_after_read, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_next_changed_after_read, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_pop_in_burst_reads_each_field_once, setup_test,
                                        teardown_test),
        cmocka_unit_test_setup_teardown(test_flips_in_burst, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_len_flip_in_burst, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_addr_flip_in_burst, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_flags_flip_in_burst, setup_test, teardown_test),
        cmocka_unit_test_setup_teardown(test_next_flip_in_burst, setup_test, teardown_test),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
