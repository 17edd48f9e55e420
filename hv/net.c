#include "net.h"
#include "lib.h"
#include "pool.h"

static struct vswitch switches[CONFIG_SWITCHES_MAX];
static uint32_t switch_count;
static struct vport *ports;
static struct vport **free_ports;
static uint32_t free_count, port_count;

uint32_t net_ports_needed(const struct config *cfg, uint32_t partitions)
{
    uint64_t n = cfg->control ? NET_CONTROL_PORTS : 0;

    for (uint32_t i = 0; i < cfg->guest_count; i++)
        n += (uint64_t)cfg->guests[i].count * cfg->guests[i].net_count;
    if (n > (uint64_t)partitions * CONFIG_NETS_MAX)
        n = (uint64_t)partitions * CONFIG_NETS_MAX;
    return (uint32_t)n;
}

static uint32_t fdb_capacity(uint32_t ports_needed)
{
    uint32_t c = 16;
    while (c < 2 * ports_needed)
        c *= 2;
    return c;
}

uint64_t net_footprint(const struct config *cfg, uint32_t ports_needed)
{
    uint64_t per_switch = ports_needed * sizeof(struct port *) +
                          fdb_capacity(ports_needed) * sizeof(struct fdb_entry) + 64;
    return ports_needed * (sizeof(struct vport) + sizeof(struct vport *) + 16) +
           cfg->switch_count * per_switch;
}

int net_init(const struct config *cfg, uint32_t ports_needed)
{
    port_count = ports_needed;
    switch_count = cfg->switch_count;
    if (!ports_needed)
        return 0;
    ports = pool_alloc_bytes(ports_needed * sizeof(*ports), 16);
    free_ports = pool_alloc_bytes(ports_needed * sizeof(*free_ports), 8);
    if (!ports || !free_ports)
        return -1;
    for (uint32_t i = 0; i < ports_needed; i++)
        free_ports[i] = &ports[ports_needed - 1 - i];
    free_count = ports_needed;
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

struct vport *net_port_take(uint32_t sw, const uint8_t mac[6], const struct guest_mem *mem,
                            void (*notify)(struct port *p, enum port_event event), void *owner)
{
    struct vport *p;

    if (sw >= switch_count || !free_count)
        return NULL;
    p = free_ports[--free_count];
    vport_init(p, mac, mem, notify, owner);
    if (vswitch_attach(&switches[sw], &p->port) < 0) {
        free_ports[free_count++] = p;
        return NULL;
    }
    return p;
}

void net_port_give(struct vport *p)
{
    vswitch_detach(&p->port);
    free_ports[free_count++] = p;
}

uint32_t net_ports_free(void)
{
    return free_count;
}

struct vswitch *net_switch(uint32_t index)
{
    return index < switch_count ? &switches[index] : NULL;
}

uint32_t net_switch_count(void)
{
    return switch_count;
}
