/*
 * http-get: an HTTP/1.1 client that checks an httpd.
 *
 * Args: "ip=a.b.c.d peer=a.b.c.d [port=80] [count=10] [parallel=1]
 *        [keepalive=1] [burst=0] [path=/status] [timeout=5000] [resolve=1] [delay=0]"
 *   Sends count GET requests for path over parallel connections at once,
 *   keepalive requests per connection (the last one with "Connection:
 *   close", after which the server must close); then burst more requests
 *   on burst connections opened together; then one GET /status. A reply
 *   is ok when its status line is "HTTP/1.1 200" and the body has exactly
 *   Content-Length bytes. resolve=0 skips the ARP lookup before the first
 *   connection, so the first SYN is dropped for want of the peer's MAC
 *   and only its retransmission gets through (a test of the RTO). Prints
 *       http-get: N/N ok
 *       http-get: server counted R requests
 *   and exits 0 if every reply was ok, else 1 (also when a request got no
 *   complete reply within timeout ms); 2 on bad arguments or no port.
 */
#include "mf.h"
#include "net/net.h"
#include "net/tcp.h"

#define GET_SLOTS       24
#define GET_BUF         4096
#define RESOLVE_MS      5000

enum slot_state { SLOT_IDLE, SLOT_CONNECTING, SLOT_WAITING, SLOT_CLOSING };

struct slot {
    enum slot_state state;
    int tcp;
    uint32_t on_conn;               /* requests sent on this connection */
    uint32_t len;
    int last;                       /* the request in flight asked for close */
    uint64_t deadline;
    char buf[GET_BUF];
};

static struct {
    uint32_t peer;
    uint16_t port;
    const char *path;
    uint64_t timeout;
    uint64_t ok, bad, issued, done, status_requests;
    struct slot slots[GET_SLOTS];
} get;

static int arg_number(const char *key, uint64_t def, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *s = net_arg(key);

    *out = def;
    if ((s != NULL && mf_parse_u64(s, out) < 0) || *out < min || *out > max) {
        mf_printf("http-get: bad %s=%s (%lu..%lu)\n", key, s != NULL ? s : "",
                  (unsigned long)min, (unsigned long)max);
        return -1;
    }
    return 0;
}

static void fail(struct slot *s, const char *why)
{
    mf_printf("http-get: request %lu: %s (connection %s)\n", (unsigned long)(get.done + 1),
              why, tcp_state_name(tcp_state(s->tcp)));
    get.bad++;
    get.done++;
    tcp_abort(s->tcp);
    s->state = SLOT_IDLE;
}

static int send_request(struct slot *s, const char *path, int last)
{
    char req[256], host[16];
    size_t n = fmt_snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
                            "User-Agent: mayfly-http-get\r\nConnection: %s\r\n\r\n",
                            path, net_format_ip(get.peer, host), last ? "close" : "keep-alive");

    if (n >= sizeof(req) || tcp_send(s->tcp, req, n) != (long)n)
        return -1;
    s->on_conn++;
    s->last = last;
    s->len = 0;
    s->deadline = net_now() + net_ms_to_ticks(get.timeout);
    get.issued++;
    return 0;
}

/* The value of header name (lower case, with ':') in the reply's header
 * block p[0..end), or NULL. */
static const char *find_header(const char *p, uint32_t end, const char *name)
{
    size_t n = strlen(name);

    for (uint32_t i = 0; i + n < end; i++) {
        if ((i == 0 || p[i - 1] == '\n')) {
            size_t k = 0;

            while (k < n && (p[i + k] | 0x20) == (name[k] | 0x20))
                k++;
            if (k == n) {
                const char *v = p + i + n;

                while (*v == ' ')
                    v++;
                return v;
            }
        }
    }
    return NULL;
}

/* A reply in s->buf: 1 ok, -1 bad, 0 incomplete. */
static int check_reply(struct slot *s)
{
    uint32_t end = 0;
    uint64_t cl = 0;
    const char *v, *r;

    for (uint32_t i = 0; i + 3 < s->len && end == 0; i++)
        if (net_memcmp(s->buf + i, "\r\n\r\n", 4) == 0)
            end = i + 4;
    if (end == 0)
        return s->len >= GET_BUF ? -1 : 0;
    v = find_header(s->buf, end, "content-length:");
    if (v == NULL)
        return -1;
    for (; *v >= '0' && *v <= '9'; v++)
        cl = cl * 10 + (uint64_t)(*v - '0');
    if (end + cl > GET_BUF)
        return -1;
    if (s->len < end + cl)
        return 0;
    if (s->len > end + cl || strncmp(s->buf, "HTTP/1.1 200 ", 13) != 0)
        return -1;
    /* /status: remember the server's count. */
    for (uint32_t i = end; i + 11 < s->len; i++) {
        if (strncmp(s->buf + i, "\"requests\":", 11) == 0) {
            get.status_requests = 0;
            for (r = s->buf + i + 11; r < s->buf + s->len && *r >= '0' && *r <= '9'; r++)
                get.status_requests = get.status_requests * 10 + (uint64_t)(*r - '0');
            break;
        }
    }
    return 1;
}

/* One slot's turn in a run of total requests, per_conn on each connection. */
static void step(struct slot *s, uint64_t total, uint64_t per_conn, const char *path)
{
    long n;
    int r;

    switch (s->state) {
    case SLOT_IDLE:
        if (get.issued >= total)
            return;
        s->tcp = tcp_connect(get.peer, get.port);
        if (s->tcp < 0)
            return;             /* no free slot: try on the next turn */
        s->on_conn = 0;
        s->state = SLOT_CONNECTING;
        s->deadline = net_now() + net_ms_to_ticks(get.timeout);
        __attribute__((fallthrough));  /* a new connection takes a request at once */
    case SLOT_CONNECTING:
        if (send_request(s, path, s->on_conn + 1 >= per_conn || get.issued + 1 >= total) < 0) {
            fail(s, "could not queue the request");
            return;
        }
        s->state = SLOT_WAITING;
        return;
    case SLOT_WAITING:
        while ((n = tcp_recv(s->tcp, s->buf + s->len, GET_BUF - s->len)) > 0)
            s->len += (uint32_t)n;
        r = check_reply(s);
        if (r < 0) {
            fail(s, "bad reply");
        } else if (r > 0) {
            get.ok++;
            get.done++;
            if (!s->last) {
                if (get.issued < total) {
                    if (send_request(s, path, s->on_conn + 1 >= per_conn ||
                                              get.issued + 1 >= total) < 0)
                        fail(s, "could not queue the request");
                } else {
                    tcp_close(s->tcp);
                    s->state = SLOT_IDLE;
                }
            } else {
                s->state = SLOT_CLOSING;
            }
        } else if (n != -MF_EAGAIN || net_now() >= s->deadline) {
            fail(s, n == 0 ? "closed before the reply was complete" : "no reply");
        }
        return;
    case SLOT_CLOSING:
        /* We asked for close: the server must end the stream. */
        n = tcp_recv(s->tcp, s->buf, GET_BUF);
        if (n == 0) {
            tcp_close(s->tcp);
            s->state = SLOT_IDLE;
        } else if (n > 0 || n != -MF_EAGAIN || net_now() >= s->deadline) {
            get.ok--;
            get.bad++;
            mf_printf("http-get: the server did not close after \"Connection: close\"\n");
            tcp_abort(s->tcp);
            s->state = SLOT_IDLE;
        }
        return;
    }
}

/* total requests for path, parallel connections, per_conn each; returns
 * once every reply is in and every connection has closed. */
static void run(uint64_t total, uint64_t parallel, uint64_t per_conn, const char *path)
{
    get.issued = 0;
    for (;;) {
        int busy = 0;

        for (unsigned i = 0; i < parallel; i++) {
            step(&get.slots[i], total, per_conn, path);
            busy |= get.slots[i].state != SLOT_IDLE;
        }
        if (!busy && get.issued >= total)
            break;
        tcp_wait(net_now() + net_ms_to_ticks(20));
    }
}

int main(const struct mf_boot_info *bi)
{
    struct net_config cfg;
    uint64_t port, count, parallel, keepalive, burst, resolve, delay, phase_bad;
    uint8_t mac[ETH_ALEN];
    const char *peer = net_arg("peer");
    int ret;

    (void)bi;
    get.path = net_arg("path") ? net_arg("path") : "/status";
    if (arg_number("port", 80, 1, 65535, &port) < 0 ||
        arg_number("count", 10, 1, 1000000, &count) < 0 ||
        arg_number("parallel", 1, 1, GET_SLOTS, &parallel) < 0 ||
        arg_number("keepalive", 1, 1, 1000000, &keepalive) < 0 ||
        arg_number("burst", 0, 0, GET_SLOTS, &burst) < 0 ||
        arg_number("timeout", 5000, 1, 600000, &get.timeout) < 0 ||
        arg_number("resolve", 1, 0, 1, &resolve) < 0 ||
        arg_number("delay", 0, 0, 600000, &delay) < 0)
        return 2;
    get.port = (uint16_t)port;
    ret = net_config(&cfg);
    if (ret < 0 || peer == NULL || net_parse_ip(peer, &get.peer) < 0 || get.path[0] != '/') {
        mf_puts(ret == -MF_ENOENT ? "http-get: no network port (net=<switch> in the config)\n"
                                  : "http-get: usage: ip=a.b.c.d peer=a.b.c.d [port=80] "
                                    "[count=N] [parallel=P] [keepalive=K] [burst=B] [path=/x]\n");
        return 2;
    }
    ret = net_up(&cfg);
    if (ret == 0)
        ret = tcp_up();
    if (ret == 0 && delay) {
        uint64_t until = net_now() + net_ms_to_ticks(delay);
        while (net_now() < until)
            tcp_wait(until);
    }
    if (ret == 0 && resolve)
        ret = net_resolve(get.peer, mac, RESOLVE_MS);
    if (ret < 0) {
        mf_printf("http-get: network setup failed or %s did not answer ARP (%d)\n", peer, ret);
        return 1;
    }
    run(count, parallel, keepalive, get.path);
    if (burst > 0)
        run(burst, burst, 1, get.path);
    phase_bad = get.bad;
    mf_printf("http-get: %lu/%lu ok\n", (unsigned long)get.ok, (unsigned long)(count + burst));
    get.status_requests = 0;
    run(1, 1, 1, "/status");
    mf_printf("http-get: server counted %lu requests\n", (unsigned long)get.status_requests);
    mf_printf("http-get: tcp: %lu segments out, %lu in, %lu retransmitted\n",
              (unsigned long)tcp_counters()->segs_out, (unsigned long)tcp_counters()->segs_in,
              (unsigned long)tcp_counters()->retransmits);
    return phase_bad == 0 && get.ok == count + burst + 1 ? 0 : 1;
}
