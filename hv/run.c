#include "../include/mayfly/abi.h"
#include "console.h"
#include "fmt.h"
#include "hv.h"
#include "lib.h"
#include "net.h"
#include "pool.h"
#include "run.h"
#include "sched.h"

static struct guest *guests;
static struct guest_line lines[CONFIG_MAX_GUESTS];
static uint32_t line_count;
static struct sched sched;
static struct partition_table *parts;
static const struct config *config;
static uint64_t quantum_tsc;
static uint32_t exited_ok, failed, killed;

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
    guest_end(g, parts, was_killed, why);
    guest_start_pending(lines, line_count, guests, parts, config);
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
    for (uint32_t i = 0; i < line_count; i++)
        n += lines[i].valid ? lines[i].pending : 0;
    return n;
}

static void all_ended(void) __attribute__((noreturn));

static void all_ended(void)
{
    int status = (failed || killed) ? HV_GUEST_FAILED : HV_OK;

    if (pending_total())
        kprintf("mayfly: warning: %u instances never found a partition\n", pending_total());
    kprintf("mayfly: all guests have ended: %u started, %u exited 0, %u failed, %u killed; "
            "at most %u ran at once\n", guest_started_count(), exited_ok, failed, killed,
            guest_peak_count());
    for (uint32_t i = 0; i < net_switch_count(); i++) {
        const struct vswitch *sw = net_switch(i);
        kprintf("mayfly: switch %s: %llu frames switched, %llu dropped\n", sw->name,
                (unsigned long long)sw->frames, (unsigned long long)sw->drops);
    }
    if (config->poweroff_when_idle)
        hv_power_off(status);
    kprintf("mayfly: idle (add 'poweroff when-idle' to mayfly.conf to power off here)\n");
    console_arch_flush();
    for (;;)
        time_arch_idle_until(time_arch_tsc() + time_arch_tsc_hz());
}

static void schedule(void) __attribute__((noreturn));

static void schedule(void)
{
    for (;;) {
        uint64_t deadline;
        uint32_t who;

        sched_wake_due(&sched, time_arch_tsc());
        who = sched_pop(&sched);
        if (who != SCHED_NONE) {
            struct guest *g = &guests[who];
            g->state = GUEST_RUNNABLE;
            run_guest(g);
            continue;
        }
        if (sched_next_deadline(&sched, &deadline) == 0) {
            time_arch_idle_until(deadline);
            continue;
        }
        all_ended();
    }
}

void guest_run_all(struct config *cfg, struct partition_table *table,
                   const struct boot_info *info)
{
    config = cfg;
    parts = table;
    quantum_tsc = time_arch_tsc_hz() / 1000 * RUN_QUANTUM_MS;
    kprintf("mayfly: TSC %llu kHz, quantum %u ms\n",
            (unsigned long long)(time_arch_tsc_hz() / 1000), RUN_QUANTUM_MS);
    create_vcpus();
    if (net_init(cfg, net_ports_needed(cfg, parts->count)) < 0)
        fatal(HV_NO_MEMORY, "hypervisor pool too small for the network ports");
    kprintf("mayfly: %u vCPUs ready, pool %llu KiB used of %llu KiB\n", parts->count,
            (unsigned long long)(pool_used() / 1024), (unsigned long long)(pool_size() / 1024));
    line_count = cfg->guest_count;
    for (uint32_t i = 0; i < line_count; i++) {
        lines[i].cfg = &cfg->guests[i];
        guest_line_prepare(&lines[i], cfg, parts, info);
    }
    guest_start_pending(lines, line_count, guests, parts, config);
    schedule();
}
