/*
 * The control channel under Bochs. Bochs 2.7 connects a serial port only
 * to a TCP socket (mode=socket-client or socket-server, dev=host:port),
 * and its server mode holds the whole simulation until a client connects.
 * So mfctl listens on 127.0.0.1 for Bochs's COM2 (socket-client) and
 * offers the same Unix socket server QEMU gives with
 * "-chardev socket,server=on,wait=off": one client at a time, bytes for
 * no client are dropped, and `--control SOCKET` means the same with both
 * emulators.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mfctl.h"

static int tcp_listener(unsigned *port)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
        error_say("cannot listen on 127.0.0.1 for Bochs's COM2: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(addr.sin_port);
    return fd;
}

/* Replaces a stale socket at path; never removes anything else. */
static int unix_listener(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        error_say("control socket path too long (at most %zu bytes): %s",
                  sizeof(addr.sun_path) - 1, path);
        return -1;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            error_say("%s exists and is not a socket: choose another --control path", path);
            return -1;
        }
        unlink(path);
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0) {
        error_say("cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int bridge_open(struct bridge *b, const char *path, unsigned *tcp_port)
{
    b->tcp = b->client = -1;
    b->unix_listen = -1;
    snprintf(b->path, sizeof(b->path), "%s", path);
    b->tcp_listen = tcp_listener(tcp_port);
    if (b->tcp_listen < 0)
        return -1;
    b->unix_listen = unix_listener(path);
    if (b->unix_listen < 0) {
        close(b->tcp_listen);
        b->tcp_listen = -1;
        return -1;
    }
    return 0;
}

static void add_fd(struct pollfd *fds, int *n, int fd)
{
    fds[*n].fd = fd;
    fds[*n].events = POLLIN;
    fds[*n].revents = 0;
    (*n)++;
}

int bridge_poll_fds(const struct bridge *b, struct pollfd *fds)
{
    int n = 0;

    if (b->tcp_listen >= 0)
        add_fd(fds, &n, b->tcp_listen);
    if (b->tcp >= 0)
        add_fd(fds, &n, b->tcp);
    /* Like QEMU's server: a second client waits in the backlog. */
    if (b->client < 0 && b->unix_listen >= 0)
        add_fd(fds, &n, b->unix_listen);
    /* A client's bytes wait until Bochs is there to take them. */
    if (b->client >= 0 && b->tcp >= 0)
        add_fd(fds, &n, b->client);
    return n;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Moves what is readable on *from to *to (dropped if *to is closed). */
static void relay(int *from, int *to)
{
    char buf[4096];
    ssize_t n = recv(*from, buf, sizeof(buf), 0);

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close_fd(from);
        return;
    }
    if (*to >= 0 && send_all(*to, buf, (size_t)n) < 0)
        close_fd(to);
}

void bridge_service(struct bridge *b, const struct pollfd *fds, int count)
{
    for (int i = 0; i < count; i++) {
        int fd = fds[i].fd, one = 1;
        if (!fds[i].revents)
            continue;
        if (fd == b->tcp_listen) {
            b->tcp = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
            if (b->tcp >= 0) {
                setsockopt(b->tcp, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                close_fd(&b->tcp_listen);
            }
        } else if (fd == b->unix_listen) {
            b->client = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        } else if (fd == b->tcp) {
            relay(&b->tcp, &b->client);
        } else if (fd == b->client) {
            relay(&b->client, &b->tcp);
        }
    }
}

void bridge_close(struct bridge *b)
{
    close_fd(&b->tcp_listen);
    close_fd(&b->tcp);
    close_fd(&b->client);
    if (b->unix_listen >= 0) {
        close_fd(&b->unix_listen);
        unlink(b->path);
    }
}
