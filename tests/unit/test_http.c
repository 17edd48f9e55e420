/*
 * Unit tests of httpd's request parser and replies (guests/httpd/http.c):
 * complete and incomplete requests, keep-alive and close, the error
 * statuses and the bounds. The guest runtime's few calls are stubbed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

/* mf.h declares the guest's main(); this one is the test's. */
#define main mf_guest_main
#include "../../guests/httpd/httpd.h"
#undef main

/* The runtime http_format reads for /status. */
uint64_t mf_entry_tsc;
const char *mf_name(void) { return "web"; }
uint32_t mf_instance(void) { return 0; }
uint32_t mf_guest_id(void) { return 7; }
uint64_t mf_tsc_hz(void) { return 1000000; }

static int handle(const char *req, struct http_reply *r)
{
    return http_handle(req, (uint32_t)strlen(req), r);
}

static void test_get_keep_alive(void **state)
{
    const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /status HTTP/1.1\r\nHost: x\r\n\r\n";
    struct http_reply r;
    int used;

    (void)state;
    used = handle(req, &r);
    assert_int_equal(used, 27);                     /* the first request only */
    assert_int_equal(r.status, 200);
    assert_int_equal(r.route, HTTP_ROUTE_PAGE);
    assert_false(r.close);                          /* HTTP/1.1: keep-alive by default */
    assert_false(r.head);
    used = handle(req + used, &r);
    assert_int_equal(r.route, HTTP_ROUTE_STATUS);
    assert_int_equal(used, 33);
}

static void test_incomplete_waits(void **state)
{
    struct http_reply r;

    (void)state;
    assert_int_equal(handle("GET / HTTP/1.1\r\nHost: x\r\n", &r), 0);
    assert_int_equal(handle("", &r), 0);
    /* A body announced and not all there yet. */
    assert_int_equal(handle("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab", &r), 0);
    assert_int_equal(handle("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde", &r),
                     51);
    assert_int_equal(r.status, 200);
}

static void test_connection_close(void **state)
{
    struct http_reply r;

    (void)state;
    handle("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
    assert_true(r.close);
    handle("GET / HTTP/1.1\r\nhost: x\r\nconnection:  Keep-Alive, CLOSE \r\n\r\n", &r);
    assert_true(r.close);
    handle("GET / HTTP/1.0\r\n\r\n", &r);          /* 1.0: close unless asked */
    assert_true(r.close);
    assert_int_equal(r.status, 200);
    handle("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r);
    assert_false(r.close);
}

static void test_errors(void **state)
{
    static char big[HTTPD_REQ_MAX + 1];
    struct http_reply r;

    (void)state;
    handle("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_int_equal(r.status, 404);
    assert_false(r.close);
    handle("POST / HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_int_equal(r.status, 405);
    handle("HEAD /status HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_true(r.head);
    static const char *const bad[] = {
        "GET / HTTP/1.1\r\n\r\n",                          /* 1.1 without Host */
        "GET /  HTTP/1.1\r\nHost: x\r\n\r\n",              /* two spaces */
        "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET\r\n\r\n",
        "\r\n\r\n",
        "GET / HTTP/1.1\r\nHost x\r\n\r\n",                /* no colon */
        "GET / HTTP/1.1\r\nHost: x\nBad: y\r\n\r\n",       /* bare LF */
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nab",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(handle(bad[i], &r), (int)strlen(bad[i]));
        assert_int_equal(r.status, 400);
        assert_true(r.close);
    }
    handle("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", &r);
    assert_int_equal(r.status, 501);
    handle("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", &r);
    assert_int_equal(r.status, 413);
    /* A header that never ends within the bound. */
    memset(big, 'a', HTTPD_REQ_MAX);
    assert_int_equal(http_handle(big, HTTPD_REQ_MAX - 1, &r), 0);
    assert_int_equal(http_handle(big, HTTPD_REQ_MAX, &r), HTTPD_REQ_MAX);
    assert_int_equal(r.status, 431);
    assert_true(r.close);
}

static void test_format(void **state)
{
    static char out[HTTPD_OUT_MAX + 1];
    struct http_reply r = { .status = 200, .route = HTTP_ROUTE_STATUS };
    uint32_t n;
    const char *body;

    (void)state;
    n = http_format(out, sizeof(out) - 1, &r, 42);
    out[n] = '\0';
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(out, "Connection: keep-alive\r\n"));
    body = strstr(out, "\r\n\r\n") + 4;
    assert_non_null(strstr(body, "\"guest\":\"web.0\""));
    assert_non_null(strstr(body, "\"id\":7"));
    assert_non_null(strstr(body, "\"requests\":42}"));
    {
        char want[40];

        snprintf(want, sizeof(want), "Content-Length: %zu\r\n", strlen(body));
        assert_non_null(strstr(out, want));
    }
    r.head = 1;
    r.route = HTTP_ROUTE_PAGE;
    r.close = 1;
    n = http_format(out, sizeof(out) - 1, &r, 1);
    out[n] = '\0';
    assert_string_equal(strstr(out, "\r\n\r\n"), "\r\n\r\n");  /* HEAD: no body */
    assert_non_null(strstr(out, "Connection: close\r\n"));
    r = (struct http_reply){ .status = 404 };
    n = http_format(out, sizeof(out) - 1, &r, 1);
    out[n] = '\0';
    assert_non_null(strstr(out, "HTTP/1.1 404 Not Found\r\n"));
    assert_non_null(strstr(out, "Content-Length: 14\r\n"));
    assert_string_equal(strstr(out, "\r\n\r\n") + 4, "404 Not Found\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_keep_alive),
        cmocka_unit_test(test_incomplete_waits),
        cmocka_unit_test(test_connection_close),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
