/*
 * udp-ping's mesh mode: "ip=10.0.0.K mesh=N [rounds=3] [port=7]
 * [timeout=200] [giveup=30000] [linger=2000]". The guests 10.0.0.1 ..
 * 10.0.0.N each send `rounds` requests to every other one (one request in
 * flight per peer, resent every timeout ms) and echo the others' requests,
 * so every guest both pings and answers. Requests go to port, from port
 * 10000 + K, where the echoes come back.
 *
 * Nothing here blocks on ARP: a peer whose MAC is unknown gets an ARP
 * request every timeout ms while the guest goes on answering the others.
 * A peer that has not answered a round for giveup ms is given up.
 *
 * When its own rounds are done the guest keeps echoing until it has
 * answered every round of every peer and then heard nothing for linger ms
 * (a peer whose echo was lost resends in that time), or until it has heard
 * nothing for giveup ms. Then it prints
 *     mesh 10.0.0.K: sent S, answered A, got G replies from P peers
 * where S counts distinct requests sent, A distinct requests echoed, G
 * distinct intact echoes received and P the peers that echoed every round:
 * with everything working, S = A = G = (N-1) * rounds and P = N-1 on every
 * guest. Exit status 0 when P = N-1 and no echo came back corrupt.
 */
#include "udp-ping.h"

#define MESH_MAX        32
#define ROUNDS_MAX      64      /* rounds are bits in a uint64_t */

struct peer {
    uint32_t ip;
    int failed;
    uint32_t round;             /* the round in flight (or next to send) */
    int in_flight;              /* a request for round went out */
    uint64_t round_start;       /* TSC when this round was first tried */
    uint64_t sent;              /* TSC of the last transmission */
    uint64_t arp_next;          /* TSC for the next ARP request */
    uint64_t sent_mask;         /* rounds sent at least once */
    uint64_t got_mask;          /* rounds echoed back intact */
    uint64_t answered_mask;     /* its rounds we echoed */
};

static struct {
    uint32_t ip, base;
    unsigned n, me;             /* guests, our index 1..n */
    uint32_t rounds;
    uint16_t port, src_port;
    uint64_t timeout, giveup, linger;               /* ticks */
    uint64_t full_mask;
    uint64_t last_heard;
    uint64_t corrupt, echo_failures;
    struct peer peers[MESH_MAX + 1];                /* by index 1..n, ours unused */
} mesh;

static uint8_t out[UDP_PAYLOAD_MAX];
static struct udp_datagram in;

static size_t mesh_len(unsigned from, unsigned to, uint32_t round)
{
    return 16 + (from * 7 + to * 13 + round * 29) % 241;
}

static unsigned popcount64(uint64_t v)
{
    unsigned n = 0;

    for (; v; v &= v - 1)
        n++;
    return n;
}

/* The peer index of ip, or 0 if ip is not one of the other guests. */
static unsigned mesh_index(uint32_t ip)
{
    unsigned k = ip & 0xff;

    if ((ip & 0xffffff00u) != mesh.base || k < 1 || k > mesh.n || k == mesh.me)
        return 0;
    return k;
}

static int mesh_send(unsigned k, uint64_t now)
{
    struct peer *p = &mesh.peers[k];
    size_t len = mesh_len(mesh.me, k, p->round);
    int ret;

    payload_fill(out, len, p->round, mesh.ip);
    ret = udp_try_sendto(p->ip, mesh.port, mesh.src_port, out, len);
    if (ret == -MF_EAGAIN) {
        /* No MAC yet (or TX full): ask again, at most every timeout. */
        if (now >= p->arp_next) {
            net_arp_request(p->ip);
            p->arp_next = now + mesh.timeout;
        }
        return 0;
    }
    if (ret < 0)
        return ret;
    p->in_flight = 1;
    p->sent = now;
    p->sent_mask |= 1ULL << p->round;
    return 0;
}

static void mesh_give_up(unsigned k)
{
    char ip[16], peer[16];

    mesh.peers[k].failed = 1;
    mf_printf("mesh %s: giving up on %s in round %u\n", net_format_ip(mesh.ip, ip),
              net_format_ip(mesh.peers[k].ip, peer), mesh.peers[k].round);
}

/* Sends and resends what is due. */
static int mesh_pump(uint64_t now)
{
    for (unsigned k = 1; k <= mesh.n; k++) {
        struct peer *p = &mesh.peers[k];
        int ret = 0;

        if (k == mesh.me || p->failed || p->round >= mesh.rounds)
            continue;
        if (now - p->round_start >= mesh.giveup) {
            mesh_give_up(k);
            continue;
        }
        if (!p->in_flight || now - p->sent >= mesh.timeout)
            ret = mesh_send(k, now);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static void mesh_echo(const struct udp_datagram *d)
{
    unsigned k = mesh_index(d->src_ip);
    uint32_t round;

    if (udp_try_sendto(d->src_ip, d->src_port, d->dst_port, d->data, d->len) < 0) {
        mesh.echo_failures++;   /* the peer resends */
        return;
    }
    if (k == 0 || d->len < PAYLOAD_HEADER)
        return;
    round = net_get32(d->data);
    if (round < mesh.rounds && net_get32(d->data + 4) == d->src_ip &&
        d->len == mesh_len(k, mesh.me, round) && payload_check(d->data, d->len, round, d->src_ip))
        mesh.peers[k].answered_mask |= 1ULL << round;
}

static void mesh_reply(const struct udp_datagram *d, uint64_t now)
{
    unsigned k = mesh_index(d->src_ip);
    struct peer *p = &mesh.peers[k];

    if (k == 0 || d->src_port != mesh.port || p->failed || p->round >= mesh.rounds)
        return;
    if (d->len == mesh_len(mesh.me, k, p->round) &&
        payload_check(d->data, d->len, p->round, mesh.ip)) {
        p->got_mask |= 1ULL << p->round;
        p->round++;
        p->in_flight = 0;
        p->round_start = now;
        p->arp_next = 0;
        return;
    }
    for (uint32_t r = 0; r < p->round; r++)
        if (d->len == mesh_len(mesh.me, k, r) && payload_check(d->data, d->len, r, mesh.ip))
            return;     /* a late copy of an earlier round's echo */
    mesh.corrupt++;
}

static int mesh_pinging_done(void)
{
    for (unsigned k = 1; k <= mesh.n; k++)
        if (k != mesh.me && !mesh.peers[k].failed && mesh.peers[k].round < mesh.rounds)
            return 0;
    return 1;
}

static int mesh_answered_all(void)
{
    for (unsigned k = 1; k <= mesh.n; k++)
        if (k != mesh.me && mesh.peers[k].answered_mask != mesh.full_mask)
            return 0;
    return 1;
}

/* The earliest moment something is due: a resend, an ARP retry, the end. */
static uint64_t mesh_deadline(void)
{
    uint64_t d = mesh.last_heard + mesh.giveup;

    if (mesh_pinging_done() && mesh_answered_all() && mesh.last_heard + mesh.linger < d)
        d = mesh.last_heard + mesh.linger;
    for (unsigned k = 1; k <= mesh.n; k++) {
        const struct peer *p = &mesh.peers[k];
        uint64_t t;

        if (k == mesh.me || p->failed || p->round >= mesh.rounds)
            continue;
        t = p->in_flight ? p->sent + mesh.timeout : p->arp_next;
        if (p->round_start + mesh.giveup < t)
            t = p->round_start + mesh.giveup;
        if (t < d)
            d = t;
    }
    return d;
}

static int mesh_finished(uint64_t now)
{
    uint64_t quiet = now - mesh.last_heard;

    if (!mesh_pinging_done())
        return 0;
    return quiet >= mesh.giveup || (mesh_answered_all() && quiet >= mesh.linger);
}

static int mesh_report(void)
{
    unsigned sent = 0, answered = 0, got = 0, peers = 0;
    char ip[16];

    for (unsigned k = 1; k <= mesh.n; k++) {
        const struct peer *p = &mesh.peers[k];

        if (k == mesh.me)
            continue;
        sent += popcount64(p->sent_mask);
        answered += popcount64(p->answered_mask);
        got += popcount64(p->got_mask);
        peers += p->got_mask == mesh.full_mask;
    }
    if (mesh.corrupt)
        mf_printf("mesh %s: %lu echoes came back corrupt\n", net_format_ip(mesh.ip, ip),
                  (unsigned long)mesh.corrupt);
    mf_printf("mesh %s: sent %u, answered %u, got %u replies from %u peers\n",
              net_format_ip(mesh.ip, ip), sent, answered, got, peers);
    return peers == mesh.n - 1 && mesh.corrupt == 0 ? 0 : 1;
}

static int mesh_args(const struct net_config *cfg, uint64_t n)
{
    uint64_t port, rounds, timeout_ms, giveup_ms, linger_ms;

    if (ping_arg("port", 7, 1, 65535, &port) < 0 ||
        ping_arg("rounds", 3, 1, ROUNDS_MAX, &rounds) < 0 ||
        ping_arg("timeout", 200, 1, 3600000, &timeout_ms) < 0 ||
        ping_arg("giveup", 30000, 1, 3600000, &giveup_ms) < 0 ||
        ping_arg("linger", 2000, 0, 3600000, &linger_ms) < 0)
        return -1;
    mesh.ip = cfg->ip;
    mesh.base = cfg->ip & 0xffffff00u;
    mesh.n = (unsigned)n;
    mesh.me = cfg->ip & 0xff;
    if (mesh.n < 2 || mesh.me < 1 || mesh.me > mesh.n) {
        mf_printf("udp-ping: mesh=%u needs 2..%u guests and our address x.x.x.1..%u\n",
                  mesh.n, MESH_MAX, mesh.n);
        return -1;
    }
    mesh.rounds = (uint32_t)rounds;
    mesh.full_mask = rounds == 64 ? ~0ULL : (1ULL << rounds) - 1;
    mesh.port = (uint16_t)port;
    mesh.src_port = (uint16_t)(PING_SRC_PORT_BASE + mesh.me);
    mesh.timeout = net_ms_to_ticks(timeout_ms);
    mesh.giveup = net_ms_to_ticks(giveup_ms);
    mesh.linger = net_ms_to_ticks(linger_ms);
    return 0;
}

int mesh_run(const struct net_config *cfg, uint64_t n)
{
    char ip[16];
    uint64_t now;
    int ret = 0;

    if (mesh_args(cfg, n) < 0)
        return 2;
    mf_printf("mesh %s: %u guests, %u rounds, port %u\n", net_format_ip(mesh.ip, ip), mesh.n,
              mesh.rounds, mesh.port);
    udp_bind(mesh.port);
    udp_bind(mesh.src_port);
    now = net_now();
    mesh.last_heard = now;
    for (unsigned k = 1; k <= mesh.n; k++) {
        mesh.peers[k].ip = mesh.base | k;
        mesh.peers[k].round_start = now;
    }
    for (;;) {
        now = net_now();
        if (mesh_finished(now))
            break;
        ret = mesh_pump(now);
        if (ret < 0)
            break;
        ret = udp_recv_wait(&in, mesh_deadline());
        if (ret < 0)
            break;
        if (ret == 0)
            continue;
        now = net_now();
        mesh.last_heard = now;
        if (in.dst_port == mesh.port)
            mesh_echo(&in);
        else if (in.dst_port == mesh.src_port)
            mesh_reply(&in, now);
    }
    if (ret < 0)
        mf_printf("mesh %s: network error %d\n", net_format_ip(mesh.ip, ip), ret);
    return mesh_report();
}
