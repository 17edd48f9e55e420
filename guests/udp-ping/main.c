/*
 * udp-ping: sends UDP datagrams to an echo server and checks what comes
 * back; or, with mesh=N, pings and echoes among N guests at once.
 *
 *   ip=a.b.c.d peer=a.b.c.d [port=7] [count=1000] [timeout=200] [retries=3]
 *       [window=1] [arp=3000] [samples=0]
 *     Resolves peer, sends count datagrams of 1..1472 payload bytes (the
 *     sizes cycle through a fixed table), each waited for (window > 1
 *     keeps that many in flight) and resent after timeout ms, retries
 *     times. Prints
 *       udp-ping: N/N replies intact, rtt min/avg/max A/B/C ticks
 *     (after it, with samples=1, every round trip in ticks, 12 a line:
 *       udp-ping: rtt FIRST..LAST: T T ...
 *     in sequence order, 0 for one not intact; the first 1024 datagrams)
 *     and exits 0 if every datagram came back intact, else 1; gives up with
 *       udp-ping: timeout: ...
 *     and exit 1 if the peer does not answer ARP or a datagram.
 *
 *   ip=10.0.0.K mesh=N [rounds=3] [port=7] [timeout=200] [giveup=30000]
 *     See mesh.c. Prints
 *       mesh 10.0.0.K: sent S, answered A, got G replies from P peers
 *
 * Exit status 2: bad arguments or no network port.
 */
#include "udp-ping.h"

int ping_arg(const char *key, uint64_t def, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *s = net_arg(key);
    int bad = 0;

    *out = def;
    if (s != NULL && mf_parse_u64(s, out) < 0)
        bad = 1;
    if (bad || *out < min || *out > max) {
        mf_printf("udp-ping: bad %s=%s (%lu..%lu)\n", key, s != NULL ? s : "",
                  (unsigned long)min, (unsigned long)max);
        return -1;
    }
    return 0;
}

int main(const struct mf_boot_info *bi)
{
    struct net_config cfg;
    uint64_t mesh;
    int ret;

    (void)bi;
    if (ping_arg("mesh", 0, 0, 32, &mesh) < 0)
        return 2;
    ret = net_config(&cfg);
    if (ret < 0) {
        mf_puts(ret == -MF_ENOENT ? "udp-ping: no network port (net=<switch> in the config)\n"
                                  : "udp-ping: usage: ip=a.b.c.d peer=a.b.c.d [port=7] "
                                    "[count=1000] [timeout=<ms>] | ip=a.b.c.d mesh=N [rounds=3]\n");
        return 2;
    }
    ret = net_up(&cfg);
    if (ret < 0) {
        mf_printf("udp-ping: network setup failed (%d)\n", ret);
        return 1;
    }
    return mesh ? mesh_run(&cfg, mesh) : ping_run(&cfg);
}
