/*
 * Unit tests of ctlnet's byte pump and admission rule (guests/ctlnet/
 * pump.c) against a fake TCP client and a fake hypervisor: bytes arrive
 * intact and in order both ways, bytes the hypervisor did not take are
 * offered again, nothing is read while the hypervisor takes nothing and
 * nothing is fetched while the client reads nothing (no buffer grows),
 * NEW_CLIENT goes on the first XFER of each client only, failures of
 * either side are reported, and who gets served when a second
 * connection arrives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../guests/ctlnet/pump.h"

#define STREAM_MAX  (64 * 1024)

/* The client: sends `up` (recv hands it out), keeps what it got in `down`. */
static struct {
    uint8_t up[STREAM_MAX];
    size_t up_len, up_off;
    size_t recv_chunk;              /* most bytes one recv returns */
    int eof;                        /* recv returns 0 once up is spent */
    long recv_error;                /* recv fails with this */
    uint8_t down[STREAM_MAX];
    size_t down_len;
    size_t send_room;               /* bytes the client's TCP still queues */
    long send_error;
    unsigned recv_calls;
} cli;

/* The hypervisor: takes up to take_max bytes per XFER into `seen`, and
 * has `reply` bytes to give out, at most give_max per XFER. */
static struct {
    uint8_t seen[STREAM_MAX];
    size_t seen_len;
    size_t take_max;
    uint8_t reply[STREAM_MAX];
    size_t reply_len, reply_off;
    size_t give_max;
    int echo;                       /* every byte taken becomes a reply byte (+1) */
    long error;                     /* XFER fails with this */
    int lie_taken, lie_out;         /* claim more than was given */
    unsigned calls;
    uint32_t flags[256];            /* flags of the first 256 calls */
    uint32_t last_room;
} hv;

static long fake_recv(void *ctx, void *buf, size_t len)
{
    size_t n = cli.up_len - cli.up_off;

    (void)ctx;
    cli.recv_calls++;
    if (cli.recv_error)
        return cli.recv_error;
    if (n == 0)
        return cli.eof ? 0 : -MF_EAGAIN;
    if (n > len)
        n = len;
    if (n > cli.recv_chunk)
        n = cli.recv_chunk;
    memcpy(buf, cli.up + cli.up_off, n);
    cli.up_off += n;
    return (long)n;
}

static long fake_send(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    if (cli.send_error)
        return cli.send_error;
    if (cli.send_room == 0)
        return -MF_EAGAIN;
    if (len > cli.send_room)
        len = cli.send_room;
    assert_true(cli.down_len + len <= STREAM_MAX);
    memcpy(cli.down + cli.down_len, buf, len);
    cli.down_len += len;
    cli.send_room -= len;
    return (long)len;
}

static long fake_xfer(void *ctx, struct mf_ctl_xfer *x)
{
    const uint8_t *in = (const uint8_t *)(uintptr_t)x->in_gpa;
    uint8_t *out = (uint8_t *)(uintptr_t)x->out_gpa;
    size_t take = x->in_len < hv.take_max ? x->in_len : hv.take_max, give;

    (void)ctx;
    if (hv.calls < 256)
        hv.flags[hv.calls] = x->flags;
    hv.calls++;
    hv.last_room = x->out_room;
    if (hv.error)
        return hv.error;
    assert_true(hv.seen_len + take <= STREAM_MAX);
    memcpy(hv.seen + hv.seen_len, in, take);
    hv.seen_len += take;
    if (hv.echo)
        for (size_t i = 0; i < take; i++)
            hv.reply[hv.reply_len++] = (uint8_t)(in[i] + 1);
    give = hv.reply_len - hv.reply_off;
    if (give > x->out_room)
        give = x->out_room;
    if (give > hv.give_max)
        give = hv.give_max;
    memcpy(out, hv.reply + hv.reply_off, give);
    hv.reply_off += give;
    x->in_taken = (uint32_t)take + (hv.lie_taken ? x->in_len + 1 : 0);
    x->out_len = (uint32_t)give + (hv.lie_out ? x->out_room + 1 : 0);
    x->out_pending = (uint32_t)(hv.reply_len - hv.reply_off);
    return 0;
}

static const struct ctl_pump_io io = { fake_recv, fake_send, fake_xfer, NULL };
static struct ctl_pump pump;

static int setup(void **state)
{
    (void)state;
    memset(&cli, 0, sizeof(cli));
    memset(&hv, 0, sizeof(hv));
    cli.recv_chunk = 1460;
    cli.send_room = SIZE_MAX;
    hv.take_max = hv.give_max = SIZE_MAX;
    ctl_pump_start(&pump, 0);
    return 0;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 131 + seed + i / 251);
}

/* Turns until nothing moves (at most `turns`); returns the last result. */
static enum ctl_pump_result run(unsigned turns, uint64_t now)
{
    enum ctl_pump_result r = CTL_PUMP_IDLE;

    for (unsigned i = 0; i < turns; i++) {
        r = ctl_pump_turn(&pump, &io, now);
        if (r != CTL_PUMP_MORE && r != CTL_PUMP_MOVED)
            break;
    }
    return r;
}

static void test_new_client_on_first_xfer_only(void **state)
{
    (void)state;
    assert_int_equal(ctl_pump_turn(&pump, &io, 1), CTL_PUMP_IDLE);
    assert_int_equal(ctl_pump_turn(&pump, &io, 2), CTL_PUMP_IDLE);
    assert_int_equal(hv.calls, 2);
    assert_int_equal(hv.flags[0], MF_CTL_XFER_NEW_CLIENT);
    assert_int_equal(hv.flags[1], 0);
    ctl_pump_start(&pump, 3);               /* the next client */
    ctl_pump_turn(&pump, &io, 3);
    assert_int_equal(hv.flags[2], MF_CTL_XFER_NEW_CLIENT);
}

/* An XFER answered -MF_EAGAIN moved nothing and does not use up the
 * flag: the retry still carries it. */
static void test_new_client_kept_after_xfer_eagain(void **state)
{
    (void)state;
    hv.error = -MF_EAGAIN;
    assert_int_equal(ctl_pump_turn(&pump, &io, 1), CTL_PUMP_IDLE);
    hv.error = 0;
    ctl_pump_turn(&pump, &io, 2);
    assert_int_equal(hv.flags[1], MF_CTL_XFER_NEW_CLIENT);
}

static void test_bytes_both_ways_in_order(void **state)
{
    (void)state;
    cli.up_len = 20000;
    fill(cli.up, cli.up_len, 7);
    hv.echo = 1;
    hv.take_max = 333;                      /* the rest is offered again */
    hv.give_max = 100;
    cli.send_room = SIZE_MAX;
    run(1000, 5);
    assert_int_equal(hv.seen_len, cli.up_len);
    assert_memory_equal(hv.seen, cli.up, cli.up_len);
    assert_int_equal(cli.down_len, cli.up_len);
    for (size_t i = 0; i < cli.down_len; i++)
        assert_int_equal(cli.down[i], (uint8_t)(cli.up[i] + 1));
    assert_int_equal(pump.bytes_in, cli.up_len);
    assert_int_equal(pump.bytes_out, cli.up_len);
    assert_int_equal(pump.last, 5);
}

static void test_stops_reading_when_hypervisor_takes_nothing(void **state)
{
    (void)state;
    cli.up_len = STREAM_MAX;
    fill(cli.up, cli.up_len, 1);
    hv.take_max = 0;
    for (int i = 0; i < 50; i++)
        ctl_pump_turn(&pump, &io, (uint64_t)i);
    assert_int_equal(cli.up_off, CTL_PUMP_IN);  /* read until `in` was full, then no more */
    assert_int_equal(pump.in_len, CTL_PUMP_IN);
    assert_int_equal(ctl_pump_turn(&pump, &io, 60), CTL_PUMP_IDLE);
    /* Once it takes again, the whole stream goes through intact. */
    hv.take_max = 500;
    run(1000, 70);
    assert_int_equal(hv.seen_len, STREAM_MAX);
    assert_memory_equal(hv.seen, cli.up, STREAM_MAX);
}

static void test_stops_fetching_when_client_reads_nothing(void **state)
{
    unsigned calls;

    (void)state;
    hv.reply_len = STREAM_MAX;
    fill(hv.reply, hv.reply_len, 3);
    cli.send_room = 0;
    run(100, 1);
    assert_int_equal(pump.out_len, CTL_PUMP_OUT);   /* out filled once, never grew */
    assert_int_equal(hv.reply_off, CTL_PUMP_OUT);
    assert_int_equal(pump.pending, STREAM_MAX - CTL_PUMP_OUT);
    /* With nothing to offer and no room, the pump makes no XFER at all. */
    calls = hv.calls;
    assert_int_equal(ctl_pump_turn(&pump, &io, 2), CTL_PUMP_IDLE);
    assert_int_equal(hv.calls, calls);
    /* The client reads a little: out is refilled by exactly that much. */
    cli.send_room = 100;
    ctl_pump_turn(&pump, &io, 3);
    assert_int_equal(cli.down_len, 100);
    assert_int_equal(hv.reply_off, CTL_PUMP_OUT + 100);
    cli.send_room = SIZE_MAX;
    run(1000, 4);
    assert_int_equal(cli.down_len, STREAM_MAX);
    assert_memory_equal(cli.down, hv.reply, STREAM_MAX);
}

/* A reply larger than `out` comes in pieces within one turn while the
 * hypervisor says more is pending and the client takes it. */
static void test_fetches_while_out_pending(void **state)
{
    (void)state;
    hv.reply_len = 3 * CTL_PUMP_OUT + 17;
    fill(hv.reply, hv.reply_len, 9);
    hv.give_max = 512;
    assert_int_equal(ctl_pump_turn(&pump, &io, 1), CTL_PUMP_MOVED);
    assert_int_equal(cli.down_len, hv.reply_len);
    assert_int_equal(pump.pending, 0);
}

/* Endless traffic: a turn ends after CTL_PUMP_ROUNDS and says so. */
static void test_busy_turn_is_bounded(void **state)
{
    (void)state;
    hv.reply_len = STREAM_MAX;
    hv.give_max = 10;
    assert_int_equal(ctl_pump_turn(&pump, &io, 1), CTL_PUMP_MORE);
    assert_int_equal(hv.calls, CTL_PUMP_ROUNDS);
}

static void test_client_failures(void **state)
{
    (void)state;
    cli.recv_error = -MF_EIO;
    assert_int_equal(ctl_pump_turn(&pump, &io, 1), CTL_PUMP_CLIENT_FAILED);
    assert_int_equal(pump.error, -MF_EIO);
    setup(NULL);
    hv.reply_len = 10;
    ctl_pump_turn(&pump, &io, 1);           /* the reply is waiting in out */
    cli.send_room = 0;
    hv.reply_len = 20;
    ctl_pump_turn(&pump, &io, 1);
    cli.send_error = -MF_EIO;
    assert_int_equal(ctl_pump_turn(&pump, &io, 2), CTL_PUMP_CLIENT_FAILED);
    assert_int_equal(pump.error, -MF_EIO);
}

static void test_xfer_failures(void **state)
{
    (void)state;
    hv.error = -MF_ENOSYS;
    assert_int_equal(ctl_pump_turn(&pump, &io, 1), CTL_PUMP_XFER_FAILED);
    assert_int_equal(pump.error, -MF_ENOSYS);
    /* Answers that claim more than the call offered are refused. */
    setup(NULL);
    cli.up_len = 10;
    hv.lie_taken = 1;
    assert_int_equal(ctl_pump_turn(&pump, &io, 1), CTL_PUMP_XFER_FAILED);
    assert_int_equal(pump.error, -MF_EIO);
    setup(NULL);
    hv.lie_out = 1;
    assert_int_equal(ctl_pump_turn(&pump, &io, 1), CTL_PUMP_XFER_FAILED);
    assert_int_equal(pump.error, -MF_EIO);
}

/* A client that closed its side is finished only once what it sent was
 * taken, what was ready was queued for it, and it stayed quiet. */
static void test_end_of_stream(void **state)
{
    (void)state;
    cli.up_len = 100;
    cli.eof = 1;
    hv.take_max = 0;
    ctl_pump_turn(&pump, &io, 10);
    assert_true(pump.eof);
    assert_false(ctl_pump_finished(&pump, 1000, 50));  /* 100 bytes not taken */
    hv.take_max = SIZE_MAX;
    hv.echo = 1;
    cli.send_room = 0;
    ctl_pump_turn(&pump, &io, 20);
    assert_false(ctl_pump_finished(&pump, 1000, 50));  /* the reply not queued */
    cli.send_room = SIZE_MAX;
    ctl_pump_turn(&pump, &io, 30);
    assert_int_equal(cli.down_len, 100);
    assert_false(ctl_pump_finished(&pump, 79, 50));    /* not quiet long enough */
    assert_true(ctl_pump_finished(&pump, 80, 50));
    /* No recv after the end of the stream. */
    unsigned calls = cli.recv_calls;
    ctl_pump_turn(&pump, &io, 90);
    assert_int_equal(cli.recv_calls, calls);
}

static void test_admit(void **state)
{
    (void)state;
    ctl_pump_start(&pump, 1000);
    assert_int_equal(ctl_pump_admit(&pump, 0, 1000, 2000), CTL_ADMIT_TAKE);
    assert_int_equal(ctl_pump_admit(&pump, 1, 1000, 2000), CTL_ADMIT_REFUSE);
    assert_int_equal(ctl_pump_admit(&pump, 1, 2999, 2000), CTL_ADMIT_REFUSE);
    assert_int_equal(ctl_pump_admit(&pump, 1, 3000, 2000), CTL_ADMIT_REPLACE);
    /* Bytes moving keep a client: p->last is what counts. */
    cli.up_len = 5;
    ctl_pump_turn(&pump, &io, 2900);
    assert_int_equal(ctl_pump_admit(&pump, 1, 3000, 2000), CTL_ADMIT_REFUSE);
    /* A client that closed its side gives way at once. */
    pump.eof = 1;
    assert_int_equal(ctl_pump_admit(&pump, 1, 3000, 2000), CTL_ADMIT_REPLACE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_new_client_on_first_xfer_only, setup),
        cmocka_unit_test_setup(test_new_client_kept_after_xfer_eagain, setup),
        cmocka_unit_test_setup(test_bytes_both_ways_in_order, setup),
        cmocka_unit_test_setup(test_stops_reading_when_hypervisor_takes_nothing, setup),
        cmocka_unit_test_setup(test_stops_fetching_when_client_reads_nothing, setup),
        cmocka_unit_test_setup(test_fetches_while_out_pending, setup),
        cmocka_unit_test_setup(test_busy_turn_is_bounded, setup),
        cmocka_unit_test_setup(test_client_failures, setup),
        cmocka_unit_test_setup(test_xfer_failures, setup),
        cmocka_unit_test_setup(test_end_of_stream, setup),
        cmocka_unit_test_setup(test_admit, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
