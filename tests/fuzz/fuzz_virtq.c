/*
 * libFuzzer target for hv/virtq.c. The input is a queue setup followed by
 * the guest's memory, copied into a heap block of exactly that size so
 * that ASan reports any access outside it:
 *
 *   [0]      bit 0: receive queue (want_write), bit 1: EVENT_IDX,
 *            bit 2: ring addresses used raw (else reduced into memory and aligned)
 *   [1]      queue size: 1 << (b & 15), or b itself if bit 7 is set
 *   [2..25]  desc, avail, used (little-endian u64 each)
 *   [26..]   guest memory (guest-physical 0 first)
 *
 * virtq_setup(), then virtq_pop() until it says empty or malformed
 * (bounded), gathering or scattering every byte of each chain, pushing
 * it and asking the notification questions. Seeds: tests/fuzz/corpus/virtq/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtq.h"

#define HEADER      26
#define MAX_POPS    600
#define COPY_MAX    4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t read64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint64_t place(uint64_t raw, uint64_t mem_size, uint64_t align, int use_raw)
{
    if (use_raw)
        return raw;
    return (raw % (mem_size + 1)) & ~(align - 1);
}

static void check_chain(const struct guest_mem *m, const struct virtq *q,
                        const struct virtq_chain *c, int want_write)
{
    static uint8_t copy[COPY_MAX];
    uint64_t sum = 0;
    uint32_t skip;

    if (c->count == 0 || c->count > MF_NET_CHAIN_MAX || c->head >= q->size)
        abort();
    for (uint32_t i = 0; i < c->count; i++) {
        if (c->bufs[i].len == 0 || !gmem_at(m, c->bufs[i].gpa, c->bufs[i].len))
            abort();
        sum += c->bufs[i].len;
    }
    if (sum != c->total)
        abort();
    /* Touch every byte of the chain, a window at a time. */
    for (skip = 0; skip < c->total; skip += COPY_MAX) {
        uint32_t want = c->total - skip < COPY_MAX ? c->total - skip : COPY_MAX, got;
        if (want_write) {
            memset(copy, 0x5a, want);
            got = virtq_scatter(m, c, skip, copy, want);
        } else {
            got = virtq_gather(m, c, skip, copy, want);
        }
        if (got != want)
            abort();
        if (skip >= 64u * COPY_MAX)
            break;                  /* enough: overlapping buffers can make chains huge */
    }
    if (virtq_gather(m, c, c->total, copy, COPY_MAX) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mf_queue_setup s;
    struct guest_mem m;
    struct virtq q;
    struct virtq_chain c;
    char why[160];
    void *block;
    int want_write, event_idx, raw;

    if (size < HEADER)
        return 0;
    want_write = data[0] & 1;
    event_idx = (data[0] >> 1) & 1;
    raw = (data[0] >> 2) & 1;
    m.size = size - HEADER;
    if (posix_memalign(&block, 16, m.size ? m.size : 1))
        abort();
    m.base = block;
    memcpy(m.base, data + HEADER, m.size);
    memset(&s, 0, sizeof(s));
    s.size = (data[1] & 0x80) ? data[1] : 1u << (data[1] & 15);
    s.desc = place(read64(data + 2), m.size, 16, raw);
    s.avail = place(read64(data + 10), m.size, 2, raw);
    s.used = place(read64(data + 18), m.size, 4, raw);
    memset(&q, 0, sizeof(q));

    if (virtq_setup(&q, &m, &s, event_idx, why, sizeof(why)) < 0) {
        if (!why[0] || q.ready)
            abort();
        free(block);
        return 0;
    }
    for (int i = 0; i < MAX_POPS; i++) {
        uint16_t last = q.last_avail, used = q.used_idx;

        int r = virtq_pop(&q, &m, want_write, &c, why, sizeof(why));
        if (r <= 0) {
            if (q.last_avail != last || (r < 0 && !why[0]))
                abort();
            break;
        }
        if (q.last_avail != (uint16_t)(last + 1))
            abort();
        check_chain(&m, &q, &c, want_write);
        virtq_push(&q, &m, c.head, want_write ? c.total : 0);
        if (q.used_idx != (uint16_t)(used + 1))
            abort();
        (void)virtq_should_notify(&q, &m, used);
        if (virtq_kick_rearm(&q, &m) && !event_idx)
            abort();
    }
    virtq_set_avail_event(&q, &m, virtq_avail_idx(&q, &m));
    virtq_set_used_flags(&q, &m, VIRTQ_USED_F_NO_NOTIFY);
    free(block);
    return 0;
}
