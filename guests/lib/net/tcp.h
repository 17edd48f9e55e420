/*
 * TCP for the guest network library (tcp.c), plus its glue to the stack
 * (tcp_net.c, guests only).
 *
 * tcp.c is pure: it talks to the world only through struct tcp_io (send
 * an IPv4 payload, read the clock), so the host unit tests and the fuzz
 * target drive it with a fake wire and a fake clock. Everything is in
 * static pools (TCP_CONNS connections, TCP_LISTENERS listeners, fixed
 * send and receive buffers per connection); nothing is allocated.
 *
 * What it does: passive open with a backlog, active open, MSS option
 * (TCP_MSS, from the 1500-byte MTU; the peer's is honoured), in-order
 * delivery (a segment that does not start at rcv_nxt is dropped and
 * answered with an ACK: the sender retransmits), retransmission from
 * snd_una after an RTO (RFC 6298 estimator, Karn's rule, doubling up to
 * TCP_RTO_MAX_MS, given up after TCP_RETRIES), the receive window (the
 * free space of the receive buffer), zero-window probes, FIN and RST both
 * ways, TIME-WAIT of TCP_TIME_WAIT_MS. When the table is full a new SYN
 * takes the oldest TIME-WAIT slot, else it is refused with RST. Not done:
 * window scaling, SACK, timestamps, urgent data, Nagle, delayed ACKs,
 * congestion control beyond "at most the peer's window in flight".
 *
 * Handles are small integers (a slot index); a connection handle is valid
 * from tcp_accept/tcp_connect until tcp_close or tcp_abort. Functions
 * return >= 0 on success and -MF_E* on failure:
 *   -MF_EAGAIN  nothing now (no data, no room, no pending connection)
 *   -MF_EINVAL  a bad handle or argument, or the call does not fit the state
 *   -MF_ENOMEM  no free connection or listener slot
 *   -MF_EIO     the connection was reset, refused or timed out (tcp_error says which)
 */
#ifndef GUESTS_NET_TCP_H
#define GUESTS_NET_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "../../../include/mayfly/abi.h"
#include "proto.h"

#define IPV4_PROTO_TCP      6
#define TCP_HLEN            20              /* without options */
#define TCP_MSS             (1500 - IPV4_HLEN - TCP_HLEN)      /* 1460 */
#define TCP_HDR_ROOM        (ETH_HLEN + IPV4_HLEN)  /* tcp_io.output may write this before seg */

#ifndef TCP_CONNS
#define TCP_CONNS           32              /* connections, TIME-WAIT ones included */
#endif
#define TCP_LISTENERS       4
#ifndef TCP_SNDBUF
#define TCP_SNDBUF          4096            /* unacknowledged + unsent bytes per connection */
#endif
#ifndef TCP_RCVBUF
#define TCP_RCVBUF          4096            /* received, not yet read: the largest window */
#endif
#define TCP_RTO_INIT_MS     300             /* before the first RTT sample */
#define TCP_RTO_MIN_MS      100
#define TCP_RTO_MAX_MS      4000
#define TCP_RETRIES         8               /* RTOs in a row before the connection is dropped */
#define TCP_TIME_WAIT_MS    2000
#define TCP_EPHEMERAL_LO    49152           /* tcp_connect's local ports */

/* Header flags. */
#define TCP_FIN             0x01
#define TCP_SYN             0x02
#define TCP_RST             0x04
#define TCP_PSH             0x08
#define TCP_ACK             0x10

enum tcp_state {
    TCP_CLOSED = 0,
    TCP_SYN_SENT,
    TCP_SYN_RCVD,
    TCP_ESTABLISHED,
    TCP_FIN_WAIT_1,
    TCP_FIN_WAIT_2,
    TCP_CLOSING,
    TCP_TIME_WAIT,
    TCP_CLOSE_WAIT,
    TCP_LAST_ACK,
};

/* Why a connection ended badly (tcp_error). */
enum tcp_error {
    TCP_ERR_NONE = 0,
    TCP_ERR_RESET,                  /* the peer sent RST */
    TCP_ERR_REFUSED,                /* RST in answer to our SYN */
    TCP_ERR_TIMEOUT,                /* TCP_RETRIES RTOs without progress */
};

/* The world as tcp.c sees it. output sends seg (a whole TCP segment,
 * checksum included) to dst in an IPv4 packet; it may write the
 * TCP_HDR_ROOM bytes before seg. Returns 0 or -MF_E* (a lost segment is
 * retransmitted later like one lost on the wire). now is a monotonic
 * tick count, hz ticks per second. */
struct tcp_io {
    int (*output)(uint32_t dst, uint8_t *seg, size_t len);
    uint64_t (*now)(void);
    uint64_t hz;
    uint32_t local_ip;
    uint32_t iss_seed;              /* mixed into initial sequence numbers */
};

struct tcp_counters {
    uint64_t segs_in, segs_out;
    uint64_t bad_checksum;          /* dropped: checksum wrong */
    uint64_t bad;                   /* dropped: too short, bad offset */
    uint64_t out_of_order;          /* dropped: not at rcv_nxt (answered with an ACK) */
    uint64_t retransmits;           /* segments sent again after an RTO */
    uint64_t resets_sent, resets_in;
    uint64_t refused_full;          /* SYNs refused: no free slot */
    uint64_t refused_backlog;       /* SYNs refused: the listener's backlog was full */
    uint64_t time_wait_reused;      /* TIME-WAIT slots taken for a new connection */
    uint64_t timeouts;              /* connections dropped after TCP_RETRIES */
    uint64_t accepted, connected;
};

/* --- the core (tcp.c) --- */

/* Forgets every connection and listener and uses io from now on. */
void tcp_init(const struct tcp_io *io);
/* One IPv4 payload of protocol 6 from src to dst (the stack checked the
 * IP header). Checks length, offset and checksum, then runs the state
 * machine; may send segments through io->output. */
void tcp_input(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len);
/* Runs the timers (retransmission, TIME-WAIT); call it from the event
 * loop. Returns the tick at which it wants to run next (UINT64_MAX: no
 * timer pending). */
uint64_t tcp_timers(void);

/* Listens on port with room for backlog (1..TCP_CONNS) connections that
 * are being set up or wait for tcp_accept. Returns a listener handle. */
int tcp_listen(uint16_t port, unsigned backlog);
/* An established connection from the listener's queue, or -MF_EAGAIN. */
int tcp_accept(int listener);
/* Stops listening; connections already accepted are not affected,
 * pending ones are reset. */
int tcp_unlisten(int listener);
/* Sends SYN to ip:port from a fresh local port; the handle is usable at
 * once (tcp_send queues, data goes out once established). Returns the
 * handle, -MF_ENOMEM or -MF_EINVAL. */
int tcp_connect(uint32_t ip, uint16_t port);
/* Queues up to len bytes; returns how many (0 < n <= len), -MF_EAGAIN
 * if the send buffer is full, -MF_EINVAL after tcp_close or once the
 * connection cannot send, -MF_EIO if it failed. */
long tcp_send(int c, const void *buf, size_t len);
/* Copies up to len received bytes into buf: > 0 bytes, 0 at the end of
 * the stream (the peer's FIN, everything read), -MF_EAGAIN for nothing
 * yet, -MF_EIO if the connection failed. */
long tcp_recv(int c, void *buf, size_t len);
/* Ends our direction (FIN after the queued data) and gives up the
 * handle; the slot is freed when the connection has closed. */
int tcp_close(int c);
/* Sends RST (if the connection is synchronized), frees the slot. */
int tcp_abort(int c);

/* The connection's state, or TCP_CLOSED for a bad handle. */
enum tcp_state tcp_state(int c);
/* 1 when tcp_send can take bytes now (established or close-wait). */
int tcp_writable(int c);
/* The peer's address and port (host order); 0 or -MF_EINVAL (bad handle). */
int tcp_peer(int c, uint32_t *ip, uint16_t *port);
/* Bytes queued but not yet acknowledged by the peer. */
size_t tcp_unacked(int c);
enum tcp_error tcp_error(int c);
/* Connections in a state other than CLOSED (the slots in use). */
unsigned tcp_active(void);
const struct tcp_counters *tcp_counters(void);
/* The state's name ("ESTABLISHED"), for messages. */
const char *tcp_state_name(enum tcp_state s);

/* Builds a segment at seg (header, no options, then len bytes of data,
 * which may already be in place at seg + TCP_HLEN when data is NULL)
 * with its checksum; returns its length. Exposed for the tests. */
size_t tcp_build(uint8_t *seg, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                 uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
                 const void *data, size_t len);

/* --- the glue to the guest's stack (tcp_net.c, guests only) --- */

/* Starts TCP on the stack net_up started: segments are sent through the
 * ARP cache (a peer not yet known is asked for and the segment dropped:
 * the retransmission carries it), with gw= and mask= from the boot
 * arguments for peers off the link. 0 or -MF_EINVAL (bad gw=/mask=). */
int tcp_up(void);
/* Handles every frame waiting and runs the timers. */
void tcp_poll(void);
/* Blocks until a frame arrives, a TCP timer is due or deadline_tsc;
 * then polls. Returns what net_wait returned. */
long tcp_wait(uint64_t deadline_tsc);

#endif
