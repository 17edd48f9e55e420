#include "console.h"
#include "arch.h"
#include "fmt.h"
#include "hv.h"
#include "lib.h"
#include "log.h"
#include "param.h"

/* The transmit ring (from the pool, once buffering starts): bytes
 * [sent, written) wait for the UART (both counters only grow; offsets
 * are taken modulo the size). Until then output goes straight out. */
static char *ring;
static uint64_t written, sent;

/* Guest lines in the ring, oldest first, so that each writer's queued
 * count falls again as its bytes leave. */
static struct {
    struct console_quota *q;
    uint32_t owner, len;
    uint64_t end;               /* value of sent once the line has left */
} chunks[CONSOLE_CHUNKS];
static uint32_t chunk_head, chunk_count;


void console_init(void)
{
    console_arch_init();
}

void console_start_buffering(char *storage)
{
    ring = storage;
}

static uint64_t room(void)
{
    return CONSOLE_RING_BYTES - (written - sent);
}

static void retire_chunks(void)
{
    while (chunk_count && chunks[chunk_head].end <= sent) {
        if (chunks[chunk_head].q->owner == chunks[chunk_head].owner)
            chunks[chunk_head].q->queued -= chunks[chunk_head].len;
        chunk_head = (chunk_head + 1) % CONSOLE_CHUNKS;
        chunk_count--;
    }
}

static void append(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        ring[(written + i) % CONSOLE_RING_BYTES] = s[i];
    written += n;
}

/* Sends one byte, waiting for the UART. */
static void send_one_waiting(void)
{
    console_arch_putc(ring[sent % CONSOLE_RING_BYTES]);
    sent++;
}

int console_pending(void)
{
    return written != sent;
}

int console_poll(void)
{
    while (ring && written != sent) {
        uint64_t at = sent % CONSOLE_RING_BYTES, n = written - sent;
        size_t done;
        if (n > CONSOLE_RING_BYTES - at)
            n = CONSOLE_RING_BYTES - at;
        done = console_arch_write_some(ring + at, (size_t)n);
        sent += done;
        if (done < n)
            break;
    }
    retire_chunks();
    return written != sent;
}

/* Hypervisor output: waits for room when the ring is full, and is
 * written out at once while the console is not buffering yet. */
static void put_hypervisor(const char *s, uint32_t n)
{
    if (!ring) {
        for (uint32_t i = 0; i < n; i++)
            console_arch_putc(s[i]);
        return;
    }
    while (room() < n)
        send_one_waiting();
    append(s, n);
    console_poll();
}

void kvprintf(const char *fmt, va_list ap)
{
    char buf[256], out[2 * sizeof(buf)];
    size_t n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    uint32_t k = 0;

    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n')
            out[k++] = '\r';
        out[k++] = buf[i];
        log_hypervisor_char(buf[i]);
    }
    put_hypervisor(out, k);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

/* Whether a guest line of total bytes may go in now. The last
 * CONSOLE_RESERVE bytes and CONSOLE_CHUNKS_RESERVE lines of the ring are
 * kept for the hypervisor and for guests with little queued, so that a
 * few guests at their share cannot crowd out the others. */
static int guest_fits(const struct console_quota *q, uint32_t total)
{
    int quiet = q->queued <= CONSOLE_QUIET_BYTES;

    if (room() < total || chunk_count == CONSOLE_CHUNKS)
        return 0;
    return quiet || (room() >= total + CONSOLE_RESERVE &&
                     chunk_count + CONSOLE_CHUNKS_RESERVE < CONSOLE_CHUNKS);
}

void console_guest_line(struct console_quota *q, const char *prefix, const char *text,
                        uint32_t len)
{
    uint32_t plen = (uint32_t)strlen(prefix), total = plen + len + 5;

    if (!ring) {
        put_hypervisor("[", 1);
        put_hypervisor(prefix, plen);
        put_hypervisor("] ", 2);
        put_hypervisor(text, len);
        put_hypervisor("\r\n", 2);
        return;
    }
    if (q->queued + total > CONSOLE_GUEST_SHARE || !guest_fits(q, total)) {
        q->dropped_lines++;
        return;
    }
    append("[", 1);
    append(prefix, plen);
    append("] ", 2);
    append(text, len);
    append("\r\n", 2);
    q->queued += total;
    chunks[(chunk_head + chunk_count) % CONSOLE_CHUNKS].q = q;
    chunks[(chunk_head + chunk_count) % CONSOLE_CHUNKS].owner = q->owner;
    chunks[(chunk_head + chunk_count) % CONSOLE_CHUNKS].len = total;
    chunks[(chunk_head + chunk_count) % CONSOLE_CHUNKS].end = written;
    chunk_count++;
    console_poll();
}

void console_flush(void)
{
    while (ring && written != sent)
        send_one_waiting();
    retire_chunks();
    console_arch_flush();
}

void hv_power_off(int status)
{
    kprintf("mayfly: power off (status %d)\n", status);
    console_flush();
    power_arch_off(status);
}

void fatal(int status, const char *fmt, ...)
{
    va_list ap;

    kprintf("mayfly: fatal: ");
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    hv_power_off(status);
}

void panic(const char *fmt, ...)
{
    va_list ap;

    kprintf("mayfly: panic: ");
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    hv_power_off(HV_PANIC);
}
