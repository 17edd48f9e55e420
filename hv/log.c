#include <stdarg.h>

#include "log.h"
#include "fmt.h"
#include "lock.h"
#include "logbuf.h"
#include "param.h"

/* One lock over the ring: any CPU appends, the control channel reads. */
static struct logbuf ring;
static struct lock lock;
static int ready;

void log_init(void *storage)
{
    logbuf_init(&ring, storage, LOG_RING_BYTES);
    logbuf_set_share(&ring, LOG_RING_BYTES / 8);    /* no guest evicts the others' lines */
    ready = 1;
}

void log_line(uint32_t id, const char *text, uint32_t len)
{
    if (!ready)
        return;
    lock_take(&lock);
    logbuf_append(&ring, id, text, len);
    lock_give(&lock);
}

void log_printf(uint32_t id, const char *fmt, ...)
{
    char buf[LOGBUF_LINE_MAX];
    va_list ap;
    size_t n;

    if (!ready)
        return;
    va_start(ap, fmt);
    n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_line(id, buf, (uint32_t)(n < sizeof(buf) ? n : sizeof(buf) - 1));
}

uint32_t log_read(uint32_t id, char *out, uint32_t max, int *truncated)
{
    uint32_t n;

    *truncated = 0;
    if (!ready)
        return 0;
    lock_take(&lock);
    n = logbuf_read(&ring, id, out, max, truncated);
    lock_give(&lock);
    return n;
}
