#include "txring.h"
#include "lib.h"

void txring_init(struct txring *r, uint8_t *storage, uint32_t size)
{
    r->buf = storage;
    r->size = size;
    r->written = r->sent = 0;
}

uint64_t txring_pending(const struct txring *r)
{
    return r->written - r->sent;
}

uint64_t txring_room(const struct txring *r)
{
    return r->size - (r->written - r->sent);
}

/* Two copies at most, up to the end of the buffer and on from its
 * start: every console line passes here (a byte loop with a modulo per
 * byte cost 900 instructions for a launch's log line: issue 15). */
void txring_put(struct txring *r, const void *data, uint32_t n)
{
    uint32_t at = (uint32_t)(r->written % r->size), first = r->size - at;

    if (n > r->size)            /* more than the ring holds: a broken caller */
        return;
    if (first > n)
        first = n;
    memcpy(r->buf + at, data, first);
    memcpy(r->buf, (const uint8_t *)data + first, n - first);
    r->written += n;
}

int txring_pump(struct txring *r, txring_write_fn write_some)
{
    while (r->written != r->sent) {
        uint64_t at = r->sent % r->size, n = r->written - r->sent;
        size_t done;
        if (n > r->size - at)
            n = r->size - at;
        done = write_some(r->buf + at, (size_t)n);
        r->sent += done;
        if (done < n)
            break;
    }
    return r->written != r->sent;
}

uint8_t txring_take(struct txring *r)
{
    return r->buf[r->sent++ % r->size];
}

size_t txring_get(struct txring *r, uint8_t *out, size_t max)
{
    uint64_t n = r->written - r->sent;
    uint32_t at = (uint32_t)(r->sent % r->size), first = r->size - at;

    if (n > max)
        n = max;
    if (first > n)
        first = (uint32_t)n;
    memcpy(out, r->buf + at, first);
    memcpy(out + first, r->buf, (size_t)n - first);
    r->sent += n;
    return (size_t)n;
}
