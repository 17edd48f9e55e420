#include "net.h"
#include "lib.h"
#include "pool.h"

static struct vswitch switches[CONFIG_SWITCHES_MAX];
static uint32_t switch_count, switch_storage, switch_capacity;
static struct vport **switch_slots[CONFIG_SWITCHES_MAX];
static struct fdb_entry *switch_fdb[CONFIG_SWITCHES_MAX];
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

/* Switches with storage: the config's, or all of them when the control
 * channel may create more. */
static uint32_t switches_stored(const struct config *cfg)
{
    return cfg->control ? CONFIG_SWITCHES_MAX : cfg->switch_count;
}

uint64_t net_footprint(const struct config *cfg, uint32_t ports_needed)
{
    uint64_t per_switch = ports_needed * sizeof(struct vport *) +
                          fdb_capacity(ports_needed) * sizeof(struct fdb_entry) + 64;
    return ports_needed * (sizeof(struct vport) + sizeof(struct vport *) + 16) +
           switches_stored(cfg) * per_switch;
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
    switch_storage = switches_stored(cfg);
    switch_capacity = ports_needed;
    for (uint32_t i = 0; i < switch_storage; i++) {
        uint32_t fc = fdb_capacity(ports_needed);
        switch_slots[i] = pool_alloc_bytes(ports_needed * sizeof(struct vport *), 8);
        switch_fdb[i] = pool_alloc_bytes(fc * sizeof(struct fdb_entry), 8);
        if (!switch_slots[i] || !switch_fdb[i])
            return -1;
        if (i < switch_count)
            vswitch_init(&switches[i], cfg->switches[i], switch_slots[i], ports_needed,
                         switch_fdb[i], fc);
    }
    return 0;
}

int net_switch_add(struct config *cfg, const char *name)
{
    uint32_t i = switch_count;
    size_t n = strlen(name);

    if (i >= switch_storage || cfg->switch_count != i || n == 0 || n >= SWITCH_NAME_MAX)
        return -1;
    for (size_t k = 0; k < n; k++) {
        char c = name[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return -1;
    }
    str_copy(cfg->switches[i], name, SWITCH_NAME_MAX);
    cfg->switch_count++;
    vswitch_init(&switches[i], cfg->switches[i], switch_slots[i], switch_capacity,
                 switch_fdb[i], fdb_capacity(switch_capacity));
    switch_count++;
    return (int)i;
}

struct vport *net_port_take(uint32_t sw, const uint8_t mac[6], const struct guest_mem *mem)
{
    struct vport *p;

    if (sw >= switch_count || !free_count)
        return NULL;
    p = free_ports[--free_count];
    memset(p, 0, sizeof(*p));
    memcpy(p->mac, mac, 6);
    p->mem = *mem;
    if (vswitch_attach(&switches[sw], p) < 0) {
        free_ports[free_count++] = p;
        return NULL;
    }
    return p;
}

void net_port_give(struct vport *p)
{
    vswitch_detach(p);
    free_ports[free_count++] = p;
}

struct vswitch *net_switch(uint32_t index)
{
    return index < switch_count ? &switches[index] : NULL;
}

uint32_t net_switch_count(void)
{
    return switch_count;
}
