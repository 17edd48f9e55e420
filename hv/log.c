#include <stdarg.h>

#include "log.h"
#include "fmt.h"
#include "logbuf.h"
#include "param.h"

static struct logbuf ring;
static int ready;
static char hv_line[LOGBUF_LINE_MAX];
static uint32_t hv_line_len;

void log_init(void *storage)
{
    logbuf_init(&ring, storage, LOG_RING_BYTES);
    logbuf_set_share(&ring, LOG_RING_BYTES / 8);    /* no guest evicts the others' lines */
    ready = 1;
}

void log_line(uint32_t id, const char *text, uint32_t len)
{
    if (ready)
        logbuf_append(&ring, id, text, len);
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
    logbuf_append(&ring, id, buf, (uint32_t)(n < sizeof(buf) ? n : sizeof(buf) - 1));
}

void log_hypervisor_char(char c)
{
    if (c == '\n') {
        log_line(0, hv_line, hv_line_len);
        hv_line_len = 0;
    } else if (hv_line_len < sizeof(hv_line)) {
        hv_line[hv_line_len++] = c;
    }
}

uint32_t log_read(uint32_t id, char *out, uint32_t max, int *truncated)
{
    *truncated = 0;
    return ready ? logbuf_read(&ring, id, out, max, truncated) : 0;
}
