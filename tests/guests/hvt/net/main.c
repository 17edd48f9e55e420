/*
 * hvt-net: an ARP / ICMP echo / UDP echo responder on a Solo5 NET_BASIC
 * device, so that the native guest guests/udp-ping can drive it through a
 * Mayfly switch (udp-ping ... peer=<our ip> [port=7]: it ARPs for us,
 * then sends UDP datagrams of 1..1472 bytes from port 10000 + its last
 * octet and checks that each comes back intact). Manifest: one NET_BASIC
 * device named "service" (handle 1); MAC and MTU from the host's manifest
 * copy (bi->mft entry 1: u.net). Packet code: guests/lib/net/proto.c.
 *
 * Args: ip=a.b.c.d [idle=<seconds>, default 30, 0: never] [mode=never-polls]
 *
 * Starts with
 *   hvt-net: <ip> mac <xx:xx:xx:xx:xx:xx> mtu <mtu> handle <h>, idle <s> s
 * then loops: POLL (timeout up to 100 ms), and when our handle is in the
 * ready set, NET_READ until HVT_R_AGAIN, answering
 *   - ARP requests for our IP (a reply to the sender),
 *   - ICMP echo requests to our IP (an echo reply),
 *   - every UDP datagram to our IP: sent back to its sender with addresses
 *     and ports swapped, payload unchanged.
 * A UDP payload of exactly "quit" (or "quit\n") is echoed and then ends
 * the guest; so does <idle> seconds without a frame for us. Ends with
 *   hvt-net: quit received            (or: hvt-net: idle for <s> s)
 *   hvt-net: answered <A> arp, <I> icmp, <U> udp; ignored <X>, send failures <F>
 * and exit 0. Errors: bad or missing ip=, bad idle= or mode=, or no
 * attached NET_BASIC "service": hvt-net: FAIL <what>, exit 2; NET_READ returning anything
 * but OK or AGAIN: hvt-net: FAIL NET_READ returned <r>, exit 1.
 *
 * mode=never-polls: prints
 *   hvt-net: never-polls: not reading, spinning
 * and spins forever without a hypercall: its port's queue fills and the
 * host drops what does not fit; the host's time limit or a stop ends it.
 */
#include "hvtlib.h"
#include "net/proto.h"

#ifdef HVT_NET_SPARES
/* hvt-net3: the same responder with two more NET_BASIC devices it never
 * uses, so that each instance holds three Solo5 network ports: soak.sh
 * starts more of them than the port pool holds, behind busy partitions,
 * for launches that fail after their START was accepted. */
HVT_MANIFEST(3, HVT_DEVICE_NET("service"), HVT_DEVICE_NET("spare1"), HVT_DEVICE_NET("spare2"));
#else
HVT_MANIFEST(1, HVT_DEVICE_NET("service"));
#endif

#define FRAME_BUF       2048
#define POLL_MAX_NS     100000000ull    /* 100 ms */
#define IDLE_DEFAULT    30              /* seconds */
#define ARG_MAX         32

static struct {
    uint64_t handle;
    uint8_t mac[ETH_ALEN];
    uint32_t ip;
    uint16_t ip_id;
    uint64_t arp, icmp, udp, ignored, send_failures;
    int quit;
} net;

static uint8_t in[FRAME_BUF], out[FRAME_BUF];

static void net_send(size_t len)
{
    if (len < ETH_MIN_FRAME) {
        memset(out + len, 0, ETH_MIN_FRAME - len);
        len = ETH_MIN_FRAME;
    }
    if (hvt_net_write(net.handle, out, len) != HVT_R_OK)
        net.send_failures++;
}

/* 1 if the ARP request was for us and is answered. */
static int answer_arp(const uint8_t *p, size_t len)
{
    struct arp_pkt a;

    if (arp_parse(p, len, &a) != 0 || a.op != ARP_OP_REQUEST || a.tpa != net.ip)
        return 0;
    net_send(net_build_arp_frame(out, ARP_OP_REPLY, net.mac, net.ip, a.sha, a.spa));
    net.arp++;
    return 1;
}

static int answer_icmp(const struct eth_hdr *eh, const struct ipv4_hdr *ih,
                       const uint8_t *p, size_t len)
{
    uint8_t *ip = out + ETH_HLEN, *icmp = ip + IPV4_HLEN;

    if (icmp_parse(p, len) != ICMP_ECHO_REQUEST || ETH_HLEN + IPV4_HLEN + len > FRAME_BUF)
        return 0;
    eth_build(out, eh->src, net.mac, ETH_TYPE_IPV4);
    ipv4_build(ip, IPV4_PROTO_ICMP, net.ip, ih->src, net.ip_id++, len);
    memcpy(icmp, p, len);
    icmp_echo_to_reply(icmp, len);
    net_send(ETH_HLEN + IPV4_HLEN + len);
    net.icmp++;
    return 1;
}

static int answer_udp(const struct eth_hdr *eh, const struct ipv4_hdr *ih,
                      const uint8_t *p, size_t len)
{
    struct udp_hdr uh;
    const uint8_t *data;
    size_t dlen;

    if (udp_parse(p, len, ih->src, ih->dst, &uh, &data, &dlen) != 0 || dlen > UDP_PAYLOAD_MAX)
        return 0;
    net_send(net_build_udp_frame(out, eh->src, net.mac, net.ip, ih->src, net.ip_id++,
                                 uh.dst_port, uh.src_port, data, dlen));
    net.udp++;
    if ((dlen == 4 && memcmp(data, "quit", 4) == 0) ||
        (dlen == 5 && memcmp(data, "quit\n", 5) == 0))
        net.quit = 1;
    return 1;
}

/* 1 if the frame was for us and answered. */
static int answer(const uint8_t *frame, size_t len)
{
    struct eth_hdr eh;
    struct ipv4_hdr ih;
    const uint8_t *p;
    size_t plen;

    if (eth_parse(frame, len, &eh) != 0)
        return 0;
    if (eh.type == ETH_TYPE_ARP)
        return answer_arp(frame + ETH_HLEN, len - ETH_HLEN);
    if (eh.type != ETH_TYPE_IPV4 ||
        ipv4_parse(frame + ETH_HLEN, len - ETH_HLEN, &ih, &p, &plen) != 0 || ih.dst != net.ip)
        return 0;
    if (ih.proto == IPV4_PROTO_ICMP)
        return answer_icmp(&eh, &ih, p, plen);
    if (ih.proto == IPV4_PROTO_UDP)
        return answer_udp(&eh, &ih, p, plen);
    return 0;
}

/* Reads until AGAIN; the number of frames answered, or -1. */
static int drain(void)
{
    int answered = 0;

    for (;;) {
        uint64_t len = sizeof(in);
        int ret = hvt_net_read(net.handle, in, &len);

        if (ret == HVT_R_AGAIN)
            return answered;
        if (ret != HVT_R_OK) {
            hvt_printf("hvt-net: FAIL NET_READ returned %d\n", ret);
            return -1;
        }
        if (len <= sizeof(in) && answer(in, len))
            answered++;
        else
            net.ignored++;
        if (net.quit)
            return answered;
    }
}

static int serve(uint64_t idle_s)
{
    uint64_t idle_ticks = hvt_ns_to_tsc(idle_s * 1000000000ull), last = hvt_tsc();

    while (!net.quit) {
        uint64_t ready = 0;
        int n;

        hvt_poll(POLL_MAX_NS, &ready);
        if (ready & (1ull << net.handle)) {
            n = drain();
            if (n < 0)
                return 1;
            if (n > 0)
                last = hvt_tsc();
        }
        if (idle_s != 0 && hvt_tsc() - last >= idle_ticks) {
            hvt_printf("hvt-net: idle for %lu s\n", (unsigned long)idle_s);
            break;
        }
    }
    if (net.quit)
        hvt_puts("hvt-net: quit received\n");
    hvt_printf("hvt-net: answered %lu arp, %lu icmp, %lu udp; ignored %lu, send failures %lu\n",
               (unsigned long)net.arp, (unsigned long)net.icmp, (unsigned long)net.udp,
               (unsigned long)net.ignored, (unsigned long)net.send_failures);
    return 0;
}

static int setup(uint64_t *idle_s)
{
    const struct hvt_mft_entry *e = hvt_device("service", HVT_MFT_NET_BASIC, &net.handle);
    char arg[ARG_MAX], ip[16], mac[18];

    if (hvt_arg("ip", arg, sizeof(arg)) < 0 || net_parse_ip(arg, &net.ip) < 0) {
        hvt_puts("hvt-net: FAIL need ip=a.b.c.d\n");
        return -1;
    }
    *idle_s = IDLE_DEFAULT;
    if (hvt_arg("idle", arg, sizeof(arg)) == 0 && hvt_parse_u64(arg, idle_s) < 0) {
        hvt_puts("hvt-net: FAIL idle=<seconds>\n");
        return -1;
    }
    if (e == NULL || !e->attached || net.handle >= 64) {
        hvt_puts("hvt-net: FAIL no attached NET_BASIC device named service\n");
        return -1;
    }
    memcpy(net.mac, e->u.net.mac, ETH_ALEN);
    hvt_printf("hvt-net: %s mac %s mtu %u handle %lu, idle %lu s\n", net_format_ip(net.ip, ip),
               net_format_mac(net.mac, mac), e->u.net.mtu, (unsigned long)net.handle,
               (unsigned long)*idle_s);
    return 0;
}

int main(const struct hvt_boot_info *bi)
{
    char mode[ARG_MAX];
    uint64_t idle_s;

    (void)bi;
    if (setup(&idle_s) < 0)
        return 2;
    if (hvt_arg("mode", mode, sizeof(mode)) < 0)
        return serve(idle_s);
    if (strcmp(mode, "never-polls") != 0) {
        hvt_puts("hvt-net: FAIL mode= must be never-polls\n");
        return 2;
    }
    hvt_puts("hvt-net: never-polls: not reading, spinning\n");
    for (;;)
        __asm__ volatile("pause");
}
