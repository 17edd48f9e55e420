/*
 * The Mayfly personality (include/mayfly/abi.h): an image with a Mayfly
 * ABI note gets the Mayfly layout, a capability space (console,
 * notification, one virtio-net port per net= switch), the boot-info
 * page at MF_BOOT_INFO_GPA, and VMCALL hypercalls (hv/hypercall.c).
 * Port I/O ends it.
 */
#include "../include/mayfly/abi.h"
#include "console.h"
#include "ctlnet.h"
#include "fleet.h"
#include "fmt.h"
#include "guest.h"
#include "hypercall.h"
#include "lib.h"
#include "lifecycle.h"
#include "net.h"
#include "summon.h"

/* What a guest's port tells it: failures are logged, wake-ups are
 * notifications (which may make a waiting guest READY). */
static void port_event(struct port *p, enum port_event event)
{
    struct guest *g = p->owner;

    for (uint32_t k = 0; k < CONFIG_NETS_MAX; k++) {
        if (!g->mf.ports[k] || &g->mf.ports[k]->port != p)
            continue;
        if (event == PORT_EVENT_FAILED)
            kprintf("mayfly: guest %u %s: port %u on %s failed: %s\n", g->id, g->name,
                    MF_CAP_FIRST_PORT + k, p->sw ? p->sw->name : "no switch", p->why);
        else
            lifecycle_notify(g, MF_NOTIFY_BIT(MF_CAP_FIRST_PORT + k));
    }
}

/* Fills the capability space: console, notification, one port per net=.
 * 0, or -1 (logged) when a port cannot be had: a guest never starts
 * without the ports its line asks for. */
static int grant_caps(struct guest *g, const struct guest_line *l, const struct config *cfg)
{
    struct guest_mem mem = { g->mem, g->mem_size };

    cap_space_clear(&g->mf.caps);
    cap_install(&g->mf.caps, MF_CAP_CONSOLE, MF_OBJ_CONSOLE, MF_RIGHT_WRITE, g);
    cap_install(&g->mf.caps, MF_CAP_NOTIFICATION, MF_OBJ_NOTIFICATION, MF_RIGHT_READ, g);
    g->notify_pending = 0;
    for (uint32_t i = 0; i < l->cfg->net_count; i++) {
        int sw = config_find_switch(cfg, l->cfg->nets[i]);
        uint8_t mac[6];
        struct vport *p;

        guest_mac(g, l, mac);
        p = sw >= 0 ? net_port_take((uint32_t)sw, mac, &mem, port_event, g) : NULL;
        g->mf.ports[i] = p;
        if (p)
            summon_join(l->cfg, &p->port);
        if (!p) {
            kprintf("mayfly: guest %u %s not started: no free network port for switch %s "
                    "(every port is in use; stop a guest on a switch first)\n", g->id, g->name,
                    l->cfg->nets[i]);
            return -1;
        }
        cap_install(&g->mf.caps, MF_CAP_FIRST_PORT + i, MF_OBJ_NET_PORT,
                    MF_RIGHT_READ | MF_RIGHT_WRITE, p);
    }
    /* The network control guest alone: the channel, after its port. */
    if (ctlnet_line(l)) {
        uint32_t slot = MF_CAP_FIRST_PORT + l->cfg->net_count;
        cap_install(&g->mf.caps, slot, MF_OBJ_GUEST_CONTROL,
                    MF_RIGHT_READ | MF_RIGHT_WRITE | MF_RIGHT_CONTROL, (void *)(uintptr_t)l);
        ctlnet_launched(g, slot);
    }
    return 0;
}

static void list_caps(struct mf_boot_info *bi, const struct guest *g)
{
    for (uint32_t slot = 0; slot < MF_CAP_SLOTS; slot++) {
        const struct cap *c = &g->mf.caps.slots[slot];
        struct mf_cap_info *ci = &bi->caps[bi->cap_count];
        if (c->type == MF_OBJ_NONE)
            continue;
        ci->slot = slot;
        ci->type = c->type;
        ci->rights = c->rights;
        if (c->type == MF_OBJ_NET_PORT) {
            const struct vport *p = c->object;
            memcpy(ci->mac, p->port.mac, 6);
            str_copy(ci->name, p->port.sw->name, sizeof(ci->name));
        }
        bi->cap_count++;
    }
}

static void write_boot_info(struct guest *g, const struct guest_line *l,
                            const struct launch_costs *costs)
{
    /* All zero already: a launch finds its partition scrubbed. */
    struct mf_boot_info *bi = (struct mf_boot_info *)(void *)(g->mem + MF_BOOT_INFO_GPA);

    bi->magic = MF_BOOT_INFO_MAGIC;
    bi->abi_version = MF_ABI_VERSION;
    bi->guest_id = g->id;
    bi->features = MF_FEATURE_WAIT | (virt_arch_hypercall_vmmcall() ? MF_FEATURE_VMMCALL : 0);
    bi->mem_size = g->mem_size;
    bi->tsc_hz = time_arch_tsc_hz();
    bi->start_tsc = g->start_tsc;
    bi->instance = g->id - l->first_id;
    str_copy(bi->name, l->cfg->name, sizeof(bi->name));
    bi->cmdline_len = (uint32_t)str_copy(bi->cmdline, l->cfg->args, sizeof(bi->cmdline));
    bi->scrub_tsc = costs->scrub_tsc;
    bi->load_tsc = costs->load_tsc;
    bi->request_tsc = l->request_tsc;
    list_caps(bi, g);
}

static int mayfly_check_line(struct guest_line *l, const struct fleet_files *files, char *why,
                             size_t n)
{
    (void)files;
    if (l->cfg->device_count)
        return fmt_error(why, n, -1, "net:/block: map the devices of Solo5 images, and %s is a "
                         "Mayfly image: give its switches with net=", l->cfg->image);
    l->need = elf_memory_needed(&l->elf);
    return 0;
}

static int mayfly_launch(struct guest *g, const struct guest_line *l, const struct config *cfg,
                         const struct launch_costs *costs)
{
    struct vcpu_boot boot = { .layout = VCPU_LAYOUT_MAYFLY, .mapped = g->mem_size,
                              .entry = l->elf.entry, .rsp = g->mem_size,
                              .arg = MF_BOOT_INFO_GPA };

    memset(&g->mf, 0, sizeof(g->mf));       /* the last tenant may have been hvt */
    if (grant_caps(g, l, cfg) < 0)
        return -1;
    write_boot_info(g, l, costs);
    if (vcpu_arch_reset(g->vcpu, g->mem, &boot) < 0) {
        kprintf("mayfly: guest %u %s not started: partition too large for its page tables\n",
                g->id, g->name);
        return -1;
    }
    return 0;
}

/* VMCALL goes to the hypercall table; port I/O is no Mayfly guest's. */
static enum pers_next mayfly_on_exit(struct guest *g, const struct vm_exit *exit)
{
    uint64_t nr;

    if (exit->kind == VM_EXIT_IO) {
        lifecycle_kill(g, "I/O port 0x%x %s denied at rip 0x%llx", (unsigned)exit->io.port,
                       exit->io.is_in ? "read" : "write", (unsigned long long)exit->io.rip);
        return PERS_RUN_ON;
    }
    nr = exit->hypercall.nr;
    hypercall_dispatch(g, nr, exit->hypercall.args);
    return nr == MF_HC_YIELD ? PERS_YIELD : nr == MF_HC_CONSOLE_WRITE ? PERS_CONSOLE
                                                                       : PERS_RUN_ON;
}

/* A wait's result is the wait hypercall's: in the result register. */
static void mayfly_wake(struct guest *g, int64_t result)
{
    vcpu_arch_set_result(g->vcpu, result);
}

static void mayfly_release(struct guest *g)
{
    ctlnet_released(g);
    for (uint32_t i = 0; i < CONFIG_NETS_MAX; i++) {
        if (g->mf.ports[i])
            net_port_give(g->mf.ports[i]);
        g->mf.ports[i] = NULL;
    }
    cap_space_clear(&g->mf.caps);
}

static uint32_t mayfly_ports(const struct guest *g, const struct port **out, uint32_t max)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < CONFIG_NETS_MAX && n < max; i++)
        if (g->mf.ports[i])
            out[n++] = &g->mf.ports[i]->port;
    return n;
}

const struct personality personality_mayfly = {
    .name = "mayfly",
    .check_line = mayfly_check_line,
    .launch = mayfly_launch,
    .on_exit = mayfly_on_exit,
    .wake = mayfly_wake,
    .release = mayfly_release,
    .ports = mayfly_ports,
};
