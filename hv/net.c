#include "lock.h"
#include "net.h"
#include "service.h"
#include "lib.h"
#include "pool.h"

static struct vswitch switches[CONFIG_SWITCHES_MAX];
static uint32_t switch_count;
static struct vport *ports;
static struct vport **free_ports;
static uint32_t free_count, port_count;
static struct qport *qports;
static struct qport **free_qports;
static uint32_t free_qcount, qport_count;

uint32_t net_queue_ports_of(const struct config_guest *g)
{
    uint32_t n = 0;
    for (uint32_t d = 0; d < g->device_count; d++)
        n += g->devices[d].kind == CONFIG_DEVICE_NET;
    return n;
}

void net_ports_needed(const struct config *cfg, uint32_t partitions, struct net_ports *out)
{
    uint64_t v = cfg->control ? NET_CONTROL_PORTS : 0;
    uint64_t q = cfg->control ? NET_CONTROL_QUEUE_PORTS : 0;

    for (uint32_t i = 0; i < cfg->guest_count; i++) {
        v += (uint64_t)cfg->guests[i].count * cfg->guests[i].net_count;
        q += (uint64_t)cfg->guests[i].count * net_queue_ports_of(&cfg->guests[i]);
    }
    /* A summoned instance takes one port, of either kind (by its image). */
    for (uint32_t i = 0; i < cfg->summon_count; i++) {
        v += cfg->summons[i].max;
        q += cfg->summons[i].max;
    }
    if (v > (uint64_t)partitions * CONFIG_NETS_MAX)
        v = (uint64_t)partitions * CONFIG_NETS_MAX;
    if (q > (uint64_t)partitions * CONFIG_DEVICES_MAX)
        q = (uint64_t)partitions * CONFIG_DEVICES_MAX;
    out->virtio = (uint32_t)v;
    out->queue = (uint32_t)q;
}

static uint32_t fdb_capacity(uint32_t ports_needed)
{
    uint32_t c = 16;
    while (c < 2 * ports_needed)
        c *= 2;
    return c;
}

uint64_t net_footprint(const struct config *cfg, const struct net_ports *n)
{
    uint32_t ports_needed = n->virtio + n->queue + cfg->uplink_count + cfg->summon_count;
    uint64_t per_switch = ports_needed * sizeof(struct port *) +
                          fdb_capacity(ports_needed) * sizeof(struct fdb_entry) + 64;
    return n->virtio * (sizeof(struct vport) + sizeof(struct vport *) + 16) +
           n->queue * (sizeof(struct qport) + sizeof(struct qport *) + 16) +
           cfg->switch_count * per_switch + cfg->summon_count * (SERVICE_HOLD_BYTES + 16);
}

static int queue_ports_init(uint32_t count)
{
    qport_count = count;
    if (!count)
        return 0;
    qports = pool_alloc_bytes(count * sizeof(*qports), 16);
    free_qports = pool_alloc_bytes(count * sizeof(*free_qports), 8);
    if (!qports || !free_qports)
        return -1;
    for (uint32_t i = 0; i < count; i++)
        free_qports[i] = &qports[count - 1 - i];
    free_qcount = count;
    return 0;
}

/* Every switch has a slot for each uplink line and each summoned
 * service's front (at most a few). */
int net_init(const struct config *cfg, const struct net_ports *n)
{
    uint32_t ports_needed = n->virtio + n->queue + cfg->uplink_count + cfg->summon_count;

    port_count = n->virtio;
    switch_count = cfg->switch_count;
    if (queue_ports_init(n->queue) < 0)
        return -1;
    if (!ports_needed)
        return 0;
    ports = n->virtio ? pool_alloc_bytes(n->virtio * sizeof(*ports), 16) : NULL;
    free_ports = n->virtio ? pool_alloc_bytes(n->virtio * sizeof(*free_ports), 8) : NULL;
    if (n->virtio && (!ports || !free_ports))
        return -1;
    for (uint32_t i = 0; i < n->virtio; i++)
        free_ports[i] = &ports[n->virtio - 1 - i];
    free_count = n->virtio;
    for (uint32_t i = 0; i < switch_count; i++) {
        uint32_t fc = fdb_capacity(ports_needed);
        struct port **slots = pool_alloc_bytes(ports_needed * sizeof(*slots), 8);
        struct fdb_entry *fdb = pool_alloc_bytes(fc * sizeof(*fdb), 8);
        if (!slots || !fdb)
            return -1;
        vswitch_init(&switches[i], cfg->switches[i], slots, ports_needed, fdb, fc);
    }
    return 0;
}

/* The free lists, from any CPU (launches and teardowns). */
static struct lock pool_lock;

/* Attaches p to switch sw under the switch's lock. 0, or -1 (full). */
static int attach(struct vswitch *sw, struct port *p, int start)
{
    int r;

    lock_take(&sw->lock);
    r = vswitch_attach(sw, p);
    if (r == 0 && start)
        port_set_running(p);
    lock_give(&sw->lock);
    return r;
}

static void detach(struct port *p)
{
    struct vswitch *sw = p->sw;

    if (!sw)
        return;
    lock_take(&sw->lock);
    vswitch_detach(p);
    lock_give(&sw->lock);
}

/* Takes the last of n entries of list (NULL when empty), or puts p back. */
static void *pool_pop(void **list, uint32_t *n)
{
    void *p = NULL;

    lock_take(&pool_lock);
    if (*n)
        p = list[--*n];
    lock_give(&pool_lock);
    return p;
}

static void pool_push(void **list, uint32_t *n, void *p)
{
    lock_take(&pool_lock);
    list[(*n)++] = p;
    lock_give(&pool_lock);
}

struct vport *net_port_take(uint32_t sw, const uint8_t mac[6], const struct guest_mem *mem,
                            void (*notify)(struct port *p, enum port_event event), void *owner)
{
    struct vport *p;

    if (sw >= switch_count || !(p = pool_pop((void **)free_ports, &free_count)))
        return NULL;
    vport_init(p, mac, mem, notify, owner);
    if (attach(&switches[sw], &p->port, 0) < 0) {
        pool_push((void **)free_ports, &free_count, p);
        return NULL;
    }
    return p;
}

void net_port_give(struct vport *p)
{
    detach(&p->port);
    pool_push((void **)free_ports, &free_count, p);
}

struct qport *net_queue_port_take(uint32_t sw, const uint8_t mac[6],
                                  void (*notify)(struct port *p, enum port_event event),
                                  void *owner)
{
    struct qport *q;

    if (sw >= switch_count || !(q = pool_pop((void **)free_qports, &free_qcount)))
        return NULL;
    qport_init(q, mac, notify, owner);
    if (attach(&switches[sw], &q->port, 1) < 0) {
        pool_push((void **)free_qports, &free_qcount, q);
        return NULL;
    }
    return q;
}

void net_queue_port_give(struct qport *q)
{
    detach(&q->port);
    pool_push((void **)free_qports, &free_qcount, q);
}

uint32_t net_queue_ports_free(void)
{
    return free_qcount;
}

uint32_t net_ports_free(void)
{
    return free_count;
}

uint32_t net_ports_total(void)
{
    return port_count;
}

uint32_t net_queue_ports_total(void)
{
    return qport_count;
}

struct vswitch *net_switch(uint32_t index)
{
    return index < switch_count ? &switches[index] : NULL;
}

uint32_t net_switch_count(void)
{
    return switch_count;
}
