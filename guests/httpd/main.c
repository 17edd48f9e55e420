/*
 * httpd: an HTTP/1.1 server on the guest library's TCP.
 *
 * Args: "ip=a.b.c.d [gw=...] [mask=...] [port=80] [idle=<ms>] [keepalive=<ms>]".
 *   GET /        a static page (text/html)
 *   GET /status  {"guest":"<name>.<instance>","id":N,"uptime_ms":N,"requests":N}
 *                (requests counts this one)
 *   HEAD         the same without a body; other methods 405; other paths 404;
 *   a malformed request 400; a header over HTTPD_REQ_MAX bytes 431; a body
 *   past it 413; Transfer-Encoding 501. Connections stay open (HTTP/1.1)
 *   unless the request says "Connection: close" (or is HTTP/1.0 without
 *   keep-alive), the answer is an error, or they sit idle keepalive ms
 *   (default 5000). Stops once no connection has been open for idle ms
 *   (default 0: never) and prints
 *       httpd: served N requests
 * Exit status: 0 after idling out; 1 if the network failed; 2 on bad
 * arguments or no port.
 */
#include "httpd.h"

#define DEFAULT_PORT        80
#define DEFAULT_KEEPALIVE   5000
#define POLL_MS             100     /* the loop looks at its clients at least this often */

static struct httpd_client clients[TCP_CONNS];
static uint64_t served;

static int arg_number(const char *key, uint64_t def, uint64_t max, uint64_t *out)
{
    const char *s = net_arg(key);

    *out = def;
    if (s != NULL && (mf_parse_u64(s, out) < 0 || *out > max)) {
        mf_printf("httpd: bad %s=%s (0..%lu)\n", key, s, (unsigned long)max);
        return -1;
    }
    return 0;
}

/* Takes every connection the listener has ready. */
static int httpd_accept(int listener)
{
    int c, n = 0;

    while ((c = tcp_accept(listener)) >= 0) {
        struct httpd_client *k = &clients[c];   /* handles are slot indices */

        net_memset(k, 0, sizeof(*k) - sizeof(k->req) - sizeof(k->out));
        k->tcp = c;
        k->open = 1;
        k->last = net_now();
        n++;
    }
    return n;
}

/* Moves staged output into TCP; 1 when all of it is queued. */
static int httpd_flush(struct httpd_client *k)
{
    while (k->out_off < k->out_len) {
        long n = tcp_send(k->tcp, k->out + k->out_off, k->out_len - k->out_off);

        if (n == -MF_EAGAIN)
            return 0;
        if (n < 0) {
            k->broken = 1;
            return 0;
        }
        k->out_off += (uint32_t)n;
    }
    k->out_len = k->out_off = 0;
    return 1;
}

static void httpd_drop(struct httpd_client *k)
{
    if (k->broken)
        tcp_abort(k->tcp);
    else
        tcp_close(k->tcp);
    k->open = 0;
}

/* One client's turn: send, read, answer one request at a time. */
static void httpd_serve(struct httpd_client *k, uint64_t keepalive_ticks)
{
    int flushed = httpd_flush(k);

    while (!k->broken && k->req_len < HTTPD_REQ_MAX && !k->eof) {
        long n = tcp_recv(k->tcp, k->req + k->req_len, HTTPD_REQ_MAX - k->req_len);

        if (n == -MF_EAGAIN)
            break;
        if (n < 0)
            k->broken = 1;
        else if (n == 0)
            k->eof = 1;
        else {
            k->req_len += (uint32_t)n;
            k->last = net_now();
        }
    }
    while (flushed && !k->closing && !k->broken) {
        struct http_reply r;
        int used = http_handle(k->req, k->req_len, &r);

        if (used == 0)
            break;              /* incomplete: wait for more */
        served++;
        k->out_len = http_format(k->out, sizeof(k->out), &r, served);
        k->closing = r.close;
        memmove(k->req, k->req + used, k->req_len - (uint32_t)used);
        k->req_len -= (uint32_t)used;
        k->last = net_now();
        flushed = httpd_flush(k);
    }
    if (k->broken || (flushed && (k->closing || k->eof)) ||
        (flushed && k->req_len == 0 && net_now() - k->last >= keepalive_ticks))
        httpd_drop(k);
}

int main(const struct mf_boot_info *bi)
{
    struct net_config cfg;
    uint64_t port, idle_ms, keepalive_ms, last;
    char ip_text[16];
    int ret, listener;

    (void)bi;
    if (arg_number("port", DEFAULT_PORT, 65535, &port) < 0 || port == 0 ||
        arg_number("idle", 0, UINT32_MAX, &idle_ms) < 0 ||
        arg_number("keepalive", DEFAULT_KEEPALIVE, UINT32_MAX, &keepalive_ms) < 0)
        return 2;
    ret = net_config(&cfg);
    if (ret < 0) {
        mf_puts(ret == -MF_ENOENT ? "httpd: no network port (net=<switch> in the config)\n"
                                  : "httpd: usage: ip=a.b.c.d [port=80] [idle=<ms>]\n");
        return 2;
    }
    ret = net_up(&cfg);
    if (ret == 0 && tcp_up() < 0) {
        mf_puts("httpd: bad gw= or mask= (a.b.c.d)\n");
        return 2;
    }
    listener = ret < 0 ? ret : tcp_listen((uint16_t)port, TCP_CONNS);
    if (ret < 0 || listener < 0) {
        mf_printf("httpd: network setup failed (%d)\n", ret < 0 ? ret : listener);
        return 1;
    }
    mf_printf("httpd: %s listening on port %u\n", net_format_ip(cfg.ip, ip_text),
              (unsigned)port);
    if (bi->request_tsc)        /* started by a request: a START, or a summoning frame */
        mf_printf("httpd: first instruction %lu ticks after the request that started it\n",
                  (unsigned long)(mf_entry_tsc - bi->request_tsc));
    last = net_now();
    for (;;) {
        unsigned open = 0;

        ret = (int)tcp_wait(net_now() + net_ms_to_ticks(POLL_MS));
        if (ret < 0 || net_error() < 0)
            break;
        if (httpd_accept(listener) > 0)
            last = net_now();
        for (unsigned i = 0; i < TCP_CONNS; i++) {
            if (!clients[i].open)
                continue;
            httpd_serve(&clients[i], net_ms_to_ticks(keepalive_ms));
            open += clients[i].open;
        }
        if (open > 0)
            last = net_now();
        else if (idle_ms != 0 && net_now() - last >= net_ms_to_ticks(idle_ms))
            break;
    }
    mf_printf("httpd: served %lu requests\n", (unsigned long)served);
    mf_printf("httpd: tcp: %lu connections accepted, %lu TIME-WAIT slots reused, "
              "%lu refused, %lu segments retransmitted\n",
              (unsigned long)tcp_counters()->accepted,
              (unsigned long)tcp_counters()->time_wait_reused,
              (unsigned long)(tcp_counters()->refused_full + tcp_counters()->refused_backlog),
              (unsigned long)tcp_counters()->retransmits);
    if (ret < 0 || net_error() < 0) {
        mf_printf("httpd: stopped: network error %d\n", ret < 0 ? ret : net_error());
        return 1;
    }
    return 0;
}
