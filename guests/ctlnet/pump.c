/*
 * ctlnet's byte pump and its admission rule (pump.h). Pure: no hypercall,
 * no TCP, no clock of its own.
 */
#include "pump.h"

/* Moves n bytes from src down to dst (dst <= src, the ranges may overlap). */
static void move_down(uint8_t *dst, const uint8_t *src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        dst[i] = src[i];
}

void ctl_pump_start(struct ctl_pump *p, uint64_t now)
{
    p->in_len = p->out_off = p->out_len = p->pending = 0;
    p->flags = MF_CTL_XFER_NEW_CLIENT;
    p->eof = 0;
    p->last = now;
    p->bytes_in = p->bytes_out = 0;
    p->error = 0;
}

/* Queues what out holds into TCP: bytes queued, or -1 (p->error set). */
static long pump_send(struct ctl_pump *p, const struct ctl_pump_io *io)
{
    long moved = 0;

    while (p->out_off < p->out_len) {
        long n = io->send(io->ctx, p->out + p->out_off, p->out_len - p->out_off);

        if (n == -MF_EAGAIN || n == 0)
            break;
        if (n < 0 || (uint64_t)n > p->out_len - p->out_off) {
            p->error = n < 0 ? n : -MF_EIO;
            return -1;
        }
        p->out_off += (uint32_t)n;
        p->bytes_out += (uint64_t)n;
        moved += n;
    }
    if (p->out_off == p->out_len)
        p->out_off = p->out_len = 0;
    return moved;
}

/* Reads from TCP into the room in `in`: bytes read, or -1 (p->error set). */
static long pump_recv(struct ctl_pump *p, const struct ctl_pump_io *io)
{
    long moved = 0;

    while (!p->eof && p->in_len < CTL_PUMP_IN) {
        long n = io->recv(io->ctx, p->in + p->in_len, CTL_PUMP_IN - p->in_len);

        if (n == -MF_EAGAIN)
            break;
        if (n == 0) {
            p->eof = 1;
            break;
        }
        if (n < 0 || (uint64_t)n > CTL_PUMP_IN - p->in_len) {
            p->error = n < 0 ? n : -MF_EIO;
            return -1;
        }
        p->in_len += (uint32_t)n;
        moved += n;
    }
    return moved;
}

/* One MF_HC_CTL_XFER: offers in, gives the room after out's bytes.
 * Bytes moved (taken plus received), or -1 (p->error set). */
static long pump_xfer(struct ctl_pump *p, const struct ctl_pump_io *io)
{
    struct mf_ctl_xfer x = { 0 };
    long r;

    if (p->out_off > 0) {
        move_down(p->out, p->out + p->out_off, p->out_len - p->out_off);
        p->out_len -= p->out_off;
        p->out_off = 0;
    }
    /* Nothing to offer, no room, nothing to announce: the call would be empty. */
    if (p->in_len == 0 && p->out_len == CTL_PUMP_OUT && p->flags == 0)
        return 0;
    x.in_gpa = (uint64_t)(uintptr_t)p->in;
    x.out_gpa = (uint64_t)(uintptr_t)(p->out + p->out_len);
    x.in_len = p->in_len;
    x.out_room = CTL_PUMP_OUT - p->out_len;
    x.flags = p->flags;
    r = io->xfer(io->ctx, &x);
    if (r == -MF_EAGAIN)
        return 0;                   /* nothing now; the flag stays for the retry */
    if (r < 0) {
        p->error = r;
        return -1;
    }
    if (x.in_taken > x.in_len || x.out_len > x.out_room) {
        p->error = -MF_EIO;         /* the hypervisor claims more than it was given */
        return -1;
    }
    p->flags = 0;
    move_down(p->in, p->in + x.in_taken, p->in_len - x.in_taken);
    p->in_len -= x.in_taken;
    p->out_len += x.out_len;
    p->pending = x.out_pending;
    p->bytes_in += x.in_taken;
    return (long)x.in_taken + (long)x.out_len;
}

enum ctl_pump_result ctl_pump_turn(struct ctl_pump *p, const struct ctl_pump_io *io,
                                   uint64_t now)
{
    int moved_any = 0;

    for (unsigned round = 0; round < CTL_PUMP_ROUNDS; round++) {
        long sent, got, xfered;

        if ((sent = pump_send(p, io)) < 0 || (got = pump_recv(p, io)) < 0)
            return CTL_PUMP_CLIENT_FAILED;
        if ((xfered = pump_xfer(p, io)) < 0)
            return CTL_PUMP_XFER_FAILED;
        if (sent + got + xfered == 0)
            return moved_any ? CTL_PUMP_MOVED : CTL_PUMP_IDLE;
        moved_any = 1;
        p->last = now;
    }
    /* Out of rounds with bytes still moving: the caller turns again after
     * a look at the network, so one busy client never starves its timers. */
    return CTL_PUMP_MORE;
}

int ctl_pump_finished(const struct ctl_pump *p, uint64_t now, uint64_t idle_ticks)
{
    return p->eof && p->in_len == 0 && p->out_len == 0 && p->pending == 0 &&
           now - p->last >= idle_ticks;
}

enum ctl_admit ctl_pump_admit(const struct ctl_pump *p, int serving, uint64_t now,
                              uint64_t idle_ticks)
{
    if (!serving)
        return CTL_ADMIT_TAKE;
    if (p->eof || now - p->last >= idle_ticks)
        return CTL_ADMIT_REPLACE;
    return CTL_ADMIT_REFUSE;
}
