/*
 * TCP (tcp.h): the connection table, the state machine (RFC 793 with the
 * RFC 1122 and RFC 6298 corrections we need) and the timers. Pure: the
 * world is struct tcp_io, so this file builds into guests, the host unit
 * tests and the fuzz target alike.
 *
 * Sequence space per connection: iss (our SYN), then the bytes in sbuf
 * (sbuf[shead] has sequence number sbuf_seq), then our FIN once the
 * application closed. snd_una is the oldest unacknowledged number,
 * snd_nxt the next to send, snd_max the highest ever sent (an RTO sets
 * snd_nxt back to snd_una: go-back-N, acknowledgements up to snd_max stay
 * acceptable).
 */
#include "tcp.h"

#define SEQ_LT(a, b)    ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b)   ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b)    SEQ_LT(b, a)
#define SEQ_GEQ(a, b)   SEQ_LEQ(b, a)

#define TCP_OPT_MSS         2
#define TCP_MSS_DEFAULT     536             /* a peer that sends no MSS option (RFC 1122) */
#define TCP_FIN_WAIT2_MS    (2 * TCP_TIME_WAIT_MS)  /* an orphan waiting for the peer's FIN */
#define TCP_WINDOW_MAX      65535u

struct tcp_conn {
    uint8_t state;                  /* enum tcp_state */
    uint8_t error;                  /* enum tcp_error */
    uint8_t owned;                  /* the application holds the handle */
    uint8_t fin_queued;             /* the application closed: FIN after sbuf */
    uint8_t peer_fin;               /* the peer's FIN is in rcv_nxt */
    uint8_t rtt_timing;             /* rtt_seq/rtt_start measure one segment */
    uint8_t retries;                /* RTOs since the last progress */
    int8_t listener;                /* waiting for tcp_accept on it; -1 if not */
    uint32_t remote_ip;
    uint16_t local_port, remote_port;
    uint16_t mss;                   /* the most we put in one segment */
    uint32_t iss, snd_una, snd_nxt, snd_max, sbuf_seq;
    uint32_t snd_wnd, snd_wl1, snd_wl2;
    uint32_t rcv_nxt;
    uint32_t rtt_seq;
    uint64_t rtt_start;
    uint64_t srtt, rttvar, rto;     /* ticks; srtt 0: no sample yet */
    uint64_t timer;                 /* tick when the state's timer fires; 0: off */
    uint64_t order;                 /* when it became established (accept order) */
    uint32_t shead, slen, rhead, rlen;
    uint8_t sbuf[TCP_SNDBUF];
    uint8_t rbuf[TCP_RCVBUF];
};

struct tcp_listener {
    uint16_t port;                  /* 0: free */
    uint16_t backlog;
};

/* A parsed incoming segment. */
struct tcp_seg {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t window;
    uint16_t mss;                   /* from the option; 0 if none */
    const uint8_t *data;
    size_t len;
};

static struct {
    struct tcp_io io;
    struct tcp_conn conns[TCP_CONNS];
    struct tcp_listener listeners[TCP_LISTENERS];
    struct tcp_counters counters;
    uint64_t order;
    uint32_t iss_count;
    uint16_t next_port;
    uint8_t tx[TCP_HDR_ROOM + TCP_HLEN + 4 + TCP_MSS];
} tcp;

static const char *const state_names[] = {
    [TCP_CLOSED] = "CLOSED",           [TCP_SYN_SENT] = "SYN-SENT",
    [TCP_SYN_RCVD] = "SYN-RECEIVED",   [TCP_ESTABLISHED] = "ESTABLISHED",
    [TCP_FIN_WAIT_1] = "FIN-WAIT-1",   [TCP_FIN_WAIT_2] = "FIN-WAIT-2",
    [TCP_CLOSING] = "CLOSING",         [TCP_TIME_WAIT] = "TIME-WAIT",
    [TCP_CLOSE_WAIT] = "CLOSE-WAIT",   [TCP_LAST_ACK] = "LAST-ACK",
};

const char *tcp_state_name(enum tcp_state s)
{
    return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static uint64_t ms_to_ticks(uint64_t ms)
{
    return ms * tcp.io.hz / 1000;
}

static uint64_t now(void)
{
    return tcp.io.now();
}

void tcp_init(const struct tcp_io *io)
{
    /* The pool is .bss, zero at a guest's entry (docs/guest-abi.md):
     * clearing its megabyte again only pays off on a second init (the
     * host tests reuse it). */
    static int used;

    if (used)
        net_memset(&tcp, 0, sizeof(tcp));
    used = 1;
    tcp.io = *io;
    tcp.next_port = (uint16_t)(TCP_EPHEMERAL_LO + io->iss_seed % 4096);
}

const struct tcp_counters *tcp_counters(void)
{
    return &tcp.counters;
}

/* --- segments out --- */

/* Writes header (with an MSS option when mss_opt), copies data unless
 * NULL and fills in the checksum; returns the segment's length. */
static size_t tcp_build_opt(uint8_t *seg, uint32_t src, uint32_t dst, uint16_t sport,
                            uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                            uint16_t window, int mss_opt, const void *data, size_t len)
{
    size_t hlen = TCP_HLEN + (mss_opt ? 4 : 0);
    size_t total = hlen + len;

    if (data != NULL)
        net_memcpy(seg + hlen, data, len);
    net_put16(seg, sport);
    net_put16(seg + 2, dport);
    net_put32(seg + 4, seq);
    net_put32(seg + 8, ack);
    seg[12] = (uint8_t)(hlen / 4 << 4);
    seg[13] = flags;
    net_put16(seg + 14, window);
    net_put16(seg + 16, 0);
    net_put16(seg + 18, 0);                 /* urgent pointer */
    if (mss_opt) {
        seg[20] = TCP_OPT_MSS;
        seg[21] = 4;
        net_put16(seg + 22, TCP_MSS);
    }
    net_put16(seg + 16, net_csum_fold(net_csum_add(
        net_pseudo_sum(src, dst, IPV4_PROTO_TCP, (uint16_t)total), seg, total)));
    return total;
}

size_t tcp_build(uint8_t *seg, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                 uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
                 const void *data, size_t len)
{
    return tcp_build_opt(seg, src, dst, sport, dport, seq, ack, flags, window, 0, data, len);
}

static void tcp_emit(uint32_t dst, size_t len)
{
    tcp.counters.segs_out++;
    tcp.io.output(dst, tcp.tx + TCP_HDR_ROOM, len);
}

/* RST for a segment that belongs to no connection (RFC 793, "reset
 * generation"): its ACK becomes our sequence number, else we acknowledge
 * everything it occupied. Never in answer to a RST. */
static void tcp_reset_reply(const struct tcp_seg *s)
{
    uint8_t *seg = tcp.tx + TCP_HDR_ROOM;
    size_t n;

    if (s->flags & TCP_RST)
        return;
    if (s->flags & TCP_ACK)
        n = tcp_build(seg, s->dst, s->src, s->dport, s->sport, s->ack, 0, TCP_RST, 0, NULL, 0);
    else
        n = tcp_build(seg, s->dst, s->src, s->dport, s->sport, 0,
                      s->seq + (uint32_t)s->len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN),
                      TCP_RST | TCP_ACK, 0, NULL, 0);
    tcp.counters.resets_sent++;
    tcp_emit(s->src, n);
}

static uint16_t tcp_rcv_window(const struct tcp_conn *c)
{
    uint32_t w = TCP_RCVBUF - c->rlen;

    return (uint16_t)(w > TCP_WINDOW_MAX ? TCP_WINDOW_MAX : w);
}

/* One segment from c: seq, flags, and n bytes of sbuf from offset off. */
static void tcp_send_segment(struct tcp_conn *c, uint32_t seq, uint8_t flags, uint32_t off,
                             uint32_t n)
{
    uint8_t *seg = tcp.tx + TCP_HDR_ROOM;
    int syn = (flags & TCP_SYN) != 0;
    size_t hlen = TCP_HLEN + (syn ? 4 : 0), len;
    uint32_t at = (c->shead + off) % TCP_SNDBUF, first = TCP_SNDBUF - at;

    if (first > n)
        first = n;
    net_memcpy(seg + hlen, c->sbuf + at, first);
    net_memcpy(seg + hlen + first, c->sbuf, n - first);
    if (c->state != TCP_SYN_SENT)
        flags |= TCP_ACK;
    len = tcp_build_opt(seg, tcp.io.local_ip, c->remote_ip, c->local_port, c->remote_port,
                        seq, c->state == TCP_SYN_SENT ? 0 : c->rcv_nxt, flags,
                        tcp_rcv_window(c), syn, NULL, n);
    tcp_emit(c->remote_ip, len);
}

/* A bare ACK with our current rcv_nxt and window. */
static void tcp_send_ack(struct tcp_conn *c)
{
    tcp_send_segment(c, c->snd_nxt, TCP_ACK, 0, 0);
}

static void tcp_timer_arm(struct tcp_conn *c)
{
    if (c->timer == 0)
        c->timer = now() + c->rto;
}

/* Sends what the state, the send buffer and the peer's window allow from
 * snd_nxt on: SYN (or SYN-ACK), data in MSS pieces, FIN. probe: send one
 * byte past a zero window (the persist timer fired). */
static void tcp_output(struct tcp_conn *c, int probe)
{
    if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD) {
        if (c->snd_nxt == c->iss) {
            if (SEQ_LT(c->iss, c->snd_max))
                tcp.counters.retransmits++;
            tcp_send_segment(c, c->iss, TCP_SYN, 0, 0);
            c->snd_nxt = c->iss + 1;
            if (SEQ_GT(c->snd_nxt, c->snd_max))
                c->snd_max = c->snd_nxt;
            tcp_timer_arm(c);
        }
        return;
    }
    if (c->state == TCP_CLOSED || c->state == TCP_TIME_WAIT || c->state == TCP_FIN_WAIT_2)
        return;
    for (;;) {
        uint32_t off = c->snd_nxt - c->sbuf_seq, flight = c->snd_nxt - c->snd_una;
        uint32_t room = c->snd_wnd > flight ? c->snd_wnd - flight : 0, n;

        if (off > c->slen)             /* our FIN is in flight */
            break;
        n = c->slen - off;
        if (probe && room == 0 && n > 0 && flight == 0)
            room = 1;
        if (n > room)
            n = room;
        if (n > c->mss)
            n = c->mss;
        if (n == 0) {
            if (c->fin_queued && off == c->slen) {
                tcp_send_segment(c, c->snd_nxt, TCP_FIN, 0, 0);
                c->snd_nxt++;
            } else {
                break;
            }
        } else {
            if (SEQ_LT(c->snd_nxt, c->snd_max))
                tcp.counters.retransmits++;
            else if (!c->rtt_timing) {
                c->rtt_timing = 1;
                c->rtt_seq = c->snd_nxt + n;
                c->rtt_start = now();
            }
            tcp_send_segment(c, c->snd_nxt, TCP_PSH, off, n);
            c->snd_nxt += n;
        }
        if (SEQ_GT(c->snd_nxt, c->snd_max))
            c->snd_max = c->snd_nxt;
        tcp_timer_arm(c);
        probe = 0;
    }
    /* Data waiting behind a zero window: the persist timer probes it. */
    if (c->snd_nxt - c->sbuf_seq < c->slen && c->snd_wnd == 0)
        tcp_timer_arm(c);
}

/* --- the table --- */

static void tcp_free(struct tcp_conn *c)
{
    c->state = TCP_CLOSED;
    c->owned = 0;
    c->listener = -1;
    c->timer = 0;
}

/* The connection is over. The application still holding the handle
 * keeps the slot (it reads the error); otherwise it is free now. */
static void tcp_drop(struct tcp_conn *c, enum tcp_error err)
{
    c->error = (uint8_t)err;
    c->state = TCP_CLOSED;
    c->timer = 0;
    if (!c->owned)
        tcp_free(c);
}

/* Sends RST if the peer thinks the connection is open, frees the slot. */
static void tcp_reset_conn(struct tcp_conn *c)
{
    if (c->state != TCP_CLOSED && c->state != TCP_SYN_SENT && c->state != TCP_TIME_WAIT) {
        tcp.counters.resets_sent++;
        tcp_send_segment(c, c->snd_nxt, TCP_RST, 0, 0);
    }
    tcp_free(c);
}

static void tcp_enter_time_wait(struct tcp_conn *c)
{
    c->state = TCP_TIME_WAIT;
    c->timer = now() + ms_to_ticks(TCP_TIME_WAIT_MS);
}

/* A slot for a new connection: a free one, else the TIME-WAIT one that
 * expires first (its peer has closed; reusing it early is what a full
 * table would force anyway), else NULL. */
static struct tcp_conn *tcp_slot(void)
{
    struct tcp_conn *oldest = NULL;

    for (unsigned i = 0; i < TCP_CONNS; i++) {
        struct tcp_conn *c = &tcp.conns[i];

        if (c->state == TCP_CLOSED && !c->owned)
            return c;
        if (c->state == TCP_TIME_WAIT && (oldest == NULL || c->timer < oldest->timer))
            oldest = c;
    }
    if (oldest != NULL)
        tcp.counters.time_wait_reused++;
    return oldest;
}

static void tcp_conn_start(struct tcp_conn *c, uint32_t ip, uint16_t lport, uint16_t rport)
{
    net_memset(c, 0, offsetof(struct tcp_conn, sbuf));     /* the buffers need no clearing */
    c->listener = -1;
    c->remote_ip = ip;
    c->local_port = lport;
    c->remote_port = rport;
    c->mss = TCP_MSS_DEFAULT;
    c->rto = ms_to_ticks(TCP_RTO_INIT_MS);
    /* Not predictable from outside, different for each connection. */
    c->iss = tcp.io.iss_seed ^ (uint32_t)(now() >> 6) ^ (++tcp.iss_count * 0x9e3779b9u);
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->sbuf_seq = c->iss + 1;
}

static struct tcp_conn *tcp_find(uint32_t ip, uint16_t lport, uint16_t rport)
{
    for (unsigned i = 0; i < TCP_CONNS; i++) {
        struct tcp_conn *c = &tcp.conns[i];

        if (c->state != TCP_CLOSED && c->remote_ip == ip && c->local_port == lport &&
            c->remote_port == rport)
            return c;
    }
    return NULL;
}

static int tcp_find_listener(uint16_t port)
{
    for (int i = 0; i < TCP_LISTENERS; i++)
        if (tcp.listeners[i].port == port)
            return i;
    return -1;
}

/* Connections set up for listener l and not yet accepted. */
static unsigned tcp_pending(int l)
{
    unsigned n = 0;

    for (unsigned i = 0; i < TCP_CONNS; i++)
        n += tcp.conns[i].state != TCP_CLOSED && tcp.conns[i].listener == l;
    return n;
}

unsigned tcp_active(void)
{
    unsigned n = 0;

    for (unsigned i = 0; i < TCP_CONNS; i++)
        n += tcp.conns[i].state != TCP_CLOSED;
    return n;
}

/* --- segments in --- */

static void tcp_parse_options(const uint8_t *p, size_t len, struct tcp_seg *s)
{
    size_t i = 0;

    while (i < len) {
        uint8_t kind = p[i];

        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len || p[i + 1] < 2 || i + p[i + 1] > len)
            break;
        if (kind == TCP_OPT_MSS && p[i + 1] == 4)
            s->mss = net_get16(p + i + 2);
        i += p[i + 1];
    }
}

/* Length, data offset and checksum; 0 and *s filled, or -1. */
static int tcp_parse(uint32_t src, uint32_t dst, const uint8_t *p, size_t len, struct tcp_seg *s)
{
    size_t hlen;

    if (len < TCP_HLEN || len > 0xffff) {
        tcp.counters.bad++;
        return -1;
    }
    hlen = (size_t)(p[12] >> 4) * 4;
    if (hlen < TCP_HLEN || hlen > len) {
        tcp.counters.bad++;
        return -1;
    }
    if (net_csum_fold(net_csum_add(net_pseudo_sum(src, dst, IPV4_PROTO_TCP, (uint16_t)len),
                                   p, len)) != 0) {
        tcp.counters.bad_checksum++;
        return -1;
    }
    net_memset(s, 0, sizeof(*s));
    s->src = src;
    s->dst = dst;
    s->sport = net_get16(p);
    s->dport = net_get16(p + 2);
    s->seq = net_get32(p + 4);
    s->ack = net_get32(p + 8);
    s->flags = p[13] & 0x3f;
    s->window = net_get16(p + 14);
    tcp_parse_options(p + TCP_HLEN, hlen - TCP_HLEN, s);
    s->data = p + hlen;
    s->len = len - hlen;
    return 0;
}

static void tcp_set_mss(struct tcp_conn *c, uint16_t peer_mss)
{
    c->mss = peer_mss == 0 ? TCP_MSS_DEFAULT : peer_mss;
    if (c->mss > TCP_MSS)
        c->mss = TCP_MSS;
    if (c->mss < 64)                /* a silly value would mean a segment per byte */
        c->mss = 64;
}

/* A SYN for listener l: a new connection in SYN-RECEIVED, or RST when the
 * backlog or the table is full. */
static void tcp_passive_open(int l, const struct tcp_seg *s)
{
    struct tcp_conn *c;

    if (tcp_pending(l) >= tcp.listeners[l].backlog) {
        tcp.counters.refused_backlog++;
        tcp_reset_reply(s);
        return;
    }
    c = tcp_slot();
    if (c == NULL) {
        tcp.counters.refused_full++;
        tcp_reset_reply(s);
        return;
    }
    tcp_conn_start(c, s->src, s->dport, s->sport);
    c->state = TCP_SYN_RCVD;
    c->listener = (int8_t)l;
    c->rcv_nxt = s->seq + 1;
    c->snd_wnd = s->window;
    c->snd_wl1 = s->seq;
    tcp_set_mss(c, s->mss);
    tcp_output(c, 0);
}

static void tcp_established(struct tcp_conn *c)
{
    c->state = TCP_ESTABLISHED;
    c->order = ++tcp.order;
    if (c->listener >= 0)
        tcp.counters.accepted++;
    else
        tcp.counters.connected++;
}

static void tcp_rtt_sample(struct tcp_conn *c, uint64_t r)
{
    uint64_t lo = ms_to_ticks(TCP_RTO_MIN_MS), hi = ms_to_ticks(TCP_RTO_MAX_MS), rto;

    if (c->srtt == 0) {
        c->srtt = r ? r : 1;
        c->rttvar = r / 2;
    } else {
        uint64_t diff = c->srtt > r ? c->srtt - r : r - c->srtt;

        c->rttvar = (3 * c->rttvar + diff) / 4;
        c->srtt = (7 * c->srtt + r) / 8;
    }
    rto = c->srtt + 4 * c->rttvar;
    c->rto = rto < lo ? lo : rto > hi ? hi : rto;
}

/* Our FIN is queued, sent and acknowledged. */
static int tcp_fin_acked(const struct tcp_conn *c)
{
    return c->fin_queued && c->slen == 0 && c->snd_una == c->sbuf_seq + 1;
}

/* An acceptable ACK (snd_una < ack <= snd_max): frees acknowledged bytes,
 * takes an RTT sample, restarts or stops the timer. */
static void tcp_ack_advance(struct tcp_conn *c, uint32_t ack)
{
    uint32_t n = 0;

    if (SEQ_GT(ack, c->sbuf_seq)) {
        n = ack - c->sbuf_seq;
        if (n > c->slen)
            n = c->slen;
        c->shead = (c->shead + n) % TCP_SNDBUF;
        c->slen -= n;
        c->sbuf_seq += n;
    }
    c->snd_una = ack;
    if (SEQ_LT(c->snd_nxt, ack))
        c->snd_nxt = ack;
    if (c->rtt_timing && SEQ_GEQ(ack, c->rtt_seq)) {
        c->rtt_timing = 0;
        tcp_rtt_sample(c, now() - c->rtt_start);
    }
    c->retries = 0;
    c->timer = 0;
    if (c->snd_una != c->snd_max)
        tcp_timer_arm(c);
}

/* RFC 793's acceptability test for a segment occupying seglen numbers. */
static int tcp_seq_acceptable(const struct tcp_conn *c, uint32_t seq, uint32_t seglen)
{
    uint32_t wnd = tcp_rcv_window(c);

    if (seglen == 0)
        return wnd == 0 ? seq == c->rcv_nxt
                        : SEQ_GEQ(seq, c->rcv_nxt) && SEQ_LT(seq, c->rcv_nxt + wnd);
    if (wnd == 0)
        return 0;
    return (SEQ_GEQ(seq, c->rcv_nxt) && SEQ_LT(seq, c->rcv_nxt + wnd)) ||
           (SEQ_GEQ(seq + seglen - 1, c->rcv_nxt) && SEQ_LT(seq + seglen - 1, c->rcv_nxt + wnd));
}

static void tcp_input_syn_sent(struct tcp_conn *c, const struct tcp_seg *s)
{
    int ack_ok = (s->flags & TCP_ACK) && SEQ_GT(s->ack, c->iss) && SEQ_LEQ(s->ack, c->snd_max);

    if ((s->flags & TCP_ACK) && !ack_ok) {
        tcp_reset_reply(s);
        return;
    }
    if (s->flags & TCP_RST) {
        if (ack_ok) {
            tcp.counters.resets_in++;
            tcp_drop(c, TCP_ERR_REFUSED);
        }
        return;
    }
    if (!(s->flags & TCP_SYN) || !ack_ok)
        return;                 /* simultaneous open is not supported: the SYN is ignored */
    c->rcv_nxt = s->seq + 1;
    c->snd_wnd = s->window;
    c->snd_wl1 = s->seq;
    c->snd_wl2 = s->ack;
    tcp_set_mss(c, s->mss);
    tcp_ack_advance(c, s->ack);
    tcp_established(c);
    tcp_send_ack(c);
    tcp_output(c, 0);
}

/* Stores in-order data and the FIN; 1 when something was taken (an ACK
 * is due). Out-of-order segments are dropped: the peer retransmits. */
static int tcp_input_data(struct tcp_conn *c, const struct tcp_seg *s)
{
    uint32_t seq = s->seq, skip, n, room;
    const uint8_t *data = s->data;
    size_t len = s->len;
    int fin = (s->flags & TCP_FIN) != 0, took = 0;

    if (c->peer_fin || (len == 0 && !fin))
        return 0;
    if (SEQ_GT(seq, c->rcv_nxt)) {
        tcp.counters.out_of_order++;
        return 1;               /* a duplicate ACK tells the peer where we are */
    }
    skip = c->rcv_nxt - seq;
    if (skip > len)             /* acceptable, so only the FIN lies beyond */
        return fin;
    data += skip;
    len -= skip;
    room = TCP_RCVBUF - c->rlen;
    n = len > room ? room : (uint32_t)len;
    if (c->owned || c->listener >= 0) {
        for (uint32_t i = 0; i < n; i++)
            c->rbuf[(c->rhead + c->rlen + i) % TCP_RCVBUF] = data[i];
        c->rlen += n;
    }                           /* else nobody will read it: taken and dropped */
    c->rcv_nxt += n;
    took = n > 0 || skip > 0;
    if (fin && n == len) {
        c->rcv_nxt++;
        c->peer_fin = 1;
        took = 1;
    }
    return took;
}

/* State changes on the peer's FIN just taken. */
static void tcp_on_peer_fin(struct tcp_conn *c)
{
    switch (c->state) {
    case TCP_SYN_RCVD:
    case TCP_ESTABLISHED:
        c->state = TCP_CLOSE_WAIT;
        break;
    case TCP_FIN_WAIT_1:
        if (tcp_fin_acked(c))
            tcp_enter_time_wait(c);
        else
            c->state = TCP_CLOSING;
        break;
    case TCP_FIN_WAIT_2:
        tcp_enter_time_wait(c);
        break;
    default:
        break;
    }
}

/* State changes on an ACK that covers our FIN. */
static void tcp_on_fin_acked(struct tcp_conn *c)
{
    switch (c->state) {
    case TCP_FIN_WAIT_1:
        c->state = TCP_FIN_WAIT_2;
        if (!c->owned)
            c->timer = now() + ms_to_ticks(TCP_FIN_WAIT2_MS);
        break;
    case TCP_CLOSING:
        tcp_enter_time_wait(c);
        break;
    case TCP_LAST_ACK:
        tcp_drop(c, TCP_ERR_NONE);
        break;
    default:
        break;
    }
}

/* ACK field processing for a synchronized connection; 0 to go on with
 * the segment, -1 to drop it. */
static int tcp_input_ack(struct tcp_conn *c, const struct tcp_seg *s)
{
    if (c->state == TCP_SYN_RCVD) {
        if (SEQ_LEQ(s->ack, c->snd_una) || SEQ_GT(s->ack, c->snd_max)) {
            tcp_reset_reply(s);
            return -1;
        }
        tcp_established(c);
    }
    if (SEQ_GT(s->ack, c->snd_max)) {
        tcp_send_ack(c);        /* acknowledges what we never sent */
        return -1;
    }
    if (SEQ_GT(s->ack, c->snd_una))
        tcp_ack_advance(c, s->ack);
    if (SEQ_LT(c->snd_wl1, s->seq) ||
        (c->snd_wl1 == s->seq && SEQ_LEQ(c->snd_wl2, s->ack))) {
        c->snd_wnd = s->window;
        c->snd_wl1 = s->seq;
        c->snd_wl2 = s->ack;
        if (c->snd_wnd == 0)
            c->retries = 0;     /* a peer that answers probes is alive */
    }
    if (tcp_fin_acked(c))
        tcp_on_fin_acked(c);
    return 0;
}

/* A segment for a connection past SYN-SENT. */
static void tcp_input_conn(struct tcp_conn *c, const struct tcp_seg *s)
{
    uint32_t seglen = (uint32_t)s->len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);

    if (c->state == TCP_SYN_RCVD && (s->flags & TCP_SYN) && !(s->flags & TCP_ACK) &&
        s->seq + 1 == c->rcv_nxt) {
        c->snd_nxt = c->iss;    /* the peer lost our SYN-ACK */
        tcp_output(c, 0);
        return;
    }
    if (!tcp_seq_acceptable(c, s->seq, seglen)) {
        if (!(s->flags & TCP_RST))
            tcp_send_ack(c);
        if (c->state == TCP_TIME_WAIT && (s->flags & TCP_FIN))
            tcp_enter_time_wait(c);     /* its FIN again: our last ACK was lost */
        return;
    }
    if (s->flags & TCP_RST) {
        tcp.counters.resets_in++;
        tcp_drop(c, c->state == TCP_SYN_RCVD ? TCP_ERR_NONE : TCP_ERR_RESET);
        return;
    }
    if (s->flags & TCP_SYN) {   /* in the window: answer with an ACK (RFC 5961) */
        tcp_send_ack(c);
        return;
    }
    if (!(s->flags & TCP_ACK) || tcp_input_ack(c, s) < 0 || c->state == TCP_CLOSED)
        return;
    if (tcp_input_data(c, s)) {
        if (c->peer_fin && s->flags & TCP_FIN)
            tcp_on_peer_fin(c);
        tcp_send_ack(c);
    }
    tcp_output(c, 0);
}

void tcp_input(uint32_t src, uint32_t dst, const uint8_t *p, size_t len)
{
    struct tcp_seg s;
    struct tcp_conn *c;
    int l;

    tcp.counters.segs_in++;
    if (dst != tcp.io.local_ip || tcp_parse(src, dst, p, len, &s) < 0)
        return;
    c = tcp_find(src, s.dport, s.sport);
    if (c != NULL && c->state == TCP_TIME_WAIT && (s.flags & (TCP_SYN | TCP_ACK | TCP_RST)) ==
        TCP_SYN && SEQ_GT(s.seq, c->rcv_nxt) && tcp_find_listener(s.dport) >= 0) {
        tcp_free(c);            /* a new incarnation of the pair (RFC 1122 4.2.2.13) */
        c = NULL;
    }
    if (c == NULL) {
        l = tcp_find_listener(s.dport);
        if (l >= 0 && (s.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN)
            tcp_passive_open(l, &s);
        else
            tcp_reset_reply(&s);
        return;
    }
    if (c->state == TCP_SYN_SENT)
        tcp_input_syn_sent(c, &s);
    else
        tcp_input_conn(c, &s);
}

/* --- timers --- */

/* The retransmission (or persist) timer fired. */
static void tcp_rto_expired(struct tcp_conn *c)
{
    uint64_t hi = ms_to_ticks(TCP_RTO_MAX_MS);

    c->timer = 0;
    if (++c->retries > TCP_RETRIES) {
        tcp.counters.timeouts++;
        if (c->state != TCP_SYN_SENT) {
            tcp.counters.resets_sent++;
            tcp_send_segment(c, c->snd_nxt, TCP_RST, 0, 0);
        }
        tcp_drop(c, TCP_ERR_TIMEOUT);
        return;
    }
    c->rto = c->rto * 2 > hi ? hi : c->rto * 2;
    c->rtt_timing = 0;          /* Karn: no sample from a retransmitted segment */
    c->snd_nxt = c->snd_una;
    tcp_output(c, 1);
}

uint64_t tcp_timers(void)
{
    uint64_t t = now(), next = UINT64_MAX;

    for (unsigned i = 0; i < TCP_CONNS; i++) {
        struct tcp_conn *c = &tcp.conns[i];

        if (c->state == TCP_CLOSED || c->timer == 0)
            continue;
        if (t >= c->timer) {
            if (c->state == TCP_TIME_WAIT)
                tcp_drop(c, TCP_ERR_NONE);
            else if (c->state == TCP_FIN_WAIT_2)
                tcp_reset_conn(c);      /* the peer never closed its side */
            else
                tcp_rto_expired(c);
        }
        if (c->state != TCP_CLOSED && c->timer != 0 && c->timer < next)
            next = c->timer;
    }
    return next;
}

/* --- the application's calls --- */

static struct tcp_conn *tcp_handle(int h)
{
    if (h < 0 || h >= TCP_CONNS || !tcp.conns[h].owned)
        return NULL;
    return &tcp.conns[h];
}

int tcp_listen(uint16_t port, unsigned backlog)
{
    int free_slot = -1;

    if (port == 0 || backlog == 0 || backlog > TCP_CONNS || tcp_find_listener(port) >= 0)
        return -MF_EINVAL;
    for (int i = 0; i < TCP_LISTENERS && free_slot < 0; i++)
        if (tcp.listeners[i].port == 0)
            free_slot = i;
    if (free_slot < 0)
        return -MF_ENOMEM;
    tcp.listeners[free_slot].port = port;
    tcp.listeners[free_slot].backlog = (uint16_t)backlog;
    return free_slot;
}

int tcp_accept(int l)
{
    struct tcp_conn *best = NULL;

    if (l < 0 || l >= TCP_LISTENERS || tcp.listeners[l].port == 0)
        return -MF_EINVAL;
    for (unsigned i = 0; i < TCP_CONNS; i++) {
        struct tcp_conn *c = &tcp.conns[i];

        if (c->listener == l && c->state != TCP_CLOSED && c->state != TCP_SYN_RCVD &&
            (best == NULL || c->order < best->order))
            best = c;
    }
    if (best == NULL)
        return -MF_EAGAIN;
    best->listener = -1;
    best->owned = 1;
    return (int)(best - tcp.conns);
}

int tcp_unlisten(int l)
{
    if (l < 0 || l >= TCP_LISTENERS || tcp.listeners[l].port == 0)
        return -MF_EINVAL;
    for (unsigned i = 0; i < TCP_CONNS; i++) {
        struct tcp_conn *c = &tcp.conns[i];

        if (c->listener == l && c->state != TCP_CLOSED)
            tcp_reset_conn(c);
    }
    tcp.listeners[l].port = 0;
    return 0;
}

/* A local port no connection to anyone uses. */
static uint16_t tcp_ephemeral_port(void)
{
    for (unsigned tries = 0; tries < 16384; tries++) {
        uint16_t p = tcp.next_port;
        int used = tcp_find_listener(p) >= 0;

        tcp.next_port = p == 65535 ? TCP_EPHEMERAL_LO : (uint16_t)(p + 1);
        for (unsigned i = 0; i < TCP_CONNS && !used; i++)
            used = tcp.conns[i].state != TCP_CLOSED && tcp.conns[i].local_port == p;
        if (!used)
            return p;
    }
    return 0;
}

int tcp_connect(uint32_t ip, uint16_t port)
{
    struct tcp_conn *c;
    uint16_t lport;

    if (ip == 0 || ip == IPV4_BROADCAST || port == 0)
        return -MF_EINVAL;
    lport = tcp_ephemeral_port();
    c = tcp_slot();
    if (c == NULL || lport == 0)
        return -MF_ENOMEM;
    tcp_conn_start(c, ip, lport, port);
    c->state = TCP_SYN_SENT;
    c->owned = 1;
    tcp_output(c, 0);
    return (int)(c - tcp.conns);
}

long tcp_send(int h, const void *buf, size_t len)
{
    struct tcp_conn *c = tcp_handle(h);
    const uint8_t *p = buf;
    uint32_t n;

    if (c == NULL)
        return -MF_EINVAL;
    if (c->error != TCP_ERR_NONE)
        return -MF_EIO;
    if (c->fin_queued || (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT &&
                          c->state != TCP_SYN_SENT && c->state != TCP_SYN_RCVD))
        return -MF_EINVAL;
    n = TCP_SNDBUF - c->slen;
    if (n > len)
        n = (uint32_t)len;
    if (n == 0)
        return len == 0 ? 0 : -MF_EAGAIN;
    for (uint32_t i = 0; i < n; i++)
        c->sbuf[(c->shead + c->slen + i) % TCP_SNDBUF] = p[i];
    c->slen += n;
    tcp_output(c, 0);
    return n;
}

long tcp_recv(int h, void *buf, size_t len)
{
    struct tcp_conn *c = tcp_handle(h);
    uint8_t *p = buf;
    uint32_t n, before;

    if (c == NULL)
        return -MF_EINVAL;
    if (c->rlen == 0) {
        if (c->peer_fin)
            return 0;
        return c->error != TCP_ERR_NONE || c->state == TCP_CLOSED ? -MF_EIO : -MF_EAGAIN;
    }
    n = c->rlen < len ? c->rlen : (uint32_t)len;
    before = tcp_rcv_window(c);
    for (uint32_t i = 0; i < n; i++)
        p[i] = c->rbuf[(c->rhead + i) % TCP_RCVBUF];
    c->rhead = (c->rhead + n) % TCP_RCVBUF;
    c->rlen -= n;
    /* Tell a peer that saw a small window that it has opened (RFC 1122's
     * receiver-side silly window avoidance: only once it is worth it). */
    if (before < TCP_RCVBUF / 2 && tcp_rcv_window(c) >= TCP_RCVBUF / 2 &&
        c->state != TCP_CLOSED && !c->peer_fin)
        tcp_send_ack(c);
    return n;
}

int tcp_close(int h)
{
    struct tcp_conn *c = tcp_handle(h);

    if (c == NULL)
        return -MF_EINVAL;
    c->owned = 0;
    switch (c->state) {
    case TCP_CLOSED:
    case TCP_SYN_SENT:
        tcp_free(c);
        break;
    case TCP_SYN_RCVD:
    case TCP_ESTABLISHED:
        c->fin_queued = 1;
        c->state = TCP_FIN_WAIT_1;
        tcp_output(c, 0);
        break;
    case TCP_CLOSE_WAIT:
        c->fin_queued = 1;
        c->state = TCP_LAST_ACK;
        tcp_output(c, 0);
        break;
    case TCP_FIN_WAIT_2:
        c->timer = now() + ms_to_ticks(TCP_FIN_WAIT2_MS);
        break;
    default:
        break;
    }
    return 0;
}

int tcp_abort(int h)
{
    struct tcp_conn *c = tcp_handle(h);

    if (c == NULL)
        return -MF_EINVAL;
    tcp_reset_conn(c);
    return 0;
}

enum tcp_state tcp_state(int h)
{
    if (h < 0 || h >= TCP_CONNS)
        return TCP_CLOSED;
    return (enum tcp_state)tcp.conns[h].state;
}

int tcp_writable(int h)
{
    struct tcp_conn *c = tcp_handle(h);

    return c != NULL && !c->fin_queued && c->error == TCP_ERR_NONE &&
           (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT) && c->slen < TCP_SNDBUF;
}

int tcp_peer(int h, uint32_t *ip, uint16_t *port)
{
    struct tcp_conn *c = tcp_handle(h);

    if (c == NULL)
        return -MF_EINVAL;
    *ip = c->remote_ip;
    *port = c->remote_port;
    return 0;
}

size_t tcp_unacked(int h)
{
    struct tcp_conn *c = tcp_handle(h);

    return c == NULL ? 0 : c->slen;
}

enum tcp_error tcp_error(int h)
{
    if (h < 0 || h >= TCP_CONNS)
        return TCP_ERR_NONE;
    return (enum tcp_error)tcp.conns[h].error;
}
