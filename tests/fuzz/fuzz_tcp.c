/*
 * libFuzzer target for the guest library's TCP input path
 * (guests/lib/net/tcp.c): a listener on port 80 and one connection the
 * harness has already set up with a clean handshake (peer 10.0.0.2:40000,
 * peer ISS 1000), then records from the input, each
 *
 *   [ctl] [len hi] [len lo] [len bytes, at most 1600]
 *
 *   ctl bit 0  fix the checksum (else the bytes go in as they are)
 *   ctl bit 1  aim at the connection TCP last sent from (ports overwritten
 *              with its last segment's, swapped: at first the accepted
 *              connection's; after a connect, the SYN's, so a SYN-ACK
 *              can answer it; resets are not counted)
 *   ctl bit 2  sequence and ack near what the connection expects
 *              (offsets from the input, so windows' edges are hit)
 *   ctl bit 3  instead of a segment: move the clock by (ctl >> 4) * 97 ms
 *              and run the timers
 *   ctl bit 4  then an application call picked by ctl >> 5: send, recv,
 *              close, abort, connect, accept, listen 81, unlisten 81
 *
 * Checked all along: every segment TCP sends has a good checksum, a data
 * offset inside it and at most TCP_MSS bytes of data; the table never
 * holds more than TCP_CONNS connections; the timers' next deadline is
 * never in the past after they ran. Seeds: tests/fuzz/corpus/tcp/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../guests/lib/net/tcp.h"

#define LOCAL   0x0a000001u
#define PEER    0x0a000002u
#define PPORT   40000
#define REC_MAX 1600

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t clock_ms;
static uint32_t last_seq;               /* from the last segment TCP sent */
static uint16_t last_sport, last_dport; /* and its ports */

static uint64_t fake_now(void)
{
    return clock_ms;
}

static int check_output(uint32_t dst, uint8_t *seg, size_t len)
{
    size_t hlen;

    if (len < TCP_HLEN || dst == 0)
        abort();
    hlen = (size_t)(seg[12] >> 4) * 4;
    if (hlen < TCP_HLEN || hlen > len || len - hlen > TCP_MSS)
        abort();
    if (net_csum_fold(net_csum_add(net_pseudo_sum(LOCAL, dst, IPV4_PROTO_TCP, (uint16_t)len),
                                   seg, len)) != 0)
        abort();
    last_seq = net_get32(seg + 4);
    if (!(seg[13] & TCP_RST)) {         /* a reset to a stray segment is no connection */
        last_sport = net_get16(seg);
        last_dport = net_get16(seg + 2);
    }
    return 0;
}

static void feed(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags)
{
    uint8_t seg[TCP_HLEN];

    tcp_build(seg, PEER, LOCAL, sport, dport, seq, ack, flags, 4096, NULL, 0);
    tcp_input(PEER, LOCAL, seg, sizeof(seg));
}

/* Listener 0 on 80 and an accepted connection; returns its handle. */
static int fuzz_setup(void)
{
    struct tcp_io io = { .output = check_output, .now = fake_now, .hz = 1000,
                         .local_ip = LOCAL, .iss_seed = 99 };
    int l;

    clock_ms = 1000;
    tcp_init(&io);
    l = tcp_listen(80, 8);
    feed(PPORT, 80, 1000, 0, TCP_SYN);
    feed(PPORT, 80, 1001, last_seq + 1, TCP_ACK);
    return tcp_accept(l);
}

static void app_call(int op, int *c, const uint8_t *arg, size_t n)
{
    static uint8_t buf[8192];

    switch (op) {
    case 0: tcp_send(*c, arg, n); break;
    case 1: tcp_recv(*c, buf, n ? n : 1); break;
    case 2: tcp_close(*c); break;
    case 3: tcp_abort(*c); break;
    case 4: *c = tcp_connect(PEER, 80); break;
    case 5: { int a = tcp_accept(0); if (a >= 0) *c = a; } break;
    case 6: tcp_listen(81, 4); break;
    default: for (int l = 0; l < TCP_LISTENERS; l++) tcp_unlisten(l == 0 ? 1 : l); break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t seg[REC_MAX];
    int c = fuzz_setup();
    uint32_t peer_seq = 1001;

    while (size >= 3) {
        uint8_t ctl = data[0];
        size_t n = (size_t)data[1] << 8 | data[2];

        data += 3;
        size -= 3;
        if (n > size)
            n = size;
        if (n > REC_MAX)
            n = REC_MAX;
        if (ctl & 8) {
            uint64_t next;

            clock_ms += (uint64_t)(ctl >> 4) * 97;
            next = tcp_timers();
            if (next < clock_ms)            /* a timer due now must have run */
                abort();
        } else if (n >= TCP_HLEN) {
            memcpy(seg, data, n);
            if (ctl & 2) {
                net_put16(seg, last_dport);
                net_put16(seg + 2, last_sport);
            }
            if (ctl & 4) {
                net_put32(seg + 4, peer_seq + (uint32_t)(int8_t)seg[4]);
                net_put32(seg + 8, last_seq + (uint32_t)(int8_t)seg[8]);
            }
            if (ctl & 1) {
                net_put16(seg + 16, 0);
                net_put16(seg + 16, net_csum_fold(net_csum_add(
                    net_pseudo_sum(PEER, LOCAL, IPV4_PROTO_TCP, (uint16_t)n), seg, n)));
            }
            tcp_input(PEER, LOCAL, seg, n);
            if ((ctl & 4) && n > TCP_HLEN)
                peer_seq += (uint32_t)(n - TCP_HLEN);
        } else {
            tcp_input(PEER, LOCAL, data, n);
        }
        if (ctl & 16)
            app_call(ctl >> 5, &c, data, n);
        if (tcp_active() > TCP_CONNS)
            abort();
        data += n;
        size -= n;
    }
    return 0;
}
