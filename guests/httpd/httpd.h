/* httpd (main.c: connections and the loop; http.c: requests and replies). */
#ifndef GUESTS_HTTPD_H
#define GUESTS_HTTPD_H

#include "mf.h"
#include "net/net.h"
#include "net/tcp.h"

#define HTTPD_REQ_MAX   4096        /* one request's header and body, at most */
#define HTTPD_OUT_MAX   2048        /* one reply */

enum http_route { HTTP_ROUTE_NONE, HTTP_ROUTE_PAGE, HTTP_ROUTE_STATUS };

struct http_reply {
    int status;                     /* 200, 400, 404, ... */
    int head;                       /* HEAD: no body */
    int close;                      /* close the connection after it */
    enum http_route route;
};

struct httpd_client {
    int tcp;
    uint8_t open, eof, closing, broken;
    uint32_t req_len, out_len, out_off;
    uint64_t last;                  /* TSC of the last request or byte */
    char req[HTTPD_REQ_MAX];
    char out[HTTPD_OUT_MAX];
};

/* Looks at the bytes received so far: 0 while the request is incomplete,
 * else the bytes it used (the request, or all of them after an error that
 * ends the connection) and *r says what to answer. */
int http_handle(const char *req, uint32_t len, struct http_reply *r);
/* Writes the reply (request number nth) into out; returns its length. */
uint32_t http_format(char *out, size_t size, const struct http_reply *r, uint64_t nth);

#endif
