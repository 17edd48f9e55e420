/*
 * The Ethernet/ARP/IPv4/ICMP/UDP stack (net.h) over the driver. One
 * address, one port, no routing: every peer is on the link. Received UDP
 * datagrams for bound ports wait in a small queue, so frames handled while
 * the guest waits for something else (an ARP reply) are not lost.
 */
#include "env.h"
#include "net.h"

struct udp_queue {
    struct udp_datagram slots[NET_UDP_QUEUE];
    unsigned head, count;
};

static struct {
    int up;
    uint32_t ip;
    uint8_t mac[ETH_ALEN];
    uint16_t ip_id;
    uint16_t ports[NET_UDP_PORTS];      /* 0: free */
    struct arp_cache arp;
    struct udp_queue queue;
    struct net_stack_counters counters;
    net_tcp_input_fn *tcp_input;        /* set by tcp_up; NULL: TCP is not for us */
    uint8_t rx_frame[MF_NET_FRAME_MAX];
    uint8_t tx_frame[MF_NET_FRAME_MAX];
} stack;

int net_up(struct net_config *cfg)
{
    int ret;

    net_memset(&stack, 0, sizeof(stack));
    ret = net_open(cfg->slot);
    if (ret < 0)
        return ret;
    net_memcpy(cfg->mac, net_mac(), ETH_ALEN);
    net_memcpy(stack.mac, cfg->mac, ETH_ALEN);
    stack.ip = cfg->ip;
    arp_cache_init(&stack.arp);
    stack.up = 1;
    return 0;
}

uint32_t net_ip(void) { return stack.ip; }
void net_set_tcp_input(net_tcp_input_fn *fn) { stack.tcp_input = fn; }
struct arp_cache *net_arp_cache(void) { return &stack.arp; }
const struct net_stack_counters *net_stack_counters(void) { return &stack.counters; }

/* --- input --- */

static int udp_port_bound(uint16_t port)
{
    for (unsigned i = 0; i < NET_UDP_PORTS; i++)
        if (stack.ports[i] == port)
            return 1;
    return 0;
}

static void udp_enqueue(uint32_t src_ip, const struct udp_hdr *h, const uint8_t *data,
                        size_t len)
{
    struct udp_datagram *d;

    if (!udp_port_bound(h->dst_port)) {
        stack.counters.udp_no_port++;
        return;
    }
    if (stack.queue.count == NET_UDP_QUEUE) {
        stack.counters.udp_queue_full++;
        return;
    }
    d = &stack.queue.slots[(stack.queue.head + stack.queue.count) % NET_UDP_QUEUE];
    d->src_ip = src_ip;
    d->src_port = h->src_port;
    d->dst_port = h->dst_port;
    d->len = (uint16_t)len;
    net_memcpy(d->data, data, len);
    stack.queue.count++;
    stack.counters.udp_in++;
}

static void arp_input(const uint8_t *p, size_t len)
{
    struct arp_pkt a;
    size_t n;

    if (arp_parse(p, len, &a) < 0) {
        stack.counters.bad++;
        return;
    }
    if (a.tpa != stack.ip) {
        /* Not about us: only refresh what we already know. */
        arp_cache_update(&stack.arp, a.spa, a.sha);
        stack.counters.not_for_us++;
        return;
    }
    arp_cache_insert(&stack.arp, a.spa, a.sha);
    if (a.op != ARP_OP_REQUEST)
        return;
    n = net_build_arp_frame(stack.tx_frame, ARP_OP_REPLY, stack.mac, stack.ip, a.sha, a.spa);
    if (net_send(stack.tx_frame, n) == 0)
        stack.counters.arp_replies_sent++;
}

static void icmp_input(const struct eth_hdr *eth, const struct ipv4_hdr *ip,
                       const uint8_t *p, size_t len)
{
    int type = icmp_parse(p, len);
    uint8_t *out = stack.tx_frame;

    if (type < 0) {
        stack.counters.bad++;
        return;
    }
    if (type != ICMP_ECHO_REQUEST || ip->dst != stack.ip)
        return;
    eth_build(out, eth->src, stack.mac, ETH_TYPE_IPV4);
    ipv4_build(out + ETH_HLEN, IPV4_PROTO_ICMP, stack.ip, ip->src, stack.ip_id++, len);
    net_memcpy(out + ETH_HLEN + IPV4_HLEN, p, len);
    icmp_echo_to_reply(out + ETH_HLEN + IPV4_HLEN, len);
    if (net_send(out, ETH_HLEN + IPV4_HLEN + len) == 0)
        stack.counters.icmp_echo_replies++;
}

static void ipv4_input(const struct eth_hdr *eth, const uint8_t *p, size_t len)
{
    struct ipv4_hdr ip;
    struct udp_hdr udp;
    const uint8_t *payload;
    size_t payload_len;
    int ret = ipv4_parse(p, len, &ip, &payload, &payload_len);

    if (ret < 0) {
        stack.counters.bad++;
        if (ret == NET_BAD_CHECKSUM)
            stack.counters.bad_ip_checksum++;
        return;
    }
    if (ip.dst != stack.ip && ip.dst != IPV4_BROADCAST) {
        stack.counters.not_for_us++;
        return;
    }
    /* A peer that talks to us is on the link: remember its MAC (saves the
     * ARP round trip for the answer). */
    if (ip.dst == stack.ip)
        arp_cache_insert(&stack.arp, ip.src, eth->src);
    if (ip.proto == IPV4_PROTO_ICMP) {
        icmp_input(eth, &ip, payload, payload_len);
    } else if (ip.proto == IPV4_PROTO_UDP) {
        ret = udp_parse(payload, payload_len, ip.src, ip.dst, &udp, &payload, &payload_len);
        if (ret < 0) {
            stack.counters.bad++;
            if (ret == NET_BAD_CHECKSUM)
                stack.counters.bad_udp_checksum++;
            return;
        }
        udp_enqueue(ip.src, &udp, payload, payload_len);
    } else if (ip.proto == NET_IPV4_PROTO_TCP && stack.tcp_input != NULL && ip.dst == stack.ip) {
        stack.tcp_input(ip.src, ip.dst, payload, payload_len);
    } else {
        stack.counters.not_for_us++;
    }
}

void net_input(uint8_t *frame, size_t len)
{
    struct eth_hdr eth;

    stack.counters.frames_in++;
    if (eth_parse(frame, len, &eth) < 0) {
        stack.counters.bad++;
        return;
    }
    if (net_memcmp(eth.dst, stack.mac, ETH_ALEN) != 0 &&
        net_memcmp(eth.dst, eth_broadcast, ETH_ALEN) != 0) {
        stack.counters.not_for_us++;
        return;
    }
    if (eth.type == ETH_TYPE_ARP)
        arp_input(frame + ETH_HLEN, len - ETH_HLEN);
    else if (eth.type == ETH_TYPE_IPV4)
        ipv4_input(&eth, frame + ETH_HLEN, len - ETH_HLEN);
    else
        stack.counters.not_for_us++;
}

int net_process(void)
{
    int n = 0, len;

    while ((len = net_poll(stack.rx_frame)) > 0) {
        net_input(stack.rx_frame, (size_t)len);
        n++;
    }
    return n;
}

/* --- ARP resolution --- */

int net_arp_request(uint32_t ip)
{
    size_t n = net_build_arp_frame(stack.tx_frame, ARP_OP_REQUEST, stack.mac, stack.ip,
                                   eth_broadcast, ip);
    int ret = net_send(stack.tx_frame, n);

    if (ret == 0)
        stack.counters.arp_requests_sent++;
    return ret;
}

int net_resolve(uint32_t ip, uint8_t mac[ETH_ALEN], uint64_t timeout_ms)
{
    uint64_t end = net_now() + net_ms_to_ticks(timeout_ms);
    uint64_t retry = net_ms_to_ticks(NET_ARP_RETRY_MS);

    if (ip == IPV4_BROADCAST) {
        net_memcpy(mac, eth_broadcast, ETH_ALEN);
        return 0;
    }
    for (;;) {
        uint64_t now = net_now(), next;
        int ret;

        if (arp_cache_lookup(&stack.arp, ip, mac))
            return 0;
        if (now >= end)
            return -MF_EAGAIN;
        ret = net_arp_request(ip);
        if (ret < 0 && ret != -MF_EAGAIN)
            return ret;
        next = now + retry < end ? now + retry : end;
        /* Handle what arrives until the answer or the next try. */
        for (;;) {
            long w = net_wait(next);

            if (w < 0)
                return (int)w;
            net_process();
            if (arp_cache_lookup(&stack.arp, ip, mac))
                return 0;
            if (w == 0 || net_now() >= next)
                break;
        }
    }
}

/* --- UDP --- */

int udp_bind(uint16_t port)
{
    if (port == 0)
        return -MF_EINVAL;
    if (udp_port_bound(port))
        return 0;
    for (unsigned i = 0; i < NET_UDP_PORTS; i++) {
        if (stack.ports[i] == 0) {
            stack.ports[i] = port;
            return 0;
        }
    }
    return -MF_ENOMEM;
}

static int udp_check(uint32_t ip, uint16_t port, size_t len)
{
    if (!stack.up)
        return -MF_EIO;
    if (len > UDP_PAYLOAD_MAX || port == 0 || ip == 0)
        return -MF_EINVAL;
    return 0;
}

static int udp_output(const uint8_t mac[ETH_ALEN], uint32_t ip, uint16_t port,
                      uint16_t src_port, const void *data, size_t len)
{
    size_t n;
    int ret;

    n = net_build_udp_frame(stack.tx_frame, mac, stack.mac, stack.ip, ip, stack.ip_id++,
                            src_port, port, data, len);
    ret = net_send(stack.tx_frame, n);
    if (ret == 0)
        stack.counters.udp_out++;
    return ret;
}

int udp_sendto(uint32_t ip, uint16_t port, uint16_t src_port, const void *data, size_t len)
{
    uint8_t mac[ETH_ALEN];
    int ret = udp_check(ip, port, len);

    if (ret == 0)
        ret = net_resolve(ip, mac, NET_ARP_TIMEOUT_MS);
    if (ret == 0)
        ret = udp_output(mac, ip, port, src_port, data, len);
    return ret;
}

int udp_try_sendto(uint32_t ip, uint16_t port, uint16_t src_port, const void *data, size_t len)
{
    uint8_t mac[ETH_ALEN];
    int ret = udp_check(ip, port, len);

    if (ret < 0)
        return ret;
    if (ip == IPV4_BROADCAST)
        net_memcpy(mac, eth_broadcast, ETH_ALEN);
    else if (!arp_cache_lookup(&stack.arp, ip, mac))
        return -MF_EAGAIN;
    return udp_output(mac, ip, port, src_port, data, len);
}

static int udp_dequeue(struct udp_datagram *d)
{
    struct udp_datagram *s;

    if (stack.queue.count == 0)
        return 0;
    s = &stack.queue.slots[stack.queue.head];
    d->src_ip = s->src_ip;
    d->src_port = s->src_port;
    d->dst_port = s->dst_port;
    d->len = s->len;
    net_memcpy(d->data, s->data, s->len);
    stack.queue.head = (stack.queue.head + 1) % NET_UDP_QUEUE;
    stack.queue.count--;
    return 1;
}

int udp_recv(struct udp_datagram *d)
{
    int len;

    if (udp_dequeue(d))
        return 1;
    /* One frame at a time, so the queue never overflows here. */
    while ((len = net_poll(stack.rx_frame)) > 0) {
        net_input(stack.rx_frame, (size_t)len);
        if (udp_dequeue(d))
            return 1;
    }
    return 0;
}

int udp_recv_wait(struct udp_datagram *d, uint64_t deadline_tsc)
{
    for (;;) {
        long w;

        if (udp_recv(d))
            return 1;
        if (net_now() >= deadline_tsc)
            return 0;
        w = net_wait(deadline_tsc);
        if (w < 0)
            return (int)w;
        if (w == 0 && !net_rx_ready())
            return udp_recv(d);
    }
}
