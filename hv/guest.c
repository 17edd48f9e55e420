/* One guest: its launch into a partition (scrub, image; then its
 * personality grants the rest, writes the boot info and resets the
 * vCPU), its teardown (the partition left dirty), and the console and
 * memory helpers its hypercalls use. Which guest runs where
 * and when is hv/fleet.c's and hv/run.c's. */
#include <stdarg.h>

#include "../include/mayfly/abi.h"
#include "console.h"
#include "fmt.h"
#include "guest.h"
#include "hv.h"
#include "lib.h"
#include "gmem.h"
#include "log.h"

void *guest_memory(const struct guest *g, uint64_t gpa, uint64_t len)
{
    return gmem_at(&(const struct guest_mem){ g->mem, g->mem_size }, gpa, len);
}

void guest_mac(const struct guest *g, const struct guest_line *l, uint8_t mac[6])
{
    const uint8_t own[6] = { 0x02, 0x4d, 0x46, (uint8_t)(g->id >> 16), (uint8_t)(g->id >> 8),
                             (uint8_t)g->id };

    memcpy(mac, l->cfg->has_mac ? l->cfg->mac : own, 6);
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

/* Its ports and capabilities given back. Its bytes stay until the
 * partition is zeroed: at idle (fleet_scrub_idle), or by the launch that
 * takes it when no clean one is free (guest_launch). */
static void release(struct guest *g)
{
    if (g->pers)
        g->pers->release(g);
}

void guest_release(struct guest *g, struct partition_table *parts)
{
    release(g);
    partition_free(parts, g->partition);
}

void guest_instance_name(char *buf, size_t size, const struct guest_line *l, uint32_t k)
{
    fmt_snprintf(buf, size, "%s.%u", l->cfg->name, l->cfg->service ? l->cfg->service_slot : k);
}

/* The log line comes first so that launch costs exclude console time. */
int guest_launch(struct guest *g, const struct guest_line *l, uint32_t line_index, uint32_t k,
                 uint32_t cpu, struct partition_table *parts, const struct config *cfg)
{
    const struct partition *p = &parts->parts[g->partition];
    const struct partition_class *c = &parts->classes[p->class_index];
    struct launch_costs costs;
    uint64_t t_scrubbed, t_loaded, dirty_from;

    g->id = l->first_id + k;
    g->line = line_index;
    guest_instance_name(g->name, sizeof(g->name), l, k);
    kprintf("mayfly: guest %u %s started in partition %s/%u at 0x%llx (%llu MiB) on CPU %u\n",
            g->id, g->name, c->name, g->partition - c->first, (unsigned long long)p->base,
            (unsigned long long)(c->size / MIB), cpu);
    log_printf(g->id, "started in partition %s/%u on CPU %u", c->name, g->partition - c->first,
               cpu);
    g->start_tsc = time_arch_tsc();
    /* No clean partition was free: what idle zeroing has not reached yet. */
    dirty_from = partition_dirty_from(parts, g->partition);
    if (dirty_from < g->mem_size) {
        mem_arch_zero(g->mem + dirty_from, g->mem_size - dirty_from);
        partition_clean(parts, g->partition);
    }
    t_scrubbed = time_arch_tsc();
    elf_load_zeroed(&l->elf, l->image, g->mem);     /* scrubbed: all zero */
    t_loaded = time_arch_tsc();
    g->exit_status = 0;
    g->errors_logged = 0;
    g->line_len = 0;
    g->hypercalls = g->preemptions = 0;
    g->slice_end = 0;
    console_quota_reset(&g->console, g->id);
    g->kill_tsc = l->cfg->timeout_ms
                      ? g->start_tsc + l->cfg->timeout_ms * (time_arch_tsc_hz() / 1000) : 0;
    g->woken = g->killed = 0;
    g->notify_pending = 0;
    g->pers = l->pers;
    costs.scrub_tsc = t_scrubbed - g->start_tsc;
    costs.load_tsc = t_loaded - t_scrubbed;
    if (g->pers->launch(g, l, cfg, &costs) < 0) {
        guest_release(g, parts);
        return -1;
    }
    return 0;
}

void guest_teardown(struct guest *g, int killed, const char *why)
{
    if (g->line_len)
        console_flush_line(g);
    if (g->console.dropped_lines)
        kprintf("mayfly: guest %u %s: %llu console lines dropped (it wrote faster than the "
                "serial line carries)\n", g->id, g->name,
                (unsigned long long)g->console.dropped_lines);
    if (killed && g->retire) {
        kprintf("mayfly: guest %u %s retired: %s\n", g->id, g->name, why);
        log_printf(g->id, "retired: %s", why);
    } else if (killed) {
        kprintf("mayfly: guest %u %s killed: %s\n", g->id, g->name, why);
        log_printf(g->id, "killed: %s", why);
    } else {
        kprintf("mayfly: guest %u %s exited with status %lld\n", g->id, g->name,
                (long long)g->exit_status);
        log_printf(g->id, "exited with status %lld", (long long)g->exit_status);
    }
    vcpu_arch_release(g->vcpu);
    release(g);
}
