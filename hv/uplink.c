#include "uplink.h"
#include "arch.h"
#include "console.h"
#include "fmt.h"
#include "lib.h"
#include "net.h"
#include "vswitch.h"

struct uplink {
    struct port port;               /* first: deliver() gets it back from the port */
    struct nic *nic;
    uint64_t busy_tsc;              /* ticks in polls that brought frames in */
    uint8_t buf[NIC_FRAME_MAX];     /* a received frame, on its way to the switch */
};

static struct uplink uplinks[CONFIG_UPLINKS_MAX];
static uint32_t uplink_bound;

_Static_assert(__builtin_offsetof(struct uplink, port) == 0, "an uplink starts with its port");

/* port_ops.deliver: out through the NIC (a full ring drops the frame). */
static int uplink_deliver(struct port *p, const uint8_t *frame, uint32_t len)
{
    struct uplink *u = (struct uplink *)(void *)p;

    if (len > NIC_FRAME_MAX || nic_send(u->nic, frame, len) < 0) {
        p->stats.drops_no_buffer++;
        return 0;
    }
    return 1;
}

static const struct port_ops uplink_ops = { uplink_deliver, NULL };

void uplink_poll(void)
{
    for (uint32_t i = 0; i < uplink_bound; i++) {
        struct uplink *u = &uplinks[i];
        struct vswitch *sw = u->port.sw;
        if (!sw)
            continue;
        uint64_t t0 = time_arch_tsc();
        uint32_t k = 0;
        lock_take(&sw->lock);
        vswitch_burst_begin(sw);        /* a poll's frames: one flush per receiver */
        for (; k < UPLINK_POLL_BUDGET; k++) {
            int32_t len = nic_recv(u->nic, u->buf, sizeof(u->buf));
            if (len == 0)
                break;
            if (len > 0)
                vswitch_forward(&u->port, u->buf, (uint32_t)len);
        }
        vswitch_burst_end(sw);
        lock_give(&sw->lock);
        if (k)
            u->busy_tsc += time_arch_tsc() - t0;
    }
}

int uplink_wanted(void)
{
    return uplink_bound != 0;
}

void uplink_report(void)
{
    for (uint32_t i = 0; i < uplink_bound; i++) {
        const struct uplink *u = &uplinks[i];
        const struct nic_counters *c = &u->nic->counters;
        kprintf("mayfly: uplink %s: %llu frames in, %llu out; %llu malformed from the wire, "
                "%llu missed by the NIC, %llu refused (transmit ring full); %llu TSC ticks "
                "taking frames in\n",
                u->port.sw ? u->port.sw->name : "-", (unsigned long long)c->rx_frames,
                (unsigned long long)c->tx_frames, (unsigned long long)c->rx_bad,
                (unsigned long long)c->rx_missed, (unsigned long long)c->tx_full,
                (unsigned long long)u->busy_tsc);
    }
}

/* The NIC for line u: its pci= address, else the first not taken. */
static struct nic *pick(const struct config_uplink *u, struct nic **nics, uint32_t count,
                        uint8_t *taken)
{
    for (uint32_t i = 0; i < count; i++) {
        struct nic *n = nics[i];
        if (taken[i] || (u->has_pci && (n->bus != u->bus || n->dev != u->dev || n->fn != u->fn)))
            continue;
        taken[i] = 1;
        return n;
    }
    return NULL;
}

uint32_t uplink_init(const struct config *cfg, struct nic **nics, uint32_t count)
{
    uint8_t taken[CONFIG_UPLINKS_MAX] = { 0 };     /* nic_scan brings up one per line */
    char mac[FMT_MAC_LEN];

    if (count > sizeof(taken))
        count = sizeof(taken);
    for (uint32_t i = 0; i < cfg->uplink_count; i++) {
        const struct config_uplink *c = &cfg->uplinks[i];
        int sw = config_find_switch(cfg, c->sw);
        struct nic *n = pick(c, nics, count, taken);
        struct uplink *u = &uplinks[uplink_bound];
        struct vswitch *s = sw >= 0 ? net_switch((uint32_t)sw) : NULL;
        int attached;

        if (!n || !s) {
            if (c->has_pci)
                kprintf("mayfly: uplink %s: no usable NIC at pci %02x:%02x.%u (see the pci "
                        "lines above): the switch runs without it\n", c->sw, c->bus, c->dev,
                        c->fn);
            else
                kprintf("mayfly: uplink %s: no usable NIC left (see the pci lines above): the "
                        "switch runs without it\n", c->sw);
            continue;
        }
        u->nic = n;
        if (c->has_mac && (!n->ops->set_mac || n->ops->set_mac(n, c->mac) < 0)) {
            kprintf("mayfly: uplink %s: %s cannot take mac= (it keeps its own address): "
                    "drop mac= from the uplink line\n", c->sw, n->name);
            continue;
        }
        if (c->has_mac)
            memcpy(n->mac, c->mac, 6);
        port_init(&u->port, &uplink_ops, PORT_F_UPLINK, n->mac, NULL, u);
        lock_take(&s->lock);
        attached = vswitch_attach(s, &u->port) == 0 && port_set_running(&u->port) == 0;
        lock_give(&s->lock);
        if (!attached) {
            kprintf("mayfly: uplink %s: the switch has no free port for it\n", c->sw);
            continue;
        }
        uplink_bound++;
        kprintf("mayfly: uplink %s: %s, mac %s\n", c->sw, n->name, fmt_mac(mac, u->port.mac));
    }
    return uplink_bound;
}
