/*
 * libFuzzer target for hv/mft.c: mft_parse() on arbitrary bytes as an
 * MFT1 descriptor. An accepted manifest must hold only what the contract
 * promises: 1 to 1 + MFT_DEVICES_MAX entries (a longer manifest is
 * refused, never half-kept), entry 0 reserved with an empty name, every
 * other name 1 to 67 of [A-Za-z0-9] NUL-terminated (zero after the NUL),
 * a known type, no name twice, each found at its own index, and a guest
 * copy exactly the descriptor less its padding. A refusal must be one
 * line starting "Solo5 manifest" that fits MFT_REASON_MAX. Seeds:
 * tests/fuzz/corpus/mft/ (tests/fuzz/make_corpus.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int name_ok(const char *name)
{
    size_t n = strnlen(name, HVT_MFT_NAME_SIZE);

    if (n == 0 || n == HVT_MFT_NAME_SIZE)
        return 0;
    for (size_t j = 0; j < n; j++)
        if (!((name[j] >= 'A' && name[j] <= 'Z') || (name[j] >= 'a' && name[j] <= 'z') ||
              (name[j] >= '0' && name[j] <= '9')))
            return 0;
    for (size_t j = n; j < HVT_MFT_NAME_SIZE; j++)
        if (name[j] != 0)
            return 0;
    return 1;
}

static void check_manifest(const struct mft_info *m, size_t size)
{
    if (m->entries < 1 || m->entries > 1 + MFT_DEVICES_MAX)
        abort();
    if (m->e[0].type != HVT_MFT_RESERVED_FIRST || m->e[0].name[0] != 0)
        abort();
    if (mft_copy_size(m) != size - HVT_MFT_NOTE_PAD)
        abort();
    for (uint32_t i = 1; i < m->entries; i++) {
        const struct mft_device *d = &m->e[i];
        if (!name_ok(d->name))
            abort();
        if (d->type != HVT_MFT_BLOCK_BASIC && d->type != HVT_MFT_NET_BASIC)
            abort();
        if (mft_find(m, d->name) != (int)i)     /* also: no name twice */
            abort();
    }
    if (mft_find(m, "") != -1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mft_info m;
    char err[2 * MFT_REASON_MAX];
    size_t n;

    if (mft_parse(data, size, &m, err, sizeof(err)) == 0) {
        check_manifest(&m, size);
        return 0;
    }
    n = strlen(err);
    if (n == 0 || n >= MFT_REASON_MAX || memchr(err, '\n', n) || strncmp(err, "Solo5 manifest", 14))
        abort();
    for (size_t i = 0; i < sizeof(m); i++)
        if (((const uint8_t *)&m)[i] != 0)
            abort();                /* nothing half-parsed is left */
    return 0;
}
