/*
 * The guest network library: a virtio-net driver for one Mayfly network
 * port (driver.c) and a small Ethernet/ARP/IPv4/ICMP/UDP stack on top of it
 * (stack.c). No dynamic allocation: rings, buffers and tables are static.
 * Single-threaded, like every guest. Functions return 0 (or a count) on
 * success and -MF_E* (include/mayfly/abi.h) on failure.
 *
 * Typical use:
 *     struct net_config cfg;
 *     if (net_config(&cfg) < 0 || net_up(&cfg) < 0) ...    (args "ip=10.0.0.1")
 *     udp_bind(7);
 *     while (udp_recv_wait(&d, deadline) > 0)
 *         udp_sendto(d.src_ip, d.src_port, d.dst_port, d.data, d.len);
 */
#ifndef GUESTS_NET_H
#define GUESTS_NET_H

#include <stddef.h>
#include <stdint.h>

#include "../../../include/mayfly/abi.h"
#include "../../../include/mayfly/virtio.h"
#include "proto.h"

/* ---------------- driver (driver.c) ---------------- */

#define NET_RX_SIZE         128     /* RX queue entries (one buffer each) */
#define NET_TX_SIZE         64      /* TX queue entries (one buffer each) */
#define NET_HDR_LEN         ((unsigned)sizeof(struct virtio_net_hdr))  /* 12 */
#define NET_BUF_LEN         (NET_HDR_LEN + MF_NET_FRAME_MAX)           /* 1526 */
#define NET_BUF_STRIDE      1536    /* buffers are this far apart */

struct net_counters {
    uint64_t tx_frames, tx_bytes;   /* frames handed to the device (bytes without header) */
    uint64_t rx_frames, rx_bytes;   /* frames net_poll returned */
    uint64_t kicks;                 /* MF_HC_NET_KICK calls */
    uint64_t kicks_suppressed;      /* flushes that EVENT_IDX let go without a kick */
    uint64_t waits;                 /* MF_HC_WAIT calls */
    uint64_t yields;                /* MF_HC_YIELD calls while TX was full */
    uint64_t tx_full;               /* times a frame found no free TX buffer at first */
    uint64_t device_errors;         /* used-ring entries from the device we rejected */
    uint64_t hypercalls;            /* all of the above hypercalls, and setup */
};

/* Sets up the port in capability slot: negotiates VIRTIO_F_VERSION_1, MAC
 * and EVENT_IDX, places both queues in static memory and posts every RX
 * buffer. 0; -MF_E* from MF_HC_NET_SETUP; -MF_EINVAL if the device lacks
 * VERSION_1. Calling it again sets the port up afresh. */
int net_open(unsigned slot);
/* The port's MAC address (from setup) and slot. */
const uint8_t *net_mac(void);
unsigned net_slot(void);

/* Copies a frame (len 1..MF_NET_FRAME_MAX bytes, without header) into a
 * free TX buffer and adds it to the avail ring without publishing it.
 * 0, -MF_EINVAL (len), -MF_EAGAIN (no free buffer even after reclaiming),
 * -MF_EIO (the port failed). */
int net_queue(const void *frame, size_t len);
/* Publishes queued frames and kicks if EVENT_IDX asks for it (always if
 * EVENT_IDX was not negotiated, unless the device set NO_NOTIFY).
 * 0 or -MF_EIO. */
int net_flush(void);
/* net_queue + net_flush. When TX is full: kicks, reclaims, yields (up to
 * about 100 ms) before giving up with -MF_EAGAIN. */
int net_send(const void *frame, size_t len);
/* Takes completed TX buffers back from the used ring; returns how many. */
unsigned net_tx_reclaim(void);
/* Free TX buffers now. */
unsigned net_tx_free(void);

/* Copies the next received frame (without header) into buf, which holds
 * MF_NET_FRAME_MAX bytes, and reposts its buffer. Returns its length,
 * 0 if none is waiting. Never blocks. */
int net_poll(uint8_t *buf);
/* 1 if net_poll has a frame now. */
int net_rx_ready(void);
/* Blocks until a frame may be waiting or the TSC reaches deadline_tsc:
 * asks for a notification of the next RX used entry (used_event), rechecks
 * the ring (a frame that arrived in between would not notify) and waits.
 * Returns > 0 when woken early (check net_poll), 0 at the deadline,
 * -MF_E* if MF_HC_WAIT failed. */
long net_wait(uint64_t deadline_tsc);

const struct net_counters *net_counters(void);
/* MF_HC_NET_STATUS. */
int net_status(struct mf_net_status *status);
/* -MF_EIO once a kick reported the port failed, else 0. */
int net_error(void);

/* The TSC; ticks in ms milliseconds. */
uint64_t net_now(void);
uint64_t net_ms_to_ticks(uint64_t ms);

/* ---------------- stack (stack.c) ---------------- */

#define NET_UDP_PORTS       8       /* bound ports */
#define NET_UDP_QUEUE       32      /* received datagrams waiting for udp_recv */
#define NET_ARP_RETRY_MS    200     /* ARP request resend interval */
#define NET_ARP_TIMEOUT_MS  1000    /* udp_sendto's wait for an unknown address */

struct net_config {
    unsigned slot;                  /* the port's capability slot */
    uint32_t ip;                    /* our address (host order) */
    uint8_t mac[ETH_ALEN];          /* the port's MAC (net_up fills it from setup) */
};

struct udp_datagram {
    uint32_t src_ip;
    uint16_t src_port;
    uint16_t dst_port;              /* the bound port it came to */
    uint16_t len;
    uint8_t data[UDP_PAYLOAD_MAX];
};

struct net_stack_counters {
    uint64_t frames_in;             /* frames the stack looked at */
    uint64_t not_for_us;            /* another MAC or IP, or an unknown type */
    uint64_t bad;                   /* malformed, bad checksum or a fragment */
    uint64_t bad_ip_checksum;
    uint64_t bad_udp_checksum;
    uint64_t arp_requests_sent, arp_replies_sent;
    uint64_t icmp_echo_replies;
    uint64_t udp_in, udp_out;
    uint64_t udp_no_port;           /* datagrams to a port nobody bound */
    uint64_t udp_queue_full;        /* datagrams dropped for want of queue room */
};

/* Guest only (config.c): ip= from the boot arguments (required), the first
 * network-port capability in the boot info. 0, -MF_EINVAL (no or a bad
 * ip=), -MF_ENOENT (no port). */
int net_config(struct net_config *cfg);
/* Guest only (config.c): the value of the boot argument "key=value", or NULL. */
const char *net_arg(const char *key);
/* Opens the port and starts the stack with cfg's address; fills cfg->mac. */
int net_up(struct net_config *cfg);
uint32_t net_ip(void);

/* Handles every frame waiting (answers ARP and ICMP echo, queues UDP for
 * bound ports); returns how many it handled. Never blocks. */
int net_process(void);
/* Handles one frame (what net_process does per frame). */
void net_input(uint8_t *frame, size_t len);

/* ip -> MAC from the cache, else ARP requests every NET_ARP_RETRY_MS
 * until timeout_ms has passed (frames that arrive meanwhile are handled).
 * 0, -MF_EAGAIN on timeout, or a driver error. */
int net_resolve(uint32_t ip, uint8_t mac[ETH_ALEN], uint64_t timeout_ms);
struct arp_cache *net_arp_cache(void);
/* Broadcasts one ARP request for ip (for callers that resolve without
 * blocking: send, keep working, look in net_arp_cache() later). */
int net_arp_request(uint32_t ip);

/* Receives datagrams for port (1..65535). 0, -MF_EINVAL, -MF_ENOMEM (all
 * NET_UDP_PORTS taken). Binding a bound port again is fine. */
int udp_bind(uint16_t port);
/* Sends len (0..UDP_PAYLOAD_MAX) bytes from src_port to ip:port, with a
 * UDP checksum; resolves ip first if needed (up to NET_ARP_TIMEOUT_MS).
 * 0, -MF_EINVAL, -MF_EAGAIN (no ARP answer, or TX stayed full), -MF_EIO. */
int udp_sendto(uint32_t ip, uint16_t port, uint16_t src_port, const void *data, size_t len);
/* Like udp_sendto, but never waits for ARP: -MF_EAGAIN (nothing sent)
 * when ip's MAC is not in the cache. */
int udp_try_sendto(uint32_t ip, uint16_t port, uint16_t src_port, const void *data, size_t len);
/* The next datagram for a bound port: 1 and *d filled, 0 if none. Never
 * blocks. */
int udp_recv(struct udp_datagram *d);
/* Like udp_recv but waits until deadline_tsc: 1, 0 at the deadline, or
 * -MF_E*. */
int udp_recv_wait(struct udp_datagram *d, uint64_t deadline_tsc);

const struct net_stack_counters *net_stack_counters(void);

/* IPv4 payloads of protocol 6 go to a handler that tcp_up (tcp.h)
 * installs; without one they count as not_for_us. net_up forgets it. */
#define NET_IPV4_PROTO_TCP  6
typedef void net_tcp_input_fn(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len);
void net_set_tcp_input(net_tcp_input_fn *fn);

#endif
