/*
 * Header building and parsing, checksums and the ARP cache (proto.h).
 * Pure: everything here is unit-tested on the host.
 */
#include "proto.h"

const uint8_t eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* --- checksum --- */

uint32_t net_csum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t acc = sum;

    for (; len >= 2; p += 2, len -= 2)
        acc += (uint32_t)(p[0] << 8 | p[1]);
    if (len > 0)
        acc += (uint32_t)p[0] << 8;
    /* Fold into 32 bits now so callers can keep chaining. */
    while (acc >> 32)
        acc = (acc & 0xffffffffu) + (acc >> 32);
    return (uint32_t)acc;
}

uint16_t net_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t net_csum(const void *data, size_t len)
{
    return net_csum_fold(net_csum_add(0, data, len));
}

uint32_t net_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint8_t ph[12];

    net_put32(ph, src);
    net_put32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = proto;
    net_put16(ph + 10, len);
    return net_csum_add(0, ph, sizeof(ph));
}

/* --- Ethernet --- */

size_t eth_build(uint8_t *frame, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
                 uint16_t type)
{
    net_memcpy(frame, dst, ETH_ALEN);
    net_memcpy(frame + ETH_ALEN, src, ETH_ALEN);
    net_put16(frame + 2 * ETH_ALEN, type);
    return ETH_HLEN;
}

int eth_parse(const uint8_t *frame, size_t len, struct eth_hdr *h)
{
    if (len < ETH_HLEN)
        return NET_BAD_SHORT;
    net_memcpy(h->dst, frame, ETH_ALEN);
    net_memcpy(h->src, frame + ETH_ALEN, ETH_ALEN);
    h->type = net_get16(frame + 2 * ETH_ALEN);
    return 0;
}

/* --- ARP --- */

size_t arp_build(uint8_t *p, const struct arp_pkt *a)
{
    net_put16(p, 1);                    /* hardware: Ethernet */
    net_put16(p + 2, ETH_TYPE_IPV4);
    p[4] = ETH_ALEN;
    p[5] = 4;
    net_put16(p + 6, a->op);
    net_memcpy(p + 8, a->sha, ETH_ALEN);
    net_put32(p + 14, a->spa);
    net_memcpy(p + 18, a->tha, ETH_ALEN);
    net_put32(p + 24, a->tpa);
    return ARP_LEN;
}

int arp_parse(const uint8_t *p, size_t len, struct arp_pkt *a)
{
    if (len < ARP_LEN)
        return NET_BAD_SHORT;
    if (net_get16(p) != 1 || net_get16(p + 2) != ETH_TYPE_IPV4 || p[4] != ETH_ALEN || p[5] != 4)
        return NET_BAD_FORMAT;
    a->op = net_get16(p + 6);
    if (a->op != ARP_OP_REQUEST && a->op != ARP_OP_REPLY)
        return NET_BAD_FORMAT;
    net_memcpy(a->sha, p + 8, ETH_ALEN);
    a->spa = net_get32(p + 14);
    net_memcpy(a->tha, p + 18, ETH_ALEN);
    a->tpa = net_get32(p + 24);
    if (eth_is_multicast(a->sha))
        return NET_BAD_FORMAT;
    return 0;
}

/* --- IPv4 --- */

size_t ipv4_build(uint8_t *p, uint8_t proto, uint32_t src, uint32_t dst, uint16_t id,
                  size_t payload_len)
{
    p[0] = 0x45;                        /* version 4, 5 words */
    p[1] = 0;                           /* DSCP/ECN */
    net_put16(p + 2, (uint16_t)(IPV4_HLEN + payload_len));
    net_put16(p + 4, id);
    net_put16(p + 6, IPV4_FLAG_DF);
    p[8] = IPV4_TTL;
    p[9] = proto;
    net_put16(p + 10, 0);
    net_put32(p + 12, src);
    net_put32(p + 16, dst);
    net_put16(p + 10, net_csum(p, IPV4_HLEN));
    return IPV4_HLEN;
}

int ipv4_parse(const uint8_t *p, size_t len, struct ipv4_hdr *h,
               const uint8_t **payload, size_t *payload_len)
{
    uint16_t frag;

    if (len < IPV4_HLEN)
        return NET_BAD_SHORT;
    if (p[0] >> 4 != 4)
        return NET_BAD_FORMAT;
    h->hdr_len = (uint16_t)((p[0] & 0xf) * 4);
    h->total_len = net_get16(p + 2);
    if (h->hdr_len < IPV4_HLEN)
        return NET_BAD_FORMAT;
    if (h->hdr_len > len || h->total_len > len)
        return NET_BAD_SHORT;
    if (h->total_len < h->hdr_len)
        return NET_BAD_FORMAT;
    if (net_csum(p, h->hdr_len) != 0)
        return NET_BAD_CHECKSUM;
    frag = net_get16(p + 6);
    if ((frag & IPV4_FLAG_MF) || (frag & IPV4_FRAG_MASK))
        return NET_BAD_FRAGMENT;
    h->id = net_get16(p + 4);
    h->ttl = p[8];
    h->proto = p[9];
    h->src = net_get32(p + 12);
    h->dst = net_get32(p + 16);
    *payload = p + h->hdr_len;
    *payload_len = (size_t)(h->total_len - h->hdr_len);
    return 0;
}

/* --- UDP --- */

size_t udp_build(uint8_t *p, uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
                 uint16_t dst_port, const void *data, size_t len)
{
    uint16_t total = (uint16_t)(UDP_HLEN + len);
    uint16_t sum;

    if (data != NULL)
        net_memcpy(p + UDP_HLEN, data, len);
    net_put16(p, src_port);
    net_put16(p + 2, dst_port);
    net_put16(p + 4, total);
    net_put16(p + 6, 0);
    sum = net_csum_fold(net_csum_add(net_pseudo_sum(src_ip, dst_ip, IPV4_PROTO_UDP, total),
                                     p, total));
    /* 0 means "no checksum" on the wire; a computed 0 is sent as its
     * other one's-complement form (RFC 768). */
    net_put16(p + 6, sum == 0 ? 0xffff : sum);
    return total;
}

int udp_parse(const uint8_t *p, size_t len, uint32_t src_ip, uint32_t dst_ip,
              struct udp_hdr *h, const uint8_t **payload, size_t *payload_len)
{
    if (len < UDP_HLEN)
        return NET_BAD_SHORT;
    h->src_port = net_get16(p);
    h->dst_port = net_get16(p + 2);
    h->len = net_get16(p + 4);
    h->checksum = net_get16(p + 6);
    if (h->len < UDP_HLEN)
        return NET_BAD_FORMAT;
    if (h->len > len)
        return NET_BAD_SHORT;
    if (h->checksum != 0 &&
        net_csum_fold(net_csum_add(net_pseudo_sum(src_ip, dst_ip, IPV4_PROTO_UDP, h->len),
                                   p, h->len)) != 0)
        return NET_BAD_CHECKSUM;
    *payload = p + UDP_HLEN;
    *payload_len = (size_t)(h->len - UDP_HLEN);
    return 0;
}

/* --- ICMP --- */

int icmp_parse(const uint8_t *p, size_t len)
{
    if (len < ICMP_HLEN)
        return NET_BAD_SHORT;
    if (net_csum(p, len) != 0)
        return NET_BAD_CHECKSUM;
    return p[0];
}

void icmp_echo_to_reply(uint8_t *p, size_t len)
{
    p[0] = ICMP_ECHO_REPLY;
    p[1] = 0;
    net_put16(p + 2, 0);
    net_put16(p + 2, net_csum(p, len));
}

/* --- whole frames --- */

size_t net_build_udp_frame(uint8_t *frame, const uint8_t dst_mac[ETH_ALEN],
                           const uint8_t src_mac[ETH_ALEN], uint32_t src_ip, uint32_t dst_ip,
                           uint16_t ip_id, uint16_t src_port, uint16_t dst_port,
                           const void *data, size_t len)
{
    uint8_t *ip = frame + ETH_HLEN;
    size_t udp_len;

    eth_build(frame, dst_mac, src_mac, ETH_TYPE_IPV4);
    udp_len = udp_build(ip + IPV4_HLEN, src_ip, dst_ip, src_port, dst_port, data, len);
    ipv4_build(ip, IPV4_PROTO_UDP, src_ip, dst_ip, ip_id, udp_len);
    return ETH_HLEN + IPV4_HLEN + udp_len;
}

size_t net_build_arp_frame(uint8_t *frame, uint16_t op, const uint8_t src_mac[ETH_ALEN],
                           uint32_t src_ip, const uint8_t dst_mac[ETH_ALEN], uint32_t dst_ip)
{
    static const uint8_t zero_mac[ETH_ALEN];
    struct arp_pkt a;
    size_t len;

    a.op = op;
    net_memcpy(a.sha, src_mac, ETH_ALEN);
    a.spa = src_ip;
    net_memcpy(a.tha, op == ARP_OP_REQUEST ? zero_mac : dst_mac, ETH_ALEN);
    a.tpa = dst_ip;
    len = eth_build(frame, op == ARP_OP_REQUEST ? eth_broadcast : dst_mac, src_mac, ETH_TYPE_ARP);
    len += arp_build(frame + len, &a);
    net_memset(frame + len, 0, ETH_MIN_FRAME - len);
    return ETH_MIN_FRAME;
}

/* --- addresses --- */

int net_parse_ip(const char *s, uint32_t *ip)
{
    uint32_t v = 0;

    for (int part = 0; part < 4; part++) {
        uint32_t octet = 0;
        int digits = 0;

        for (; *s >= '0' && *s <= '9'; s++) {
            octet = octet * 10 + (uint32_t)(*s - '0');
            if (++digits > 3 || octet > 255)
                return -1;
        }
        if (digits == 0 || *s != (part < 3 ? '.' : '\0'))
            return -1;
        if (part < 3)
            s++;
        v = v << 8 | octet;
    }
    *ip = v;
    return 0;
}

static char *format_decimal(char *p, unsigned v)
{
    if (v >= 100)
        *p++ = (char)('0' + v / 100);
    if (v >= 10)
        *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

char *net_format_ip(uint32_t ip, char *buf)
{
    char *p = buf;

    for (int shift = 24; shift >= 0; shift -= 8) {
        p = format_decimal(p, (ip >> shift) & 0xff);
        *p++ = shift > 0 ? '.' : '\0';
    }
    return buf;
}

char *net_format_mac(const uint8_t mac[ETH_ALEN], char *buf)
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < ETH_ALEN; i++) {
        buf[3 * i] = hex[mac[i] >> 4];
        buf[3 * i + 1] = hex[mac[i] & 0xf];
        buf[3 * i + 2] = i < ETH_ALEN - 1 ? ':' : '\0';
    }
    return buf;
}

/* --- ARP cache --- */

void arp_cache_init(struct arp_cache *c)
{
    net_memset(c, 0, sizeof(*c));
}

static struct arp_entry *arp_cache_find(struct arp_cache *c, uint32_t ip)
{
    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
        if (c->entries[i].valid && c->entries[i].ip == ip)
            return &c->entries[i];
    return NULL;
}

int arp_cache_lookup(struct arp_cache *c, uint32_t ip, uint8_t mac[ETH_ALEN])
{
    struct arp_entry *e = arp_cache_find(c, ip);

    if (e == NULL)
        return 0;
    e->last_used = ++c->clock;
    if (mac != NULL)
        net_memcpy(mac, e->mac, ETH_ALEN);
    return 1;
}

/* A free entry, else the least recently used one. */
static struct arp_entry *arp_cache_victim(struct arp_cache *c)
{
    struct arp_entry *victim = &c->entries[0];

    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
        struct arp_entry *e = &c->entries[i];

        if (!e->valid)
            return e;
        if (e->last_used < victim->last_used)
            victim = e;
    }
    return victim;
}

void arp_cache_insert(struct arp_cache *c, uint32_t ip, const uint8_t mac[ETH_ALEN])
{
    struct arp_entry *e;

    if (ip == 0 || ip == IPV4_BROADCAST || eth_is_multicast(mac))
        return;
    e = arp_cache_find(c, ip);
    if (e == NULL)
        e = arp_cache_victim(c);
    e->ip = ip;
    net_memcpy(e->mac, mac, ETH_ALEN);
    e->valid = 1;
    e->last_used = ++c->clock;
}

int arp_cache_update(struct arp_cache *c, uint32_t ip, const uint8_t mac[ETH_ALEN])
{
    if (arp_cache_find(c, ip) == NULL)
        return 0;
    arp_cache_insert(c, ip, mac);
    return 1;
}

void arp_cache_remove(struct arp_cache *c, uint32_t ip)
{
    struct arp_entry *e = arp_cache_find(c, ip);

    if (e != NULL)
        e->valid = 0;
}

unsigned arp_cache_count(const struct arp_cache *c)
{
    unsigned n = 0;

    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
        n += c->entries[i].valid;
    return n;
}

/* --- args --- */

const char *net_arg_find(int argc, const char *const argv[], const char *key)
{
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i], *k = key;

        while (*k != '\0' && *w == *k)
            w++, k++;
        if (*k == '\0' && *w == '=')
            return w + 1;
    }
    return NULL;
}
