/*
 * Unit tests of the guest library's TCP (guests/lib/net/tcp.c): the test
 * plays the peer at 10.0.0.2 by hand. Segments the stack sends are caught
 * by a fake tcp_io.output (and their checksums checked), segments from
 * the peer are built with tcp_build and fed to tcp_input, and the clock
 * is a counter in milliseconds (hz = 1000) the test moves.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../guests/lib/net/tcp.h"

#define LOCAL       0x0a000001u         /* 10.0.0.1: the stack under test */
#define PEER        0x0a000002u         /* 10.0.0.2: the test */
#define PPORT       40000               /* the peer's port */
#define OUT_MAX     256

struct out_seg {
    uint32_t dst;
    uint16_t sport, dport, window, mss;
    uint32_t seq, ack;
    uint8_t flags;
    size_t len;
    uint8_t data[TCP_MSS];
};

static struct out_seg out[OUT_MAX];
static unsigned out_count, out_read;
static uint64_t clock_ms;

static uint64_t fake_now(void)
{
    return clock_ms;
}

/* Catches a segment, checks its checksum and parses it. */
static int fake_output(uint32_t dst, uint8_t *seg, size_t len)
{
    struct out_seg *o;
    size_t hlen;

    assert_true(len >= TCP_HLEN);
    assert_int_equal(net_csum_fold(net_csum_add(net_pseudo_sum(LOCAL, dst, IPV4_PROTO_TCP,
                                                                (uint16_t)len), seg, len)), 0);
    assert_true(out_count < OUT_MAX);
    o = &out[out_count++];
    memset(o, 0, sizeof(*o));
    o->dst = dst;
    o->sport = net_get16(seg);
    o->dport = net_get16(seg + 2);
    o->seq = net_get32(seg + 4);
    o->ack = net_get32(seg + 8);
    hlen = (size_t)(seg[12] >> 4) * 4;
    o->flags = seg[13];
    o->window = net_get16(seg + 14);
    if (hlen == 24 && seg[20] == 2 && seg[21] == 4)
        o->mss = net_get16(seg + 22);
    o->len = len - hlen;
    assert_true(o->len <= TCP_MSS);
    memcpy(o->data, seg + hlen, o->len);
    return 0;
}

/* The next segment the stack sent (fails if there is none). */
static struct out_seg *next_out(void)
{
    assert_true(out_read < out_count);
    return &out[out_read++];
}

static unsigned pending_out(void)
{
    return out_count - out_read;
}

static int setup(void **state)
{
    struct tcp_io io = { .output = fake_output, .now = fake_now, .hz = 1000,
                         .local_ip = LOCAL, .iss_seed = 12345 };

    (void)state;
    out_count = out_read = 0;
    clock_ms = 1000;
    tcp_init(&io);
    return 0;
}

/* The peer sends a segment (with an MSS option when mss != 0). */
static void peer_send_mss(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                          uint8_t flags, uint16_t window, const void *data, size_t len,
                          uint16_t mss)
{
    static uint8_t seg[TCP_HLEN + 4 + 2000];

    if (mss == 0) {
        tcp_build(seg, PEER, LOCAL, sport, dport, seq, ack, flags, window, data, len);
        tcp_input(PEER, LOCAL, seg, TCP_HLEN + len);
        return;
    }
    /* Build without options, then shift the payload for a 4-byte MSS option. */
    if (len > 0)
        memcpy(seg + 24, data, len);
    net_put16(seg, sport);
    net_put16(seg + 2, dport);
    net_put32(seg + 4, seq);
    net_put32(seg + 8, ack);
    seg[12] = 6 << 4;
    seg[13] = flags;
    net_put16(seg + 14, window);
    net_put32(seg + 16, 0);
    seg[20] = 2;
    seg[21] = 4;
    net_put16(seg + 22, mss);
    net_put16(seg + 16, net_csum_fold(net_csum_add(
        net_pseudo_sum(PEER, LOCAL, IPV4_PROTO_TCP, (uint16_t)(24 + len)), seg, 24 + len)));
    tcp_input(PEER, LOCAL, seg, 24 + len);
}

static void peer_send(uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags,
                      const void *data, size_t len)
{
    peer_send_mss(sport, 80, seq, ack, flags, 8192, data, len, 0);
}

/* Listens on 80, runs the three-way handshake from PPORT (peer ISS 1000)
 * and accepts. Returns the handle; *iss is the stack's ISS. */
static int establish(uint32_t *iss)
{
    struct out_seg *o;
    int l = tcp_listen(80, 4), c;

    assert_true(l >= 0);
    peer_send_mss(PPORT, 80, 1000, 0, TCP_SYN, 8192, NULL, 0, 1460);
    o = next_out();
    assert_int_equal(o->flags, TCP_SYN | TCP_ACK);
    assert_int_equal(o->ack, 1001);
    assert_int_equal(o->mss, TCP_MSS);
    assert_int_equal(o->dst, PEER);
    assert_int_equal(o->sport, 80);
    assert_int_equal(o->dport, PPORT);
    assert_int_equal(tcp_accept(l), -MF_EAGAIN);        /* not established yet */
    *iss = o->seq;
    peer_send(PPORT, 1001, *iss + 1, TCP_ACK, NULL, 0);
    assert_int_equal(pending_out(), 0);
    c = tcp_accept(l);
    assert_true(c >= 0);
    assert_int_equal(tcp_state(c), TCP_ESTABLISHED);
    assert_int_equal(tcp_accept(l), -MF_EAGAIN);
    {
        uint32_t ip = 0;
        uint16_t port = 0;

        assert_int_equal(tcp_peer(c, &ip, &port), 0);
        assert_int_equal(ip, PEER);
        assert_int_equal(port, PPORT);
        assert_int_equal(tcp_peer(-1, &ip, &port), -MF_EINVAL);
    }
    return c;
}

static void test_handshake_and_data(void **state)
{
    uint32_t iss;
    int c = establish(&iss);
    char buf[64];
    struct out_seg *o;

    (void)state;
    /* Peer -> us: acknowledged at once, read in order. */
    peer_send(PPORT, 1001, iss + 1, TCP_ACK | TCP_PSH, "GET ", 4);
    o = next_out();
    assert_int_equal(o->flags, TCP_ACK);
    assert_int_equal(o->ack, 1005);
    assert_int_equal(o->window, TCP_RCVBUF - 4);
    peer_send(PPORT, 1005, iss + 1, TCP_ACK | TCP_PSH, "/\r\n", 3);
    assert_int_equal(next_out()->ack, 1008);
    assert_int_equal(tcp_recv(c, buf, sizeof(buf)), 7);
    assert_memory_equal(buf, "GET /\r\n", 7);
    assert_int_equal(tcp_recv(c, buf, sizeof(buf)), -MF_EAGAIN);
    /* Us -> peer. */
    assert_int_equal(tcp_send(c, "hello", 5), 5);
    o = next_out();
    assert_int_equal(o->seq, iss + 1);
    assert_int_equal(o->ack, 1008);
    assert_true(o->flags & TCP_ACK);
    assert_int_equal(o->len, 5);
    assert_memory_equal(o->data, "hello", 5);
    assert_int_equal(tcp_unacked(c), 5);
    peer_send(PPORT, 1008, iss + 6, TCP_ACK, NULL, 0);
    assert_int_equal(tcp_unacked(c), 0);
    assert_int_equal(tcp_timers(), UINT64_MAX);         /* nothing in flight */
    assert_int_equal(pending_out(), 0);
    assert_int_equal(tcp_counters()->accepted, 1);
}

static void test_retransmit_after_loss(void **state)
{
    uint32_t iss;
    int c = establish(&iss);
    struct out_seg *o;
    uint64_t due;

    (void)state;
    assert_int_equal(tcp_send(c, "abc", 3), 3);
    o = next_out();
    assert_int_equal(o->seq, iss + 1);
    /* The segment is lost: nothing before the RTO, then the same bytes. */
    due = tcp_timers();
    assert_int_equal(due, clock_ms + TCP_RTO_INIT_MS);
    clock_ms = due - 1;
    tcp_timers();
    assert_int_equal(pending_out(), 0);
    clock_ms = due;
    tcp_timers();
    o = next_out();
    assert_int_equal(o->seq, iss + 1);
    assert_int_equal(o->len, 3);
    assert_memory_equal(o->data, "abc", 3);
    assert_int_equal(tcp_counters()->retransmits, 1);
    /* Backed off: the next try is twice as far away. */
    assert_int_equal(tcp_timers(), clock_ms + 2 * TCP_RTO_INIT_MS);
    peer_send(PPORT, 1001, iss + 4, TCP_ACK, NULL, 0);
    assert_int_equal(tcp_unacked(c), 0);
    assert_int_equal(tcp_timers(), UINT64_MAX);
}

static void test_retransmit_gives_up(void **state)
{
    uint32_t iss;
    int c = establish(&iss);
    struct out_seg *o = NULL;

    (void)state;
    assert_int_equal(tcp_send(c, "x", 1), 1);
    for (int i = 0; i <= TCP_RETRIES; i++) {
        clock_ms = tcp_timers();
        tcp_timers();
    }
    while (pending_out() > 0)
        o = next_out();
    assert_non_null(o);
    assert_true(o->flags & TCP_RST);
    assert_int_equal(tcp_state(c), TCP_CLOSED);
    assert_int_equal(tcp_error(c), TCP_ERR_TIMEOUT);
    assert_int_equal(tcp_send(c, "y", 1), -MF_EIO);
    assert_int_equal(tcp_recv(c, o->data, 1), -MF_EIO);
    assert_int_equal(tcp_close(c), 0);
    assert_int_equal(tcp_active(), 0);
}

static void test_out_of_order_dropped(void **state)
{
    uint32_t iss;
    int c = establish(&iss);
    char buf[16];
    struct out_seg *o;

    (void)state;
    /* "world" before "hello": dropped, answered with where we are. */
    peer_send(PPORT, 1006, iss + 1, TCP_ACK, "world", 5);
    o = next_out();
    assert_int_equal(o->ack, 1001);
    assert_int_equal(tcp_recv(c, buf, sizeof(buf)), -MF_EAGAIN);
    assert_int_equal(tcp_counters()->out_of_order, 1);
    peer_send(PPORT, 1001, iss + 1, TCP_ACK, "hello", 5);
    assert_int_equal(next_out()->ack, 1006);
    /* The peer retransmits; an overlapping copy is trimmed. */
    peer_send(PPORT, 1003, iss + 1, TCP_ACK, "llowor", 6);
    assert_int_equal(next_out()->ack, 1009);
    assert_int_equal(tcp_recv(c, buf, sizeof(buf)), 8);
    assert_memory_equal(buf, "hellowor", 8);
    /* A pure duplicate changes nothing but is acknowledged. */
    peer_send(PPORT, 1001, iss + 1, TCP_ACK, "hello", 5);
    assert_int_equal(next_out()->ack, 1009);
    assert_int_equal(tcp_recv(c, buf, sizeof(buf)), -MF_EAGAIN);
}

static void test_peer_fin_then_close(void **state)
{
    uint32_t iss;
    int c = establish(&iss);
    char buf[16];
    struct out_seg *o;

    (void)state;
    peer_send(PPORT, 1001, iss + 1, TCP_ACK | TCP_FIN, "bye", 3);
    assert_int_equal(next_out()->ack, 1005);            /* data and FIN */
    assert_int_equal(tcp_state(c), TCP_CLOSE_WAIT);
    assert_int_equal(tcp_recv(c, buf, sizeof(buf)), 3);
    assert_int_equal(tcp_recv(c, buf, sizeof(buf)), 0);  /* end of stream */
    assert_int_equal(tcp_send(c, "ok", 2), 2);           /* our side is still open */
    next_out();
    assert_int_equal(tcp_close(c), 0);
    o = next_out();
    assert_true(o->flags & TCP_FIN);
    assert_int_equal(o->seq, iss + 3);
    assert_int_equal(tcp_state(c), TCP_LAST_ACK);
    peer_send(PPORT, 1005, iss + 4, TCP_ACK, NULL, 0);
    assert_int_equal(tcp_state(c), TCP_CLOSED);
    assert_int_equal(tcp_active(), 0);
}

static void test_active_close_time_wait(void **state)
{
    uint32_t iss;
    int c = establish(&iss);
    struct out_seg *o;

    (void)state;
    assert_int_equal(tcp_send(c, "data", 4), 4);
    next_out();
    assert_int_equal(tcp_close(c), 0);
    o = next_out();                                     /* FIN after the data */
    assert_int_equal(o->flags, TCP_FIN | TCP_ACK);
    assert_int_equal(o->seq, iss + 5);
    assert_int_equal(tcp_state(c), TCP_FIN_WAIT_1);
    peer_send(PPORT, 1001, iss + 6, TCP_ACK, NULL, 0);
    assert_int_equal(tcp_state(c), TCP_FIN_WAIT_2);
    peer_send(PPORT, 1001, iss + 6, TCP_ACK | TCP_FIN, NULL, 0);
    assert_int_equal(next_out()->ack, 1002);
    assert_int_equal(tcp_state(c), TCP_TIME_WAIT);
    /* The peer's FIN again (our ACK was lost): acknowledged again. */
    clock_ms += 500;
    peer_send(PPORT, 1001, iss + 6, TCP_ACK | TCP_FIN, NULL, 0);
    assert_int_equal(next_out()->ack, 1002);
    assert_int_equal(tcp_timers(), clock_ms + TCP_TIME_WAIT_MS);
    clock_ms += TCP_TIME_WAIT_MS - 1;
    tcp_timers();
    assert_int_equal(tcp_state(c), TCP_TIME_WAIT);
    clock_ms += 1;
    tcp_timers();
    assert_int_equal(tcp_state(c), TCP_CLOSED);
    assert_int_equal(tcp_active(), 0);
}

static void test_simultaneous_close(void **state)
{
    uint32_t iss;
    int c = establish(&iss);

    (void)state;
    tcp_close(c);
    assert_true(next_out()->flags & TCP_FIN);
    /* The peer's FIN crosses ours. */
    peer_send(PPORT, 1001, iss + 1, TCP_ACK | TCP_FIN, NULL, 0);
    assert_int_equal(next_out()->ack, 1002);
    assert_int_equal(tcp_state(c), TCP_CLOSING);
    peer_send(PPORT, 1002, iss + 2, TCP_ACK, NULL, 0);
    assert_int_equal(tcp_state(c), TCP_TIME_WAIT);
}

static void test_reset_both_ways(void **state)
{
    uint32_t iss;
    int c = establish(&iss), d;
    char buf[4];
    struct out_seg *o;

    (void)state;
    /* A RST outside the window is ignored (and answered with an ACK). */
    peer_send(PPORT, 1001 + 100000, 0, TCP_RST, NULL, 0);
    assert_int_equal(tcp_state(c), TCP_ESTABLISHED);
    assert_int_equal(pending_out(), 0);
    peer_send(PPORT, 1001, 0, TCP_RST, NULL, 0);
    assert_int_equal(tcp_state(c), TCP_CLOSED);
    assert_int_equal(tcp_error(c), TCP_ERR_RESET);
    assert_int_equal(tcp_recv(c, buf, sizeof(buf)), -MF_EIO);
    tcp_close(c);
    /* A segment for no connection gets a RST: ACK -> seq, else ack. */
    peer_send(PPORT + 1, 5000, 777, TCP_ACK, "x", 1);
    o = next_out();
    assert_int_equal(o->flags, TCP_RST);
    assert_int_equal(o->seq, 777);
    peer_send_mss(PPORT, 81, 5000, 0, TCP_SYN, 8192, NULL, 0, 0);
    o = next_out();
    assert_int_equal(o->flags, TCP_RST | TCP_ACK);
    assert_int_equal(o->ack, 5001);
    /* Never a RST for a RST. */
    peer_send(PPORT + 2, 5000, 0, TCP_RST, NULL, 0);
    assert_int_equal(pending_out(), 0);
    /* tcp_abort sends one. */
    peer_send_mss(PPORT + 3, 80, 2000, 0, TCP_SYN, 8192, NULL, 0, 0);
    iss = next_out()->seq;
    peer_send(PPORT + 3, 2001, iss + 1, TCP_ACK, NULL, 0);
    d = tcp_accept(0);
    assert_true(d >= 0);
    assert_int_equal(tcp_abort(d), 0);
    o = next_out();
    assert_true(o->flags & TCP_RST);
    assert_int_equal(o->seq, iss + 1);
    assert_int_equal(tcp_active(), 0);
}

static void test_backlog_full_refused(void **state)
{
    int l = tcp_listen(80, 2);
    struct out_seg *o;

    (void)state;
    assert_true(l >= 0);
    peer_send(PPORT, 100, 0, TCP_SYN, NULL, 0);
    assert_int_equal(next_out()->flags, TCP_SYN | TCP_ACK);
    peer_send(PPORT + 1, 100, 0, TCP_SYN, NULL, 0);
    assert_int_equal(next_out()->flags, TCP_SYN | TCP_ACK);
    peer_send(PPORT + 2, 100, 0, TCP_SYN, NULL, 0);
    o = next_out();
    assert_int_equal(o->flags, TCP_RST | TCP_ACK);
    assert_int_equal(o->ack, 101);
    assert_int_equal(o->dport, PPORT + 2);
    assert_int_equal(tcp_counters()->refused_backlog, 1);
    assert_int_equal(tcp_active(), 2);
}

static void test_table_full_refused(void **state)
{
    unsigned i;

    (void)state;
    /* Two listeners, so neither backlog is what runs out. */
    assert_true(tcp_listen(80, TCP_CONNS) >= 0);
    assert_true(tcp_listen(81, TCP_CONNS) >= 0);
    for (i = 0; i < TCP_CONNS; i++) {
        peer_send_mss((uint16_t)(PPORT + i), (uint16_t)(80 + i % 2), 100, 0, TCP_SYN, 8192,
                      NULL, 0, 0);
        assert_int_equal(next_out()->flags, TCP_SYN | TCP_ACK);
    }
    peer_send((uint16_t)(PPORT + i), 100, 0, TCP_SYN, NULL, 0);
    assert_int_equal(next_out()->flags, TCP_RST | TCP_ACK);
    assert_int_equal(tcp_counters()->refused_full, 1);
    assert_int_equal(tcp_counters()->refused_backlog, 0);
    assert_int_equal(tcp_active(), TCP_CONNS);
}

static void test_time_wait_slot_reused(void **state)
{
    uint32_t iss;
    int l, c;
    unsigned i;

    (void)state;
    c = establish(&iss);                /* listener 0, backlog 4 */
    l = tcp_listen(81, TCP_CONNS);
    tcp_close(c);
    next_out();
    peer_send(PPORT, 1001, iss + 2, TCP_ACK | TCP_FIN, NULL, 0);
    next_out();
    assert_int_equal(tcp_state(c), TCP_TIME_WAIT);
    for (i = 1; i < TCP_CONNS; i++) {
        peer_send_mss((uint16_t)(PPORT + i), 81, 100, 0, TCP_SYN, 8192, NULL, 0, 0);
        assert_int_equal(next_out()->flags, TCP_SYN | TCP_ACK);
    }
    /* Full: the TIME-WAIT slot goes to the newcomer. */
    peer_send_mss((uint16_t)(PPORT + i), 81, 100, 0, TCP_SYN, 8192, NULL, 0, 0);
    assert_int_equal(next_out()->flags, TCP_SYN | TCP_ACK);
    assert_int_equal(tcp_counters()->time_wait_reused, 1);
    assert_int_equal(tcp_state(c), TCP_SYN_RCVD);
    assert_true(l >= 0);
}

static void test_bad_checksum_ignored(void **state)
{
    uint8_t seg[TCP_HLEN + 4];
    int l = tcp_listen(80, 4);

    (void)state;
    assert_true(l >= 0);
    tcp_build(seg, PEER, LOCAL, PPORT, 80, 100, 0, TCP_SYN, 8192, "abcd", 4);
    seg[TCP_HLEN + 1] ^= 0x40;
    tcp_input(PEER, LOCAL, seg, sizeof(seg));
    assert_int_equal(pending_out(), 0);
    assert_int_equal(tcp_active(), 0);
    assert_int_equal(tcp_counters()->bad_checksum, 1);
    /* The pseudo-header counts: right bytes, wrong source address. */
    seg[TCP_HLEN + 1] ^= 0x40;
    tcp_input(PEER + 1, LOCAL, seg, sizeof(seg));
    assert_int_equal(tcp_counters()->bad_checksum, 2);
    tcp_input(PEER, LOCAL, seg, sizeof(seg));           /* intact: answered */
    assert_int_equal(next_out()->flags, TCP_SYN | TCP_ACK);
    /* Too short, or a data offset past the end. */
    tcp_input(PEER, LOCAL, seg, TCP_HLEN - 1);
    seg[12] = 0xf0;
    tcp_input(PEER, LOCAL, seg, sizeof(seg));
    assert_int_equal(tcp_counters()->bad, 2);
    assert_int_equal(pending_out(), 0);
}

static void test_active_open(void **state)
{
    int c = tcp_connect(PEER, 8080);
    struct out_seg *o;
    char buf[8];

    (void)state;
    assert_true(c >= 0);
    assert_int_equal(tcp_state(c), TCP_SYN_SENT);
    assert_int_equal(tcp_send(c, "early", 5), 5);       /* queued until established */
    o = next_out();
    assert_int_equal(o->flags, TCP_SYN);
    assert_int_equal(o->mss, TCP_MSS);
    assert_int_equal(o->dport, 8080);
    assert_true(o->sport >= TCP_EPHEMERAL_LO);
    assert_int_equal(pending_out(), 0);
    peer_send_mss(8080, o->sport, 7000, o->seq + 1, TCP_SYN | TCP_ACK, 8192, NULL, 0, 1000);
    assert_int_equal(tcp_state(c), TCP_ESTABLISHED);
    assert_int_equal(next_out()->ack, 7001);
    o = next_out();
    assert_int_equal(o->len, 5);
    assert_memory_equal(o->data, "early", 5);
    peer_send_mss(8080, o->sport, 7001, o->seq + 5, TCP_ACK, 8192, "hi", 2, 0);
    assert_int_equal(tcp_recv(c, buf, sizeof(buf)), 2);
    assert_int_equal(tcp_counters()->connected, 1);
}

static void test_connect_refused_and_syn_retransmitted(void **state)
{
    int c = tcp_connect(PEER, 8080);
    struct out_seg *o = next_out();
    uint32_t iss = o->seq;
    uint16_t port = o->sport;

    (void)state;
    clock_ms = tcp_timers();
    tcp_timers();
    o = next_out();
    assert_int_equal(o->flags, TCP_SYN);
    assert_int_equal(o->seq, iss);
    /* A RST whose ACK is not ours is ignored... */
    peer_send_mss(8080, port, 0, iss + 5, TCP_RST | TCP_ACK, 0, NULL, 0, 0);
    assert_int_equal(tcp_state(c), TCP_SYN_SENT);
    peer_send_mss(8080, port, 0, iss + 1, TCP_RST | TCP_ACK, 0, NULL, 0, 0);
    assert_int_equal(tcp_state(c), TCP_CLOSED);
    assert_int_equal(tcp_error(c), TCP_ERR_REFUSED);
    assert_int_equal(tcp_send(c, "x", 1), -MF_EIO);
    tcp_close(c);
    assert_int_equal(tcp_active(), 0);
}

static void test_mss_and_window(void **state)
{
    static uint8_t big[3000];
    uint32_t iss;
    int c = establish(&iss);            /* the peer's MSS is 1460, window 8192 */
    struct out_seg *o;

    (void)state;
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)i;
    assert_int_equal(tcp_send(c, big, sizeof(big)), sizeof(big) > TCP_SNDBUF ? TCP_SNDBUF
                                                                              : sizeof(big));
    assert_int_equal(next_out()->len, 1460);
    assert_int_equal(next_out()->len, 1460);
    o = next_out();
    assert_int_equal(o->len, 80);
    assert_memory_equal(o->data, big + 2920, 80);
    /* The peer takes 100 bytes and closes its window. */
    peer_send_mss(PPORT, 80, 1001, iss + 101, TCP_ACK, 0, NULL, 0, 0);
    peer_send_mss(PPORT, 80, 1001, iss + 3001, TCP_ACK, 0, NULL, 0, 0);
    assert_int_equal(tcp_unacked(c), 0);
    assert_int_equal(tcp_send(c, "zz", 2), 2);
    assert_int_equal(pending_out(), 0);                 /* nothing while the window is 0 */
    clock_ms = tcp_timers();                            /* the persist timer probes */
    tcp_timers();
    o = next_out();
    assert_int_equal(o->len, 1);
    assert_int_equal(o->data[0], 'z');
    /* The window opens: the rest goes out. */
    peer_send_mss(PPORT, 80, 1001, iss + 3002, TCP_ACK, 100, NULL, 0, 0);
    o = next_out();
    assert_int_equal(o->seq, iss + 3002);
    assert_int_equal(o->len, 1);
}

static void test_receive_window_bounded(void **state)
{
    static uint8_t chunk[1000], buf[TCP_RCVBUF];
    uint32_t iss, seq = 1001;
    int c = establish(&iss);
    struct out_seg *o = NULL;

    (void)state;
    while (seq - 1001 < TCP_RCVBUF) {
        size_t n = TCP_RCVBUF - (seq - 1001) < sizeof(chunk) ? TCP_RCVBUF - (seq - 1001)
                                                             : sizeof(chunk);
        peer_send(PPORT, seq, iss + 1, TCP_ACK, chunk, n);
        o = next_out();
        seq += (uint32_t)n;
    }
    assert_int_equal(o->window, 0);
    /* Beyond the window: not taken. */
    peer_send(PPORT, seq, iss + 1, TCP_ACK, chunk, 10);
    o = next_out();
    assert_int_equal(o->ack, seq);
    assert_int_equal(o->window, 0);
    /* Reading opens it, and the peer is told. */
    assert_int_equal(tcp_recv(c, buf, sizeof(buf)), TCP_RCVBUF);
    o = next_out();
    assert_int_equal(o->window, TCP_RCVBUF);
}

static void test_api_misuse(void **state)
{
    char b[4];

    (void)state;
    assert_int_equal(tcp_listen(0, 1), -MF_EINVAL);
    assert_int_equal(tcp_listen(80, 0), -MF_EINVAL);
    assert_true(tcp_listen(80, 1) >= 0);
    assert_int_equal(tcp_listen(80, 1), -MF_EINVAL);     /* taken */
    assert_int_equal(tcp_accept(3), -MF_EINVAL);
    assert_int_equal(tcp_send(0, "x", 1), -MF_EINVAL);   /* no such connection */
    assert_int_equal(tcp_recv(-1, b, 1), -MF_EINVAL);
    assert_int_equal(tcp_close(TCP_CONNS), -MF_EINVAL);
    assert_int_equal(tcp_connect(0, 80), -MF_EINVAL);
    assert_string_equal(tcp_state_name(TCP_TIME_WAIT), "TIME-WAIT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_handshake_and_data, setup),
        cmocka_unit_test_setup(test_retransmit_after_loss, setup),
        cmocka_unit_test_setup(test_retransmit_gives_up, setup),
        cmocka_unit_test_setup(test_out_of_order_dropped, setup),
        cmocka_unit_test_setup(test_peer_fin_then_close, setup),
        cmocka_unit_test_setup(test_active_close_time_wait, setup),
        cmocka_unit_test_setup(test_simultaneous_close, setup),
        cmocka_unit_test_setup(test_reset_both_ways, setup),
        cmocka_unit_test_setup(test_backlog_full_refused, setup),
        cmocka_unit_test_setup(test_table_full_refused, setup),
        cmocka_unit_test_setup(test_time_wait_slot_reused, setup),
        cmocka_unit_test_setup(test_bad_checksum_ignored, setup),
        cmocka_unit_test_setup(test_active_open, setup),
        cmocka_unit_test_setup(test_connect_refused_and_syn_retransmitted, setup),
        cmocka_unit_test_setup(test_mss_and_window, setup),
        cmocka_unit_test_setup(test_receive_window_bounded, setup),
        cmocka_unit_test_setup(test_api_misuse, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
