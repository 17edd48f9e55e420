/*
 * httpd's requests and replies: the HTTP/1.1 request parser (request
 * line, the headers we act on) and the replies.
 */
#include "httpd.h"

static const char page[] =
    "<!DOCTYPE html>\n<html><head><title>Mayfly</title></head>\n"
    "<body><h1>Hello from a Mayfly guest</h1>\n"
    "<p>This page is served by httpd, a guest on the Mayfly microhypervisor, over the "
    "guest library's own TCP.</p>\n<p><a href=\"/status\">/status</a></p>\n</body></html>\n";

/* The end of the header block ("\r\n\r\n"), as an offset past it, or 0. */
static uint32_t http_header_end(const char *p, uint32_t len)
{
    for (uint32_t i = 0; i + 3 < len; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
            return i + 4;
    return 0;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Does p[0..n) equal word, ignoring case? */
static int same_word(const char *p, uint32_t n, const char *word)
{
    uint32_t i = 0;

    for (; i < n && word[i] != '\0'; i++)
        if (lower(p[i]) != word[i])
            return 0;
    return i == n && word[i] == '\0';
}

/* Is token (lower case) in the comma-separated list p[0..n)? */
static int list_has(const char *p, uint32_t n, const char *token)
{
    uint32_t i = 0;

    while (i < n) {
        uint32_t s, e;

        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
            i++;
        s = i;
        while (i < n && p[i] != ',')
            i++;
        e = i;
        while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
            e--;
        if (e > s && same_word(p + s, e - s, token))
            return 1;
    }
    return 0;
}

/* A character of an HTTP token (RFC 9110 tchar). */
static int is_tchar(char c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    for (const char *e = extra; *e != '\0'; e++)
        if (c == *e)
            return 1;
    return 0;
}

struct http_req {
    uint32_t method, method_len, target, target_len;
    int minor;                      /* HTTP/1.<minor> */
    int close, keep_alive, has_host, chunked;
    int64_t content_length;         /* -1: none */
};

/* "METHOD SP target SP HTTP/1.d" in line[0..n); 0 or -1. */
static int http_request_line(const char *p, uint32_t n, struct http_req *q)
{
    uint32_t i = 0;

    while (i < n && is_tchar(p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ' ')
        return -1;
    q->method_len = i++;
    q->target = i;
    while (i < n && p[i] > ' ' && p[i] < 0x7f)
        i++;
    if (i == q->target || i >= n || p[i] != ' ')
        return -1;
    q->target_len = i - q->target;
    i++;
    if (n - i != 8 || strncmp(p + i, "HTTP/1.", 7) != 0 || p[i + 7] < '0' || p[i + 7] > '9')
        return -1;
    q->minor = p[i + 7] - '0';
    return 0;
}

/* One "Name: value" line; 0 or -1. */
static int http_header(const char *p, uint32_t n, struct http_req *q)
{
    uint32_t colon = 0, v, e = n;

    while (colon < n && is_tchar(p[colon]))
        colon++;
    if (colon == 0 || colon >= n || p[colon] != ':')
        return -1;
    for (v = colon + 1; v < n && (p[v] == ' ' || p[v] == '\t'); v++)
        ;
    while (e > v && (p[e - 1] == ' ' || p[e - 1] == '\t'))
        e--;
    if (same_word(p, colon, "connection")) {
        q->close |= list_has(p + v, e - v, "close");
        q->keep_alive |= list_has(p + v, e - v, "keep-alive");
    } else if (same_word(p, colon, "host")) {
        q->has_host = 1;
    } else if (same_word(p, colon, "transfer-encoding")) {
        q->chunked = 1;
    } else if (same_word(p, colon, "content-length")) {
        int64_t cl = 0;

        if (v == e || q->content_length >= 0)
            return -1;          /* empty, or a second one */
        for (uint32_t i = v; i < e; i++) {
            if (p[i] < '0' || p[i] > '9' || cl > HTTPD_REQ_MAX)
                return -1;
            cl = cl * 10 + (p[i] - '0');
        }
        q->content_length = cl;
    }
    return 0;
}

/* Request line and headers in p[0..end); 0 or -1 (malformed). */
static int http_parse(const char *p, uint32_t end, struct http_req *q)
{
    uint32_t line = 0, first = 1;

    net_memset(q, 0, sizeof(*q));
    q->content_length = -1;
    while (line < end - 2) {
        uint32_t eol = line;

        while (eol + 1 < end && !(p[eol] == '\r' && p[eol + 1] == '\n'))
            eol++;
        for (uint32_t i = line; i < eol; i++)
            if (p[i] == '\0' || p[i] == '\n' || p[i] == '\r')
                return -1;      /* bare CR or LF, or NUL */
        if (first ? http_request_line(p + line, eol - line, q) < 0
                  : http_header(p + line, eol - line, q) < 0)
            return -1;
        first = 0;
        line = eol + 2;
    }
    return first ? -1 : 0;
}

static void http_route(const char *p, const struct http_req *q, struct http_reply *r)
{
    const char *t = p + q->target;
    int get = q->method_len == 3 && strncmp(p, "GET", 3) == 0;

    r->head = q->method_len == 4 && strncmp(p, "HEAD", 4) == 0;
    if (!get && !r->head) {
        r->status = 405;
        return;
    }
    r->status = 200;
    if (q->target_len == 1 && t[0] == '/')
        r->route = HTTP_ROUTE_PAGE;
    else if (q->target_len == 7 && strncmp(t, "/status", 7) == 0)
        r->route = HTTP_ROUTE_STATUS;
    else
        r->status = 404;
}

int http_handle(const char *req, uint32_t len, struct http_reply *r)
{
    uint32_t end = http_header_end(req, len);
    struct http_req q;

    net_memset(r, 0, sizeof(*r));
    if (end == 0) {
        if (len < HTTPD_REQ_MAX)
            return 0;
        r->status = 431;
        r->close = 1;
        return (int)len;
    }
    if (http_parse(req, end, &q) < 0 || (q.minor >= 1 && !q.has_host)) {
        r->status = 400;
        r->close = 1;
        return (int)len;
    }
    if (q.chunked) {
        r->status = 501;        /* we read no chunked bodies */
        r->close = 1;
        return (int)len;
    }
    if (q.content_length > 0) {
        if (end + (uint64_t)q.content_length > HTTPD_REQ_MAX) {
            r->status = 413;
            r->close = 1;
            return (int)len;
        }
        if (len < end + (uint32_t)q.content_length)
            return 0;
        end += (uint32_t)q.content_length;
    }
    http_route(req, &q, r);
    r->close = q.close || (q.minor == 0 && !q.keep_alive) || r->status == 405;
    return (int)end;
}

static const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    default: return "Error";
    }
}

uint32_t http_format(char *out, size_t size, const struct http_reply *r, uint64_t nth)
{
    char body[256];
    const char *b = body, *type = "text/plain";
    size_t blen, hlen;

    if (r->route == HTTP_ROUTE_PAGE) {
        b = page;
        blen = sizeof(page) - 1;
        type = "text/html";
    } else if (r->route == HTTP_ROUTE_STATUS) {
        blen = fmt_snprintf(body, sizeof(body),
                            "{\"guest\":\"%s.%u\",\"id\":%u,\"uptime_ms\":%lu,\"requests\":%lu}\n",
                            mf_name(), mf_instance(), mf_guest_id(),
                            (unsigned long)((mf_tsc() - mf_entry_tsc) / (mf_tsc_hz() / 1000)),
                            (unsigned long)nth);
        type = "application/json";
    } else {
        blen = fmt_snprintf(body, sizeof(body), "%d %s\n", r->status, http_reason(r->status));
    }
    hlen = fmt_snprintf(out, size,
                        "HTTP/1.1 %d %s\r\nServer: mayfly-httpd\r\nContent-Type: %s\r\n"
                        "Content-Length: %lu\r\nConnection: %s\r\n%s\r\n",
                        r->status, http_reason(r->status), type, (unsigned long)blen,
                        r->close ? "close" : "keep-alive",
                        r->status == 405 ? "Allow: GET, HEAD\r\n" : "");
    if (!r->head && hlen + blen < size) {
        net_memcpy(out + hlen, b, blen);
        hlen += blen;
    }
    return (uint32_t)hlen;
}
