#include "console.h"
#include "arch.h"
#include "fmt.h"
#include "hv.h"
#include "lib.h"
#include "lock.h"
#include "log.h"
#include "param.h"
#include "txring.h"

/* The transmit ring: used once buffering starts; until then output goes
 * straight out. A fixed cost, not per guest. */
static uint8_t tx_storage[CONSOLE_RING_BYTES];
static struct txring tx;
static int buffering;

/* Guest lines in the ring, oldest first, so that each writer's queued
 * count falls again as its bytes leave. */
struct chunk {
    struct console_quota *q;
    uint32_t owner, len;
    uint64_t end;               /* value of tx.sent once the line has left */
};
static struct chunk chunks[CONSOLE_CHUNKS];
static uint32_t chunk_head, chunk_count;

/* With several CPUs: one lock over the ring, the chunks and the UART,
 * and each CPU's hypervisor output gathered into whole lines before it
 * takes the lock, so that lines never interleave mid-line. The lock
 * knows its holder: a panic inside the console on the CPU that holds it
 * writes on rather than waiting for itself. */
static struct lock lock;
static volatile uint32_t lock_holder;   /* 1 + the holding CPU; 0 free */

struct cpu_line {
    char text[CONSOLE_LINE_MAX];
    uint32_t len;
};
static struct cpu_line cpu_lines[CPU_MAX];

static int poll_locked(void);

/* 1 when taken (give it back), 0 when this CPU holds it already. */
static int console_lock(void)
{
    uint32_t self = cpu_arch_self() + 1;

    if (__atomic_load_n(&lock_holder, __ATOMIC_RELAXED) == self)
        return 0;
    lock_take(&lock);
    lock_holder = self;
    return 1;
}

static void console_unlock(int taken)
{
    if (!taken)
        return;
    lock_holder = 0;
    lock_give(&lock);
}

void console_init(void)
{
    console_arch_init();
}

void console_start_buffering(void)
{
    txring_init(&tx, tx_storage, CONSOLE_RING_BYTES);
    buffering = 1;
}

static void retire_chunks(void)
{
    while (chunk_count && chunks[chunk_head].end <= tx.sent) {
        const struct chunk *c = &chunks[chunk_head];
        if (c->q->owner == c->owner)        /* not a later tenant's share */
            c->q->queued -= c->len;
        chunk_head = (chunk_head + 1) % CONSOLE_CHUNKS;
        chunk_count--;
    }
}

/* Sends the oldest waiting byte, waiting for the UART. */
static void send_one_waiting(void)
{
    console_arch_putc((char)txring_take(&tx));
}

int console_pending(void)
{
    return txring_pending(&tx) != 0;
}

/* Under the console lock. */
static int poll_locked(void)
{
    int left = buffering && txring_pump(&tx, console_arch_write_some);

    retire_chunks();
    return left;
}

/* Another CPU pumping already is as good as this one doing it. */
int console_poll(void)
{
    int left;

    if (__atomic_load_n(&lock_holder, __ATOMIC_RELAXED) == cpu_arch_self() + 1)
        return poll_locked();
    if (!lock_try(&lock))
        return 1;
    lock_holder = cpu_arch_self() + 1;
    left = poll_locked();
    console_unlock(1);
    return left;
}

/* Hypervisor output: waits for room when the ring is full, and is
 * written out at once while the console is not buffering yet. */
static void put_hypervisor(const char *s, uint32_t n)
{
    if (!buffering) {
        for (uint32_t i = 0; i < n; i++)
            console_arch_putc(s[i]);
        return;
    }
    while (txring_room(&tx) < n)
        send_one_waiting();
    txring_put(&tx, s, n);
    poll_locked();
}

/* One whole hypervisor line (no newline) to the console and the log. */
static void emit_line(const char *text, uint32_t len)
{
    int taken = console_lock();

    put_hypervisor(text, len);
    put_hypervisor("\r\n", 2);
    console_unlock(taken);
    log_line(0, text, len);
}

/* Output is gathered per CPU until its newline (a line longer than
 * CONSOLE_LINE_MAX is cut there). */
void kvprintf(const char *fmt, va_list ap)
{
    char buf[256];
    size_t n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    struct cpu_line *l = &cpu_lines[cpu_arch_self()];

    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    /* A run up to the newline (or until the line is full) copied at once:
     * a byte at a time cost a launch's log line 1,000 instructions. */
    for (size_t i = 0; i < n;) {
        size_t k = 0, room = sizeof(l->text) - l->len;
        while (i + k < n && k < room && buf[i + k] != '\n')
            k++;
        memcpy(l->text + l->len, buf + i, k);
        l->len += (uint32_t)k;
        i += k;
        if (l->len == sizeof(l->text)) {        /* full: cut here */
            emit_line(l->text, l->len);
            l->len = 0;
        } else if (i < n) {                     /* at its newline */
            emit_line(l->text, l->len);
            l->len = 0;
            i++;
        }
    }
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

    if (txring_room(&tx) < total || chunk_count == CONSOLE_CHUNKS)
        return 0;
    return quiet || (txring_room(&tx) >= total + CONSOLE_RESERVE &&
                     chunk_count + CONSOLE_CHUNKS_RESERVE < CONSOLE_CHUNKS);
}

static void guest_line_locked(struct console_quota *q, const char *prefix, const char *text,
                        uint32_t len)
{
    const char *piece[5] = { "[", prefix, "] ", text, "\r\n" };
    uint32_t n[5] = { 1, (uint32_t)strlen(prefix), 2, len, 2 };
    uint32_t total = n[1] + len + 5;
    struct chunk *c;

    if (!buffering) {
        for (uint32_t i = 0; i < 5; i++)
            put_hypervisor(piece[i], n[i]);
        return;
    }
    if (q->queued + total > CONSOLE_GUEST_SHARE || !guest_fits(q, total)) {
        q->dropped_lines++;
        return;
    }
    for (uint32_t i = 0; i < 5; i++)
        txring_put(&tx, piece[i], n[i]);
    q->queued += total;
    c = &chunks[(chunk_head + chunk_count++) % CONSOLE_CHUNKS];
    c->q = q;
    c->owner = q->owner;
    c->len = total;
    c->end = tx.written;
    poll_locked();
}

void console_guest_line(struct console_quota *q, const char *prefix, const char *text,
                        uint32_t len)
{
    int taken = console_lock();

    guest_line_locked(q, prefix, text, len);
    console_unlock(taken);
}

void console_quota_reset(struct console_quota *q, uint32_t owner)
{
    int taken = console_lock();

    q->owner = owner;
    q->queued = 0;
    q->dropped_lines = 0;
    console_unlock(taken);
}

void console_flush(void)
{
    int taken = console_lock();

    while (buffering && txring_pending(&tx))
        send_one_waiting();
    retire_chunks();
    console_arch_flush();
    console_unlock(taken);
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
