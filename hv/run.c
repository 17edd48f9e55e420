#include "../include/mayfly/abi.h"
#include "console.h"
#include "control.h"
#include "fmt.h"
#include "hv.h"
#include "lib.h"
#include "net.h"
#include "pool.h"
#include "run.h"
#include "lifecycle.h"

static struct guest *guests;
static struct guest_line lines[RUN_LINES_MAX];
static struct config_guest dynamic_cfg[RUN_LINES_MAX];
static uint8_t (*cancelled)[PARTITION_MAX / 8];    /* per line, from the pool */
static struct partition_table *parts;
static const struct config *config;
static uint64_t quantum_tsc, poll_tsc, next_poll, boot_tsc;
static const struct boot_info *boot;
static uint32_t exited_ok, failed, killed;

uint64_t run_pool_extra(const struct config *cfg, uint32_t partitions)
{
    return net_footprint(cfg, net_ports_needed(cfg, partitions));
}

uint64_t run_footprint(uint64_t partition_size)
{
    return vcpu_arch_footprint(partition_size) + sizeof(struct guest) + LIFECYCLE_STORAGE(1);
}

static void create_vcpus(void)
{
    uint32_t count = parts->count;
    void *queues = pool_alloc_bytes(LIFECYCLE_STORAGE(count), 8);

    guests = pool_alloc_bytes(count * sizeof(*guests), 64);
    if (!queues || !guests)
        fatal(HV_NO_MEMORY, "hypervisor pool too small for %u guests", count);
    for (uint32_t i = 0; i < count; i++) {
        const struct partition *p = &parts->parts[i];
        struct guest *g = &guests[i];
        g->partition = i;
        g->mem = (uint8_t *)(uintptr_t)p->base;
        g->mem_size = parts->classes[p->class_index].size;
        g->dirty = 1;               /* firmware or loader bytes: scrub on first use */
        g->vcpu = vcpu_arch_create(i, p->base, g->mem_size);
        if (!g->vcpu)
            fatal(HV_NO_MEMORY, "hypervisor pool too small for the vCPU of partition %u", i);
    }
    lifecycle_init(guests, count, queues);
}

/* Ends g (in any live state) and starts what waited for its partition. */
static void finish(struct guest *g, int was_killed, const char *why)
{
    if (was_killed)
        killed++;
    else if (g->exit_status)
        failed++;
    else
        exited_ok++;
    guest_end(g, &lines[g->line], parts, was_killed, why);
    guest_start_pending(lines, RUN_LINES_MAX, guests, parts, config);
}

static void finish_time_limit(struct guest *g)
{
    char why[64];

    fmt_snprintf(why, sizeof(why), "time limit of %llu ms reached",
                 (unsigned long long)lines[g->line].cfg->timeout_ms);
    finish(g, 1, why);
}

/* Whether anything wants the pollers run: the control channel is on, or
 * console output waits. */
static int pollers_wanted(void)
{
    return control_enabled() || console_poll();
}

/* The pollers: console output and the control channel, at most every
 * RUN_POLL_US. They run only between guests, never while one is on the
 * CPU, so a request sees every guest READY, WAITING or FREE. */
static void run_pollers(uint64_t now)
{
    next_poll = now + poll_tsc;
    console_poll();
    if (control_enabled())
        control_poll();
}

/* Runs g until its quantum (which covers the hypercalls it makes) ends,
 * it waits, yields or ends. When the pollers fall due first it goes back
 * to the head of the run queue and runs on after them, in the same
 * quantum. */
static void run_guest(struct guest *g)
{
    uint64_t now = time_arch_tsc();
    struct vm_exit exit;

    if (g->kill_tsc && now >= g->kill_tsc) {
        finish_time_limit(g);
        return;
    }
    if (now >= g->slice_end)
        g->slice_end = g->kill_tsc && g->kill_tsc - now < quantum_tsc ? g->kill_tsc
                                                                       : now + quantum_tsc;
    for (;;) {
        uint64_t until = g->slice_end;
        if (next_poll < until && pollers_wanted())
            until = next_poll;
        if (now >= until)
            break;
        vcpu_arch_run(g->vcpu, until - now, &exit);
        if (exit.kind == VM_EXIT_IO) {
            /* No personality takes port I/O yet: every port is denied. */
            char why[VM_KILL_WHY_MAX];
            fmt_snprintf(why, sizeof(why), "I/O port 0x%x %s denied at rip 0x%llx",
                         (unsigned)exit.io.port, exit.io.is_in ? "read" : "write",
                         (unsigned long long)exit.io.rip);
            finish(g, 1, why);
            return;
        }
        if (exit.kind == VM_EXIT_KILL) {
            finish(g, 1, exit.kill.why);
            return;
        }
        if (exit.kind == VM_EXIT_HYPERCALL) {
            hypercall_dispatch(g, exit.hypercall.nr, exit.hypercall.args);
            if (g->state == GUEST_EXITED) {
                finish(g, 0, NULL);
                return;
            }
            if (g->state == GUEST_WAITING) {
                g->slice_end = 0;
                return;
            }
            if (exit.hypercall.nr == MF_HC_YIELD) {
                g->slice_end = 0;
                lifecycle_preempt(g, 0);
                return;
            }
        }
        now = time_arch_tsc();
    }
    if (g->kill_tsc && now >= g->kill_tsc) {
        finish_time_limit(g);
    } else if (now >= g->slice_end) {
        g->slice_end = 0;
        g->preemptions++;
        lifecycle_preempt(g, 0);
    } else {
        lifecycle_preempt(g, 1);
    }
}

static uint32_t pending_total(int dynamic_only)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < RUN_LINES_MAX; i++)
        if (lines[i].valid && (!dynamic_only || lines[i].dynamic))
            n += lines[i].pending;
    return n;
}

static void report_all_ended(void)
{
    uint32_t pending = pending_total(0);

    if (pending)
        kprintf("mayfly: warning: %u instances never found a partition\n", pending);
    kprintf("mayfly: all guests have ended: %u started, %u exited 0, %u failed, %u killed; "
            "at most %u ran at once\n", guest_started_count(), exited_ok, failed, killed,
            guest_peak_count());
    if (guest_launch_failures())
        kprintf("mayfly: %u instances could not be started (see above)\n",
                guest_launch_failures());
    for (uint32_t i = 0; i < net_switch_count(); i++) {
        const struct vswitch *sw = net_switch(i);
        kprintf("mayfly: switch %s: %llu frames switched, %llu dropped; %llu kicks took "
                "%llu TSC ticks\n", sw->name, (unsigned long long)sw->frames,
                (unsigned long long)sw->drops, (unsigned long long)sw->kicks,
                (unsigned long long)sw->busy_tsc);
    }
}

/* Idles until deadline, or until the pollers fall due when they are wanted. */
static void idle_until(uint64_t deadline)
{
    if (pollers_wanted() && next_poll < deadline)
        deadline = next_poll;
    time_arch_idle_until(deadline);
}

/* Nothing runs and nothing waits. Without a control channel that is the
 * end: power off (poweroff when-idle) or idle for good. With one, more
 * guests may come: keep serving it. */
static void nothing_left(int *reported)
{
    if (!*reported) {
        report_all_ended();
        *reported = 1;
        if (!control_enabled() && config->poweroff_when_idle)
            hv_power_off((failed || killed || guest_launch_failures()) ? HV_GUEST_FAILED : HV_OK);
        if (!control_enabled()) {
            kprintf("mayfly: idle (add 'poweroff when-idle' to mayfly.conf to power off here)\n");
            console_flush();
        }
    }
    idle_until(time_arch_tsc() + time_arch_tsc_hz());
}

static void schedule(void) __attribute__((noreturn));

static void schedule(void)
{
    int reported = 0;

    for (;;) {
        uint64_t deadline, now = time_arch_tsc();
        struct guest *g;

        if (now >= next_poll)
            run_pollers(now);
        lifecycle_wake_due(now);
        g = lifecycle_dispatch();
        if (g) {
            reported = 0;
            run_guest(g);
            continue;
        }
        if (lifecycle_next_deadline(&deadline) == 0) {
            idle_until(deadline);
            continue;
        }
        nothing_left(&reported);
    }
}

/* --- control-channel operations --- */

static struct guest *find_guest(uint32_t id)
{
    for (uint32_t i = 0; id && i < parts->count; i++)
        if (guests[i].state != GUEST_FREE && guests[i].id == id)
            return &guests[i];
    return NULL;
}

/* The line and instance a pending (not started, not cancelled) id
 * belongs to: 0, or -1. */
static int find_pending(uint32_t id, struct guest_line **line, uint32_t *instance)
{
    for (uint32_t i = 0; id && i < RUN_LINES_MAX; i++) {
        struct guest_line *l = &lines[i];
        uint32_t k = id - l->first_id;
        if (!l->valid || !l->pending || id < l->first_id || k >= l->cfg->count ||
            k < l->next_instance || guest_line_cancelled(l, k))
            continue;
        *line = l;
        *instance = k;
        return 0;
    }
    return -1;
}

static int free_dynamic_line(void)
{
    for (uint32_t i = config->guest_count; i < RUN_LINES_MAX; i++)
        if (!lines[i].valid || (lines[i].dynamic && !lines[i].pending && !lines[i].alive))
            return (int)i;
    return -1;
}

/* Whether a wire string fits a field of size bytes (with its NUL). */
static int fits(const char *s, size_t size)
{
    return strlen(s) < size;
}

/* Fills a config line from a START request and checks it with the
 * config module's own rules. */
static int start_line(const struct mf_ctl_start *req, struct config_guest *c, char *why,
                      size_t n)
{
    memset(c, 0, sizeof(*c));
    if (!fits(req->name, sizeof(c->name)) || !fits(req->image, sizeof(c->image)) ||
        !fits(req->class_name, sizeof(c->class_name)) || !fits(req->args, sizeof(c->args)))
        return fmt_error(why, n, -MF_EINVAL, "a name or args is too long");
    str_copy(c->name, req->name, sizeof(c->name));
    str_copy(c->image, req->image, sizeof(c->image));
    str_copy(c->class_name, req->class_name, sizeof(c->class_name));
    str_copy(c->args, req->args, sizeof(c->args));
    c->count = req->count;
    c->timeout_ms = req->timeout_ms;
    for (uint32_t i = 0; i < MF_CTL_NETS_MAX && req->nets[i][0]; i++) {
        if (!fits(req->nets[i], SWITCH_NAME_MAX) || c->net_count == CONFIG_NETS_MAX)
            return fmt_error(why, n, -MF_EINVAL, "too many or too long switch names");
        str_copy(c->nets[c->net_count++], req->nets[i], SWITCH_NAME_MAX);
    }
    if (config_check_guest(config, c, why, n) < 0)
        return c->class_name[0] && config_find_class(config, c->class_name) < 0 ? -MF_ENOENT
                                                                                  : -MF_EINVAL;
    return 0;
}

/* Free partitions a line can get now (class, or smallest that fits). */
static uint32_t partitions_for(const struct guest_line *l)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < parts->class_count; i++)
        if ((l->class_index < 0 && parts->classes[i].size >= l->need) ||
            (int)i == l->class_index)
            n += parts->classes[i].free_count;
    return n;
}

/* Refuses a START that would leave more instances waiting than allowed,
 * or start instances without the ports they need. Nothing has changed. */
static int check_start_capacity(const struct guest_line *l, char *why, size_t n)
{
    uint32_t now = partitions_for(l), count = l->cfg->count;
    uint32_t starting = now < count ? now : count, waiting = count - starting;

    if (waiting > RUN_PENDING_PER_START)
        return fmt_error(why, n, -MF_ERANGE, "%u of %u instances would wait for a partition "
                         "(%u free): at most %d may wait per START; lower --count", waiting,
                         count, now, RUN_PENDING_PER_START);
    if (pending_total(1) + waiting > RUN_PENDING_MAX)
        return fmt_error(why, n, -MF_ENOMEM, "%u instances already wait for a partition: at "
                         "most %d may wait in all; stop some (mfctl ps lists them)",
                         pending_total(1), RUN_PENDING_MAX);
    if ((uint64_t)starting * l->cfg->net_count > net_ports_free())
        return fmt_error(why, n, -MF_ENOMEM, "%u instances need %u network ports and %u are "
                         "free; lower --count", starting, starting * l->cfg->net_count,
                         net_ports_free());
    return 0;
}

int run_start(const struct mf_ctl_start *req, const uint8_t *image, uint64_t size,
              uint64_t request_tsc, struct mf_ctl_start_reply *out, char *why,
              size_t why_size)
{
    int slot = free_dynamic_line(), r;
    struct guest_line *l;
    struct config_guest c;

    if (slot < 0)
        return fmt_error(why, why_size, -MF_ENOMEM, "too many guest lines with instances alive "
                         "(at most %d)", RUN_LINES_MAX);
    r = start_line(req, &c, why, why_size);
    if (r < 0)
        return r;
    l = &lines[slot];
    dynamic_cfg[slot] = c;
    memset(l, 0, sizeof(*l));
    l->cfg = &dynamic_cfg[slot];
    l->dynamic = 1;
    l->request_tsc = request_tsc;
    l->cancelled = cancelled[slot];
    if (guest_line_check(l, config, parts, image, size, why, why_size) < 0)
        return -MF_EINVAL;
    r = check_start_capacity(l, why, why_size);
    if (r < 0)
        return r;
    guest_line_activate(l, parts);
    guest_start_pending(lines, RUN_LINES_MAX, guests, parts, config);
    out->started = l->next_instance;
    out->pending = l->pending;
    out->first_id = l->first_id;
    return 0;
}

int run_stop(uint32_t id, char *why, size_t why_size)
{
    struct guest *g = find_guest(id);
    struct guest_line *l;
    uint32_t k;

    if (g) {
        /* The pollers run between guests: g is READY or WAITING, and it
         * is gone (partition scrubbed and free) before the reply. */
        finish(g, 1, "stopped over the control channel");
        return 0;
    }
    if (find_pending(id, &l, &k) == 0) {
        l->cancelled[k / 8] |= (uint8_t)(1u << (k % 8));
        l->pending--;
        kprintf("mayfly: guest %u %s.%u cancelled before it started\n", id, l->cfg->name, k);
        control_logf(id, "cancelled before it started");
        return 0;
    }
    return fmt_error(why, why_size, -MF_ENOENT, "no guest %u is running or waiting for a "
                     "partition (see mfctl ps)", id);
}

static uint32_t entry_state(const struct guest *g)
{
    return g->state == GUEST_WAITING ? MF_CTL_GUEST_WAITING : MF_CTL_GUEST_RUNNING;
}

static void fill_pending_entry(struct mf_ctl_guest_entry *e, const struct guest_line *l,
                               uint32_t k)
{
    memset(e, 0, sizeof(*e));
    e->id = l->first_id + k;
    e->state = MF_CTL_GUEST_PENDING;
    fmt_snprintf(e->name, sizeof(e->name), "%s.%u", l->cfg->name, k);
    str_copy(e->image, l->cfg->image, sizeof(e->image));
    str_copy(e->class_name, l->class_index >= 0 ? parts->classes[l->class_index].name : "",
             sizeof(e->class_name));
}

/* Lists the pending instances after the live guests, numbered on from
 * *index. */
static uint32_t list_pending(uint32_t first, struct mf_ctl_guest_entry *out, uint32_t n,
                             uint32_t max, uint32_t *index)
{
    for (uint32_t i = 0; i < RUN_LINES_MAX; i++) {
        const struct guest_line *l = &lines[i];
        for (uint32_t k = l->next_instance; l->valid && l->pending && k < l->cfg->count; k++) {
            if (guest_line_cancelled(l, k))
                continue;
            if ((*index)++ >= first && n < max)
                fill_pending_entry(&out[n++], l, k);
        }
    }
    return n;
}

uint32_t run_list(uint32_t first, struct mf_ctl_guest_entry *out, uint32_t max,
                  uint32_t *total)
{
    uint32_t n = 0, index = 0;
    uint64_t now = time_arch_tsc();

    for (uint32_t i = 0; i < parts->count; i++) {
        const struct guest *g = &guests[i];
        const struct partition_class *c = &parts->classes[parts->parts[i].class_index];
        if (g->state == GUEST_FREE)
            continue;
        if (index++ < first || n == max)
            continue;
        memset(&out[n], 0, sizeof(out[n]));
        out[n].id = g->id;
        out[n].state = entry_state(g);
        str_copy(out[n].name, g->name, sizeof(out[n].name));
        str_copy(out[n].image, lines[g->line].cfg->image, sizeof(out[n].image));
        str_copy(out[n].class_name, c->name, sizeof(out[n].class_name));
        out[n].mem_size = g->mem_size;
        out[n].uptime_tsc = now - g->start_tsc;
        out[n].hypercalls = g->hypercalls;
        n++;
    }
    n = list_pending(first, out, n, max, &index);
    *total = index;
    return n;
}

static void port_counters(const struct guest *g, struct mf_ctl_stats_reply *out)
{
    for (uint32_t i = 0; i < CONFIG_NETS_MAX; i++) {
        const struct vport *p = g->ports[i];
        if (!p)
            continue;
        out->net_rx_frames += p->port.stats.rx_frames;
        out->net_tx_frames += p->port.stats.tx_frames;
        out->net_drops += p->port.stats.drops_no_buffer + p->port.stats.drops_malformed;
    }
}

static int guest_stats(uint32_t id, uint64_t now, struct mf_ctl_stats_reply *out, char *why,
                       size_t why_size)
{
    const struct guest *g = find_guest(id);
    struct guest_line *l;
    uint32_t k;

    if (!g) {
        if (find_pending(id, &l, &k) == 0) {
            out->state = MF_CTL_GUEST_PENDING;
            return 0;
        }
        return fmt_error(why, why_size, -MF_ENOENT, "no guest %u is running or waiting for a "
                         "partition (see mfctl ps)", id);
    }
    out->state = entry_state(g);
    out->uptime_tsc = now - g->start_tsc;
    out->hypercalls = g->hypercalls;
    out->preemptions = g->preemptions;
    port_counters(g, out);
    return 0;
}

int run_stats(uint32_t id, struct mf_ctl_stats_reply *out, char *why, size_t why_size)
{
    uint64_t now = time_arch_tsc();

    out->id = id;
    if (id)
        return guest_stats(id, now, out, why, why_size);
    out->uptime_tsc = now - boot_tsc;
    out->guests_started = guest_started_count();
    out->guests_running = guest_running_count();
    out->guests_exited = exited_ok;
    out->guests_failed = failed + killed + guest_launch_failures();
    out->guests_pending = pending_total(0);
    for (uint32_t i = 0; i < parts->class_count; i++)
        out->partitions_free += parts->classes[i].free_count;
    for (uint32_t i = 0; i < net_switch_count(); i++) {
        out->net_rx_frames += net_switch(i)->frames;
        out->net_drops += net_switch(i)->drops;
    }
    out->control_requests = control_requests();
    out->control_errors = control_errors();
    return 0;
}

int run_image_in_use(const uint8_t *image)
{
    for (uint32_t i = 0; i < RUN_LINES_MAX; i++)
        if (lines[i].valid && (lines[i].pending || lines[i].alive) && lines[i].image == image)
            return 1;
    return 0;
}

int run_boot_image(const char *name, const uint8_t **data, uint64_t *size)
{
    const struct boot_file *f = boot_find_file(boot, name);

    if (!f || !strcmp(name, "mayfly.conf"))
        return -1;
    *data = (const uint8_t *)(uintptr_t)f->addr;
    *size = f->size;
    return 0;
}

uint64_t run_largest_partition(void)
{
    uint64_t largest = 0;
    for (uint32_t i = 0; i < parts->class_count; i++)
        if (parts->classes[i].size > largest)
            largest = parts->classes[i].size;
    return largest;
}

void run_all(struct config *cfg, struct partition_table *table, const struct boot_info *info)
{
    char *console_ring;

    config = cfg;
    parts = table;
    boot = info;
    boot_tsc = time_arch_tsc();
    quantum_tsc = time_arch_tsc_hz() / 1000 * RUN_QUANTUM_MS;
    poll_tsc = time_arch_tsc_hz() / 1000000 * RUN_POLL_US;
    kprintf("mayfly: TSC %llu kHz, quantum %u ms\n",
            (unsigned long long)(time_arch_tsc_hz() / 1000), RUN_QUANTUM_MS);
    create_vcpus();
    cancelled = pool_alloc_bytes(RUN_LINES_MAX * sizeof(*cancelled), 8);
    console_ring = pool_alloc_bytes(CONSOLE_RING_BYTES, 8);
    if (!cancelled || !console_ring)
        fatal(HV_NO_MEMORY, "hypervisor pool too small for the console ring and line tables");
    if (net_init(cfg, net_ports_needed(cfg, parts->count)) < 0)
        fatal(HV_NO_MEMORY, "hypervisor pool too small for the network ports");
    kprintf("mayfly: %u vCPUs ready, pool %llu KiB used of %llu KiB\n", parts->count,
            (unsigned long long)(pool_used() / 1024), (unsigned long long)(pool_size() / 1024));
    for (uint32_t i = 0; i < cfg->guest_count; i++) {
        static const uint8_t empty_file[1];     /* a 0-byte file may have no address */
        const struct boot_file *f = boot_find_file(info, cfg->guests[i].image);
        const uint8_t *image = !f ? NULL : f->size ? (const uint8_t *)(uintptr_t)f->addr
                                                   : empty_file;
        lines[i].cfg = &cfg->guests[i];
        lines[i].cancelled = cancelled[i];
        if (guest_line_check(&lines[i], cfg, parts, image, f ? f->size : 0, NULL, 0) == 0)
            guest_line_activate(&lines[i], parts);
    }
    console_start_buffering(console_ring);
    guest_start_pending(lines, RUN_LINES_MAX, guests, parts, config);
    schedule();
}
