/*
 * Ethernet, ARP, IPv4, ICMP and UDP: building and parsing headers,
 * checksums and the ARP cache. Pure code: no hypercalls, no globals, only
 * <stdint.h> and <stddef.h>, so it builds unchanged into guests and into the
 * host unit tests (tests/unit/test_netstack.c).
 *
 * Packets are byte arrays in network order, read and written byte by byte
 * through the be16/be32 helpers: no struct overlays (no alignment or
 * padding assumptions about a frame that came off the wire). IPv4
 * addresses are uint32_t in host order (10.0.0.1 is 0x0a000001).
 */
#ifndef GUESTS_NET_PROTO_H
#define GUESTS_NET_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* The freestanding runtime supplies memcpy and friends (guests/lib/string.c),
 * the host its C library; the builtins resolve to whichever is linked. */
#define net_memcpy  __builtin_memcpy
#define net_memset  __builtin_memset
#define net_memcmp  __builtin_memcmp

#define ETH_ALEN            6
#define ETH_HLEN            14
#define ETH_TYPE_IPV4       0x0800
#define ETH_TYPE_ARP        0x0806
#define ETH_FRAME_MAX       1514            /* MF_NET_FRAME_MAX: header + MTU, no FCS */
#define ETH_MIN_FRAME       60              /* short frames are padded to this */

#define ARP_LEN             28              /* Ethernet/IPv4 ARP body */
#define ARP_OP_REQUEST      1
#define ARP_OP_REPLY        2

#define IPV4_HLEN           20              /* we send no options */
#define IPV4_PROTO_ICMP     1
#define IPV4_PROTO_UDP      17
#define IPV4_TTL            64
#define IPV4_FLAG_DF        0x4000
#define IPV4_FLAG_MF        0x2000
#define IPV4_FRAG_MASK      0x1fff
#define IPV4_BROADCAST      0xffffffffu

#define ICMP_HLEN           8
#define ICMP_ECHO_REPLY     0
#define ICMP_ECHO_REQUEST   8

#define UDP_HLEN            8
#define UDP_PAYLOAD_MAX     (ETH_FRAME_MAX - ETH_HLEN - IPV4_HLEN - UDP_HLEN)  /* 1472 */

/* Results of the parsers: 0, or one of these (negative). */
#define NET_BAD_SHORT       (-1)    /* shorter than its header or length field */
#define NET_BAD_FORMAT      (-2)    /* a field has a value we do not accept */
#define NET_BAD_CHECKSUM    (-3)
#define NET_BAD_FRAGMENT    (-4)    /* an IPv4 fragment (we do not reassemble) */

/* --- byte order --- */
static inline uint16_t net_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t net_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void net_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void net_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* --- the Internet checksum (RFC 1071) --- */

/* Adds len bytes to a running 32-bit sum, as big-endian 16-bit words (an
 * odd last byte is the high half of a word). Chained calls must all but
 * the last pass an even len. */
uint32_t net_csum_add(uint32_t sum, const void *data, size_t len);
/* Folds the carries and returns the one's complement, ready to store. */
uint16_t net_csum_fold(uint32_t sum);
/* The checksum of one buffer: net_csum_fold(net_csum_add(0, data, len)).
 * Over a buffer that contains a correct checksum field, it is 0. */
uint16_t net_csum(const void *data, size_t len);
/* The sum of the IPv4 pseudo-header for UDP (RFC 768), to start from. */
uint32_t net_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* --- Ethernet --- */
struct eth_hdr {
    uint8_t dst[ETH_ALEN];
    uint8_t src[ETH_ALEN];
    uint16_t type;
};

extern const uint8_t eth_broadcast[ETH_ALEN];

/* Writes a 14-byte header; returns ETH_HLEN. */
size_t eth_build(uint8_t *frame, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
                 uint16_t type);
/* 0 or NET_BAD_SHORT. */
int eth_parse(const uint8_t *frame, size_t len, struct eth_hdr *h);
static inline int eth_is_multicast(const uint8_t mac[ETH_ALEN])
{
    return mac[0] & 1;          /* the group bit; broadcast included */
}

/* --- ARP (Ethernet hardware, IPv4 protocol addresses only) --- */
struct arp_pkt {
    uint16_t op;                /* ARP_OP_* */
    uint8_t sha[ETH_ALEN];      /* sender hardware address */
    uint32_t spa;               /* sender IPv4 address */
    uint8_t tha[ETH_ALEN];      /* target hardware address */
    uint32_t tpa;               /* target IPv4 address */
};

/* Writes the 28-byte body; returns ARP_LEN. */
size_t arp_build(uint8_t *p, const struct arp_pkt *a);
/* 0, NET_BAD_SHORT, or NET_BAD_FORMAT (not Ethernet/IPv4, another
 * operation, or a multicast sender address). */
int arp_parse(const uint8_t *p, size_t len, struct arp_pkt *a);

/* --- IPv4 --- */
struct ipv4_hdr {
    uint8_t proto;
    uint8_t ttl;
    uint16_t id;
    uint16_t total_len;         /* header + payload */
    uint16_t hdr_len;           /* bytes, options included */
    uint32_t src;
    uint32_t dst;
};

/* Writes a 20-byte header (DF set, no options) for payload_len bytes of
 * payload, with its checksum; returns IPV4_HLEN. The caller keeps
 * IPV4_HLEN + payload_len within 65535. */
size_t ipv4_build(uint8_t *p, uint8_t proto, uint32_t src, uint32_t dst, uint16_t id,
                  size_t payload_len);
/* Checks version, header length, total length (not past len; bytes after
 * it are Ethernet padding), the header checksum and that it is not a
 * fragment. On 0, *payload and *payload_len describe the payload. */
int ipv4_parse(const uint8_t *p, size_t len, struct ipv4_hdr *h,
               const uint8_t **payload, size_t *payload_len);

/* --- UDP --- */
struct udp_hdr {
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t len;               /* header + payload */
    uint16_t checksum;          /* as received; 0 means none was sent */
};

/* Writes header and payload (data may be NULL when the payload is already
 * in place at p + UDP_HLEN) and the checksum over the pseudo-header;
 * returns UDP_HLEN + len. len <= UDP_PAYLOAD_MAX. */
size_t udp_build(uint8_t *p, uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
                 uint16_t dst_port, const void *data, size_t len);
/* Checks the length field and, when non-zero, the checksum. On 0,
 * *payload and *payload_len describe the payload. */
int udp_parse(const uint8_t *p, size_t len, uint32_t src_ip, uint32_t dst_ip,
              struct udp_hdr *h, const uint8_t **payload, size_t *payload_len);

/* --- ICMP --- */

/* Checks length and checksum; returns the ICMP type (>= 0) or a NET_BAD_*. */
int icmp_parse(const uint8_t *p, size_t len);
/* Turns the echo request at p (len bytes, already checked) into its
 * reply in place: type 0, checksum recomputed. */
void icmp_echo_to_reply(uint8_t *p, size_t len);

/* --- whole frames (Ethernet + IPv4 + ...) --- */

/* Builds an Ethernet frame carrying a UDP datagram; returns its length.
 * frame must hold ETH_HLEN + IPV4_HLEN + UDP_HLEN + len bytes. */
size_t net_build_udp_frame(uint8_t *frame, const uint8_t dst_mac[ETH_ALEN],
                           const uint8_t src_mac[ETH_ALEN], uint32_t src_ip, uint32_t dst_ip,
                           uint16_t ip_id, uint16_t src_port, uint16_t dst_port,
                           const void *data, size_t len);
/* Builds an Ethernet frame carrying an ARP packet (request: to broadcast,
 * target hardware address zero); returns its length (ETH_MIN_FRAME: the
 * frame is padded with zeroes). */
size_t net_build_arp_frame(uint8_t *frame, uint16_t op, const uint8_t src_mac[ETH_ALEN],
                           uint32_t src_ip, const uint8_t dst_mac[ETH_ALEN], uint32_t dst_ip);

/* --- addresses --- */

/* "a.b.c.d" (each 0..255, nothing after it) -> 0, else -1. */
int net_parse_ip(const char *s, uint32_t *ip);
/* Writes "a.b.c.d" and its NUL into buf (at least 16 bytes); returns buf. */
char *net_format_ip(uint32_t ip, char *buf);
/* Writes "xx:xx:xx:xx:xx:xx" and its NUL into buf (at least 18 bytes). */
char *net_format_mac(const uint8_t mac[ETH_ALEN], char *buf);

/* --- ARP cache: a small table, least recently used entry replaced --- */
#define ARP_CACHE_SIZE      32

struct arp_entry {
    uint32_t ip;
    uint8_t mac[ETH_ALEN];
    uint8_t valid;
    uint64_t last_used;         /* arp_cache.clock when last looked up or set */
};

struct arp_cache {
    struct arp_entry entries[ARP_CACHE_SIZE];
    uint64_t clock;             /* counts operations: an order, not a time */
};

void arp_cache_init(struct arp_cache *c);
/* 1 and the MAC in *mac (if mac is not NULL) when ip is known, else 0. */
int arp_cache_lookup(struct arp_cache *c, uint32_t ip, uint8_t mac[ETH_ALEN]);
/* Adds or refreshes ip -> mac, replacing the least recently used entry
 * when the table is full. Ignores ip 0, the broadcast address and
 * multicast MACs. */
void arp_cache_insert(struct arp_cache *c, uint32_t ip, const uint8_t mac[ETH_ALEN]);
/* Refreshes ip -> mac only if ip is already in the table; returns 1 if it was. */
int arp_cache_update(struct arp_cache *c, uint32_t ip, const uint8_t mac[ETH_ALEN]);
void arp_cache_remove(struct arp_cache *c, uint32_t ip);
/* Valid entries. */
unsigned arp_cache_count(const struct arp_cache *c);

/* --- args: "key=value" words --- */

/* The value of the first argv word "key=value", or NULL. */
const char *net_arg_find(int argc, const char *const argv[], const char *key);

#endif
