/*
 * Recent log lines, for the control channel's LOGS request: one ring of
 * records (guest id, line) in a fixed buffer; the oldest records are
 * overwritten. Pure logic.
 */
#ifndef HV_LOGBUF_H
#define HV_LOGBUF_H

#include <stddef.h>
#include <stdint.h>

#define LOGBUF_LOST_MAX 32
#define LOGBUF_HELD_MAX 32


struct logbuf {
    uint8_t *buf;
    uint32_t size;
    uint32_t head;              /* offset of the oldest record */
    uint32_t used;              /* bytes of records in the ring */
    uint64_t dropped;           /* records overwritten so far */
    uint32_t lost[LOGBUF_LOST_MAX];     /* ids that lost lines to overwriting */
    uint32_t lost_count;
    int lost_overflow;          /* more ids lost lines than lost[] holds */
    struct {
        uint32_t id;            /* LOGBUF_PAD: unused */
        uint32_t bytes;         /* exactly what its records hold */
    } held[LOGBUF_HELD_MAX];    /* a cache; an id not in it is counted afresh */
    uint32_t held_next;         /* the entry replaced next */
    uint32_t highest_id;        /* no record has a higher id */
    uint32_t share;             /* most bytes one id (but 0) may hold; 0: no limit */
};

void logbuf_init(struct logbuf *lb, uint8_t *storage, uint32_t size);

/* Bounds how much of the ring one guest (every id but 0, the
 * hypervisor) may take from others: a guest holding share bytes or more
 * may push out only its own records. One that floods the log therefore
 * loses its own lines (it reads as truncated), never another guest's; it
 * may still fill space nobody uses. 0 (the default): no bound. */
void logbuf_set_share(struct logbuf *lb, uint32_t share);

/* Appends one line (len bytes, no newline) for guest id (0: the hypervisor).
 * Lines longer than LOGBUF_LINE_MAX are cut. The oldest records make
 * way, but a guest at its share may only push out its own. */
#define LOGBUF_LINE_MAX 200
void logbuf_append(struct logbuf *lb, uint32_t id, const char *line, uint32_t len);

/*
 * Copies the most recent lines of guest id that fit in max bytes, oldest
 * first, each followed by '\n', into out. Returns the bytes written;
 * *truncated is set when older lines of id did not fit or were
 * overwritten (for every id once more than LOGBUF_LOST_MAX ids have lost
 * lines: the ring then no longer knows whose were lost).
 */
uint32_t logbuf_read(const struct logbuf *lb, uint32_t id, char *out, uint32_t max,
                     int *truncated);

#endif
