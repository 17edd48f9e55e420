/*
 * udp-echo: a UDP echo server on the guest's first network port.
 *
 * Args: "ip=a.b.c.d [port=7] [idle=<ms>] [count=N]". Answers ARP and ICMP
 * echo requests and sends every UDP datagram to port back to where it
 * came from, unchanged. Stops once no datagram has come for idle
 * milliseconds (default 5000; 0 runs forever), or once it has echoed
 * count datagrams (0, the default: no limit), and prints
 *     udp-echo: echoed N datagrams
 * Exit status: 0 after idling out; 1 if the port failed; 2 on bad
 * arguments or no port.
 */
#include "mf.h"
#include "net/net.h"

#define DEFAULT_PORT    7
#define DEFAULT_IDLE_MS 5000

static struct udp_datagram dgram;

/* The number after key= (or def when absent); -1 if it is malformed. */
static int arg_number(const char *key, uint64_t def, uint64_t max, uint64_t *out)
{
    const char *s = net_arg(key);

    *out = def;
    if (s != NULL && (mf_parse_u64(s, out) < 0 || *out > max)) {
        mf_printf("udp-echo: bad %s=%s\n", key, s);
        return -1;
    }
    return 0;
}

int main(const struct mf_boot_info *bi)
{
    struct net_config cfg;
    uint64_t port, idle_ms, count, echoed = 0, last;
    char ip_text[16], mac_text[18];
    int ret;

    (void)bi;
    if (arg_number("port", DEFAULT_PORT, 65535, &port) < 0 || port == 0 ||
        arg_number("idle", DEFAULT_IDLE_MS, UINT32_MAX, &idle_ms) < 0 ||
        arg_number("count", 0, UINT32_MAX, &count) < 0)
        return 2;
    ret = net_config(&cfg);
    if (ret < 0) {
        mf_puts(ret == -MF_ENOENT ? "udp-echo: no network port (net=<switch> in the config)\n"
                                  : "udp-echo: usage: ip=a.b.c.d [port=7] [idle=<ms>] [count=N]\n");
        return 2;
    }
    ret = net_up(&cfg);
    if (ret < 0) {
        mf_printf("udp-echo: network setup failed (%d)\n", ret);
        return 1;
    }
    udp_bind((uint16_t)port);
    mf_printf("udp-echo: %s (%s) echoing UDP port %u, idle %u ms\n",
              net_format_ip(cfg.ip, ip_text), net_format_mac(cfg.mac, mac_text),
              (unsigned)port, (unsigned)idle_ms);

    last = net_now();
    while (!count || echoed < count) {
        uint64_t deadline = idle_ms ? last + net_ms_to_ticks(idle_ms) : MF_WAIT_FOREVER;

        ret = udp_recv_wait(&dgram, deadline);
        if (ret < 0)
            break;
        if (ret == 0) {
            if (idle_ms && net_now() >= deadline)
                break;
            continue;
        }
        last = net_now();
        if (udp_sendto(dgram.src_ip, dgram.src_port, dgram.dst_port, dgram.data, dgram.len) == 0)
            echoed++;
        if (net_error() < 0) {
            ret = net_error();
            break;
        }
    }
    mf_printf("udp-echo: echoed %lu datagrams\n", (unsigned long)echoed);
    if (ret < 0) {
        mf_printf("udp-echo: stopped: network error %d\n", ret);
        return 1;
    }
    return 0;
}
