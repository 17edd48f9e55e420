/* Guest lifecycle: validate images, start instances in partitions, end
 * them (scrubbing the partition), and the console and memory helpers the
 * hypercalls use. The scheduling loop is in hv/run.c. */
#include <stdarg.h>

#include "../include/mayfly/abi.h"
#include "console.h"
#include "control.h"
#include "fmt.h"
#include "guest.h"
#include "hv.h"
#include "lib.h"
#include "lifecycle.h"
#include "net.h"
#include "pool.h"
#include "run.h"

static uint32_t next_guest_id = 1;
static uint32_t running, peak_running, started, launch_failures;

void *guest_memory(const struct guest *g, uint64_t gpa, uint64_t len)
{
    return gmem_at(&(const struct guest_mem){ g->mem, g->mem_size }, gpa, len);
}

uint32_t guest_running_count(void)
{
    return running;
}

uint32_t guest_peak_count(void)
{
    return peak_running;
}

uint32_t guest_started_count(void)
{
    return started;
}

uint32_t guest_launch_failures(void)
{
    return launch_failures;
}

uint32_t guest_next_id(void)
{
    return next_guest_id;
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
    control_log(g->id, g->line_buf, g->line_len);
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

/* Validates a line's image (size bytes at image, NULL when it was not
 * loaded) once, for the memory of the partitions it may get. 0, or -1
 * with the reason logged (and in why when why is not NULL). */
int guest_line_check(struct guest_line *l, const struct config *cfg,
                     const struct partition_table *parts, const uint8_t *image, uint64_t size,
                     char *why, size_t why_size)
{
    uint64_t limit = 0;
    char reason[ELF_REASON_MAX + BOOT_NAME_MAX + 32];

    l->valid = 0;
    l->class_index = l->cfg->class_name[0] ? config_find_class(cfg, l->cfg->class_name) : -1;
    for (uint32_t i = 0; i < parts->class_count; i++)
        if (l->class_index < 0 || (int)i == l->class_index)
            limit = parts->classes[i].size > limit ? parts->classes[i].size : limit;
    if (!image) {
        fmt_snprintf(reason, sizeof(reason), "image %s was not loaded: put it next to "
                     "mayfly.conf (or upload it with mfctl load)", l->cfg->image);
    } else if (!size) {
        fmt_snprintf(reason, sizeof(reason), "image %s is empty (0 bytes): rebuild it or "
                     "copy it again", l->cfg->image);
    } else if (elf_validate(image, size, limit, &l->elf, reason, sizeof(reason)) == 0) {
        l->image = image;
        l->image_size = size;
        l->need = elf_memory_needed(&l->elf);
        return 0;
    } else {
        char tmp[sizeof(reason)];
        str_copy(tmp, reason, sizeof(tmp));
        fmt_snprintf(reason, sizeof(reason), "image %s rejected: %s", l->cfg->image, tmp);
    }
    kprintf("mayfly: guest %s: %s; not started\n", l->cfg->name, reason);
    if (why)
        str_copy(why, reason, why_size);
    return -1;
}

/* Makes a checked line live: its instances get their ids (instance k is
 * first_id + k, started or not) and wait for partitions. */
void guest_line_activate(struct guest_line *l, const struct partition_table *parts)
{
    l->pending = l->cfg->count;
    l->next_instance = 0;
    l->first_id = next_guest_id;
    next_guest_id += l->cfg->count;
    if (l->cancelled)
        memset(l->cancelled, 0, (l->cfg->count + 7) / 8);
    l->valid = 1;
    kprintf("mayfly: guest %s: image %s ok (entry 0x%llx, needs %llu KiB), class %s, "
            "%u instances\n", l->cfg->name, l->cfg->image, (unsigned long long)l->elf.entry,
            (unsigned long long)(l->need / 1024),
            l->class_index >= 0 ? parts->classes[l->class_index].name : "smallest that fits",
            l->cfg->count);
}

/* Logs the failure of g's port k (a port reports its failure once). */
static void guest_log_port_failure(const struct guest *g, uint32_t k, const struct port *p)
{
    kprintf("mayfly: guest %u %s: port %u on %s failed: %s\n", g->id, g->name,
            MF_CAP_FIRST_PORT + k, p->sw ? p->sw->name : "no switch", p->why);
}

/* A port's owner: woken with the port's slot bit when the port has
 * something for it, told (and logging it) when the port fails. */
static void port_notify(struct port *p, enum port_event event)
{
    struct guest *g = p->owner;

    for (uint32_t k = 0; k < CONFIG_NETS_MAX; k++) {
        if (!g->ports[k] || &g->ports[k]->port != p)
            continue;
        if (event == PORT_EVENT_FAILED)
            guest_log_port_failure(g, k, p);
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

    cap_space_clear(&g->caps);
    cap_install(&g->caps, MF_CAP_CONSOLE, MF_OBJ_CONSOLE, MF_RIGHT_WRITE, g);
    cap_install(&g->caps, MF_CAP_NOTIFICATION, MF_OBJ_NOTIFICATION, MF_RIGHT_READ, g);
    g->notify_pending = 0;
    for (uint32_t i = 0; i < l->cfg->net_count; i++) {
        int sw = config_find_switch(cfg, l->cfg->nets[i]);
        uint8_t mac[6] = { 0x02, 0x4d, 0x46, (uint8_t)(g->id >> 16), (uint8_t)(g->id >> 8),
                           (uint8_t)g->id };
        struct vport *p = sw >= 0 ? net_port_take((uint32_t)sw, mac, &mem, port_notify, g) : NULL;
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
    bi->instance = g->instance;
    str_copy(bi->name, l->cfg->name, sizeof(bi->name));
    bi->cmdline_len = (uint32_t)str_copy(bi->cmdline, l->cfg->args, sizeof(bi->cmdline));
    bi->scrub_tsc = scrub;
    bi->load_tsc = load;
    bi->request_tsc = l->request_tsc;
    list_caps(bi, g);
}

/* Gives back what a guest held: its ports, its capabilities and its
 * partition, scrubbed. */
static void release(struct guest *g, struct partition_table *parts)
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

/* Starts instance k of line l in partition g (already allocated). The
 * log line comes first so that launch costs exclude console time. A
 * launch that cannot complete gives everything back: 0, or -1. */
static int start_in(struct guest *g, struct guest_line *l, uint32_t line_index, uint32_t k,
                    struct partition_table *parts, const struct config *cfg)
{
    const struct partition *p = &parts->parts[g->partition];
    const struct partition_class *c = &parts->classes[p->class_index];
    uint64_t t_scrubbed, t_loaded;

    g->id = l->first_id + k;
    g->line = line_index;
    g->instance = k;
    fmt_snprintf(g->name, sizeof(g->name), "%s.%u", l->cfg->name, g->instance);
    kprintf("mayfly: guest %u %s started in partition %s/%u at 0x%llx (%llu MiB)\n", g->id,
            g->name, c->name, g->partition - c->first, (unsigned long long)p->base,
            (unsigned long long)(c->size / MIB));
    control_logf(g->id, "started in partition %s/%u", c->name, g->partition - c->first);
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
    if (grant_caps(g, l, cfg) < 0) {
        release(g, parts);
        launch_failures++;
        return -1;
    }
    write_boot_info(g, l, t_scrubbed - g->start_tsc, t_loaded - t_scrubbed);
    if (vcpu_arch_reset(g->vcpu, g->mem, g->mem_size, l->elf.entry, MF_BOOT_INFO_GPA) < 0) {
        kprintf("mayfly: guest %u %s not started: partition too large for its page tables\n",
                g->id, g->name);
        release(g, parts);
        launch_failures++;
        return -1;
    }
    started++;
    running++;
    l->alive++;
    if (running > peak_running)
        peak_running = running;
    lifecycle_admit(g);
    return 0;
}

int guest_line_cancelled(const struct guest_line *l, uint32_t k)
{
    return l->cancelled && k < l->cfg->count && (l->cancelled[k / 8] >> (k % 8)) & 1;
}

/* Starts as many pending instances as free partitions allow, in config
 * order, skipping cancelled ones. */
void guest_start_pending(struct guest_line *lines, uint32_t count, struct guest *guests,
                         struct partition_table *parts, const struct config *cfg)
{
    for (uint32_t i = 0; i < count; i++) {
        struct guest_line *l = &lines[i];
        while (l->valid && l->pending) {
            uint32_t p, k;
            while (guest_line_cancelled(l, l->next_instance))
                l->next_instance++;
            p = partition_alloc(parts, l->class_index, l->need);
            if (p == PARTITION_NONE)
                break;
            l->pending--;
            k = l->next_instance++;
            start_in(&guests[p], l, i, k, parts, cfg);
        }
    }
}

/* Ends g: logs why, scrubs its partition and frees it. */
void guest_end(struct guest *g, struct guest_line *l, struct partition_table *parts,
               int killed, const char *why)
{
    lifecycle_retire(g);
    l->alive--;
    if (g->line_len)
        console_flush_line(g);
    if (g->console.dropped_lines)
        kprintf("mayfly: guest %u %s: %llu console lines dropped (it wrote faster than the "
                "serial line carries)\n", g->id, g->name,
                (unsigned long long)g->console.dropped_lines);
    if (killed) {
        kprintf("mayfly: guest %u %s killed: %s\n", g->id, g->name, why);
        control_logf(g->id, "killed: %s", why);
    } else {
        kprintf("mayfly: guest %u %s exited with status %lld\n", g->id, g->name,
                (long long)g->exit_status);
        control_logf(g->id, "exited with status %lld", (long long)g->exit_status);
    }
    running--;
    release(g, parts);
}
