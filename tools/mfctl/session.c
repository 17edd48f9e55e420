/*
 * A control session: connect to the socket, HELLO (seq 1) for the
 * session's nonce and whether requests must carry a MAC, then one request
 * at a time with seq 2, 3, ..., each waiting for its own reply. Frames are
 * built and read by hv/ctl_frame.c, the hypervisor's own codec.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mayfly/abi.h"
#include "session.h"

#define KEY_FILE_MAX    4096
#define OWN_OPTIONS_MAX 20

/* Payload structures go on the wire as they are laid out in memory. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the control protocol is little-endian");

long long monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t tsc_to_ms(uint64_t ticks, uint64_t tsc_hz)
{
    if (!tsc_hz)
        return 0;
    return ticks / tsc_hz * 1000 + ticks % tsc_hz * 1000 / tsc_hz;
}

const char *ctl_type_name(unsigned type)
{
    static const char *const names[MF_CTL_TYPE_COUNT] = {
        [MF_CTL_HELLO] = "HELLO", [MF_CTL_LIST] = "LIST",
        [MF_CTL_UPLOAD_BEGIN] = "UPLOAD_BEGIN", [MF_CTL_UPLOAD_CHUNK] = "UPLOAD_CHUNK",
        [MF_CTL_UPLOAD_END] = "UPLOAD_END", [MF_CTL_START] = "START", [MF_CTL_STOP] = "STOP",
        [MF_CTL_STATS] = "STATS", [MF_CTL_LOGS] = "LOGS", [MF_CTL_SERVICES] = "SERVICES",
    };

    type &= ~(unsigned)MF_CTL_REPLY;
    return type < MF_CTL_TYPE_COUNT ? names[type] : NULL;
}

static const char *status_name(int32_t status)
{
    static const char *const names[] = {
        [MF_EINVAL] = "EINVAL", [MF_EFAULT] = "EFAULT", [MF_ENOSYS] = "ENOSYS",
        [MF_EPERM] = "EPERM", [MF_ENOENT] = "ENOENT", [MF_EAGAIN] = "EAGAIN",
        [MF_ERANGE] = "ERANGE", [MF_ENOMEM] = "ENOMEM", [MF_ETYPE] = "ETYPE", [MF_EIO] = "EIO",
    };

    if (status < 0 && -(int64_t)status < (int64_t)(sizeof(names) / sizeof(names[0])) &&
        names[-status])
        return names[-status];
    return "error";
}

void json_string(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void live_options_init(struct live_options *o)
{
    memset(o, 0, sizeof(*o));
    o->timeout_s = CTL_TIMEOUT_DEFAULT;
}

int live_option(const char *command, struct live_options *o, int opt, char **argv)
{
    switch (opt) {
    case 'C':
    case OPT_CONTROL: o->control = optarg; return LIVE_HANDLED;
    case OPT_KEY: o->key_hex = optarg; return LIVE_HANDLED;
    case OPT_KEY_FILE: o->key_file = optarg; return LIVE_HANDLED;
    case OPT_JSON: o->json = 1; return LIVE_HANDLED;
    case OPT_TIMEOUT:
        if (number_parse(optarg, 1, 86400, &o->timeout_s) < 0)
            return usage_error(command, "--timeout takes seconds from 1 to 86400, not '%s'",
                               optarg);
        return LIVE_HANDLED;
    case 'h': usage_print(command, stdout); return 0;
    case ':': return usage_error(command, "option '%s' needs a value", argv[optind - 1]);
    case '?': return usage_error(command, "unknown option '%s'", argv[optind - 1]);
    default: return LIVE_NOT_MINE;
    }
}

int live_parse(const char *command, int argc, char **argv, const struct option *own,
               own_option_fn fn, void *ctx, struct live_options *o)
{
    static const struct option common[] = { LIVE_LONG_OPTIONS };
    struct option all[sizeof(common) / sizeof(common[0]) + OWN_OPTIONS_MAX + 1];
    size_t n = 0;
    int opt, rc;

    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        all[n++] = common[i];
    for (size_t i = 0; own && own[i].name && i < OWN_OPTIONS_MAX; i++)
        all[n++] = own[i];
    memset(&all[n], 0, sizeof(all[n]));
    live_options_init(o);
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":hC:", all, NULL)) != -1) {
        rc = live_option(command, o, opt, argv);
        if (rc == LIVE_HANDLED)
            continue;
        if (rc != LIVE_NOT_MINE)
            return rc;
        if ((rc = fn(ctx, opt, optarg)) >= 0)
            return rc;
    }
    return live_options_check(command, o) ? EXIT_USAGE : -1;
}

int control_address_parse(const char *spec, struct control_address *a, char *why,
                          size_t why_size)
{
    const char *colon, *rest;
    unsigned long long port;

    memset(a, 0, sizeof(*a));
    if (strncmp(spec, "unix:", 5) == 0) {
        a->path = spec + 5;
        if (!a->path[0]) {
            snprintf(why, why_size, "'unix:' needs a socket path after it (unix:/tmp/mayfly.sock)");
            return -1;
        }
        return 0;
    }
    if (strncmp(spec, "tcp://", 6) != 0) {
        if (strstr(spec, "://")) {
            snprintf(why, why_size, "'%s': the control address is tcp://HOST:PORT, "
                     "unix:PATH or a socket path", spec);
            return -1;
        }
        a->path = spec;             /* a bare path: a Unix socket, as always */
        return 0;
    }
    rest = spec + 6;
    colon = strrchr(rest, ':');
    if (!colon || colon == rest || strchr(rest, '/') || strchr(rest, '[') ||
        memchr(rest, ':', (size_t)(colon - rest))) {
        snprintf(why, why_size, "'%s': a TCP control address is tcp://HOST:PORT with an IPv4 "
                 "address or a host name (tcp://192.168.1.50:7000)", spec);
        return -1;
    }
    if ((size_t)(colon - rest) >= sizeof(a->host) ||
        number_parse(colon + 1, 1, 65535, &port) < 0) {
        snprintf(why, why_size, "'%s': %s", spec, (size_t)(colon - rest) >= sizeof(a->host)
                 ? "the host name is too long" : "the port is a number from 1 to 65535");
        return -1;
    }
    a->tcp = 1;
    memcpy(a->host, rest, (size_t)(colon - rest));
    snprintf(a->port, sizeof(a->port), "%llu", port);
    return 0;
}

int live_options_check(const char *command, const struct live_options *o)
{
    struct control_address a;
    char why[MFCTL_PATH_MAX + 160];

    if (!o->control)
        return usage_error(command, "no control address: pass --control SOCKET (the one "
                           "'mfctl run --control SOCKET' serves) or --control tcp://HOST:PORT "
                           "(a 'control net' line's ip= and port=)");
    if (control_address_parse(o->control, &a, why, sizeof(why)) < 0)
        return usage_error(command, "--control %s", why);
    if (o->key_hex && o->key_file)
        return usage_error(command, "--key and --key-file: pass one");
    return 0;
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int key_parse(const char *hex, uint8_t *key, size_t *len, const char *what)
{
    size_t n = strlen(hex);

    if (n == 0 || n % 2 || n / 2 > CTL_KEY_MAX) {
        error_say("%s: a key is 2 to %d hex digits, an even number of them (as the config's "
                  "key=HEX)", what, 2 * CTL_KEY_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            error_say("%s: '%c%c' is not a hex byte: a key is hex digits (as the config's "
                      "key=HEX)", what, hex[i], hex[i + 1]);
            return -1;
        }
        key[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return 0;
}

int session_key(struct session *s, const struct live_options *o)
{
    char what[MFCTL_PATH_MAX + 16];
    uint8_t *text;
    size_t size, start = 0;
    int rc;

    s->key_len = 0;
    if (o->key_hex)
        return key_parse(o->key_hex, s->key, &s->key_len, "--key") < 0 ? EXIT_USAGE : 0;
    if (!o->key_file)
        return 0;
    if (file_read(o->key_file, KEY_FILE_MAX, &text, &size) < 0)
        return EXIT_USAGE;
    /* Surrounding white space (a final newline) is not part of the key. */
    while (size > 0 && isspace(text[size - 1]))
        text[--size] = '\0';
    while (start < size && isspace(text[start]))
        start++;
    snprintf(what, sizeof(what), "--key-file %s", o->key_file);
    rc = key_parse((const char *)text + start, s->key, &s->key_len, what);
    memset(text, 0, size);
    free(text);
    return rc < 0 ? EXIT_USAGE : 0;
}

static int connect_unix(struct session *s, const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    if (strlen(path) >= sizeof(addr.sun_path)) {
        error_say("control socket path too long (at most %zu bytes): %s",
                  sizeof(addr.sun_path) - 1, path);
        return EXIT_CONNECT;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        error_say("cannot connect to the control socket %s: %s (is 'mfctl run --control "
                  "%s' running?)", path, strerror(errno), path);
        if (s->fd >= 0)
            close(s->fd);
        s->fd = -1;
        return EXIT_CONNECT;
    }
    return 0;
}

/* One TCP connect to ai, given up after timeout_ms: a connected blocking
 * socket, or -1 with errno (ETIMEDOUT for no answer). */
static int connect_tcp_one(const struct addrinfo *ai, long long timeout_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol), err = 0, one = 1;
    socklen_t len = sizeof(err);

    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        long long deadline = monotonic_ms() + timeout_ms;
        int ready = 0;

        if (errno != EINPROGRESS)
            goto fail;
        for (;;) {
            long long left = deadline - monotonic_ms();
            if (left <= 0)
                break;
            ready = poll(&pfd, 1, (int)left);
            if (ready >= 0 || errno != EINTR)
                break;
        }
        if (ready <= 0) {
            errno = ready < 0 ? errno : ETIMEDOUT;
            goto fail;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            goto fail;
        if (err) {
            errno = err;
            goto fail;
        }
    }
    /* Blocking from here on (session_send); every frame goes out at once. */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
        goto fail;
    return fd;
fail:
    err = errno;
    close(fd);
    errno = err;
    return -1;
}

static int connect_tcp(struct session *s, const struct control_address *a)
{
    static const char check[] = "is the hypervisor's config 'control net ...' line's "
                                "ip=/port= this address? is the uplink up?";
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
    struct addrinfo *list, *ai;
    long long timeout_ms = CTL_CONNECT_TIMEOUT_MS;
    char ip[INET_ADDRSTRLEN] = "";
    int rc = getaddrinfo(a->host, a->port, &hints, &list), err = 0;

    if (rc != 0) {
        error_say("cannot connect to the control guest at %s: cannot resolve '%s' to an "
                  "IPv4 address: %s", s->path, a->host, gai_strerror(rc));
        return EXIT_CONNECT;
    }
    if ((long long)s->timeout_s * 1000 < timeout_ms)
        timeout_ms = (long long)s->timeout_s * 1000;
    for (ai = list; ai && s->fd < 0; ai = ai->ai_next) {
        getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof(ip), NULL, 0, NI_NUMERICHOST);
        s->fd = connect_tcp_one(ai, timeout_ms);
        err = errno;
    }
    freeaddrinfo(list);
    if (s->fd >= 0)
        return 0;
    if (err == ETIMEDOUT)
        error_say("cannot connect to the control guest at %s (%s): no answer within %lld ms: "
                  "%s", s->path, ip, timeout_ms, check);
    else
        error_say("cannot connect to the control guest at %s (%s): %s: %s", s->path, ip,
                  strerror(err), check);
    return EXIT_CONNECT;
}

int session_connect(struct session *s, const char *command, const struct live_options *o)
{
    struct control_address a;
    char why[MFCTL_PATH_MAX + 160];

    s->command = command;
    s->path = o->control;
    s->timeout_s = o->timeout_s;
    s->seq = 0;
    s->in_len = s->in_off = 0;
    s->fd = -1;
    ctl_parser_init2(&s->parser, 1);
    if (control_address_parse(o->control, &a, why, sizeof(why)) < 0) {
        error_say("--control %s", why);
        return EXIT_CONNECT;
    }
    s->tcp = a.tcp;
    return a.tcp ? connect_tcp(s, &a) : connect_unix(s, a.path);
}

void session_close(struct session *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    memset(s->key, 0, sizeof(s->key));
}

int session_send(struct session *s, const void *data, size_t len)
{
    const uint8_t *p = data;

    while (len > 0) {
        ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            error_say("cannot send to %s: %s", s->path, n < 0 ? strerror(errno) : "closed");
            return EXIT_CONNECT;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int session_read(struct session *s, long long deadline_ms, char *why, size_t why_size)
{
    for (;;) {
        /* The parser first: it may hold a frame still (after CTL_BAD, say). */
        struct ctl_frame f;
        size_t used = 0;
        int r = ctl_parser_feed(&s->parser, s->in + s->in_off, s->in_len - s->in_off, &used, &f,
                                NULL, why, why_size);

        s->in_off += used;
        if (r == CTL_FRAME) {
            s->reply.hdr = f.hdr;
            memcpy(s->reply.payload, f.payload, f.hdr.length);
            s->reply.has_mac = f.has_mac;
            memcpy(s->reply.mac, f.mac, sizeof(s->reply.mac));
            return 1;
        }
        if (r == CTL_BAD)
            return -2;
        s->in_off = s->in_len = 0;      /* CTL_NEED_MORE: all of it taken */

        long long left = deadline_ms - monotonic_ms();
        struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
        if (left <= 0)
            return 0;
        int ready = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
        if (ready < 0 && errno != EINTR) {
            snprintf(why, why_size, "poll: %s", strerror(errno));
            return -1;
        }
        if (ready <= 0)
            continue;
        ssize_t n = recv(s->fd, s->in, sizeof(s->in), 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            snprintf(why, why_size, "%s", n < 0 ? strerror(errno) : "the connection was closed");
            return -1;
        }
        s->in_len = (size_t)n;
    }
}

int session_reply_status(struct session *s, char *why, size_t why_size)
{
    struct mf_ctl_status st;

    if (s->reply.hdr.length < sizeof(st)) {
        snprintf(why, why_size, "a reply of %u bytes, too short for its status",
                 s->reply.hdr.length);
        return -1;
    }
    memcpy(&st, s->reply.payload, sizeof(st));
    s->status = st.status;
    memcpy(s->message, st.message, sizeof(s->message));
    s->message[sizeof(s->message) - 1] = '\0';
    return 0;
}

int session_reply_mac_ok(const struct session *s)
{
    struct ctl_frame f = {
        .hdr = s->reply.hdr, .payload = s->reply.payload, .has_mac = s->reply.has_mac,
    };

    memcpy(f.mac, s->reply.mac, sizeof(f.mac));
    return s->key_len && ctl_frame_verify(&f, s->key, s->key_len, s->nonce) == 0;
}

static int protocol_error(struct session *s, const char *fmt, const char *detail)
{
    fflush(stdout);
    fprintf(stderr, "mfctl: %s: protocol error: ", s->command);
    fprintf(stderr, fmt, detail);
    fputc('\n', stderr);
    return EXIT_CONNECT;
}

/*
 * Whether s->reply answers the request just sent. Without a key: our seq,
 * or type 0x80, the answer to a frame the hypervisor could not read (one
 * request at a time: it was ours). With a key, only our seq and type:
 * type 0x80 replies are never signed, so they may answer anyone's junk
 * on the line (the hypervisor drops most such replies anyway). Anything
 * else is a late reply to an earlier client's request.
 */
static int reply_is_ours(const struct session *s, unsigned type)
{
    if (s->reply.hdr.seq != s->want && s->reply.hdr.type != MF_CTL_REPLY)
        return 0;
    if (s->key_len)
        return s->reply.hdr.seq == s->want && s->reply.hdr.type == (type | MF_CTL_REPLY);
    return 1;
}

/* Waits for the reply to s->want; reports timeouts and broken replies. */
static int wait_reply(struct session *s, unsigned type, const char *what)
{
    long long deadline = monotonic_ms() + (long long)s->timeout_s * 1000;
    char why[256];

    for (;;) {
        int r = session_read(s, deadline, why, sizeof(why));
        if (r == 0) {
            error_say("%s: no reply to %s within %llu s (--timeout): is the hypervisor running "
                      "with '%s' in its mayfly.conf?", what, ctl_type_name(type),
                      s->timeout_s, s->tcp ? "control net" : "control com2");
            return EXIT_CONNECT;
        }
        if (r == -1) {
            /* The control guest serves one client at a time: a second
             * one is closed at once, and a restart drops its client. */
            error_say("%s: %s: %s%s", what, s->path, why,
                      s->tcp ? " (the control guest closes a new connection while another "
                      "client is active, and drops its client when it restarts: try again)"
                      : "");
            return EXIT_CONNECT;
        }
        if (r == -2)
            return protocol_error(s, "unreadable reply: %s", why);
        if (!(s->reply.hdr.type & MF_CTL_REPLY))
            return protocol_error(s, "%s", "a frame that is not a reply (type without 0x80)");
        if (reply_is_ours(s, type))
            return session_reply_status(s, why, sizeof(why)) < 0
                   ? protocol_error(s, "%s", why) : 0;
    }
}

static int request(struct session *s, unsigned type, const void *payload, uint32_t len)
{
    static uint8_t wire[CTL_WIRE_MAX];
    int mac = s->auth && s->key_len;
    size_t n;

    n = ctl_frame_encode(wire, sizeof(wire), (uint8_t)type, s->seq, payload, len,
                         mac ? s->key : NULL, mac ? s->key_len : 0, s->nonce);
    if (!n) {
        error_say("%s: cannot encode a %s request of %u bytes", s->command, ctl_type_name(type),
                  len);
        return EXIT_CONNECT;
    }
    return session_send(s, wire, n);
}

int session_hello(struct session *s, int require_key)
{
    char what[64];
    int rc;

    snprintf(what, sizeof(what), "%s: HELLO", s->command);
    s->seq = s->want = 1;
    s->auth = 0;
    memset(s->nonce, 0, sizeof(s->nonce));
    if ((rc = request(s, MF_CTL_HELLO, NULL, 0)) != 0 ||
        (rc = wait_reply(s, MF_CTL_HELLO, what)) != 0)
        return rc;
    if (s->status != 0) {
        error_say("%s: %s", what, s->message[0] ? s->message : status_name(s->status));
        return EXIT_REFUSED;
    }
    if (s->reply.hdr.type != (MF_CTL_HELLO | MF_CTL_REPLY) ||
        s->reply.hdr.length < sizeof(s->hello))
        return protocol_error(s, "%s", "the reply to HELLO is not a HELLO reply");
    memcpy(&s->hello, s->reply.payload, sizeof(s->hello));
    s->hello.version[sizeof(s->hello.version) - 1] = '\0';
    memcpy(s->nonce, s->hello.nonce, sizeof(s->nonce));
    s->auth = s->hello.auth_required != 0;
    if (s->hello.protocol_version != MF_CTL_VERSION) {
        error_say("the hypervisor speaks control protocol version %u; this mfctl speaks %u: "
                  "use the mfctl built with it", s->hello.protocol_version, MF_CTL_VERSION);
        return EXIT_CONNECT;
    }
    if (s->auth && !s->key_len && require_key) {
        error_say("the hypervisor requires authentication (its mayfly.conf sets "
                  "'control ... key=HEX'): pass the same key with --key HEX or --key-file FILE");
        return EXIT_REFUSED;
    }
    /* The HELLO reply cannot be authenticated (it brings the nonce), so
     * anyone on the line can send one saying "no key needed": with a key,
     * believing it would mean unsigned requests and unchecked replies. */
    if (!s->auth && s->key_len && require_key) {
        error_say("%s: a key was given but the HELLO reply from %s says no authentication is "
                  "needed: not sending unauthenticated requests. A hypervisor with 'key=' on "
                  "its control line always asks for it; if this one has no key, leave --key "
                  "out", s->command, s->path);
        return EXIT_REFUSED;
    }
    return 0;
}

int session_open(struct session *s, const char *command, const struct live_options *o)
{
    int rc;

    s->fd = -1;
    if ((rc = session_key(s, o)) != 0)
        return rc;
    if ((rc = session_connect(s, command, o)) != 0)
        return rc;
    return session_hello(s, 1);
}

int session_send_request(struct session *s, uint8_t type, const void *payload, uint32_t len,
                         uint32_t *seq)
{
    *seq = ++s->seq;
    return request(s, type, payload, len);
}

int session_call(struct session *s, uint8_t type, const void *payload, uint32_t len,
                 uint32_t min_reply, const char *what)
{
    uint32_t seq;
    int rc = session_send_request(s, type, payload, len, &seq);

    return rc ? rc : session_finish(s, seq, type, min_reply, what);
}

int session_finish(struct session *s, uint32_t seq, uint8_t type, uint32_t min_reply,
                   const char *what)
{
    int rc;

    s->want = seq;
    if ((rc = wait_reply(s, type, what)) != 0)
        return rc;
    /* With a key every reply must carry our MAC: an unsigned refusal may
     * be true (a wrong key gets one) but says nothing trustworthy, and an
     * unsigned or foreign-keyed success is never believed. */
    if (s->key_len && !session_reply_mac_ok(s)) {
        const char *how = !s->reply.has_mac ? "carries no MAC"
                          : "has a MAC that does not match the key given";
        if (s->status < 0) {
            error_say("%s: %s (the reply %s: is the key the one in the hypervisor's "
                      "mayfly.conf?)", what, s->message[0] ? s->message : status_name(s->status),
                      how);
            return EXIT_REFUSED;
        }
        fflush(stdout);
        fprintf(stderr, "mfctl: %s: protocol error: the reply to %s %s, so its success "
                "cannot be believed: is something other than the hypervisor answering on %s?\n",
                s->command, ctl_type_name(type), how, s->path);
        return EXIT_CONNECT;
    }
    if (s->status < 0) {
        if (s->quiet_status && s->status == s->quiet_status)
            return EXIT_REFUSED;            /* the caller expected it and says what it means */
        if (s->message[0])
            error_say("%s: %s", what, s->message);
        else
            error_say("%s: refused (%s, status %d)", what, status_name(s->status), s->status);
        return EXIT_REFUSED;
    }
    if (s->reply.hdr.type != (type | MF_CTL_REPLY) || s->reply.hdr.length < min_reply) {
        char why[128];
        snprintf(why, sizeof(why), "a reply of type 0x%02x and %u bytes to %s, expected type "
                 "0x%02x and at least %u bytes", s->reply.hdr.type, s->reply.hdr.length,
                 ctl_type_name(type), type | MF_CTL_REPLY, min_reply);
        return protocol_error(s, "%s", why);
    }
    return 0;
}
