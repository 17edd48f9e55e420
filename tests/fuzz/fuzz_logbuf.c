/*
 * libFuzzer target for hv/logbuf.c. The input is
 *
 *   [0..1]   ring size, little-endian, masked to 0..4095 (under 64: a ring
 *            that ignores every line); the top 4 bits of [1], s, set a
 *            share (logbuf_set_share) of s/16 of the ring, 0: none
 *   [2..]    operations, one byte each:
 *              bits 0-1  guest id: 0, 1, 2 or 1000
 *              bit 2     0: append, 1: read
 *            an append takes a length byte (0..255) and then that many
 *            bytes of text (fewer if the input ends); a read takes a
 *            little-endian u16 max.
 *
 * The ring and every read buffer are heap blocks of exactly their size,
 * so ASan sees any access past them. Checks: a read returns at most max
 * bytes of whole '\n'-terminated lines; it is the tail of an unbounded
 * read of the same id; truncated is set when it returned less than that;
 * and right after an accepted append the line is the last one read.
 * With a share, for an append by a guest (id not 0): a line may be
 * refused (the guest then reads as truncated) only when the guest holds
 * its share counting the line, and other ids' records may make way only
 * when it does not (bytes counted by the harness's own walk of the ring:
 * 6-byte headers, records padded to 8, a padding record to the end).
 * Id 0xffffffff is never read: see test_read_pad_id_returns_nothing in
 * tests/unit/test_logbuf.c for why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logbuf.h"

/* Read blocks and rings kept across calls and executions (exact_buf.h),
 * up to an unbounded read's size. */
#define EXACT_BUF_MAX 8192
#include "exact_buf.h"

#define READ_ALL 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static const uint32_t ids[4] = { 0, 1, 2, 1000 };

/* Reads id into a block of exactly max bytes; returns a copy in out. */
static uint32_t read_exact(const struct logbuf *lb, uint32_t id, uint32_t max, char *out,
                           int *truncated)
{
    char *block = (char *)exact_buf_get(max ? max : 1);
    uint32_t n;

    *truncated = -1;
    n = logbuf_read(lb, id, block, max, truncated);
    check(n <= max);
    check(*truncated == 0 || *truncated == 1);
    check(n == 0 || block[n - 1] == '\n');
    memcpy(out, block, n);
    exact_buf_put((uint8_t *)block, max ? max : 1);
    return n;
}

static void check_read(const struct logbuf *lb, uint32_t id, uint32_t max)
{
    static char all[READ_ALL], part[65536];
    int t_all, t_part;
    uint32_t n_all = read_exact(lb, id, READ_ALL, all, &t_all);
    uint32_t n_part = read_exact(lb, id, max, part, &t_part);

    check(n_part <= n_all);
    check(memcmp(part, all + n_all - n_part, n_part) == 0);
    check(n_part == n_all || n_part == 0 || all[n_all - n_part - 1] == '\n');
    if (n_part < n_all)
        check(t_part == 1);
}

/* What logbuf.c keeps: rings of 64 bytes or more, and records (6-byte
 * header and the cut line, padded to 8) of at most half the ring. */
static uint32_t record_bytes(uint32_t len)
{
    return (6 + len + 7) & ~7u;
}

static int accepted(const struct logbuf *lb, uint32_t len)
{
    if (len > LOGBUF_LINE_MAX)
        len = LOGBUF_LINE_MAX;
    return lb->size >= 64 && record_bytes(len) <= lb->size / 2;
}

/* The bytes of id's records (*mine) and of every other id's (*others;
 * padding not counted): the harness's own walk of the ring. */
__attribute__((no_sanitize("coverage"))) static void bytes_held(const struct logbuf *lb,
                                                                uint32_t id, uint32_t *mine,
                                                                uint32_t *others)
{
    uint32_t off = lb->head, seen = 0;

    *mine = *others = 0;
    while (seen < lb->used) {
        uint32_t rid, n;
        uint16_t len;
        memcpy(&rid, lb->buf + off, 4);
        memcpy(&len, lb->buf + off + 4, 2);
        n = rid == 0xffffffffu ? lb->size - off : record_bytes(len);
        if (rid != 0xffffffffu)
            *(rid == id ? mine : others) += n;
        seen += n;
        off = (off + n) % lb->size;
    }
}

/* The line just appended is the newest of id (returns 1); with
 * may_be_lost (a guest with a share), it may instead have been refused
 * (returns 0), and id then reads as truncated. */
static int check_newest(const struct logbuf *lb, uint32_t id, const uint8_t *line,
                         uint32_t len, int may_be_lost)
{
    static char all[READ_ALL];
    int truncated;
    uint32_t n = read_exact(lb, id, READ_ALL, all, &truncated);

    if (len > LOGBUF_LINE_MAX)
        len = LOGBUF_LINE_MAX;
    if (may_be_lost && (n < len + 1 || memcmp(all + n - 1 - len, line, len) != 0 ||
                        (n != len + 1 && all[n - len - 2] != '\n'))) {
        check(truncated == 1);
        return 0;
    }
    check(n >= len + 1);
    check(memcmp(all + n - 1 - len, line, len) == 0);
    check(n == len + 1 || all[n - len - 2] == '\n');
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct logbuf lb;
    uint8_t *ring;
    uint32_t ring_size;
    size_t at = 2;

    if (size < 2)
        return 0;
    ring_size = (uint32_t)(data[0] | data[1] << 8) & 0xfff;
    ring = exact_buf_get(ring_size ? ring_size : 1);
    memset(ring, 0x5a, ring_size);
    logbuf_init(&lb, ring, ring_size);
    logbuf_set_share(&lb, ring_size * (data[1] >> 4) / 16);
    while (at < size) {
        uint8_t op = data[at++];
        uint32_t id = ids[op & 3];

        if (op & 4) {
            uint32_t max = 0;
            if (at < size)
                max = data[at++];
            if (at < size)
                max |= (uint32_t)data[at++] << 8;
            check_read(&lb, id, max);
        } else {
            uint32_t len = at < size ? data[at++] : 0, need, mine, others = 0, after;
            int guest;
            if (len > size - at)
                len = (uint32_t)(size - at);
            need = record_bytes(len > LOGBUF_LINE_MAX ? LOGBUF_LINE_MAX : len);
            guest = lb.share && id && accepted(&lb, len);
            if (guest)
                bytes_held(&lb, id, &mine, &others);
            logbuf_append(&lb, id, (const char *)data + at, len);
            if (accepted(&lb, len)) {
                int kept = check_newest(&lb, id, data + at, len, guest);
                if (guest) {
                    /* What the guest held besides the new line: only at
                     * its share may a line be refused, only below it may
                     * another id's records make way. */
                    bytes_held(&lb, id, &mine, &after);
                    mine -= kept ? need : 0;
                    check(kept || mine + need > lb.share);
                    check(after >= others || mine + need <= lb.share);
                }
            }
            at += len;
        }
        check(lb.used <= lb.size && lb.head < (lb.size ? lb.size : 1));
    }
    exact_buf_put(ring, ring_size ? ring_size : 1);
    return 0;
}
