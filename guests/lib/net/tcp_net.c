/*
 * TCP on the guest's stack (tcp.h, "the glue"): segments go out in IPv4
 * packets through the ARP cache, segments of protocol 6 come in through
 * the stack's dispatch hook, the clock is the TSC. Guests only (boot
 * arguments, TSC); tcp.c itself is tested on the host.
 */
#include "mf.h"
#include "net.h"
#include "tcp.h"

#define TCP_ARP_GAP_MS  100     /* at most one ARP request per peer this often */

static struct {
    uint32_t gw, mask;
    uint16_t ip_id;
    uint32_t arp_ip;            /* the last address we asked for, and when */
    uint64_t arp_tsc;
} glue;

/* The next hop for dst: itself on the link, else the gateway. */
static uint32_t tcp_net_hop(uint32_t dst)
{
    if (glue.gw != 0 && glue.mask != 0 && (dst & glue.mask) != (net_ip() & glue.mask))
        return glue.gw;
    return dst;
}

/* tcp_io.output: prepends Ethernet and IPv4 headers in the room before
 * seg. A next hop not in the ARP cache is asked for and the segment
 * dropped (-MF_EAGAIN): TCP sends it again after its RTO. */
static int tcp_net_output(uint32_t dst, uint8_t *seg, size_t len)
{
    uint8_t *frame = seg - TCP_HDR_ROOM, mac[ETH_ALEN];
    uint32_t hop = tcp_net_hop(dst);

    if (!arp_cache_lookup(net_arp_cache(), hop, mac)) {
        uint64_t now = net_now();

        if (hop != glue.arp_ip || now - glue.arp_tsc >= net_ms_to_ticks(TCP_ARP_GAP_MS)) {
            glue.arp_ip = hop;
            glue.arp_tsc = now;
            net_arp_request(hop);
        }
        return -MF_EAGAIN;
    }
    eth_build(frame, mac, net_mac(), ETH_TYPE_IPV4);
    ipv4_build(frame + ETH_HLEN, IPV4_PROTO_TCP, net_ip(), dst, glue.ip_id++, len);
    return net_send(frame, TCP_HDR_ROOM + len);
}

/* An optional address argument: 0 and *out (0 when absent), or -1. */
static int tcp_net_arg_ip(const char *key, uint32_t *out)
{
    const char *s = net_arg(key);

    *out = 0;
    return s == NULL || net_parse_ip(s, out) == 0 ? 0 : -1;
}

int tcp_up(void)
{
    struct tcp_io io = {
        .output = tcp_net_output,
        .now = net_now,
        .hz = mf_tsc_hz(),
        .local_ip = net_ip(),
    };
    const uint8_t *mac = net_mac();

    net_memset(&glue, 0, sizeof(glue));
    if (tcp_net_arg_ip("gw", &glue.gw) < 0 || tcp_net_arg_ip("mask", &glue.mask) < 0)
        return -MF_EINVAL;
    if (glue.gw != 0 && glue.mask == 0)
        glue.mask = 0xffffff00u;        /* a gateway alone implies a /24 */
    io.iss_seed = (uint32_t)mf_tsc() ^ (uint32_t)mac[5] << 24 ^ (uint32_t)mac[4] << 16 ^
                  mf_guest_id() * 0x01000193u;
    tcp_init(&io);
    net_set_tcp_input(tcp_input);
    return 0;
}

void tcp_poll(void)
{
    net_process();
    tcp_timers();
}

long tcp_wait(uint64_t deadline_tsc)
{
    uint64_t next = tcp_timers();
    long w;

    if (next < deadline_tsc)
        deadline_tsc = next;
    w = net_rx_ready() ? 1 : net_wait(deadline_tsc);
    tcp_poll();
    return w;
}
