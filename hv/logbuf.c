#include "logbuf.h"
#include "lib.h"

/*
 * A record: u32 id, u16 length, the text, padded to 8 bytes. Records are
 * never split by the end of the buffer: a record that does not fit there
 * starts at offset 0 and the gap becomes a padding record (id
 * LOGBUF_PAD), which is why sizes are multiples of 8.
 */
#define RECORD_HEADER 6
#define LOGBUF_PAD    0xffffffffu
#define RESERVE_REFUSED 0xffffffffu

void logbuf_set_share(struct logbuf *lb, uint32_t share)
{
    lb->share = share;
}

void logbuf_init(struct logbuf *lb, uint8_t *storage, uint32_t size)
{
    memset(lb, 0, sizeof(*lb));
    lb->buf = storage;
    lb->size = size & ~7u;
    for (uint32_t i = 0; i < LOGBUF_HELD_MAX; i++)
        lb->held[i].id = LOGBUF_PAD;
}

/* Remembers that id lost lines, so that its reads say "truncated". */
static void note_lost(struct logbuf *lb, uint32_t id)
{
    for (uint32_t i = 0; i < lb->lost_count; i++)
        if (lb->lost[i] == id)
            return;
    if (lb->lost_count == LOGBUF_LOST_MAX)
        lb->lost_overflow = 1;
    else
        lb->lost[lb->lost_count++] = id;
}

static int has_lost(const struct logbuf *lb, uint32_t id)
{
    for (uint32_t i = 0; i < lb->lost_count; i++)
        if (lb->lost[i] == id)
            return 1;
    return lb->lost_overflow;
}

static uint32_t record_id(const struct logbuf *lb, uint32_t off)
{
    uint32_t id;
    memcpy(&id, lb->buf + off, 4);
    return id;
}

static uint32_t record_len(const struct logbuf *lb, uint32_t off)
{
    uint16_t len;
    memcpy(&len, lb->buf + off + 4, 2);
    return len;
}

static uint32_t padded(uint32_t len)
{
    return (RECORD_HEADER + len + 7) & ~7u;
}

static uint32_t record_size(const struct logbuf *lb, uint32_t off)
{
    if (record_id(lb, off) == LOGBUF_PAD)
        return lb->size - off;
    return padded(record_len(lb, off));
}

/* The held[] entry of id, or NULL when the cache does not know it. */
static uint32_t *held_entry(struct logbuf *lb, uint32_t id)
{
    for (uint32_t i = 0; i < LOGBUF_HELD_MAX; i++)
        if (lb->held[i].id == id)
            return &lb->held[i].bytes;
    return NULL;
}

static void held_less(struct logbuf *lb, uint32_t id, uint32_t n)
{
    uint32_t *h = held_entry(lb, id);
    if (h)
        *h -= n;
}

static void drop_oldest(struct logbuf *lb)
{
    uint32_t n = record_size(lb, lb->head), id = record_id(lb, lb->head);

    if (id != LOGBUF_PAD) {
        lb->dropped++;
        note_lost(lb, id);
        if (lb->share)
            held_less(lb, id, n);
    }
    lb->head = (lb->head + n) % lb->size;
    lb->used -= n;
}

/* Walks every record (padding included), oldest first. */
#define FOR_EACH_RECORD(lb, off, seen)                                          \
    for ((off) = (lb)->head, (seen) = 0; (seen) < (lb)->used;                   \
         (seen) += record_size((lb), (off)), (off) = ((off) + record_size((lb), (off))) % (lb)->size)

/* What id's records hold, counted from the ring when the cache does not
 * know it (the count then replaces the oldest cache entry). */
static uint32_t *held_of(struct logbuf *lb, uint32_t id)
{
    uint32_t *h = held_entry(lb, id), off, seen, bytes = 0;

    if (h)
        return h;
    /* An id above every one appended holds nothing: a new guest's first
     * line (ids only grow) costs no walk over the whole ring, which made
     * a batch of N launches cost N^2 (issue 15). */
    if (id <= lb->highest_id)
        FOR_EACH_RECORD(lb, off, seen)
            if (record_id(lb, off) == id)
                bytes += record_size(lb, off);
    lb->held[lb->held_next].id = id;
    lb->held[lb->held_next].bytes = bytes;
    h = &lb->held[lb->held_next].bytes;
    lb->held_next = (lb->held_next + 1) % LOGBUF_HELD_MAX;
    return h;
}

/* Makes room for need contiguous bytes after the newest record for id;
 * returns their offset. need is at most half the buffer. Making room
 * drops the oldest records; a guest at its share may drop only its own:
 * when the oldest is someone else's, RESERVE_REFUSED. */
static uint32_t reserve(struct logbuf *lb, uint32_t id, uint32_t need)
{
    for (;;) {
        uint32_t tail = (lb->head + lb->used) % lb->size, oldest;
        if (lb->used == 0) {
            lb->head = 0;
            return 0;
        }
        if (lb->used < lb->size && tail >= lb->head) {
            uint32_t pad = LOGBUF_PAD;
            uint16_t zero = 0;
            if (lb->size - tail >= need)
                return tail;
            /* Wrap: the rest of the buffer becomes padding. */
            memcpy(lb->buf + tail, &pad, 4);
            memcpy(lb->buf + tail + 4, &zero, 2);
            lb->used += lb->size - tail;
            continue;
        }
        if (lb->used < lb->size && lb->head - tail >= need)
            return tail;
        oldest = record_id(lb, lb->head);
        if (lb->share && id && oldest != id && oldest != LOGBUF_PAD &&
            *held_of(lb, id) + need > lb->share)
            return RESERVE_REFUSED;
        drop_oldest(lb);
    }
}

void logbuf_append(struct logbuf *lb, uint32_t id, const char *line, uint32_t len)
{
    uint16_t n;
    uint32_t off, *held;

    if (len > LOGBUF_LINE_MAX)
        len = LOGBUF_LINE_MAX;
    if (lb->size < 64 || padded(len) > lb->size / 2 || id == LOGBUF_PAD)
        return;
    n = (uint16_t)len;
    off = reserve(lb, id, padded(len));
    if (off == RESERVE_REFUSED) {
        lb->dropped++;
        note_lost(lb, id);
        return;
    }
    /* The hypervisor (id 0) has no share: nothing to count (counting it
     * walked the ring each time new guests had pushed it out of held[]). */
    held = lb->share && id ? held_of(lb, id) : NULL;
    if (id > lb->highest_id)
        lb->highest_id = id;
    memcpy(lb->buf + off, &id, 4);
    memcpy(lb->buf + off + 4, &n, 2);
    memcpy(lb->buf + off + RECORD_HEADER, line, len);
    lb->used += padded(len);
    if (held)
        *held += padded(len);
}

uint32_t logbuf_read(const struct logbuf *lb, uint32_t id, char *out, uint32_t max,
                     int *truncated)
{
    uint32_t total = 0, off, seen, w = 0;

    *truncated = has_lost(lb, id);
    if (!lb->size || id == LOGBUF_PAD)     /* padding records are not lines */
        return 0;
    FOR_EACH_RECORD(lb, off, seen)
        if (record_id(lb, off) == id)
            total += record_len(lb, off) + 1;
    FOR_EACH_RECORD(lb, off, seen) {
        uint32_t len;
        if (record_id(lb, off) != id)
            continue;
        len = record_len(lb, off) + 1;
        if (total > max) {          /* older than what fits: skipped */
            total -= len;
            *truncated = 1;
            continue;
        }
        memcpy(out + w, lb->buf + off + RECORD_HEADER, len - 1);
        out[w + len - 1] = '\n';
        w += len;
    }
    return w;
}
