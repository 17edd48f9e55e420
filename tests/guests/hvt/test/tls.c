/*
 * hvt-test's tls mode (protocol: main.c): two TLS blocks set up by the
 * runtime (tls.c), FS base switched between them with WRMSR; each keeps
 * its own __thread values, initialised from .tdata and .tbss. Only in the
 * ABI 2 image (hvt-v1.ld has no TLS segment).
 */
#include "test.h"

#define TLS_BLOCK_MAX   4096
#define TLS_INITIAL     0x1111222233334444ull

static __thread uint64_t tls_value = TLS_INITIAL;        /* .tdata */
static __thread char tls_text[16] = "thread local";     /* .tdata */
static __thread uint32_t tls_zero[8];                   /* .tbss */

static uint8_t tls_blocks[2][TLS_BLOCK_MAX] __attribute__((aligned(64)));

static int tls_fail(const char *what)
{
    hvt_printf("tls: FAIL %s\n", what);
    return 1;
}

/* Through calls the compiler cannot merge across an FS base change. */
__attribute__((noinline)) static uint64_t tls_self(void)
{
    uint64_t tp;

    __asm__ volatile("movq %%fs:0, %0" : "=r"(tp));
    return tp;
}

__attribute__((noinline)) static int tls_is_initial(void)
{
    for (unsigned i = 0; i < 8; i++)
        if (tls_zero[i] != 0)
            return 0;
    return tls_value == TLS_INITIAL && strcmp(tls_text, "thread local") == 0;
}

__attribute__((noinline)) static void tls_set(uint64_t v)
{
    tls_value = v;
    tls_zero[3] = (uint32_t)v;
    tls_text[0] = (char)('a' + (v & 7));
}

__attribute__((noinline)) static int tls_holds(uint64_t v)
{
    return tls_value == v && tls_zero[3] == (uint32_t)v && tls_text[0] == (char)('a' + (v & 7));
}

/* 1 if this thread's tls_value lies inside block b, below its TCB. */
__attribute__((noinline)) static int tls_in_block(const uint8_t *b, uint64_t tp)
{
    uintptr_t a = (uintptr_t)&tls_value;

    return a >= (uintptr_t)b && a + sizeof(tls_value) <= tp;
}

int test_tls(const struct hvt_boot_info *bi)
{
    uint64_t tp[2];

    (void)bi;
    if (hvt_tls_size() > TLS_BLOCK_MAX || hvt_tls_align() > 64)
        return tls_fail("the TLS segment is larger or more aligned than the test's blocks");
    for (int i = 0; i < 2; i++) {
        tp[i] = hvt_tls_init(tls_blocks[i]);
        hvt_set_fs_base(tp[i]);
        if (tls_self() != tp[i])
            return tls_fail("%fs:0 is not the thread pointer after WRMSR FS base");
        if (!tls_is_initial())
            return tls_fail("a new block does not hold the .tdata/.tbss values");
        if (!tls_in_block(tls_blocks[i], tp[i]))
            return tls_fail("a __thread variable lies outside its block");
        tls_set(0xa0 + (uint64_t)i);
    }
    for (int i = 0; i < 2; i++) {
        hvt_set_fs_base(tp[i]);
        if (!tls_holds(0xa0 + (uint64_t)i))
            return tls_fail("a block lost its values when FS base moved away and back");
    }
    hvt_printf("tls: blocks of %lu bytes at 0x%lx and 0x%lx\n", (unsigned long)hvt_tls_size(),
               (unsigned long)(uintptr_t)tls_blocks[0], (unsigned long)(uintptr_t)tls_blocks[1]);
    hvt_puts("tls ok\n");
    return 0;
}
