#include "../include/mayfly/abi.h"
#include "console.h"
#include "control.h"
#include "fmt.h"
#include "hv.h"
#include "lib.h"
#include "net.h"
#include "pool.h"
#include "run.h"
#include "sched.h"

static struct guest *guests;
static struct guest_line lines[RUN_LINES_MAX];
static struct config_guest dynamic_cfg[RUN_LINES_MAX];
static struct sched sched;
static struct partition_table *parts;
static const struct config *config;
static uint64_t quantum_tsc, boot_tsc;
static const struct boot_info *boot;
static uint32_t exited_ok, failed, killed;

#define CONTROL_POLL_MS 1       /* idle slices while the control channel is on */

uint64_t run_pool_extra(const struct config *cfg, uint32_t partitions)
{
    return net_footprint(cfg, net_ports_needed(cfg, partitions));
}

uint64_t run_footprint(uint64_t partition_size)
{
    return vcpu_arch_footprint(partition_size) + sizeof(struct guest) +
           sizeof(uint32_t) * 2 + sizeof(struct sched_waiter);
}

void run_enqueue(struct guest *g)
{
    g->state = GUEST_RUNNABLE;
    if (sched_push(&sched, g->partition) < 0)
        panic("run_enqueue: guest %u queued twice", g->id);
}

void guest_wait(struct guest *g, uint64_t deadline)
{
    if (g->kill_tsc && g->kill_tsc < deadline)
        deadline = g->kill_tsc;
    g->state = GUEST_WAITING;
    if (sched_wait(&sched, g->partition, deadline) < 0)
        panic("guest_wait: guest %u waits twice", g->id);
}

void guest_notify(struct guest *g, uint64_t bits)
{
    g->notify_pending |= bits;
    if (g->state != GUEST_WAITING)
        return;
    sched_unwait(&sched, g->partition);
    vcpu_arch_set_result(g->vcpu, (int64_t)g->notify_pending);
    g->notify_pending = 0;
    run_enqueue(g);
}

static void create_vcpus(void)
{
    uint32_t count = parts->count;
    uint32_t *ring = pool_alloc_bytes(count * sizeof(uint32_t), 8);
    uint32_t *pos = pool_alloc_bytes(count * sizeof(uint32_t), 8);
    struct sched_waiter *heap = pool_alloc_bytes(count * sizeof(*heap), 8);

    guests = pool_alloc_bytes(count * sizeof(*guests), 64);
    if (!ring || !pos || !heap || !guests)
        fatal(HV_NO_MEMORY, "hypervisor pool too small for %u guests", count);
    sched_init(&sched, count, ring, heap, pos);
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
}

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

/* Runs g for one quantum, serving its hypercalls in place: the
 * preemption timer ends the quantum, so the hot path reads no clock. */
static void run_guest(struct guest *g)
{
    uint64_t quantum = quantum_tsc, now = time_arch_tsc();
    struct vm_exit exit;
    char why[64];

    if (g->kill_tsc && (int64_t)(g->kill_tsc - now) < (int64_t)quantum)
        quantum = (int64_t)(g->kill_tsc - now) > 0 ? g->kill_tsc - now : 1;
    for (;;) {
        vcpu_arch_run(g->vcpu, quantum, &exit);
        quantum = 0;
        if (control_enabled())
            control_poll();         /* uploads keep flowing while guests run */
        if (exit.action == VMEXIT_PREEMPTED)
            break;
        if (exit.action == VMEXIT_KILL) {
            finish(g, 1, exit.why);
            return;
        }
        hypercall_dispatch(g, exit.nr, exit.args);
        if (g->state == GUEST_EXITED) {
            finish(g, 0, NULL);
            return;
        }
        if (g->state == GUEST_WAITING)
            return;
        if (exit.nr == MF_HC_YIELD)
            break;
    }
    if (g->kill_tsc && (int64_t)(time_arch_tsc() - g->kill_tsc) >= 0) {
        fmt_snprintf(why, sizeof(why), "time limit of %llu ms reached",
                     (unsigned long long)lines[g->line].cfg->timeout_ms);
        finish(g, 1, why);
        return;
    }
    g->preemptions++;
    run_enqueue(g);
}

static uint32_t pending_total(void)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < RUN_LINES_MAX; i++)
        n += lines[i].valid ? lines[i].pending : 0;
    return n;
}

static void report_all_ended(void)
{
    uint32_t pending = pending_total();

    if (pending)
        kprintf("mayfly: warning: %u instances never found a partition\n", pending);
    kprintf("mayfly: all guests have ended: %u started, %u exited 0, %u failed, %u killed; "
            "at most %u ran at once\n", guest_started_count(), exited_ok, failed, killed,
            guest_peak_count());
    for (uint32_t i = 0; i < net_switch_count(); i++) {
        const struct vswitch *sw = net_switch(i);
        kprintf("mayfly: switch %s: %llu frames switched, %llu dropped; %llu kicks took "
                "%llu TSC ticks\n", sw->name, (unsigned long long)sw->frames,
                (unsigned long long)sw->drops, (unsigned long long)sw->kicks,
                (unsigned long long)sw->busy_tsc);
    }
}

/* Idles until deadline, waking every millisecond to serve the control
 * channel when it is on. */
static void idle_until(uint64_t deadline)
{
    if (control_enabled()) {
        uint64_t slice = time_arch_tsc() + time_arch_tsc_hz() / 1000 * CONTROL_POLL_MS;
        time_arch_idle_until((int64_t)(slice - deadline) < 0 ? slice : deadline);
        control_poll();
        return;
    }
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
            hv_power_off((failed || killed) ? HV_GUEST_FAILED : HV_OK);
        if (!control_enabled()) {
            kprintf("mayfly: idle (add 'poweroff when-idle' to mayfly.conf to power off here)\n");
            console_arch_flush();
        }
    }
    idle_until(time_arch_tsc() + time_arch_tsc_hz());
}

static void schedule(void) __attribute__((noreturn));

static void schedule(void)
{
    int reported = 0;

    for (;;) {
        uint64_t deadline;
        uint32_t who;

        if (control_enabled())
            control_poll();
        sched_wake_due(&sched, time_arch_tsc());
        who = sched_pop(&sched);
        if (who != SCHED_NONE) {
            struct guest *g = &guests[who];
            reported = 0;
            g->state = GUEST_RUNNABLE;
            if (g->stop_requested)
                finish(g, 1, "stopped over the control channel");
            else
                run_guest(g);
            continue;
        }
        if (sched_next_deadline(&sched, &deadline) == 0) {
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

static int free_dynamic_line(void)
{
    for (uint32_t i = config->guest_count; i < RUN_LINES_MAX; i++)
        if (!lines[i].valid || (lines[i].dynamic && !lines[i].pending && !lines[i].alive))
            return (int)i;
    return -1;
}

/* Checks a START request's fields and fills a config line from it. */
static int start_line(const struct mf_ctl_start *req, struct config_guest *c, char *why,
                      size_t n)
{
    memset(c, 0, sizeof(*c));
    if (!req->name[0] || strlen(req->name) >= sizeof(c->name))
        return fmt_error(why, n, -MF_EINVAL, "bad guest name");
    str_copy(c->name, req->name, sizeof(c->name));
    str_copy(c->image, req->image, sizeof(c->image));
    if (req->class_name[0] && config_find_class(config, req->class_name) < 0)
        return fmt_error(why, n, -MF_ENOENT, "no partition class '%s' in mayfly.conf",
                         req->class_name);
    str_copy(c->class_name, req->class_name, sizeof(c->class_name));
    if (req->count == 0 || req->count > PARTITION_MAX)
        return fmt_error(why, n, -MF_ERANGE, "count must be 1 to %d", PARTITION_MAX);
    c->count = req->count;
    c->timeout_ms = req->timeout_ms;
    str_copy(c->args, req->args, sizeof(c->args));
    for (uint32_t i = 0; i < MF_CTL_NETS_MAX && req->nets[i][0]; i++) {
        if (config_find_switch(config, req->nets[i]) < 0)
            return fmt_error(why, n, -MF_ENOENT, "no switch '%s': declare it in mayfly.conf "
                             "('switch %s') or name it in a guest's net=", req->nets[i],
                             req->nets[i]);
        str_copy(c->nets[c->net_count++], req->nets[i], SWITCH_NAME_MAX);
    }
    return 0;
}

int run_start(const struct mf_ctl_start *req, const uint8_t *image, uint64_t size,
              uint64_t request_tsc, struct mf_ctl_start_reply *out, char *why,
              size_t why_size)
{
    int slot = free_dynamic_line(), r;
    struct guest_line *l;
    uint32_t first_id = guest_started_count() + 1;

    if (slot < 0)
        return fmt_error(why, why_size, -MF_ENOMEM, "too many guest lines with instances alive (at "
                         "most %d)", RUN_LINES_MAX);
    r = start_line(req, &dynamic_cfg[slot], why, why_size);
    if (r < 0)
        return r;
    l = &lines[slot];
    memset(l, 0, sizeof(*l));
    l->cfg = &dynamic_cfg[slot];
    l->dynamic = 1;
    l->request_tsc = request_tsc;
    if (guest_line_prepare(l, config, parts, image, size, why, why_size) < 0)
        return -MF_EINVAL;
    guest_start_pending(lines, RUN_LINES_MAX, guests, parts, config);
    out->started = l->next_instance;
    out->pending = l->pending;
    out->first_id = l->next_instance ? first_id : 0;
    return 0;
}

int run_stop(uint32_t id, char *why, size_t why_size)
{
    struct guest *g = find_guest(id);

    if (!g)
        return fmt_error(why, why_size, -MF_ENOENT, "no guest %u is running (see mfctl ps)", id);
    g->stop_requested = 1;
    if (g->state == GUEST_WAITING) {
        sched_unwait(&sched, g->partition);
        run_enqueue(g);
    }
    return 0;
}

static uint32_t entry_state(const struct guest *g)
{
    return g->state == GUEST_WAITING ? MF_CTL_GUEST_WAITING : MF_CTL_GUEST_RUNNING;
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
    *total = index;
    return n;
}

static void port_counters(const struct guest *g, struct mf_ctl_stats_reply *out)
{
    for (uint32_t i = 0; i < CONFIG_NETS_MAX; i++) {
        const struct vport *p = g->ports[i];
        if (!p)
            continue;
        out->net_rx_frames += p->stats.rx_frames;
        out->net_tx_frames += p->stats.tx_frames;
        out->net_drops += p->stats.drops_no_buffer + p->stats.drops_malformed;
    }
}

int run_stats(uint32_t id, struct mf_ctl_stats_reply *out, char *why, size_t why_size)
{
    uint64_t now = time_arch_tsc();

    out->id = id;
    if (id) {
        const struct guest *g = find_guest(id);
        if (!g)
            return fmt_error(why, why_size, -MF_ENOENT, "no guest %u is running (see mfctl ps)",
                             id);
        out->state = entry_state(g);
        out->uptime_tsc = now - g->start_tsc;
        out->hypercalls = g->hypercalls;
        out->preemptions = g->preemptions;
        port_counters(g, out);
        return 0;
    }
    out->uptime_tsc = now - boot_tsc;
    out->guests_started = guest_started_count();
    out->guests_running = guest_running_count();
    out->guests_exited = exited_ok;
    out->guests_failed = failed + killed;
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
        if (lines[i].valid && lines[i].pending && lines[i].image == image)
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

void guest_run_all(struct config *cfg, struct partition_table *table,
                   const struct boot_info *info)
{
    config = cfg;
    parts = table;
    boot = info;
    boot_tsc = time_arch_tsc();
    quantum_tsc = time_arch_tsc_hz() / 1000 * RUN_QUANTUM_MS;
    kprintf("mayfly: TSC %llu kHz, quantum %u ms\n",
            (unsigned long long)(time_arch_tsc_hz() / 1000), RUN_QUANTUM_MS);
    create_vcpus();
    if (net_init(cfg, net_ports_needed(cfg, parts->count)) < 0)
        fatal(HV_NO_MEMORY, "hypervisor pool too small for the network ports");
    kprintf("mayfly: %u vCPUs ready, pool %llu KiB used of %llu KiB\n", parts->count,
            (unsigned long long)(pool_used() / 1024), (unsigned long long)(pool_size() / 1024));
    for (uint32_t i = 0; i < cfg->guest_count; i++) {
        const struct boot_file *f = boot_find_file(info, cfg->guests[i].image);
        lines[i].cfg = &cfg->guests[i];
        guest_line_prepare(&lines[i], cfg, parts, f ? (const uint8_t *)(uintptr_t)f->addr : NULL,
                           f ? f->size : 0, NULL, 0);
    }
    guest_start_pending(lines, RUN_LINES_MAX, guests, parts, config);
    schedule();
}
