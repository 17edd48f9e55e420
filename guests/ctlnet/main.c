/*
 * ctlnet: the control guest. The hypervisor starts it for a config line
 * `control net <switch> ip=... port=... [key=...]` and gives it, in the
 * capability slot after its network ports, the guest-control capability
 * (MF_OBJ_GUEST_CONTROL). It listens on port= and carries the control
 * protocol's bytes between one TCP client and the hypervisor through
 * MF_HC_CTL_XFER; the hypervisor parses and authenticates every frame
 * itself, so this guest can delay or drop requests but never forge one.
 *
 * Args: "ip=a.b.c.d port=N [mask=a.b.c.d] [gw=a.b.c.d]".
 *
 * One client at a time. A newer connection replaces the client being
 * served if that one closed its side or moved no byte for CTLNET_IDLE_MS;
 * otherwise the newcomer is closed at once (docs/mfctl.md). A client that
 * sends faster than the hypervisor takes is simply not read from (pump.h).
 *
 * Prints "ctlnet: serving control on IP:PORT" once, then a line per client
 * that connects, is refused or leaves.
 * Exit status: 1 if the network or MF_HC_CTL_XFER failed; 2 on bad
 * arguments, no network port or no control capability.
 */
#include "mf.h"
#include "net/net.h"
#include "net/tcp.h"
#include "pump.h"

#define CTLNET_IDLE_MS      2000    /* a client this quiet may be replaced */
#define CTLNET_WAIT_MS      1000    /* the loop looks at its client at least this often */
#define CTLNET_RETRY_MS     10      /* retry offering bytes the hypervisor did not take */
#define CTLNET_BACKLOG      2

static struct ctl_pump pump;
static int client = -1;             /* the TCP handle served, or -1 */
static unsigned ctl_slot;
static char client_name[24];        /* "a.b.c.d:port" of the client */

static long io_recv(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    return tcp_recv(client, buf, len);
}

static long io_send(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    return tcp_send(client, buf, len);
}

static long io_xfer(void *ctx, struct mf_ctl_xfer *x)
{
    (void)ctx;
    return mf_hypercall2(MF_HC_CTL_XFER, ctl_slot, (uint64_t)(uintptr_t)x);
}

static const struct ctl_pump_io pump_io = { io_recv, io_send, io_xfer, NULL };

static const char *error_name(long e)
{
    static const char *const names[] = {
        [MF_EINVAL] = "EINVAL", [MF_EFAULT] = "EFAULT", [MF_ENOSYS] = "ENOSYS",
        [MF_EPERM] = "EPERM", [MF_ENOENT] = "ENOENT", [MF_EAGAIN] = "EAGAIN",
        [MF_ERANGE] = "ERANGE", [MF_ENOMEM] = "ENOMEM", [MF_ETYPE] = "ETYPE", [MF_EIO] = "EIO",
    };

    return e < 0 && -e < (long)(sizeof(names) / sizeof(names[0])) && names[-e] ? names[-e] : "?";
}

/* The slot of the guest-control capability, or -1. */
static int find_control_slot(const struct mf_boot_info *bi)
{
    for (uint32_t i = 0; i < bi->cap_count && i < MF_CAP_SLOTS; i++)
        if (bi->caps[i].type == MF_OBJ_GUEST_CONTROL)
            return (int)bi->caps[i].slot;
    return -1;
}

/* "a.b.c.d:port" of a connection into buf. */
static const char *peer_name(int c, char *buf, size_t size)
{
    uint32_t ip = 0;
    uint16_t port = 0;
    char ip_text[16];

    tcp_peer(c, &ip, &port);
    fmt_snprintf(buf, size, "%s:%u", net_format_ip(ip, ip_text), (unsigned)port);
    return buf;
}

/* Ends the client's connection: FIN after what TCP holds, or RST. */
static void client_drop(const char *why, int reset)
{
    mf_printf("ctlnet: client %s %s (%lu bytes in, %lu out)\n", client_name, why,
              (unsigned long)pump.bytes_in, (unsigned long)pump.bytes_out);
    if (reset)
        tcp_abort(client);
    else
        tcp_close(client);
    client = -1;
}

/* Every connection the listener has ready: served, or closed at once. */
static void accept_clients(int listener)
{
    uint64_t idle = net_ms_to_ticks(CTLNET_IDLE_MS);
    char name[24];
    int c;

    while ((c = tcp_accept(listener)) >= 0) {
        peer_name(c, name, sizeof(name));
        switch (ctl_pump_admit(&pump, client >= 0, net_now(), idle)) {
        case CTL_ADMIT_REPLACE:
            /* A client that closed its side has simply left; one that
             * went quiet gives way to the newcomer. */
            client_drop(pump.eof ? "disconnected" : "idle, replaced by a newer connection", 0);
            /* fall through */
        case CTL_ADMIT_TAKE:
            client = c;
            net_memcpy(client_name, name, sizeof(name));
            ctl_pump_start(&pump, net_now());
            mf_printf("ctlnet: client %s connected\n", client_name);
            break;
        case CTL_ADMIT_REFUSE:
            mf_printf("ctlnet: refused %s: serving %s (one client at a time)\n", name,
                      client_name);
            tcp_close(c);
            break;
        }
    }
}

/* One turn for the client; returns the deadline for the next wait, or 0
 * when the guest must stop (XFER failed). */
static uint64_t serve_client(void)
{
    uint64_t now = net_now(), idle = net_ms_to_ticks(CTLNET_IDLE_MS);
    enum ctl_pump_result r = ctl_pump_turn(&pump, &pump_io, now);

    if (r == CTL_PUMP_XFER_FAILED) {
        mf_printf("ctlnet: MF_HC_CTL_XFER failed: %ld (%s)\n", pump.error,
                  error_name(pump.error));
        client_drop("dropped", 1);
        return 0;
    }
    if (r == CTL_PUMP_CLIENT_FAILED) {
        enum tcp_error e = tcp_error(client);

        client_drop(e == TCP_ERR_TIMEOUT ? "vanished (TCP timed out)"
                    : e == TCP_ERR_RESET ? "reset the connection" : "failed", 1);
    } else if (ctl_pump_finished(&pump, now, idle)) {
        client_drop("disconnected", 0);
    } else if (r == CTL_PUMP_MORE) {
        return now;
    } else if (pump.in_len > 0 && pump.out_len < CTL_PUMP_OUT) {
        /* The hypervisor says nothing when it has room again: ask soon.
         * (With out full the client is what holds things up: TCP wakes us.) */
        return now + net_ms_to_ticks(CTLNET_RETRY_MS);
    } else if (pump.eof) {
        return pump.last + idle;        /* when ctl_pump_finished may hold */
    }
    return now + net_ms_to_ticks(CTLNET_WAIT_MS);
}

/* The first XFER, before any client: shows at once whether the
 * hypervisor serves this capability (and drops what a predecessor left). */
static int probe_xfer(void)
{
    struct mf_ctl_xfer x = {
        .in_gpa = (uint64_t)(uintptr_t)pump.in, .out_gpa = (uint64_t)(uintptr_t)pump.out,
        .out_room = CTL_PUMP_OUT, .flags = MF_CTL_XFER_NEW_CLIENT,
    };
    long r = io_xfer(NULL, &x);

    if (r < 0)
        mf_printf("ctlnet: the hypervisor refused MF_HC_CTL_XFER on slot %u: %ld (%s)\n",
                  ctl_slot, r, error_name(r));
    return r < 0 ? -1 : 0;
}

static int setup(uint16_t port, int *listener)
{
    struct net_config cfg;
    char ip_text[16];
    int ret = net_config(&cfg);

    if (ret < 0) {
        mf_puts(ret == -MF_ENOENT ? "ctlnet: no network port (the control net line's switch)\n"
                                  : "ctlnet: usage: ip=a.b.c.d port=N [mask=a.b.c.d] "
                                    "[gw=a.b.c.d]\n");
        return 2;
    }
    ret = net_up(&cfg);
    if (ret == 0 && tcp_up() < 0) {
        mf_puts("ctlnet: bad gw= or mask= (a.b.c.d)\n");
        return 2;
    }
    *listener = ret < 0 ? ret : tcp_listen(port, CTLNET_BACKLOG);
    if (ret < 0 || *listener < 0) {
        mf_printf("ctlnet: network setup failed (%d)\n", ret < 0 ? ret : *listener);
        return 1;
    }
    if (probe_xfer() < 0)
        return 1;
    mf_printf("ctlnet: serving control on %s:%u\n", net_format_ip(cfg.ip, ip_text),
              (unsigned)port);
    return 0;
}

int main(const struct mf_boot_info *bi)
{
    const char *port_arg = net_arg("port");
    uint64_t port = 0, deadline;
    int slot = find_control_slot(bi), listener = -1, ret;

    if (slot < 0) {
        mf_puts("ctlnet: no control capability: this guest runs only as the hypervisor's "
                "'control net' guest\n");
        return 2;
    }
    ctl_slot = (unsigned)slot;
    if (port_arg == NULL || mf_parse_u64(port_arg, &port) < 0 || port == 0 || port > 65535) {
        mf_printf("ctlnet: port=%s: a TCP port 1..65535 is required\n",
                  port_arg != NULL ? port_arg : "(none)");
        return 2;
    }
    if ((ret = setup((uint16_t)port, &listener)) != 0)
        return ret;
    for (;;) {
        deadline = net_now() + net_ms_to_ticks(CTLNET_WAIT_MS);
        accept_clients(listener);
        if (client >= 0 && (deadline = serve_client()) == 0)
            return 1;
        if (tcp_wait(deadline) < 0 || net_error() < 0)
            break;
    }
    mf_printf("ctlnet: stopped: network error %d\n", net_error());
    return 1;
}
