/*
 * flood: sends UDP datagrams to a peer as fast as the TX ring allows, to
 * measure how few kicks (VM exits) the EVENT_IDX batching needs.
 *
 * Args: "ip=a.b.c.d peer=a.b.c.d [count=10000] [size=64] [port=9]". size
 * is the UDP payload (0..1472 bytes). Resolves peer with ARP, then fills
 * the TX ring with datagrams and publishes them in batches (net_queue,
 * net_flush: kick only when the device's avail_event asks for it),
 * reclaiming finished buffers as it goes. Prints
 *     flood: sent N frames, M kicks, K exits-ish
 * where M counts MF_HC_NET_KICK calls and K all hypercalls the network
 * driver made meanwhile (kicks, yields, waits), then a line with the time
 * taken. Exit status 0 when all were sent, 1 on a network failure or no
 * ARP answer, 2 on bad arguments.
 */
#include "mf.h"
#include "net/net.h"

#define FLOOD_SRC_PORT  9999

static uint8_t frame[MF_NET_FRAME_MAX];
static uint8_t payload[UDP_PAYLOAD_MAX];

static int flood_arg(const char *key, uint64_t def, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *s = net_arg(key);
    int bad = 0;

    *out = def;
    if (s != NULL && mf_parse_u64(s, out) < 0)
        bad = 1;
    if (bad || *out < min || *out > max) {
        mf_printf("flood: bad %s=%s (%lu..%lu)\n", key, s != NULL ? s : "",
                  (unsigned long)min, (unsigned long)max);
        return -1;
    }
    return 0;
}

/* One frame more into the ring: queued if there is room, else (after
 * publishing what is queued) sent the slow way, which waits for room. */
static int flood_one(size_t len)
{
    int ret = net_queue(frame, len);

    if (ret != -MF_EAGAIN)
        return ret;
    ret = net_flush();
    if (ret < 0)
        return ret;
    net_tx_reclaim();
    ret = net_queue(frame, len);
    if (ret == -MF_EAGAIN)
        ret = net_send(frame, len);
    /* Answer what came in meanwhile (ARP requests for us). */
    net_process();
    return ret;
}

int main(const struct mf_boot_info *bi)
{
    struct net_config cfg;
    const char *peer_arg = net_arg("peer");
    uint64_t count, size, port, sent = 0, t0, t1, kicks0, calls0;
    uint32_t peer;
    uint8_t mac[ETH_ALEN];
    char me[16], peer_text[16];
    int ret;

    (void)bi;
    if (peer_arg == NULL || net_parse_ip(peer_arg, &peer) < 0) {
        mf_puts("flood: usage: ip=a.b.c.d peer=a.b.c.d [count=N] [size=64] [port=9]\n");
        return 2;
    }
    if (flood_arg("count", 10000, 1, UINT32_MAX, &count) < 0 ||
        flood_arg("size", 64, 0, UDP_PAYLOAD_MAX, &size) < 0 ||
        flood_arg("port", 9, 1, 65535, &port) < 0)
        return 2;
    ret = net_config(&cfg);
    if (ret < 0) {
        mf_puts(ret == -MF_ENOENT ? "flood: no network port (net=<switch> in the config)\n"
                                  : "flood: need ip=a.b.c.d\n");
        return 2;
    }
    ret = net_up(&cfg);
    if (ret < 0) {
        mf_printf("flood: network setup failed (%d)\n", ret);
        return 1;
    }
    mf_printf("flood: %s -> %s port %lu: %lu datagrams of %lu bytes\n",
              net_format_ip(cfg.ip, me), net_format_ip(peer, peer_text), (unsigned long)port,
              (unsigned long)count, (unsigned long)size);
    ret = net_resolve(peer, mac, 3000);
    if (ret < 0) {
        mf_printf(ret == -MF_EAGAIN ? "flood: timeout: no ARP reply from %s\n"
                                    : "flood: network error resolving %s\n", peer_text);
        return 1;
    }

    for (size_t i = 0; i < size; i++)
        payload[i] = (uint8_t)i;
    kicks0 = net_counters()->kicks;
    calls0 = net_counters()->hypercalls;
    t0 = net_now();
    for (; sent < count; sent++) {
        size_t len;

        if (size >= 4)
            net_put32(payload, (uint32_t)sent);
        len = net_build_udp_frame(frame, mac, cfg.mac, cfg.ip, peer, (uint16_t)sent,
                                  FLOOD_SRC_PORT, (uint16_t)port, payload, size);
        ret = flood_one(len);
        if (ret < 0)
            break;
    }
    if (ret >= 0)
        ret = net_flush();
    t1 = net_now();
    mf_printf("flood: sent %lu frames, %lu kicks, %lu exits-ish\n", (unsigned long)sent,
              (unsigned long)(net_counters()->kicks - kicks0),
              (unsigned long)(net_counters()->hypercalls - calls0));
    mf_printf("flood: %lu ticks, %lu ticks per frame\n", (unsigned long)(t1 - t0),
              (unsigned long)(sent ? (t1 - t0) / sent : 0));
    if (ret < 0) {
        mf_printf("flood: stopped after %lu frames: network error %d\n", (unsigned long)sent, ret);
        return 1;
    }
    return 0;
}
