/*
 * Unit tests of the guest network library (guests/lib/net/): checksums,
 * header building and parsing and the ARP cache (proto.c) against values
 * worked out independently; and the driver and stack (driver.c, stack.c)
 * against a simulated device that implements env.h the way the virtio
 * spec says a split-ring device behaves (EVENT_IDX included), with a
 * simulated peer at 10.0.0.1 behind it that answers ARP and echoes UDP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../guests/lib/net/env.h"
#include "../../guests/lib/net/net.h"

/* ------------------------------------------------------------------ */
/* Checksums                                                           */
/* ------------------------------------------------------------------ */

static void test_csum_rfc1071(void **state)
{
    /* RFC 1071, section 3: the example's one's-complement sum is ddf2. */
    static const uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

    (void)state;
    assert_int_equal(net_csum_fold(net_csum_add(0, data, sizeof(data))), (uint16_t)~0xddf2);
    assert_int_equal(net_csum(data, sizeof(data)), 0x220d);
}

static void test_csum_ipv4_example(void **state)
{
    /* The classic header (192.168.0.1 -> 192.168.0.199) with checksum b861. */
    uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                      0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

    (void)state;
    assert_int_equal(net_csum(h, sizeof(h)), 0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    assert_int_equal(net_csum(h, sizeof(h)), 0);
}

static void test_csum_odd_and_chained(void **state)
{
    static const uint8_t odd[] = { 0x12, 0x34, 0x56 };
    uint8_t big[1500];
    uint32_t sum;

    (void)state;
    /* An odd last byte is the high half of a word: 0x1234 + 0x5600. */
    assert_int_equal(net_csum(odd, 3), (uint16_t)~(0x1234 + 0x5600));
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 37 + 11);
    sum = net_csum_add(0, big, 600);
    sum = net_csum_add(sum, big + 600, 899);
    assert_int_equal(net_csum_fold(sum), net_csum(big, 1499));
    /* All ones: carries fold back in. */
    memset(big, 0xff, sizeof(big));
    assert_int_equal(net_csum(big, sizeof(big)), 0);
    assert_int_equal(net_csum(big, 0), 0xffff);
}

/* ------------------------------------------------------------------ */
/* Headers                                                             */
/* ------------------------------------------------------------------ */

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const uint8_t mac_a[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t mac_b[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };

static void test_eth(void **state)
{
    uint8_t f[ETH_HLEN];
    struct eth_hdr h;

    (void)state;
    assert_int_equal(eth_build(f, mac_a, mac_b, ETH_TYPE_ARP), ETH_HLEN);
    assert_memory_equal(f, mac_a, 6);
    assert_memory_equal(f + 6, mac_b, 6);
    assert_int_equal(f[12], 0x08);
    assert_int_equal(f[13], 0x06);
    assert_int_equal(eth_parse(f, ETH_HLEN, &h), 0);
    assert_memory_equal(h.dst, mac_a, 6);
    assert_memory_equal(h.src, mac_b, 6);
    assert_int_equal(h.type, ETH_TYPE_ARP);
    assert_int_equal(eth_parse(f, ETH_HLEN - 1, &h), NET_BAD_SHORT);
    assert_true(eth_is_multicast(eth_broadcast));
    assert_false(eth_is_multicast(mac_a));
}

static void test_arp_frame(void **state)
{
    uint8_t f[64];
    struct arp_pkt a;
    static const uint8_t want[28] = {
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 10, 0, 0, 2,
        0, 0, 0, 0, 0, 0, 10, 0, 0, 1,
    };

    (void)state;
    memset(f, 0xee, sizeof(f));
    assert_int_equal(net_build_arp_frame(f, ARP_OP_REQUEST, mac_a, IP(10, 0, 0, 2), mac_b,
                                         IP(10, 0, 0, 1)), ETH_MIN_FRAME);
    assert_memory_equal(f, eth_broadcast, 6);           /* a request is broadcast */
    assert_memory_equal(f + ETH_HLEN, want, sizeof(want));
    for (int i = ETH_HLEN + ARP_LEN; i < ETH_MIN_FRAME; i++)
        assert_int_equal(f[i], 0);
    assert_int_equal(arp_parse(f + ETH_HLEN, ARP_LEN, &a), 0);
    assert_int_equal(a.op, ARP_OP_REQUEST);
    assert_int_equal(a.spa, IP(10, 0, 0, 2));
    assert_int_equal(a.tpa, IP(10, 0, 0, 1));
    assert_memory_equal(a.sha, mac_a, 6);

    net_build_arp_frame(f, ARP_OP_REPLY, mac_b, IP(10, 0, 0, 1), mac_a, IP(10, 0, 0, 2));
    assert_memory_equal(f, mac_a, 6);                   /* a reply goes to the asker */
    assert_int_equal(arp_parse(f + ETH_HLEN, ARP_LEN, &a), 0);
    assert_int_equal(a.op, ARP_OP_REPLY);
    assert_memory_equal(a.tha, mac_a, 6);

    assert_int_equal(arp_parse(f + ETH_HLEN, ARP_LEN - 1, &a), NET_BAD_SHORT);
    f[ETH_HLEN + 7] = 3;                                /* RARP request */
    assert_int_equal(arp_parse(f + ETH_HLEN, ARP_LEN, &a), NET_BAD_FORMAT);
    f[ETH_HLEN + 7] = 2;
    f[ETH_HLEN + 5] = 16;                               /* IPv6-sized addresses */
    assert_int_equal(arp_parse(f + ETH_HLEN, ARP_LEN, &a), NET_BAD_FORMAT);
    f[ETH_HLEN + 5] = 4;
    f[ETH_HLEN + 8] = 0x01;                             /* multicast sender */
    assert_int_equal(arp_parse(f + ETH_HLEN, ARP_LEN, &a), NET_BAD_FORMAT);
}

/* 10.0.0.2:10002 -> 10.0.0.1:7 "hello", IP id 0x1234: checksums worked out
 * with an independent implementation (Python). */
static size_t hello_frame(uint8_t *f)
{
    return net_build_udp_frame(f, mac_b, mac_a, IP(10, 0, 0, 2), IP(10, 0, 0, 1), 0x1234,
                               10002, 7, "hello", 5);
}

static void test_udp_frame_known(void **state)
{
    uint8_t f[128];
    size_t len = hello_frame(f);
    const uint8_t *ip = f + ETH_HLEN, *udp = ip + IPV4_HLEN;

    (void)state;
    assert_int_equal(len, ETH_HLEN + IPV4_HLEN + UDP_HLEN + 5);
    assert_int_equal(ip[0], 0x45);
    assert_int_equal(net_get16(ip + 2), 20 + 13);
    assert_int_equal(net_get16(ip + 4), 0x1234);
    assert_int_equal(net_get16(ip + 6), IPV4_FLAG_DF);
    assert_int_equal(ip[8], 64);
    assert_int_equal(ip[9], 17);
    assert_int_equal(net_get16(ip + 10), 0x1496);
    assert_int_equal(net_get16(udp), 10002);
    assert_int_equal(net_get16(udp + 2), 7);
    assert_int_equal(net_get16(udp + 4), 13);
    assert_int_equal(net_get16(udp + 6), 0x80e6);
    assert_memory_equal(udp + 8, "hello", 5);
}

static void test_ipv4_parse(void **state)
{
    uint8_t f[128];
    size_t len = hello_frame(f);
    uint8_t *ip = f + ETH_HLEN;
    size_t ip_len = len - ETH_HLEN;
    struct ipv4_hdr h;
    const uint8_t *pl;
    size_t pl_len;

    (void)state;
    assert_int_equal(ipv4_parse(ip, ip_len, &h, &pl, &pl_len), 0);
    assert_int_equal(h.src, IP(10, 0, 0, 2));
    assert_int_equal(h.dst, IP(10, 0, 0, 1));
    assert_int_equal(h.proto, IPV4_PROTO_UDP);
    assert_int_equal(h.hdr_len, 20);
    assert_ptr_equal(pl, ip + 20);
    assert_int_equal(pl_len, 13);
    /* Ethernet padding after total_len is not payload. */
    assert_int_equal(ipv4_parse(ip, ip_len + 10, &h, &pl, &pl_len), 0);
    assert_int_equal(pl_len, 13);
    assert_int_equal(ipv4_parse(ip, 19, &h, &pl, &pl_len), NET_BAD_SHORT);
    assert_int_equal(ipv4_parse(ip, ip_len - 1, &h, &pl, &pl_len), NET_BAD_SHORT);

    ip[15] ^= 1;                                        /* one bit of the source */
    assert_int_equal(ipv4_parse(ip, ip_len, &h, &pl, &pl_len), NET_BAD_CHECKSUM);
    ip[15] ^= 1;
    ip[0] = 0x65;                                       /* version 6 */
    assert_int_equal(ipv4_parse(ip, ip_len, &h, &pl, &pl_len), NET_BAD_FORMAT);
    ip[0] = 0x44;                                       /* IHL 4: too short */
    assert_int_equal(ipv4_parse(ip, ip_len, &h, &pl, &pl_len), NET_BAD_FORMAT);
    ip[0] = 0x4f;                                       /* IHL 15: past the data */
    assert_int_equal(ipv4_parse(ip, 40, &h, &pl, &pl_len), NET_BAD_SHORT);
}

/* Rewrites a header field and fixes the checksum, to reach later checks. */
static void ip_set16(uint8_t *ip, size_t off, uint16_t v)
{
    net_put16(ip + off, v);
    net_put16(ip + 10, 0);
    net_put16(ip + 10, net_csum(ip, IPV4_HLEN));
}

static void test_ipv4_fragments_and_lengths(void **state)
{
    uint8_t f[128];
    size_t len = hello_frame(f);
    uint8_t *ip = f + ETH_HLEN;
    struct ipv4_hdr h;
    const uint8_t *pl;
    size_t pl_len;

    (void)state;
    ip_set16(ip, 6, IPV4_FLAG_MF);
    assert_int_equal(ipv4_parse(ip, len - ETH_HLEN, &h, &pl, &pl_len), NET_BAD_FRAGMENT);
    ip_set16(ip, 6, 0x0010);                            /* offset 128 bytes */
    assert_int_equal(ipv4_parse(ip, len - ETH_HLEN, &h, &pl, &pl_len), NET_BAD_FRAGMENT);
    ip_set16(ip, 6, 0);                                 /* DF clear is fine */
    assert_int_equal(ipv4_parse(ip, len - ETH_HLEN, &h, &pl, &pl_len), 0);
    ip_set16(ip, 2, 19);                                /* total below the header */
    assert_int_equal(ipv4_parse(ip, len - ETH_HLEN, &h, &pl, &pl_len), NET_BAD_FORMAT);
}

static void test_udp_parse(void **state)
{
    uint8_t f[128];
    size_t len = hello_frame(f);
    uint8_t *udp = f + ETH_HLEN + IPV4_HLEN;
    size_t udp_len = len - ETH_HLEN - IPV4_HLEN;
    uint32_t src = IP(10, 0, 0, 2), dst = IP(10, 0, 0, 1);
    struct udp_hdr h;
    const uint8_t *pl;
    size_t pl_len;

    (void)state;
    assert_int_equal(udp_parse(udp, udp_len, src, dst, &h, &pl, &pl_len), 0);
    assert_int_equal(h.src_port, 10002);
    assert_int_equal(h.dst_port, 7);
    assert_int_equal(pl_len, 5);
    assert_memory_equal(pl, "hello", 5);
    /* The pseudo-header counts: another destination address fails. */
    assert_int_equal(udp_parse(udp, udp_len, src, IP(10, 0, 0, 3), &h, &pl, &pl_len),
                     NET_BAD_CHECKSUM);
    udp[8] ^= 0x20;
    assert_int_equal(udp_parse(udp, udp_len, src, dst, &h, &pl, &pl_len), NET_BAD_CHECKSUM);
    /* A zero checksum means "none": not verified. */
    net_put16(udp + 6, 0);
    assert_int_equal(udp_parse(udp, udp_len, src, dst, &h, &pl, &pl_len), 0);
    assert_int_equal(pl[0], 'h' ^ 0x20);
    net_put16(udp + 4, 7);                              /* length below the header */
    assert_int_equal(udp_parse(udp, udp_len, src, dst, &h, &pl, &pl_len), NET_BAD_FORMAT);
    net_put16(udp + 4, 14);                             /* length past the data */
    assert_int_equal(udp_parse(udp, udp_len, src, dst, &h, &pl, &pl_len), NET_BAD_SHORT);
    assert_int_equal(udp_parse(udp, 7, src, dst, &h, &pl, &pl_len), NET_BAD_SHORT);
}

static void test_udp_checksum_zero_is_sent_as_ffff(void **state)
{
    uint8_t p[UDP_HLEN + 2], data[2];
    uint32_t src = IP(10, 0, 0, 2), dst = IP(10, 0, 0, 1);
    struct udp_hdr h;
    const uint8_t *pl;
    size_t pl_len;
    int found = 0;

    (void)state;
    /* Find a 2-byte payload whose checksum computes to 0. */
    for (unsigned v = 0; v < 0x10000 && !found; v++) {
        data[0] = (uint8_t)(v >> 8);
        data[1] = (uint8_t)v;
        udp_build(p, src, dst, 1, 2, data, 2);
        net_put16(p + 6, 0);
        if (net_csum_fold(net_csum_add(net_pseudo_sum(src, dst, IPV4_PROTO_UDP, 10), p, 10)) == 0)
            found = 1;
    }
    assert_true(found);
    udp_build(p, src, dst, 1, 2, data, 2);
    assert_int_equal(net_get16(p + 6), 0xffff);
    assert_int_equal(udp_parse(p, sizeof(p), src, dst, &h, &pl, &pl_len), 0);
}

static void test_udp_max_payload(void **state)
{
    static uint8_t data[UDP_PAYLOAD_MAX], f[ETH_FRAME_MAX];
    struct ipv4_hdr ih;
    struct udp_hdr uh;
    const uint8_t *ipl, *upl;
    size_t ipl_len, upl_len;

    (void)state;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    assert_int_equal(net_build_udp_frame(f, mac_a, mac_b, 1, 2, 3, 4, 5, data, sizeof(data)),
                     ETH_FRAME_MAX);
    assert_int_equal(ipv4_parse(f + ETH_HLEN, ETH_FRAME_MAX - ETH_HLEN, &ih, &ipl, &ipl_len), 0);
    assert_int_equal(udp_parse(ipl, ipl_len, 1, 2, &uh, &upl, &upl_len), 0);
    assert_int_equal(upl_len, UDP_PAYLOAD_MAX);
    assert_memory_equal(upl, data, sizeof(data));
}

static void test_icmp(void **state)
{
    uint8_t p[40];

    (void)state;
    memset(p, 0, sizeof(p));
    p[0] = ICMP_ECHO_REQUEST;
    net_put16(p + 4, 0x4242);                           /* id */
    net_put16(p + 6, 7);                                /* sequence */
    for (int i = 8; i < 40; i++)
        p[i] = (uint8_t)i;
    net_put16(p + 2, net_csum(p, sizeof(p)));
    assert_int_equal(icmp_parse(p, sizeof(p)), ICMP_ECHO_REQUEST);
    icmp_echo_to_reply(p, sizeof(p));
    assert_int_equal(icmp_parse(p, sizeof(p)), ICMP_ECHO_REPLY);
    assert_int_equal(net_get16(p + 4), 0x4242);
    assert_int_equal(net_get16(p + 6), 7);
    p[20] ^= 1;
    assert_int_equal(icmp_parse(p, sizeof(p)), NET_BAD_CHECKSUM);
    assert_int_equal(icmp_parse(p, 7), NET_BAD_SHORT);
}

static void test_addresses(void **state)
{
    char buf[18];
    uint32_t ip;

    (void)state;
    assert_int_equal(net_parse_ip("10.0.0.16", &ip), 0);
    assert_int_equal(ip, IP(10, 0, 0, 16));
    assert_int_equal(net_parse_ip("255.255.255.255", &ip), 0);
    assert_int_equal(ip, 0xffffffffu);
    assert_int_equal(net_parse_ip("0.0.0.0", &ip), 0);
    assert_int_equal(ip, 0);
    assert_int_equal(net_parse_ip("256.0.0.1", &ip), -1);
    assert_int_equal(net_parse_ip("10.0.0", &ip), -1);
    assert_int_equal(net_parse_ip("10.0.0.1.", &ip), -1);
    assert_int_equal(net_parse_ip("10..0.1", &ip), -1);
    assert_int_equal(net_parse_ip("10.0.0.1x", &ip), -1);
    assert_int_equal(net_parse_ip("0010.0.0.1", &ip), -1);
    assert_int_equal(net_parse_ip("", &ip), -1);
    assert_string_equal(net_format_ip(IP(10, 0, 0, 1), buf), "10.0.0.1");
    assert_string_equal(net_format_ip(IP(192, 168, 100, 255), buf), "192.168.100.255");
    assert_string_equal(net_format_ip(0, buf), "0.0.0.0");
    assert_string_equal(net_format_mac(mac_a, buf), "02:00:00:00:00:0a");
}

static void test_arg_find(void **state)
{
    const char *argv[] = { "ip=10.0.0.1", "peer=10.0.0.2", "port=", "ipx=3", "mesh" };

    (void)state;
    assert_string_equal(net_arg_find(5, argv, "ip"), "10.0.0.1");
    assert_string_equal(net_arg_find(5, argv, "peer"), "10.0.0.2");
    assert_string_equal(net_arg_find(5, argv, "port"), "");
    assert_string_equal(net_arg_find(5, argv, "ipx"), "3");
    assert_null(net_arg_find(5, argv, "mesh"));         /* no '=' */
    assert_null(net_arg_find(5, argv, "count"));
    assert_null(net_arg_find(0, argv, "ip"));
}

/* ------------------------------------------------------------------ */
/* ARP cache                                                           */
/* ------------------------------------------------------------------ */

static void mac_of(uint8_t mac[ETH_ALEN], unsigned n)
{
    mac[0] = 0x02;
    mac[1] = 0;
    mac[2] = 0;
    mac[3] = 0;
    mac[4] = (uint8_t)(n >> 8);
    mac[5] = (uint8_t)n;
}

static void test_arp_cache_basic(void **state)
{
    struct arp_cache c;
    uint8_t mac[ETH_ALEN], got[ETH_ALEN];

    (void)state;
    arp_cache_init(&c);
    assert_int_equal(arp_cache_lookup(&c, IP(10, 0, 0, 1), got), 0);
    mac_of(mac, 1);
    arp_cache_insert(&c, IP(10, 0, 0, 1), mac);
    assert_int_equal(arp_cache_lookup(&c, IP(10, 0, 0, 1), got), 1);
    assert_memory_equal(got, mac, 6);
    assert_int_equal(arp_cache_lookup(&c, IP(10, 0, 0, 1), NULL), 1);
    /* Insert refreshes instead of duplicating. */
    mac_of(mac, 99);
    arp_cache_insert(&c, IP(10, 0, 0, 1), mac);
    assert_int_equal(arp_cache_count(&c), 1);
    assert_int_equal(arp_cache_lookup(&c, IP(10, 0, 0, 1), got), 1);
    assert_memory_equal(got, mac, 6);
    /* Update only touches known addresses. */
    assert_int_equal(arp_cache_update(&c, IP(10, 0, 0, 2), mac), 0);
    assert_int_equal(arp_cache_lookup(&c, IP(10, 0, 0, 2), got), 0);
    mac_of(mac, 5);
    assert_int_equal(arp_cache_update(&c, IP(10, 0, 0, 1), mac), 1);
    assert_int_equal(arp_cache_lookup(&c, IP(10, 0, 0, 1), got), 1);
    assert_memory_equal(got, mac, 6);
    arp_cache_remove(&c, IP(10, 0, 0, 1));
    assert_int_equal(arp_cache_lookup(&c, IP(10, 0, 0, 1), got), 0);
    assert_int_equal(arp_cache_count(&c), 0);
    /* Nonsense is not cached. */
    arp_cache_insert(&c, 0, mac);
    arp_cache_insert(&c, IPV4_BROADCAST, mac);
    arp_cache_insert(&c, IP(10, 0, 0, 3), eth_broadcast);
    assert_int_equal(arp_cache_count(&c), 0);
}

static void test_arp_cache_lru(void **state)
{
    struct arp_cache c;
    uint8_t mac[ETH_ALEN], got[ETH_ALEN];

    (void)state;
    arp_cache_init(&c);
    for (unsigned i = 1; i <= ARP_CACHE_SIZE; i++) {
        mac_of(mac, i);
        arp_cache_insert(&c, IP(10, 0, 1, i), mac);
    }
    assert_int_equal(arp_cache_count(&c), ARP_CACHE_SIZE);
    /* Use the oldest, so the second oldest is the one replaced. */
    assert_int_equal(arp_cache_lookup(&c, IP(10, 0, 1, 1), NULL), 1);
    mac_of(mac, 1000);
    arp_cache_insert(&c, IP(10, 0, 2, 1), mac);
    assert_int_equal(arp_cache_count(&c), ARP_CACHE_SIZE);
    assert_int_equal(arp_cache_lookup(&c, IP(10, 0, 1, 2), NULL), 0);
    assert_int_equal(arp_cache_lookup(&c, IP(10, 0, 1, 1), NULL), 1);
    assert_int_equal(arp_cache_lookup(&c, IP(10, 0, 2, 1), got), 1);
    assert_memory_equal(got, mac, 6);
    for (unsigned i = 3; i <= ARP_CACHE_SIZE; i++)
        assert_int_equal(arp_cache_lookup(&c, IP(10, 0, 1, i), got), 1);
}

/* ------------------------------------------------------------------ */
/* A simulated device (env.h) and a peer behind it                     */
/* ------------------------------------------------------------------ */

#define SLOT        2
#define TSC_HZ      1000000ULL              /* a tick is a microsecond */
#define MY_IP       IP(10, 0, 0, 2)
#define PEER_IP     IP(10, 0, 0, 1)
#define CAPTURE_MAX 64
#define ETH_TYPE_RAW 0x88b5                 /* local experimental: the peer ignores it */

static const uint8_t my_mac[ETH_ALEN] = { 0x02, 0x4d, 0x46, 0x00, 0x00, 0x02 };
static const uint8_t peer_mac[ETH_ALEN] = { 0x02, 0x4d, 0x46, 0x00, 0x00, 0x01 };

struct sim_queue {
    uint16_t size;
    struct virtq_desc *desc;
    uint16_t *avail;                        /* flags, idx, ring[size], used_event */
    uint16_t *used_idx;
    struct virtq_used_elem *used_ring;
    uint16_t *avail_event;
    uint16_t last_avail;
};

static struct {
    int set_up;
    uint64_t offered;
    struct sim_queue q[2];
    uint64_t now, notify, notifications;
    unsigned kicks, waits;
    int lazy;                               /* asks the driver not to kick */
    int fail_kicks;                         /* kicks report a failed port */
    int peer_silent;                        /* the peer answers nothing */
    unsigned tx_frames, arp_requests, udp_seen, icmp_replies, rx_drops;
    uint8_t captured[CAPTURE_MAX][ETH_FRAME_MAX];
    size_t captured_len[CAPTURE_MAX];
} sim;

static void sim_queue_init(struct sim_queue *q, const struct mf_queue_setup *s)
{
    uint8_t *used = (uint8_t *)(uintptr_t)s->used;

    q->size = (uint16_t)s->size;
    q->desc = (struct virtq_desc *)(uintptr_t)s->desc;
    q->avail = (uint16_t *)(uintptr_t)s->avail;
    q->used_idx = (uint16_t *)(used + 2);
    q->used_ring = (struct virtq_used_elem *)(used + 4);
    q->avail_event = (uint16_t *)(used + 4 + 8 * s->size);
    q->last_avail = 0;
}

long net_env_setup(unsigned slot, struct mf_net_setup *setup)
{
    if (slot != SLOT)
        return -MF_ENOENT;
    for (int i = 0; i < 2; i++) {
        uint32_t size = setup->queues[i].size;

        if (size == 0 || size > MF_NET_QUEUE_MAX || (size & (size - 1)))
            return -MF_EINVAL;
    }
    setup->device_features = sim.offered;
    setup->features = setup->driver_features & sim.offered;
    memcpy(setup->mac, my_mac, ETH_ALEN);
    setup->mtu = MF_NET_MTU;
    sim_queue_init(&sim.q[MF_NET_QUEUE_RX], &setup->queues[MF_NET_QUEUE_RX]);
    sim_queue_init(&sim.q[MF_NET_QUEUE_TX], &setup->queues[MF_NET_QUEUE_TX]);
    sim.set_up = 1;
    return 0;
}

/* The device puts a frame into the next posted RX buffer; 0, or -1 when
 * none is posted (the frame is dropped). Notifies per used_event. */
static int sim_deliver(const uint8_t *frame, size_t len)
{
    struct sim_queue *q = &sim.q[MF_NET_QUEUE_RX];
    struct virtio_net_hdr hdr = { .num_buffers = 1 };
    uint16_t id, old;
    struct virtq_desc d;

    if (q->last_avail == q->avail[1]) {
        sim.rx_drops++;
        return -1;
    }
    id = q->avail[2 + (q->last_avail++ & (q->size - 1))];
    assert_true(id < q->size);
    d = q->desc[id];
    assert_int_equal(d.flags, VIRTQ_DESC_F_WRITE);
    assert_true(d.len >= sizeof(hdr) + len);
    memcpy((void *)(uintptr_t)d.addr, &hdr, sizeof(hdr));
    memcpy((uint8_t *)(uintptr_t)d.addr + sizeof(hdr), frame, len);
    old = *q->used_idx;
    q->used_ring[old & (q->size - 1)].id = id;
    q->used_ring[old & (q->size - 1)].len = (uint32_t)(sizeof(hdr) + len);
    *q->used_idx = (uint16_t)(old + 1);
    if (virtq_need_event(q->avail[2 + q->size], (uint16_t)(old + 1), old)) {
        sim.notify |= MF_NOTIFY_BIT(SLOT);
        sim.notifications++;
    }
    return 0;
}

/* The peer at PEER_IP: answers ARP requests for its address and echoes
 * UDP datagrams to port 7; counts what it sees. */
static void peer_receive(const uint8_t *f, size_t len)
{
    static uint8_t out[ETH_FRAME_MAX];
    struct eth_hdr eth;
    struct arp_pkt a;
    struct ipv4_hdr ip;
    struct udp_hdr uh;
    const uint8_t *pl, *upl;
    size_t pl_len, upl_len;

    assert_int_equal(eth_parse(f, len, &eth), 0);
    assert_memory_equal(eth.src, my_mac, ETH_ALEN);
    if (eth.type == ETH_TYPE_RAW)
        return;
    if (eth.type == ETH_TYPE_ARP) {
        assert_int_equal(arp_parse(f + ETH_HLEN, len - ETH_HLEN, &a), 0);
        if (a.op == ARP_OP_REQUEST) {
            sim.arp_requests++;
            assert_memory_equal(eth.dst, eth_broadcast, ETH_ALEN);
        }
        if (a.op == ARP_OP_REQUEST && a.tpa == PEER_IP && !sim.peer_silent)
            sim_deliver(out, net_build_arp_frame(out, ARP_OP_REPLY, peer_mac, PEER_IP, a.sha,
                                                 a.spa));
        return;
    }
    assert_int_equal(eth.type, ETH_TYPE_IPV4);
    assert_int_equal(ipv4_parse(f + ETH_HLEN, len - ETH_HLEN, &ip, &pl, &pl_len), 0);
    assert_int_equal(ip.src, MY_IP);
    if (ip.proto == IPV4_PROTO_ICMP) {
        assert_int_equal(icmp_parse(pl, pl_len), ICMP_ECHO_REPLY);
        sim.icmp_replies++;
        return;
    }
    assert_int_equal(ip.proto, IPV4_PROTO_UDP);
    assert_int_equal(udp_parse(pl, pl_len, ip.src, ip.dst, &uh, &upl, &upl_len), 0);
    assert_int_not_equal(uh.checksum, 0);               /* we always send one */
    sim.udp_seen++;
    if (ip.dst == PEER_IP && uh.dst_port == 7 && !sim.peer_silent) {
        assert_memory_equal(eth.dst, peer_mac, ETH_ALEN);
        sim_deliver(out, net_build_udp_frame(out, my_mac, peer_mac, PEER_IP, MY_IP, 1, 7,
                                             uh.src_port, upl, upl_len));
    }
}

/* Consumes every published TX entry, as a kick does. */
static void sim_tx_drain(void)
{
    struct sim_queue *q = &sim.q[MF_NET_QUEUE_TX];

    while (q->last_avail != q->avail[1]) {
        uint16_t id = q->avail[2 + (q->last_avail++ & (q->size - 1))], used = *q->used_idx;
        struct virtq_desc d;
        const uint8_t *buf;

        assert_true(id < q->size);
        d = q->desc[id];
        assert_int_equal(d.flags, 0);
        assert_true(d.len > sizeof(struct virtio_net_hdr));
        assert_true(d.len <= sizeof(struct virtio_net_hdr) + ETH_FRAME_MAX);
        buf = (const uint8_t *)(uintptr_t)d.addr;
        for (size_t i = 0; i < sizeof(struct virtio_net_hdr); i++)
            assert_int_equal(buf[i], 0);
        buf += sizeof(struct virtio_net_hdr);
        if (sim.tx_frames < CAPTURE_MAX) {
            memcpy(sim.captured[sim.tx_frames], buf, d.len - sizeof(struct virtio_net_hdr));
            sim.captured_len[sim.tx_frames] = d.len - sizeof(struct virtio_net_hdr);
        }
        sim.tx_frames++;
        q->used_ring[used & (q->size - 1)].id = id;
        q->used_ring[used & (q->size - 1)].len = 0;
        *q->used_idx = (uint16_t)(used + 1);
        peer_receive(buf, d.len - sizeof(struct virtio_net_hdr));
    }
    /* Kick me for the next entry, or (lazy) not for a long while. */
    *q->avail_event = sim.lazy ? (uint16_t)(q->last_avail + 1000) : q->last_avail;
}

long net_env_kick(unsigned slot, unsigned queue)
{
    assert_int_equal(slot, SLOT);
    assert_int_equal(queue, MF_NET_QUEUE_TX);
    assert_true(sim.set_up);
    sim.kicks++;
    if (sim.fail_kicks)
        return -MF_EIO;
    sim_tx_drain();
    return 0;
}

long net_env_status(unsigned slot, struct mf_net_status *status)
{
    assert_int_equal(slot, SLOT);
    memset(status, 0, sizeof(*status));
    status->state = sim.fail_kicks ? MF_NET_STATE_FAILED : MF_NET_STATE_RUNNING;
    status->tx_frames = sim.tx_frames;
    return 0;
}

long net_env_wait(uint64_t deadline_tsc)
{
    long bits = (long)sim.notify;

    sim.waits++;
    if (bits) {
        sim.notify = 0;
        return bits;
    }
    assert_true(deadline_tsc != UINT64_MAX);           /* would block forever */
    if (deadline_tsc > sim.now)
        sim.now = deadline_tsc;
    return 0;
}

long net_env_yield(void)
{
    return 0;
}

uint64_t net_env_now(void)
{
    return sim.now++;
}

uint64_t net_env_tsc_hz(void)
{
    return TSC_HZ;
}

static int sim_setup(void **state)
{
    struct net_config cfg = { .slot = SLOT, .ip = MY_IP };

    (void)state;
    memset(&sim, 0, sizeof(sim));
    sim.now = 1000;
    sim.offered = MF_FEATURE_BIT(VIRTIO_F_VERSION_1) | MF_FEATURE_BIT(VIRTIO_NET_F_MAC) |
                  MF_FEATURE_BIT(VIRTIO_RING_F_EVENT_IDX);
    assert_int_equal(net_up(&cfg), 0);
    assert_memory_equal(cfg.mac, my_mac, ETH_ALEN);
    return 0;
}

/* A minimum-size frame from us that the peer ignores. */
static void raw_frame(uint8_t f[ETH_MIN_FRAME])
{
    memset(f, 0, ETH_MIN_FRAME);
    eth_build(f, peer_mac, my_mac, ETH_TYPE_RAW);
}

/* A frame from the peer to us, delivered by the device. */
static size_t peer_udp(uint8_t *f, uint16_t dst_port, const void *data, size_t len)
{
    return net_build_udp_frame(f, my_mac, peer_mac, PEER_IP, MY_IP, 9, 5555, dst_port, data, len);
}

/* ------------------------------------------------------------------ */
/* Driver and stack against the simulated device                       */
/* ------------------------------------------------------------------ */

static void test_open(void **state)
{
    struct sim_queue *rx = &sim.q[MF_NET_QUEUE_RX];
    struct mf_net_status st;

    (void)state;
    assert_memory_equal(net_mac(), my_mac, ETH_ALEN);
    assert_int_equal(net_slot(), SLOT);
    assert_int_equal(rx->size, NET_RX_SIZE);
    assert_int_equal(sim.q[MF_NET_QUEUE_TX].size, NET_TX_SIZE);
    /* Every RX buffer is posted, device-writable, whole and distinct. */
    assert_int_equal(rx->avail[1], NET_RX_SIZE);
    for (unsigned i = 0; i < NET_RX_SIZE; i++) {
        struct virtq_desc *d = &rx->desc[rx->avail[2 + i]];

        assert_int_equal(d->flags, VIRTQ_DESC_F_WRITE);
        assert_int_equal(d->len, NET_BUF_LEN);
        if (i > 0)
            assert_true(d->addr != rx->desc[rx->avail[2 + i - 1]].addr);
    }
    assert_int_equal(net_tx_free(), NET_TX_SIZE);
    assert_int_equal(net_status(&st), 0);
    assert_int_equal(st.state, MF_NET_STATE_RUNNING);
}

static void test_open_needs_version_1(void **state)
{
    (void)state;
    sim.offered = MF_FEATURE_BIT(VIRTIO_NET_F_MAC);
    assert_int_equal(net_open(SLOT), -MF_EINVAL);
    assert_int_equal(net_open(SLOT + 1), -MF_ENOENT);
    assert_int_equal(net_send("x", 1), -MF_EIO);        /* not open */
}

static void test_resolve_and_echo(void **state)
{
    static struct udp_datagram d;
    uint8_t mac[ETH_ALEN];

    (void)state;
    assert_int_equal(udp_bind(10002), 0);
    assert_int_equal(net_resolve(PEER_IP, mac, 1000), 0);
    assert_memory_equal(mac, peer_mac, ETH_ALEN);
    assert_int_equal(sim.arp_requests, 1);
    assert_int_equal(udp_recv(&d), 0);
    assert_int_equal(udp_sendto(PEER_IP, 7, 10002, "hello", 5), 0);
    assert_int_equal(sim.arp_requests, 1);              /* cached now */
    assert_int_equal(udp_recv(&d), 1);
    assert_int_equal(d.src_ip, PEER_IP);
    assert_int_equal(d.src_port, 7);
    assert_int_equal(d.dst_port, 10002);
    assert_int_equal(d.len, 5);
    assert_memory_equal(d.data, "hello", 5);
    assert_int_equal(udp_recv(&d), 0);
    assert_int_equal(net_stack_counters()->udp_in, 1);
    assert_int_equal(net_stack_counters()->udp_out, 1);
}

static void test_udp_sizes(void **state)
{
    static uint8_t data[UDP_PAYLOAD_MAX];
    static struct udp_datagram d;
    static const size_t sizes[] = { 0, 1, 2, 17, 18, 100, 1024, 1471, 1472 };

    (void)state;
    udp_bind(10002);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        data[0] = (uint8_t)i;
        assert_int_equal(udp_sendto(PEER_IP, 7, 10002, data, sizes[i]), 0);
        assert_int_equal(udp_recv_wait(&d, net_now() + 1000), 1);
        assert_int_equal(d.len, sizes[i]);
        assert_memory_equal(d.data, data, sizes[i]);
    }
    assert_int_equal(udp_sendto(PEER_IP, 7, 10002, data, UDP_PAYLOAD_MAX + 1), -MF_EINVAL);
    assert_int_equal(udp_sendto(PEER_IP, 0, 10002, data, 1), -MF_EINVAL);
}

static void test_resolve_timeout(void **state)
{
    uint8_t mac[ETH_ALEN];

    (void)state;
    sim.peer_silent = 1;
    assert_int_equal(net_resolve(PEER_IP, mac, 1000), -MF_EAGAIN);
    /* One request every NET_ARP_RETRY_MS over the second. */
    assert_int_equal(sim.arp_requests, 1000 / NET_ARP_RETRY_MS);
    assert_true(sim.now >= 1000 + 1000 * TSC_HZ / 1000);
    assert_int_equal(udp_try_sendto(PEER_IP, 7, 1, "x", 1), -MF_EAGAIN);
    assert_int_equal(sim.udp_seen, 0);
}

static void test_answers_arp(void **state)
{
    uint8_t f[ETH_FRAME_MAX];
    struct arp_pkt a;
    struct eth_hdr eth;

    (void)state;
    sim_deliver(f, net_build_arp_frame(f, ARP_OP_REQUEST, peer_mac, PEER_IP, eth_broadcast,
                                       MY_IP));
    /* A request for someone else is not answered. */
    sim_deliver(f, net_build_arp_frame(f, ARP_OP_REQUEST, peer_mac, PEER_IP, eth_broadcast,
                                       IP(10, 0, 0, 9)));
    assert_int_equal(net_process(), 2);
    assert_int_equal(sim.tx_frames, 1);
    assert_int_equal(eth_parse(sim.captured[0], sim.captured_len[0], &eth), 0);
    assert_memory_equal(eth.dst, peer_mac, ETH_ALEN);
    assert_int_equal(eth.type, ETH_TYPE_ARP);
    assert_int_equal(arp_parse(sim.captured[0] + ETH_HLEN, ARP_LEN, &a), 0);
    assert_int_equal(a.op, ARP_OP_REPLY);
    assert_int_equal(a.spa, MY_IP);
    assert_int_equal(a.tpa, PEER_IP);
    assert_memory_equal(a.sha, my_mac, ETH_ALEN);
    assert_memory_equal(a.tha, peer_mac, ETH_ALEN);
    /* The asker is cached: no request needed to answer it. */
    assert_int_equal(arp_cache_lookup(net_arp_cache(), PEER_IP, NULL), 1);
    assert_int_equal(net_stack_counters()->arp_replies_sent, 1);
}

static void test_answers_ping(void **state)
{
    uint8_t f[ETH_FRAME_MAX], *icmp = f + ETH_HLEN + IPV4_HLEN;
    const size_t icmp_len = 64;
    struct ipv4_hdr ip;
    const uint8_t *pl;
    size_t pl_len;

    (void)state;
    eth_build(f, my_mac, peer_mac, ETH_TYPE_IPV4);
    ipv4_build(f + ETH_HLEN, IPV4_PROTO_ICMP, PEER_IP, MY_IP, 77, icmp_len);
    memset(icmp, 0, icmp_len);
    icmp[0] = ICMP_ECHO_REQUEST;
    net_put16(icmp + 4, 0xbeef);
    net_put16(icmp + 6, 3);
    for (size_t i = 8; i < icmp_len; i++)
        icmp[i] = (uint8_t)i;
    net_put16(icmp + 2, net_csum(icmp, icmp_len));
    sim_deliver(f, ETH_HLEN + IPV4_HLEN + icmp_len);
    assert_int_equal(net_process(), 1);
    assert_int_equal(sim.icmp_replies, 1);
    assert_int_equal(ipv4_parse(sim.captured[0] + ETH_HLEN, sim.captured_len[0] - ETH_HLEN, &ip,
                                &pl, &pl_len), 0);
    assert_int_equal(ip.dst, PEER_IP);
    assert_int_equal(pl_len, icmp_len);
    assert_int_equal(pl[0], ICMP_ECHO_REPLY);
    assert_memory_equal(pl + 4, icmp + 4, icmp_len - 4);   /* id, sequence, data */
    /* A bad ICMP checksum gets no answer. */
    icmp[10] ^= 0xff;
    sim_deliver(f, ETH_HLEN + IPV4_HLEN + icmp_len);
    assert_int_equal(net_process(), 1);
    assert_int_equal(sim.icmp_replies, 1);
}

static void test_drops_bad_frames(void **state)
{
    static struct udp_datagram d;
    uint8_t f[ETH_FRAME_MAX];
    size_t len;

    (void)state;
    udp_bind(7);
    /* Bad IPv4 header checksum. */
    len = peer_udp(f, 7, "abc", 3);
    f[ETH_HLEN + 10] ^= 1;
    sim_deliver(f, len);
    /* Bad UDP checksum. */
    len = peer_udp(f, 7, "abc", 3);
    f[len - 1] ^= 1;
    sim_deliver(f, len);
    /* Another MAC; another IP; an unbound port; a runt; a fragment. */
    len = peer_udp(f, 7, "abc", 3);
    f[5] ^= 1;
    sim_deliver(f, len);
    len = net_build_udp_frame(f, my_mac, peer_mac, PEER_IP, IP(10, 0, 0, 3), 1, 5, 7, "abc", 3);
    sim_deliver(f, len);
    sim_deliver(f, peer_udp(f, 8, "abc", 3));
    sim_deliver(f, 10);
    len = peer_udp(f, 7, "abc", 3);
    ip_set16(f + ETH_HLEN, 6, IPV4_FLAG_MF);
    sim_deliver(f, len);
    assert_int_equal(udp_recv(&d), 0);
    assert_int_equal(net_stack_counters()->frames_in, 7);
    assert_int_equal(net_stack_counters()->bad_ip_checksum, 1);
    assert_int_equal(net_stack_counters()->bad_udp_checksum, 1);
    assert_int_equal(net_stack_counters()->udp_no_port, 1);
    assert_int_equal(net_stack_counters()->bad, 4);
    assert_int_equal(net_stack_counters()->not_for_us, 2);
    /* A datagram without checksum, padded past its length, is fine. */
    len = peer_udp(f, 7, "abc", 3);
    net_put16(f + ETH_HLEN + IPV4_HLEN + 6, 0);
    memset(f + len, 0xaa, ETH_MIN_FRAME - len);
    sim_deliver(f, ETH_MIN_FRAME);
    assert_int_equal(udp_recv(&d), 1);
    assert_int_equal(d.len, 3);
    assert_memory_equal(d.data, "abc", 3);
    assert_int_equal(sim.tx_frames, 0);                 /* nothing answered the junk */
}

static void test_udp_queue_and_broadcast(void **state)
{
    static struct udp_datagram d;
    uint8_t f[ETH_FRAME_MAX], mac[ETH_ALEN];

    (void)state;
    udp_bind(7);
    /* Datagrams that arrive while resolving wait in the queue, in order. */
    for (uint8_t i = 0; i < 5; i++)
        sim_deliver(f, peer_udp(f, 7, &i, 1));
    sim_deliver(f, net_build_udp_frame(f, eth_broadcast, peer_mac, PEER_IP, IPV4_BROADCAST, 1, 5,
                                       7, "B", 1));
    assert_int_equal(net_resolve(PEER_IP, mac, 1000), 0);
    for (uint8_t i = 0; i < 5; i++) {
        assert_int_equal(udp_recv(&d), 1);
        assert_int_equal(d.len, 1);
        assert_int_equal(d.data[0], i);
    }
    assert_int_equal(udp_recv(&d), 1);
    assert_int_equal(d.data[0], 'B');
    assert_int_equal(udp_recv(&d), 0);
    /* Past NET_UDP_QUEUE the rest are dropped and counted. */
    for (unsigned i = 0; i < NET_UDP_QUEUE + 3; i++)
        sim_deliver(f, peer_udp(f, 7, "q", 1));
    net_process();
    assert_int_equal(net_stack_counters()->udp_queue_full, 3);
    for (unsigned i = 0; i < NET_UDP_QUEUE; i++)
        assert_int_equal(udp_recv(&d), 1);
    assert_int_equal(udp_recv(&d), 0);
}

static void test_rx_buffers_recycle(void **state)
{
    uint8_t f[ETH_FRAME_MAX], buf[ETH_FRAME_MAX];

    (void)state;
    /* Many times the ring: every buffer must come back. */
    for (unsigned i = 0; i < 10 * NET_RX_SIZE; i++) {
        size_t len = peer_udp(f, 7, &i, sizeof(i));

        assert_int_equal(sim_deliver(f, len), 0);
        assert_int_equal(net_poll(buf), (int)len);
        assert_memory_equal(buf, f, len);
    }
    /* A full ring: the device drops the extra frame, the driver keeps going. */
    for (unsigned i = 0; i < NET_RX_SIZE; i++)
        assert_int_equal(sim_deliver(f, 60), 0);
    assert_int_equal(sim_deliver(f, 60), -1);
    for (unsigned i = 0; i < NET_RX_SIZE; i++)
        assert_int_equal(net_poll(buf), 60);
    assert_int_equal(net_poll(buf), 0);
    assert_int_equal(sim_deliver(f, 60), 0);
    assert_int_equal(net_counters()->rx_frames, 11 * NET_RX_SIZE);
    assert_int_equal(net_counters()->device_errors, 0);
}

static void test_rx_rejects_bad_used_entries(void **state)
{
    struct sim_queue *q = &sim.q[MF_NET_QUEUE_RX];
    uint8_t buf[ETH_FRAME_MAX], f[64];
    uint16_t idx = *q->used_idx;

    (void)state;
    /* An id out of range, then a length past the buffer, then a good one. */
    q->used_ring[idx & (q->size - 1)].id = NET_RX_SIZE + 5;
    q->used_ring[idx & (q->size - 1)].len = 60;
    q->used_ring[(idx + 1) & (q->size - 1)].id = q->avail[2];
    q->used_ring[(idx + 1) & (q->size - 1)].len = NET_BUF_LEN + 1;
    q->last_avail = 1;
    *q->used_idx = (uint16_t)(idx + 2);
    memset(f, 0x11, sizeof(f));
    sim_deliver(f, sizeof(f));
    assert_int_equal(net_poll(buf), (int)sizeof(f));
    assert_int_equal(net_counters()->device_errors, 2);
    /* The buffer of the bad-length entry was posted again. */
    assert_int_equal((uint16_t)(q->avail[1] - q->last_avail), NET_RX_SIZE);
}

static void test_wait_and_used_event(void **state)
{
    struct sim_queue *q = &sim.q[MF_NET_QUEUE_RX];
    uint8_t f[64], buf[ETH_FRAME_MAX];
    uint64_t deadline;

    (void)state;
    memset(f, 0x22, sizeof(f));
    /* Nothing there: waits until the deadline, asking for the next entry. */
    deadline = sim.now + 5000;
    assert_int_equal(net_wait(deadline), 0);
    assert_true(sim.now >= deadline);
    assert_int_equal(q->avail[2 + q->size], 0);         /* used_event */
    assert_int_equal(sim.waits, 1);
    /* A frame crosses used_event: one notification. */
    sim_deliver(f, sizeof(f));
    assert_int_equal(sim.notifications, 1);
    /* A frame already waiting: no hypercall at all. */
    assert_int_equal(net_wait(sim.now + 5000), 1);
    assert_int_equal(sim.waits, 1);
    assert_int_equal(net_poll(buf), (int)sizeof(f));
    /* Without a wait pending, frames do not notify (used_event is stale). */
    sim_deliver(f, sizeof(f));
    sim_deliver(f, sizeof(f));
    assert_int_equal(sim.notifications, 1);
    assert_int_equal(net_poll(buf), (int)sizeof(f));
    assert_int_equal(net_poll(buf), (int)sizeof(f));
    /* The stale notification bit wakes one wait early; the next one
     * re-arms for entry 3, and the frame after it notifies. */
    assert_int_equal(net_wait(sim.now + 5000), 1);
    assert_int_equal(net_wait(sim.now + 5000), 0);
    assert_int_equal(q->avail[2 + q->size], 3);
    sim_deliver(f, sizeof(f));
    assert_int_equal(sim.notifications, 2);
    assert_int_equal(net_wait(sim.now + 5000), 1);
}

static void test_tx_event_idx(void **state)
{
    uint8_t f[ETH_MIN_FRAME];

    (void)state;
    raw_frame(f);
    /* A batch is one kick. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(net_queue(f, sizeof(f)), 0);
    assert_int_equal(sim.tx_frames, 0);                 /* not published yet */
    assert_int_equal(net_flush(), 0);
    assert_int_equal(sim.kicks, 1);
    assert_int_equal(sim.tx_frames, 10);
    assert_int_equal(net_flush(), 0);                   /* nothing new: no kick */
    assert_int_equal(sim.kicks, 1);
    /* The device drained and asked for the next entry: each send kicks. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(net_send(f, sizeof(f)), 0);
    assert_int_equal(sim.kicks, 6);
    assert_int_equal(net_counters()->kicks, 6);
    /* A device that says "no kicks for now" gets none... */
    sim.lazy = 1;
    net_send(f, sizeof(f));
    assert_int_equal(sim.kicks, 7);                     /* this one crossed the old event */
    for (int i = 0; i < 20; i++)
        assert_int_equal(net_send(f, sizeof(f)), 0);
    assert_int_equal(sim.kicks, 7);
    assert_int_equal(net_counters()->kicks_suppressed, 20);
    sim_tx_drain();                                     /* it polls by itself */
    assert_int_equal(sim.tx_frames, 36);
    /* ...until TX is full: then the driver kicks anyway rather than stall. */
    while (net_queue(f, sizeof(f)) == 0)
        ;
    assert_int_equal(net_queue(f, sizeof(f)), -MF_EAGAIN);
    assert_int_equal(net_send(f, sizeof(f)), 0);
    assert_int_equal(sim.kicks, 8);
    assert_int_equal(net_counters()->tx_full, 1);
    assert_int_equal(net_tx_reclaim() + net_tx_free(), NET_TX_SIZE - 1);
    /* Bad lengths. */
    assert_int_equal(net_queue(f, 0), -MF_EINVAL);
    assert_int_equal(net_queue(f, MF_NET_FRAME_MAX + 1), -MF_EINVAL);
}

static void test_tx_reclaims_in_any_order(void **state)
{
    struct sim_queue *q = &sim.q[MF_NET_QUEUE_TX];
    uint8_t f[ETH_MIN_FRAME];
    uint16_t ids[3], used;

    (void)state;
    raw_frame(f);
    sim.lazy = 1;
    *q->avail_event = 1000;
    for (int i = 0; i < 3; i++)
        assert_int_equal(net_send(f, sizeof(f)), 0);
    assert_int_equal(sim.kicks, 0);
    assert_int_equal(net_tx_free(), NET_TX_SIZE - 3);
    for (int i = 0; i < 3; i++)
        ids[i] = q->avail[2 + i];
    /* Complete them backwards, plus one bogus and one repeated id. */
    used = *q->used_idx;
    q->used_ring[used++ & (q->size - 1)].id = ids[2];
    q->used_ring[used++ & (q->size - 1)].id = NET_TX_SIZE + 1;
    q->used_ring[used++ & (q->size - 1)].id = ids[1];
    q->used_ring[used++ & (q->size - 1)].id = ids[1];
    q->used_ring[used++ & (q->size - 1)].id = ids[0];
    *q->used_idx = used;
    q->last_avail = 3;
    assert_int_equal(net_tx_reclaim(), 3);
    assert_int_equal(net_tx_free(), NET_TX_SIZE);
    assert_int_equal(net_counters()->device_errors, 2);
}

static void test_failed_port(void **state)
{
    uint8_t f[ETH_MIN_FRAME];
    struct mf_net_status st;

    (void)state;
    raw_frame(f);
    sim.fail_kicks = 1;
    assert_int_equal(net_send(f, sizeof(f)), -MF_EIO);
    assert_int_equal(net_error(), -MF_EIO);
    assert_int_equal(net_send(f, sizeof(f)), -MF_EIO);
    assert_int_equal(sim.kicks, 1);                     /* no more kicks once failed */
    assert_int_equal(udp_try_sendto(PEER_IP, 7, 1, "x", 1), -MF_EAGAIN);
    assert_int_equal(net_status(&st), 0);
    assert_int_equal(st.state, MF_NET_STATE_FAILED);
}

static void test_without_event_idx(void **state)
{
    struct net_config cfg = { .slot = SLOT, .ip = MY_IP };
    uint8_t f[ETH_MIN_FRAME];

    (void)state;
    sim.offered = MF_FEATURE_BIT(VIRTIO_F_VERSION_1) | MF_FEATURE_BIT(VIRTIO_NET_F_MAC);
    assert_int_equal(net_up(&cfg), 0);
    raw_frame(f);
    sim.lazy = 1;                                       /* ignored: no EVENT_IDX */
    for (int i = 0; i < 3; i++)
        assert_int_equal(net_send(f, sizeof(f)), 0);
    assert_int_equal(sim.kicks, 3);
    assert_int_equal(sim.tx_frames, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum_rfc1071),
        cmocka_unit_test(test_csum_ipv4_example),
        cmocka_unit_test(test_csum_odd_and_chained),
        cmocka_unit_test(test_eth),
        cmocka_unit_test(test_arp_frame),
        cmocka_unit_test(test_udp_frame_known),
        cmocka_unit_test(test_ipv4_parse),
        cmocka_unit_test(test_ipv4_fragments_and_lengths),
        cmocka_unit_test(test_udp_parse),
        cmocka_unit_test(test_udp_checksum_zero_is_sent_as_ffff),
        cmocka_unit_test(test_udp_max_payload),
        cmocka_unit_test(test_icmp),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_arg_find),
        cmocka_unit_test(test_arp_cache_basic),
        cmocka_unit_test(test_arp_cache_lru),
        cmocka_unit_test_setup(test_open, sim_setup),
        cmocka_unit_test_setup(test_open_needs_version_1, sim_setup),
        cmocka_unit_test_setup(test_resolve_and_echo, sim_setup),
        cmocka_unit_test_setup(test_udp_sizes, sim_setup),
        cmocka_unit_test_setup(test_resolve_timeout, sim_setup),
        cmocka_unit_test_setup(test_answers_arp, sim_setup),
        cmocka_unit_test_setup(test_answers_ping, sim_setup),
        cmocka_unit_test_setup(test_drops_bad_frames, sim_setup),
        cmocka_unit_test_setup(test_udp_queue_and_broadcast, sim_setup),
        cmocka_unit_test_setup(test_rx_buffers_recycle, sim_setup),
        cmocka_unit_test_setup(test_rx_rejects_bad_used_entries, sim_setup),
        cmocka_unit_test_setup(test_wait_and_used_event, sim_setup),
        cmocka_unit_test_setup(test_tx_event_idx, sim_setup),
        cmocka_unit_test_setup(test_tx_reclaims_in_any_order, sim_setup),
        cmocka_unit_test_setup(test_failed_port, sim_setup),
        cmocka_unit_test_setup(test_without_event_idx, sim_setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
