/* One guest: its launch into a partition (image, capabilities, ports,
 * boot-info page, vCPU), its teardown (scrubbing the partition), and the
 * console and memory helpers its hypercalls use. Which guest runs where
 * and when is hv/fleet.c's and hv/run.c's. */
#include <stdarg.h>

#include "../include/mayfly/abi.h"
#include "console.h"
#include "fmt.h"
#include "guest.h"
#include "hv.h"
#include "lib.h"
#include "log.h"
#include "net.h"

void *guest_memory(const struct guest *g, uint64_t gpa, uint64_t len)
{
    return gmem_at(&(const struct guest_mem){ g->mem, g->mem_size }, gpa, len);
}

void guest_log_error(struct guest *g, const char *fmt, ...)
{
    char buf[192];
    va_list ap;

    if (g->errors_logged > GUEST_ERRORS_LOGGED)
        return;
    if (g->errors_logged++ == GUEST_ERRORS_LOGGED) {
        kprintf("mayfly: guest %u %s: further hypercall errors are not logged\n", g->id, g->name);
        return;
    }
    va_start(ap, fmt);
    fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    kprintf("mayfly: guest %u %s: %s\n", g->id, g->name, buf);
}

/* A finished line goes to the console (within the guest's share) and,
 * once, to the log under the guest's id. */
static void console_flush_line(struct guest *g)
{
    console_guest_line(&g->console, g->name, g->line_buf, g->line_len);
    log_line(g->id, g->line_buf, g->line_len);
    g->line_len = 0;
}

void guest_console(struct guest *g, const char *text, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\n') {
            console_flush_line(g);
            continue;
        }
        /* Guests cannot inject terminal control sequences into the log. */
        if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e)
            c = c == '\t' ? ' ' : '?';
        g->line_buf[g->line_len++] = c;
        if (g->line_len == GUEST_LINE_MAX - 1)
            console_flush_line(g);
    }
}

void guest_port_event(struct port *p, enum port_event event, void (*wake)(struct guest *g,
                                                                           uint64_t bits))
{
    struct guest *g = p->owner;

    for (uint32_t k = 0; k < CONFIG_NETS_MAX; k++) {
        if (!g->ports[k] || &g->ports[k]->port != p)
            continue;
        if (event == PORT_EVENT_FAILED)
            kprintf("mayfly: guest %u %s: port %u on %s failed: %s\n", g->id, g->name,
                    MF_CAP_FIRST_PORT + k, p->sw ? p->sw->name : "no switch", p->why);
        else
            wake(g, MF_NOTIFY_BIT(MF_CAP_FIRST_PORT + k));
    }
}

/* Fills the capability space: console, notification, one port per net=.
 * 0, or -1 (logged) when a port cannot be had: a guest never starts
 * without the ports its line asks for. */
static int grant_caps(struct guest *g, const struct guest_line *l, const struct config *cfg,
                      port_notify_fn notify)
{
    struct guest_mem mem = { g->mem, g->mem_size };

    cap_space_clear(&g->caps);
    cap_install(&g->caps, MF_CAP_CONSOLE, MF_OBJ_CONSOLE, MF_RIGHT_WRITE, g);
    cap_install(&g->caps, MF_CAP_NOTIFICATION, MF_OBJ_NOTIFICATION, MF_RIGHT_READ, g);
    g->notify_pending = 0;
    for (uint32_t i = 0; i < l->cfg->net_count; i++) {
        int sw = config_find_switch(cfg, l->cfg->nets[i]);
        uint8_t mac[6] = { 0x02, 0x4d, 0x46, (uint8_t)(g->id >> 16), (uint8_t)(g->id >> 8),
                           (uint8_t)g->id };
        struct vport *p = sw >= 0 ? net_port_take((uint32_t)sw, mac, &mem, notify, g) : NULL;
        g->ports[i] = p;
        if (!p) {
            kprintf("mayfly: guest %u %s not started: no free network port for switch %s "
                    "(every port is in use; stop a guest on a switch first)\n", g->id, g->name,
                    l->cfg->nets[i]);
            return -1;
        }
        cap_install(&g->caps, MF_CAP_FIRST_PORT + i, MF_OBJ_NET_PORT,
                    MF_RIGHT_READ | MF_RIGHT_WRITE, p);
    }
    return 0;
}

static void list_caps(struct mf_boot_info *bi, const struct guest *g)
{
    for (uint32_t slot = 0; slot < MF_CAP_SLOTS; slot++) {
        const struct cap *c = &g->caps.slots[slot];
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

static void write_boot_info(struct guest *g, const struct guest_line *l, uint64_t scrub,
                            uint64_t load)
{
    struct mf_boot_info *bi = (struct mf_boot_info *)(void *)(g->mem + MF_BOOT_INFO_GPA);

    memset(bi, 0, sizeof(*bi));
    bi->magic = MF_BOOT_INFO_MAGIC;
    bi->abi_version = MF_ABI_VERSION;
    bi->guest_id = g->id;
    bi->features = MF_FEATURE_WAIT;
    bi->mem_size = g->mem_size;
    bi->tsc_hz = time_arch_tsc_hz();
    bi->start_tsc = g->start_tsc;
    bi->instance = g->id - l->first_id;
    str_copy(bi->name, l->cfg->name, sizeof(bi->name));
    bi->cmdline_len = (uint32_t)str_copy(bi->cmdline, l->cfg->args, sizeof(bi->cmdline));
    bi->scrub_tsc = scrub;
    bi->load_tsc = load;
    bi->request_tsc = l->request_tsc;
    list_caps(bi, g);
}

void guest_release(struct guest *g, struct partition_table *parts)
{
    for (uint32_t i = 0; i < CONFIG_NETS_MAX; i++) {
        if (g->ports[i])
            net_port_give(g->ports[i]);
        g->ports[i] = NULL;
    }
    cap_space_clear(&g->caps);
    mem_arch_zero(g->mem, g->mem_size);
    g->dirty = 0;
    partition_free(parts, g->partition);
}

/* The log line comes first so that launch costs exclude console time. */
int guest_launch(struct guest *g, const struct guest_line *l, uint32_t line_index, uint32_t k,
                 struct partition_table *parts, const struct config *cfg, port_notify_fn notify)
{
    const struct partition *p = &parts->parts[g->partition];
    const struct partition_class *c = &parts->classes[p->class_index];
    uint64_t t_scrubbed, t_loaded;

    g->id = l->first_id + k;
    g->line = line_index;
    fmt_snprintf(g->name, sizeof(g->name), "%s.%u", l->cfg->name, k);
    kprintf("mayfly: guest %u %s started in partition %s/%u at 0x%llx (%llu MiB)\n", g->id,
            g->name, c->name, g->partition - c->first, (unsigned long long)p->base,
            (unsigned long long)(c->size / MIB));
    log_printf(g->id, "started in partition %s/%u", c->name, g->partition - c->first);
    g->start_tsc = time_arch_tsc();
    if (g->dirty)
        mem_arch_zero(g->mem, g->mem_size);
    g->dirty = 1;
    t_scrubbed = time_arch_tsc();
    elf_load(&l->elf, l->image, g->mem);
    t_loaded = time_arch_tsc();
    g->exit_status = 0;
    g->errors_logged = 0;
    g->line_len = 0;
    g->hypercalls = g->preemptions = 0;
    g->slice_end = 0;
    g->console.owner = g->id;
    g->console.queued = 0;
    g->console.dropped_lines = 0;
    g->kill_tsc = l->cfg->timeout_ms
                      ? g->start_tsc + l->cfg->timeout_ms * (time_arch_tsc_hz() / 1000) : 0;
    if (grant_caps(g, l, cfg, notify) < 0) {
        guest_release(g, parts);
        return -1;
    }
    write_boot_info(g, l, t_scrubbed - g->start_tsc, t_loaded - t_scrubbed);
    if (vcpu_arch_reset(g->vcpu, g->mem, g->mem_size, l->elf.entry, MF_BOOT_INFO_GPA) < 0) {
        kprintf("mayfly: guest %u %s not started: partition too large for its page tables\n",
                g->id, g->name);
        guest_release(g, parts);
        return -1;
    }
    return 0;
}

void guest_teardown(struct guest *g, struct partition_table *parts, int killed, const char *why)
{
    if (g->line_len)
        console_flush_line(g);
    if (g->console.dropped_lines)
        kprintf("mayfly: guest %u %s: %llu console lines dropped (it wrote faster than the "
                "serial line carries)\n", g->id, g->name,
                (unsigned long long)g->console.dropped_lines);
    if (killed) {
        kprintf("mayfly: guest %u %s killed: %s\n", g->id, g->name, why);
        log_printf(g->id, "killed: %s", why);
    } else {
        kprintf("mayfly: guest %u %s exited with status %lld\n", g->id, g->name,
                (long long)g->exit_status);
        log_printf(g->id, "exited with status %lld", (long long)g->exit_status);
    }
    guest_release(g, parts);
}
