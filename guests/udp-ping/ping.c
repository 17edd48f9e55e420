/*
 * udp-ping's ping mode (main.c has the arguments). Up to window datagrams
 * are in flight; a reply is matched to its datagram by length (no two in
 * flight have the same size) and then compared byte for byte. A reply that is
 * an old datagram's late duplicate (after a resend) is ignored; anything
 * else that does not match is counted as corrupt.
 */
#include "udp-ping.h"

#define PING_TAG        0x50494e47u     /* "PING" */
#define WINDOW_MAX      8
#define SAMPLES_MAX     1024            /* round trips kept for samples=1 */
#define SAMPLES_LINE    12              /* per console line (GUEST_LINE_MAX) */

/* Payload sizes, cycled through by sequence number: all distinct, from 1
 * to UDP_PAYLOAD_MAX, small and large mixed. */
static const uint16_t ping_sizes[] = {
    1, 1472, 2, 1471, 3, 1470, 4, 1400, 7, 1200, 8, 1025, 11, 1024, 12, 1023,
    13, 1000, 16, 777, 31, 513, 32, 512, 63, 511, 64, 256, 65, 255, 100, 128, 127,
};
#define PING_SIZES      (sizeof(ping_sizes) / sizeof(ping_sizes[0]))
_Static_assert(WINDOW_MAX <= PING_SIZES, "sizes in a window must be distinct");

struct flight {
    int active;
    uint32_t seq;
    uint16_t len;
    unsigned tries;
    uint64_t sent;              /* TSC at the last transmission */
};

static struct {
    uint32_t peer;
    uint16_t port, src_port;
    uint64_t count, window, retries, timeout;       /* timeout in ticks */
    struct flight flights[WINDOW_MAX];
    uint64_t next_seq, done, intact, corrupt, duplicates, strays;
    uint64_t rtt_min, rtt_max, rtt_sum;
    uint64_t samples;               /* samples=1: print every round trip */
} ping;

/* Each intact datagram's round trip by sequence number (0: none), for
 * the distribution make bench plots. */
static uint32_t rtt_of[SAMPLES_MAX];

static uint8_t out[UDP_PAYLOAD_MAX];
static struct udp_datagram in;

static uint16_t ping_size(uint32_t seq)
{
    return ping_sizes[seq % PING_SIZES];
}

/* Sends (or resends) a flight. Only a dead port is an error: a datagram
 * that could not go out now is simply resent at its timeout. */
static int ping_send(struct flight *f)
{
    int ret;

    payload_fill(out, f->len, f->seq, PING_TAG);
    f->sent = net_now();
    f->tries++;
    ret = udp_sendto(ping.peer, ping.port, ping.src_port, out, f->len);
    return ret == -MF_EAGAIN ? 0 : ret;
}

static int ping_is_duplicate(const struct udp_datagram *d, uint32_t seq)
{
    for (uint32_t k = 1; k <= 4 && k * PING_SIZES <= seq; k++)
        if (payload_check(d->data, d->len, seq - k * (uint32_t)PING_SIZES, PING_TAG))
            return 1;
    return 0;
}

static void ping_done(struct flight *f, int intact)
{
    uint64_t rtt = net_now() - f->sent;

    f->active = 0;
    ping.done++;
    if (!intact) {
        ping.corrupt++;
        mf_printf("udp-ping: datagram %u (%u bytes) came back corrupt\n", f->seq, f->len);
        return;
    }
    ping.intact++;
    if (f->seq < SAMPLES_MAX)
        rtt_of[f->seq] = rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
    ping.rtt_sum += rtt;
    if (ping.intact == 1 || rtt < ping.rtt_min)
        ping.rtt_min = rtt;
    if (rtt > ping.rtt_max)
        ping.rtt_max = rtt;
}

static void ping_reply(const struct udp_datagram *d)
{
    if (d->src_ip != ping.peer || d->src_port != ping.port || d->dst_port != ping.src_port) {
        ping.strays++;
        return;
    }
    for (unsigned i = 0; i < ping.window; i++) {
        struct flight *f = &ping.flights[i];

        if (!f->active || f->len != d->len)
            continue;
        if (payload_check(d->data, d->len, f->seq, PING_TAG))
            ping_done(f, 1);
        else if (ping_is_duplicate(d, f->seq))
            ping.duplicates++;
        else
            ping_done(f, 0);
        return;
    }
    ping.duplicates++;      /* no datagram of that size in flight: a late copy */
}

static int ping_size_in_flight(uint16_t len)
{
    for (unsigned i = 0; i < ping.window; i++)
        if (ping.flights[i].active && ping.flights[i].len == len)
            return 1;
    return 0;
}

/* Fills free flights with new datagrams. A datagram waits while one of
 * the same size is still in flight (one being resent can fall a whole
 * size cycle behind), so that a length names one flight. */
static int ping_fill(void)
{
    for (unsigned i = 0; i < ping.window && ping.next_seq < ping.count; i++) {
        struct flight *f = &ping.flights[i];
        int ret;

        if (f->active)
            continue;
        if (ping_size_in_flight(ping_size((uint32_t)ping.next_seq)))
            break;
        f->active = 1;
        f->seq = (uint32_t)ping.next_seq++;
        f->len = ping_size(f->seq);
        f->tries = 0;
        ret = ping_send(f);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* Resends what timed out; 1 when one has used up its tries. */
static int ping_timeouts(void)
{
    uint64_t now = net_now();

    for (unsigned i = 0; i < ping.window; i++) {
        struct flight *f = &ping.flights[i];

        if (!f->active || now - f->sent < ping.timeout)
            continue;
        if (f->tries > ping.retries) {
            mf_printf("udp-ping: timeout: no reply to datagram %u (%u bytes) after %u tries, "
                      "%lu/%lu intact so far\n", f->seq, f->len, f->tries,
                      (unsigned long)ping.intact, (unsigned long)ping.count);
            return 1;
        }
        if (ping_send(f) < 0)
            return -1;
    }
    return 0;
}

static uint64_t ping_next_deadline(void)
{
    uint64_t deadline = UINT64_MAX;

    for (unsigned i = 0; i < ping.window; i++)
        if (ping.flights[i].active && ping.flights[i].sent + ping.timeout < deadline)
            deadline = ping.flights[i].sent + ping.timeout;
    return deadline;
}

static int ping_args(const struct net_config *cfg)
{
    const char *peer = net_arg("peer");
    uint64_t port, timeout_ms;

    if (peer == NULL || net_parse_ip(peer, &ping.peer) < 0) {
        mf_puts("udp-ping: need peer=a.b.c.d (or mesh=N)\n");
        return -1;
    }
    if (ping_arg("port", 7, 1, 65535, &port) < 0 ||
        ping_arg("count", 1000, 1, UINT32_MAX, &ping.count) < 0 ||
        ping_arg("timeout", 200, 1, 3600000, &timeout_ms) < 0 ||
        ping_arg("retries", 3, 0, 1000, &ping.retries) < 0 ||
        ping_arg("window", 1, 1, WINDOW_MAX, &ping.window) < 0 ||
        ping_arg("samples", 0, 0, 1, &ping.samples) < 0)
        return -1;
    ping.port = (uint16_t)port;
    ping.src_port = (uint16_t)(PING_SRC_PORT_BASE + (cfg->ip & 0xff));
    ping.timeout = net_ms_to_ticks(timeout_ms);
    return 0;
}

static int ping_fatal(int err)
{
    mf_printf("udp-ping: network error %d, %lu/%lu intact so far\n", err,
              (unsigned long)ping.intact, (unsigned long)ping.count);
    return 1;
}

/* samples=1: the round trips in sequence order, SAMPLES_LINE a line
 * ("udp-ping: rtt FIRST..LAST: T T ...", 0 for a datagram not intact),
 * the first SAMPLES_MAX datagrams. */
static void ping_print_samples(void)
{
    uint64_t n = ping.count < SAMPLES_MAX ? ping.count : SAMPLES_MAX;

    for (uint64_t i = 0; i < n; i += SAMPLES_LINE) {
        uint64_t end = i + SAMPLES_LINE < n ? i + SAMPLES_LINE : n;
        mf_printf("udp-ping: rtt %lu..%lu:", (unsigned long)i, (unsigned long)(end - 1));
        for (uint64_t k = i; k < end; k++)
            mf_printf(" %u", rtt_of[k]);
        mf_printf("\n");
    }
}

int ping_run(const struct net_config *cfg)
{
    char me[16], peer[16];
    uint8_t mac[ETH_ALEN];
    uint64_t arp_ms;
    int ret;

    if (ping_args(cfg) < 0 || ping_arg("arp", 3000, 1, 3600000, &arp_ms) < 0)
        return 2;
    mf_printf("udp-ping: %s -> %s port %u: %lu datagrams of 1..%u bytes, window %lu\n",
              net_format_ip(cfg->ip, me), net_format_ip(ping.peer, peer), ping.port,
              (unsigned long)ping.count, UDP_PAYLOAD_MAX, (unsigned long)ping.window);
    udp_bind(ping.src_port);
    ret = net_resolve(ping.peer, mac, arp_ms);
    if (ret == -MF_EAGAIN) {
        mf_printf("udp-ping: timeout: no ARP reply from %s after %lu ms\n", peer,
                  (unsigned long)arp_ms);
        return 1;
    }
    if (ret < 0)
        return ping_fatal(ret);

    while (ping.done < ping.count) {
        ret = ping_fill();
        if (ret < 0)
            return ping_fatal(ret);
        ret = udp_recv_wait(&in, ping_next_deadline());
        if (ret < 0)
            return ping_fatal(ret);
        if (ret > 0)
            ping_reply(&in);
        ret = ping_timeouts();
        if (ret > 0)
            return 1;
        if (ret < 0)
            return ping_fatal(net_error());
    }
    if (ping.duplicates || ping.strays)
        mf_printf("udp-ping: ignored %lu late duplicates, %lu strays\n",
                  (unsigned long)ping.duplicates, (unsigned long)ping.strays);
    mf_printf("udp-ping: %lu/%lu replies intact, rtt min/avg/max %lu/%lu/%lu ticks\n",
              (unsigned long)ping.intact, (unsigned long)ping.count,
              (unsigned long)ping.rtt_min,
              (unsigned long)(ping.intact ? ping.rtt_sum / ping.intact : 0),
              (unsigned long)ping.rtt_max);
    if (ping.samples)
        ping_print_samples();
    return ping.intact == ping.count ? 0 : 1;
}
