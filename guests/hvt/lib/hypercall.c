/*
 * Hypercall wrappers. Each builds its argument struct on the stack (all
 * of guest memory lies below 4 GiB, so its address fits EAX) and passes
 * the caller's values through unchecked: the tests want the host's
 * answer to exactly what they asked.
 */
#include "hvtlib.h"

#define PRINTF_MAX 512

void hvt_hypercall(unsigned n, volatile void *arg)
{
    __asm__ volatile("outl %0, %1"
                     : : "a"((uint32_t)(uintptr_t)arg), "Nd"((uint16_t)(HVT_PIO_BASE + n))
                     : "memory");
}

void hvt_write(const char *s, size_t len)
{
    volatile struct hvt_hc_puts p = { .data = (uint64_t)(uintptr_t)s, .len = len };

    hvt_hypercall(HVT_HC_PUTS, &p);
}

void hvt_puts(const char *s)
{
    hvt_write(s, strlen(s));
}

void hvt_vprintf(const char *fmt, va_list ap)
{
    char buf[PRINTF_MAX];
    size_t len = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);

    hvt_write(buf, len < sizeof(buf) ? len : sizeof(buf) - 1);
}

void hvt_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    hvt_vprintf(fmt, ap);
    va_end(ap);
}

void hvt_halt(int status)
{
    volatile struct hvt_hc_halt h = { .cookie = 0, .exit_status = status };

    for (;;)                    /* HALT does not come back; if it did, ask again */
        hvt_hypercall(HVT_HC_HALT, &h);
}

void hvt_abort(const char *why)
{
    hvt_printf("Solo5: ABORT: %s\n", why);
    hvt_halt(HVT_EXIT_ABORT);
}

uint64_t hvt_walltime(void)
{
    volatile struct hvt_hc_walltime w = { 0 };

    hvt_hypercall(HVT_HC_WALLTIME, &w);
    return w.nsecs;
}

int hvt_poll(uint64_t timeout_ns, uint64_t *ready)
{
    volatile struct hvt_hc_poll p = { .timeout_nsecs = timeout_ns };

    hvt_hypercall(HVT_HC_POLL, &p);
    if (ready != NULL)
        *ready = p.ready_set;
    return p.ret;
}

static int block_call(unsigned n, uint64_t handle, uint64_t offset, const void *buf,
                      uint64_t len)
{
    volatile struct hvt_hc_block b = {
        .handle = handle, .offset = offset, .data = (uint64_t)(uintptr_t)buf, .len = len,
        .ret = -1,
    };

    hvt_hypercall(n, &b);
    return b.ret;
}

int hvt_block_read(uint64_t handle, uint64_t offset, void *buf, uint64_t len)
{
    return block_call(HVT_HC_BLOCK_READ, handle, offset, buf, len);
}

int hvt_block_write(uint64_t handle, uint64_t offset, const void *buf, uint64_t len)
{
    return block_call(HVT_HC_BLOCK_WRITE, handle, offset, buf, len);
}

int hvt_net_write(uint64_t handle, const void *frame, uint64_t len)
{
    volatile struct hvt_hc_net n = {
        .handle = handle, .data = (uint64_t)(uintptr_t)frame, .len = len, .ret = -1,
    };

    hvt_hypercall(HVT_HC_NET_WRITE, &n);
    return n.ret;
}

int hvt_net_read(uint64_t handle, void *buf, uint64_t *len)
{
    volatile struct hvt_hc_net n = {
        .handle = handle, .data = (uint64_t)(uintptr_t)buf, .len = *len, .ret = -1,
    };

    hvt_hypercall(HVT_HC_NET_READ, &n);
    if (n.ret == HVT_R_OK)
        *len = n.len;
    return n.ret;
}
