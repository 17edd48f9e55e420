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

struct logbuf {
    uint8_t *buf;
    uint32_t size;
    uint32_t head;              /* offset of the oldest record */
    uint32_t used;              /* bytes of records in the ring */
    uint64_t dropped;           /* records overwritten so far */
    uint32_t lost[LOGBUF_LOST_MAX];     /* ids that lost lines to overwriting */
    uint32_t lost_count;
    int lost_overflow;          /* more ids lost lines than lost[] holds */
};

void logbuf_init(struct logbuf *lb, uint8_t *storage, uint32_t size);

/* Appends one line (len bytes, no newline) for guest id (0: the hypervisor).
 * Lines longer than LOGBUF_LINE_MAX are cut. */
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
