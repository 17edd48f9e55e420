/*
 * Exact-size heap blocks that a fuzz target hands to the code under test
 * for one call (a frame to send, a room to receive into), kept across
 * calls and executions instead of a malloc and a free each time. The
 * block of a size is allocated once, so ASan still reports any access
 * past its end, and it is poisoned while nobody holds it, so code that
 * kept the pointer past its call is still a report (use-after-poison
 * where it was heap-use-after-free). A malloc per call went through
 * ASan's quarantine, the fill of fresh blocks and the page faults of
 * fresh memory: much of fuzz_e1000's, fuzz_virtio_net's and
 * fuzz_service's time. Sizes above EXACT_BUF_MAX (4096 unless the target
 * defines it first) are allocated per use.
 */
#ifndef TESTS_FUZZ_EXACT_BUF_H
#define TESTS_FUZZ_EXACT_BUF_H

#include <sanitizer/asan_interface.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef EXACT_BUF_MAX
#define EXACT_BUF_MAX 4096
#endif

static uint8_t *exact_bufs[EXACT_BUF_MAX + 1];
static uint8_t exact_buf_held[EXACT_BUF_MAX + 1];

/* A block of exactly size bytes (size >= 1), its contents undefined. A
 * size whose kept block is held already gets a block of its own. */
static uint8_t *exact_buf_get(size_t size)
{
    uint8_t *p;

    if (size == 0 || size > EXACT_BUF_MAX || exact_buf_held[size] || !exact_bufs[size]) {
        p = malloc(size ? size : 1);
        if (!p) {
            fprintf(stderr, "exact_buf: host out of memory (%zu bytes)\n", size);
            abort();
        }
        if (size && size <= EXACT_BUF_MAX && !exact_bufs[size]) {
            exact_bufs[size] = p;
            exact_buf_held[size] = 1;
        }
        return p;
    }
    p = exact_bufs[size];
    exact_buf_held[size] = 1;
    ASAN_UNPOISON_MEMORY_REGION(p, size);
    return p;
}

/* Gives back p, from exact_buf_get(size): nobody may touch it now. */
static void exact_buf_put(uint8_t *p, size_t size)
{
    if (size == 0 || size > EXACT_BUF_MAX || p != exact_bufs[size]) {
        free(p);
        return;
    }
    exact_buf_held[size] = 0;
    ASAN_POISON_MEMORY_REGION(p, size);
}

#endif
