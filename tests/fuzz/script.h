/*
 * The input of the fuzz targets that play a device (fuzz_e1000.c,
 * fuzz_virtio_net.c), read as a script: an op byte, then the bytes that
 * op takes, until the input runs out.
 */
#ifndef TESTS_FUZZ_SCRIPT_H
#define TESTS_FUZZ_SCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct script {
    const uint8_t *p;
    size_t left;
};

/* The next n bytes into b; -1 (and nothing taken) when fewer are left. */
static int script_take(struct script *s, uint8_t *b, size_t n)
{
    if (s->left < n)
        return -1;
    memcpy(b, s->p, n);
    s->p += n;
    s->left -= n;
    return 0;
}

#endif
