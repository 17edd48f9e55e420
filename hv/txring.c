#include "txring.h"

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

void txring_put(struct txring *r, const void *data, uint32_t n)
{
    const uint8_t *p = data;

    for (uint32_t i = 0; i < n; i++)
        r->buf[(r->written + i) % r->size] = p[i];
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
