#include <stdarg.h>

#include "fleet.h"
#include "../include/mayfly/abi.h"
#include "arch.h"
#include "console.h"
#include "fmt.h"
#include "hv.h"
#include "lib.h"
#include "lifecycle.h"
#include "lock.h"
#include "net.h"
#include "pool.h"
#include "uplink.h"

static struct guest *guests;
static struct guest_line lines[FLEET_LINES_MAX];
static struct config_guest dynamic_cfg[FLEET_LINES_MAX];
static uint8_t (*cancelled)[PARTITION_MAX / 8];    /* per line, from the pool */
static struct partition_table *parts;
static const struct config *config;
static uint32_t next_guest_id = 1;
static struct fleet_counts counts;
static struct lock lock;
/* One past the highest line ever accepted: the scans for pending
 * instances stop there (a launch made in fleet_start_pending paid for
 * every empty line of the table after its own). */
static uint32_t lines_end;

void fleet_lock(void)
{
    lock_take(&lock);
}

void fleet_unlock(void)
{
    lock_give(&lock);
}

uint64_t fleet_footprint(uint64_t partition_size)
{
    return vcpu_arch_footprint(partition_size) + sizeof(struct guest) + LIFECYCLE_STORAGE(1);
}

uint64_t fleet_pool_extra(const struct config *cfg, uint32_t partitions)
{
    struct net_ports n;

    net_ports_needed(cfg, partitions, &n);
    return net_footprint(cfg, &n) +
           (cfg->control || cfg->summon_count ? FLEET_LINES_MAX * sizeof(*cancelled) : 0);
}

/* The kick hv/lifecycle.h asks for: wakes another CPU (never this one). */
static void kick(uint32_t cpu)
{
    if (cpu != cpu_arch_self())
        cpu_arch_kick(cpu);
}

static void create_vcpus(void)
{
    uint32_t count = parts->count, cpus = cpu_arch_count();
    void *queues = pool_alloc_bytes(cpus * LIFECYCLE_STORAGE(count), 8);

    guests = pool_alloc_bytes(count * sizeof(*guests), 64);
    /* Only the control channel and the summoner cancel pending instances. */
    cancelled = config->control || config->summon_count
                ? pool_alloc_bytes(FLEET_LINES_MAX * sizeof(*cancelled), 8) : NULL;
    if (!queues || !guests || ((config->control || config->summon_count) && !cancelled))
        fatal(HV_NO_MEMORY, "hypervisor pool too small for %u guests", count);
    for (uint32_t i = 0; i < count; i++) {
        const struct partition *p = &parts->parts[i];
        struct guest *g = &guests[i];
        g->partition = i;
        g->mem = (uint8_t *)(uintptr_t)p->base;
        g->mem_size = parts->classes[p->class_index].size;
        g->vcpu = vcpu_arch_create(i, p->base, g->mem_size);
        if (!g->vcpu)
            fatal(HV_NO_MEMORY, "hypervisor pool too small for the vCPU of partition %u", i);
    }
    lifecycle_init(guests, count, cpus, queues, kick);
    lifecycle_set_probes(time_arch_tsc, cpu_arch_self);
}

/* Whether what the line needs (its image, and the disks a personality
 * adds) fits the largest partition it may get: a class named with
 * class= is taken whatever the need, so this is the only check. */
static int fits(const struct guest_line *l, uint64_t limit, char *why, size_t n)
{
    if (l->need <= limit)
        return 0;
    return fmt_error(why, n, -1, "it needs %llu KiB (image, stack and disks) and the largest "
                     "partition it may get has %llu KiB: use a larger class",
                     (unsigned long long)(l->need / 1024), (unsigned long long)(limit / 1024));
}

/* A line pinned with cpu= to a CPU that does not run guests here. */
static int pinned_off(const struct guest_line *l, char *why, size_t n)
{
    if (!l->cfg->cpu || l->cfg->cpu <= lifecycle_cpus())
        return 0;
    return fmt_error(why, n, -1, "cpu=%u, but only %u CPU%s run%s guests here (cpu=0 to "
                     "cpu=%u): pin it to one of those or drop cpu=", l->cfg->cpu - 1,
                     lifecycle_cpus(), lifecycle_cpus() == 1 ? "" : "s",
                     lifecycle_cpus() == 1 ? "s" : "", lifecycle_cpus() - 1);
}

/* Validates a line's image (size bytes at image, NULL when it was not
 * loaded) once, for the memory of the partitions it may get. 0, or -1
 * with the reason logged (and in why when why is not NULL). */
static int check_line(struct guest_line *l, const uint8_t *image, uint64_t size,
                      const struct fleet_files *files, char *why, size_t why_size)
{
    uint64_t limit = 0;
    char reason[ELF_REASON_MAX + BOOT_NAME_MAX + 32];

    l->valid = 0;
    l->class_index = l->cfg->class_name[0] ? config_find_class(config, l->cfg->class_name) : -1;
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
        l->pers = l->elf.personality == ELF_SOLO5_HVT ? &personality_solo5 : &personality_mayfly;
        if (l->pers->check_line(l, files, reason, sizeof(reason)) == 0 &&
            fits(l, limit, reason, sizeof(reason)) == 0 &&
            pinned_off(l, reason, sizeof(reason)) == 0)
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

void fleet_accept(struct guest_line *l)
{
    l->pending = l->cfg->count;
    l->next_instance = 0;
    l->first_id = next_guest_id;
    next_guest_id += l->cfg->count;
    if (l->cancelled)
        memset(l->cancelled, 0, (l->cfg->count + 7) / 8);
    l->valid = 1;
    if ((uint32_t)(l - lines) >= lines_end)
        lines_end = (uint32_t)(l - lines) + 1;
    kprintf("mayfly: guest %s: image %s ok (%s, entry 0x%llx, needs %llu KiB), class %s, "
            "%u instances\n", l->cfg->name, l->cfg->image, l->pers->name,
            (unsigned long long)l->elf.entry,
            (unsigned long long)(l->need / 1024),
            l->class_index >= 0 ? parts->classes[l->class_index].name : "smallest that fits",
            l->cfg->count);
}

void fleet_abandon(struct guest_line *l)
{
    l->valid = 0;
    l->pending = 0;
}

int fleet_cancelled(const struct guest_line *l, uint32_t k)
{
    return l->cancelled && k < l->cfg->count && (l->cancelled[k / 8] >> (k % 8)) & 1;
}

void fleet_cancel(struct guest_line *l, uint32_t k)
{
    l->cancelled[k / 8] |= (uint8_t)(1u << (k % 8));
    l->pending--;
}

/* What teardowns and zeroing cost, for the report (under the fleet lock):
 * ticks from a guest's end to its partition free, idle slices, and the
 * launches that found no clean partition and zeroed one themselves. */
static struct {
    uint64_t teardowns, teardown_ticks, teardown_zeroed, teardown_bytes, zeroed_ticks;
    uint64_t idle_slices, idle_bytes, idle_ticks;
    uint64_t launches, launch_bytes;
} zeroing;

/* On the CPU the line pins, or the least loaded one. */
static void launch(struct guest *g, struct guest_line *l, uint32_t line_index, uint32_t k)
{
    uint32_t cpu = l->cfg->cpu ? l->cfg->cpu - 1 : lifecycle_place();
    uint64_t dirty = g->mem_size - partition_dirty_from(parts, g->partition);

    if (dirty) {
        zeroing.launches++;
        zeroing.launch_bytes += dirty;
    }
    if (guest_launch(g, l, line_index, k, cpu, parts, config) < 0) {
        counts.launch_failures++;
        return;
    }
    lifecycle_admit(g, cpu);
    counts.started++;
    counts.running++;
    l->alive++;
    if (counts.running > counts.peak)
        counts.peak = counts.running;
}

/* Starts one pending instance of the first line in [from, to) that has
 * one and a free partition for it, skipping cancelled ones; 1 if it did. */
static int start_one(uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++) {
        struct guest_line *l = &lines[i];
        uint32_t p, k;

        if (!l->valid || !l->pending)
            continue;
        while (fleet_cancelled(l, l->next_instance))
            l->next_instance++;
        p = partition_alloc(parts, l->class_index, l->need);
        if (p == PARTITION_NONE)
            continue;
        l->pending--;
        k = l->next_instance++;
        launch(&guests[p], l, i, k);
        return 1;
    }
    return 0;
}

/* Whose turn the next free partition is: the control channel's lines
 * (dynamic) or the config's. */
static int dynamic_turn;

/* Starts as many pending instances as free partitions allow. The
 * config's lines and the lines started over the control channel (and
 * the summoner's) take turns, an instance each, so that a START does
 * not wait behind a config line's long count= (nor the config behind a
 * stream of STARTs); within each, lines are served in order. */
void fleet_start_pending(void)
{
    uint32_t split = config->guest_count < lines_end ? config->guest_count : lines_end;

    for (;;) {
        if (dynamic_turn && start_one(split, lines_end))
            dynamic_turn = 0;
        else if (start_one(0, split))
            dynamic_turn = 1;
        else if (!dynamic_turn && start_one(split, lines_end))
            dynamic_turn = 0;
        else
            break;
    }
}

/* What the resource check compares with, taken by fleet_booted: the pool
 * in use and the switch slots not held by guests (uplinks). */
static struct {
    uint64_t pool_used;
    uint32_t other_slots;
    int taken;
} at_boot;

/* Teardowns under way without the fleet lock (their ports going back). */
static uint32_t teardowns;

/* Ports held by guests alive now (their personality lists them). */
static uint32_t ports_held(void)
{
    const struct port *p[CONFIG_DEVICES_MAX + CONFIG_NETS_MAX];
    uint32_t n = 0;

    for (uint32_t i = 0; i < parts->count; i++)
        if (guests[i].state != GUEST_FREE && guests[i].pers)
            n += guests[i].pers->ports(&guests[i], p, sizeof(p) / sizeof(p[0]));
    return n;
}

static uint32_t switch_slots_used(void)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < net_switch_count(); i++)
        n += net_switch(i)->count;
    return n;
}

void fleet_booted(void)
{
    fleet_lock();
    at_boot.pool_used = pool_used();
    at_boot.other_slots = switch_slots_used() - ports_held();
    at_boot.taken = 1;
    fleet_unlock();
}

/* Appends to a check's list of what is wrong. */
static void wrong_add(char *wrong, size_t size, const char *fmt, ...)
{
    size_t used = strlen(wrong);
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(wrong + used, size - used, fmt, ap);
    va_end(ap);
}

/* Counts every resource a guest holds from its owner and says whether
 * they add up: partitions free (the allocator's free lists) plus slots
 * holding a guest make the table, and those slots are the guests the
 * counts call alive; ports free plus ports guests hold make the pools,
 * and switch slots are the guests' ports plus what was attached at boot
 * (not checked while a teardown on another CPU is giving ports back
 * without the lock); the pool is what it was at boot (nothing is
 * allocated after it). With the fleet lock held. */
static void check_resources(uint32_t ended)
{
    uint32_t free_parts = 0, held = 0, ports = ports_held();
    uint32_t ports_free = net_ports_free() + net_queue_ports_free();
    uint32_t ports_total = net_ports_total() + net_queue_ports_total();
    uint32_t slots = switch_slots_used();
    uint64_t used = pool_used();
    char wrong[192] = "";

    for (uint32_t i = 0; i < parts->class_count; i++)
        free_parts += parts->classes[i].free_count;
    for (uint32_t i = 0; i < parts->count; i++)
        held += guests[i].state != GUEST_FREE;
    if (free_parts + held != parts->count || held != counts.running)
        wrong_add(wrong, sizeof(wrong), " %u free and %u held partitions of %u, %u guests "
                  "alive;", free_parts, held, parts->count, counts.running);
    /* Free counts clean and dirty ones (and one being zeroed at idle). */
    if (!partition_lists_agree(parts))
        wrong_add(wrong, sizeof(wrong), " the clean and dirty free lists disagree with the "
                  "counts;");
    if (__atomic_load_n(&teardowns, __ATOMIC_ACQUIRE) == 0) {
        if (ports_free + ports != ports_total)
            wrong_add(wrong, sizeof(wrong), " %u free and %u held ports of %u;", ports_free,
                      ports, ports_total);
        if (at_boot.taken && slots != at_boot.other_slots + ports)
            wrong_add(wrong, sizeof(wrong), " %u switch slots in use, not %u;", slots,
                      at_boot.other_slots + ports);
    }
    if (at_boot.taken && used != at_boot.pool_used)
        wrong_add(wrong, sizeof(wrong), " the pool grew after boot;");
    kprintf("mayfly: resource check after %u guests ended: %u of %u partitions free, %u "
            "held; ports %u free of %u, %u held; switch slots %u in use; pool %llu of %llu "
            "bytes used (%llu at boot): %s%s\n", ended, free_parts, parts->count, held,
            ports_free, ports_total, ports, slots, (unsigned long long)used,
            (unsigned long long)pool_size(), (unsigned long long)at_boot.pool_used,
            wrong[0] ? "WRONG:" : "ok", wrong);
}

static uint32_t ended_count(void)
{
    return counts.exited_ok + counts.failed + counts.killed + counts.retired;
}

/* Whether g's class has a clean partition free now: read without the
 * lock, a hint only (the partition's dirty mark is what a launch obeys). */
static int class_has_clean(const struct guest *g)
{
    const struct partition_class *c = &parts->classes[parts->parts[g->partition].class_index];

    return __atomic_load_n(&c->free_head, __ATOMIC_RELAXED) != PARTITION_NONE;
}

/* The teardown (ports given back) runs without the lock: the partition
 * is still g's until it is freed. It goes back dirty, for idle zeroing,
 * while its class has a clean partition for the next launch; the last
 * one is zeroed here, still without the lock, so that the next launch
 * into the class (a summoned instance's, a waiting instance's) finds it
 * clean instead of zeroing it in front of its first instruction, under
 * the fleet lock. When nothing is left anywhere, the boot CPU is kicked
 * so that it reports at once. */
void fleet_finish(struct guest *g, int was_killed, const char *why)
{
    uint64_t t_end = time_arch_tsc();
    int all_done, zero_now;

    __atomic_add_fetch(&teardowns, 1, __ATOMIC_ACQ_REL);
    guest_teardown(g, was_killed, why);
    zero_now = !class_has_clean(g);
    if (zero_now)
        mem_arch_zero(g->mem, g->mem_size);
    fleet_lock();
    __atomic_sub_fetch(&teardowns, 1, __ATOMIC_ACQ_REL);
    if (g->retire)
        counts.retired++;
    else if (was_killed)
        counts.killed++;
    else if (g->exit_status)
        counts.failed++;
    else
        counts.exited_ok++;
    g->retire = 0;
    g->stop_why = NULL;
    lifecycle_retire(g);
    lines[g->line].alive--;
    counts.running--;
    if (zero_now) {
        partition_free_zeroed(parts, g->partition);
        zeroing.teardown_zeroed++;
        zeroing.teardown_bytes += g->mem_size;
        zeroing.zeroed_ticks += time_arch_tsc() - t_end;
    } else {
        partition_free(parts, g->partition);
        zeroing.teardown_ticks += time_arch_tsc() - t_end;
    }
    zeroing.teardowns++;
    __atomic_add_fetch(&g->ends, 1, __ATOMIC_RELEASE);
    if (ended_count() % FLEET_CHECK_EVERY == 0)
        check_resources(ended_count());
    fleet_start_pending();
    all_done = !counts.running && !fleet_pending(0);
    fleet_unlock();
    if (all_done)
        kick(0);
}

/* Whether some class has a dirty free partition to zero: read without
 * the lock, a hint only (partition_scrub_take decides under it). */
static int dirty_partitions_waiting(void)
{
    for (uint32_t i = 0; i < parts->class_count; i++)
        if (__atomic_load_n(&parts->classes[i].dirty_head, __ATOMIC_RELAXED) != PARTITION_NONE)
            return 1;
    return 0;
}

int fleet_scrub_idle(void)
{
    uint64_t from, len, t0, t1;
    uint32_t i;

    if (!dirty_partitions_waiting())
        return 0;
    fleet_lock();
    i = partition_scrub_take(parts, FLEET_SCRUB_SLICE, &from, &len);
    fleet_unlock();
    if (i == PARTITION_NONE)
        return 0;
    t0 = time_arch_tsc();
    mem_arch_zero(guests[i].mem + from, len);
    t1 = time_arch_tsc();
    fleet_lock();
    partition_scrub_give(parts, i);
    zeroing.idle_slices++;
    zeroing.idle_bytes += len;
    zeroing.idle_ticks += t1 - t0;
    /* An instance may have waited for this partition during the slice. */
    if (fleet_pending(0))
        fleet_start_pending();
    fleet_unlock();
    return 1;
}

struct guest *fleet_find(uint32_t id)
{
    for (uint32_t i = 0; id && i < parts->count; i++)
        if (guests[i].state != GUEST_FREE && guests[i].id == id)
            return &guests[i];
    return NULL;
}

int fleet_find_pending(uint32_t id, struct guest_line **line, uint32_t *instance)
{
    for (uint32_t i = 0; id && i < lines_end; i++) {
        struct guest_line *l = &lines[i];
        uint32_t k = id - l->first_id;
        if (!l->valid || !l->pending || id < l->first_id || k >= l->cfg->count ||
            k < l->next_instance || fleet_cancelled(l, k))
            continue;
        *line = l;
        *instance = k;
        return 0;
    }
    return -1;
}

/* A free dynamic line for a copy of cfg_line, made from tmpl (a checked
 * template) when it is not NULL, else blank and not yet checked. */
static struct guest_line *line_take(const struct config_guest *cfg_line,
                                    const struct guest_line *tmpl, uint64_t request_tsc,
                                    int *status, char *why, size_t why_size)
{
    struct guest_line *l;
    uint32_t i = config->guest_count;

    while (i < FLEET_LINES_MAX && lines[i].valid &&
           !(lines[i].dynamic && !lines[i].pending && !lines[i].alive))
        i++;
    if (i == FLEET_LINES_MAX) {
        *status = fmt_error(why, why_size, -MF_ENOMEM, "too many guest lines with instances "
                            "alive (at most %d)", FLEET_LINES_MAX);
        return NULL;
    }
    l = &lines[i];
    dynamic_cfg[i] = *cfg_line;
    if (tmpl)
        *l = *tmpl;
    else
        memset(l, 0, sizeof(*l));
    l->cfg = &dynamic_cfg[i];
    l->first_id = 0;
    l->next_instance = l->pending = l->alive = 0;
    l->valid = 0;                   /* until fleet_accept */
    l->dynamic = 1;
    l->request_tsc = request_tsc;
    l->cancelled = cancelled ? cancelled[i] : NULL;
    return l;
}

struct guest_line *fleet_new_line(const struct config_guest *cfg_line, const uint8_t *image,
                                  uint64_t size, const struct fleet_files *files,
                                  uint64_t request_tsc, int *status, char *why, size_t why_size)
{
    struct guest_line *l = line_take(cfg_line, NULL, request_tsc, status, why, why_size);

    if (l && check_line(l, image, size, files, why, why_size) < 0) {
        *status = -MF_EINVAL;
        return NULL;
    }
    return l;
}

int fleet_check_template(struct guest_line *out, const uint8_t *image, uint64_t size,
                         const struct fleet_files *files, char *why, size_t why_size)
{
    const struct config_guest *c = out->cfg;
    int r;

    memset(out, 0, sizeof(*out));
    out->cfg = c;
    fleet_lock();
    r = check_line(out, image, size, files, why, why_size);
    fleet_unlock();
    out->valid = r == 0;            /* a template's valid: it passed */
    return r;
}

struct guest_line *fleet_new_line_from(const struct guest_line *tmpl, uint64_t request_tsc,
                                       int *status, char *why, size_t why_size)
{
    if (!tmpl->valid) {
        *status = fmt_error(why, why_size, -MF_EINVAL, "guest %s: its line was not checked",
                            tmpl->cfg->name);
        return NULL;
    }
    return line_take(tmpl->cfg, tmpl, request_tsc, status, why, why_size);
}

uint32_t fleet_partitions_for(const struct guest_line *l)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < parts->class_count; i++)
        if ((l->class_index < 0 && parts->classes[i].size >= l->need) ||
            (int)i == l->class_index)
            n += parts->classes[i].free_count;
    return n;
}

uint32_t fleet_pending(int dynamic_only)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < lines_end; i++)
        if (lines[i].valid && (!dynamic_only || lines[i].dynamic))
            n += lines[i].pending;
    return n;
}

void fleet_counts(struct fleet_counts *out)
{
    *out = counts;
    out->pending = fleet_pending(0);
}

uint32_t fleet_running_count(void)
{
    return counts.running;
}

uint32_t fleet_slots(void)
{
    return parts->count;
}

struct guest *fleet_slot(uint32_t i)
{
    return &guests[i];
}

const struct guest_line *fleet_line(uint32_t i)
{
    return &lines[i];
}

/* Whether line l uses the file at data: as its image or a disk's backing. */
static int line_uses(const struct guest_line *l, const uint8_t *data)
{
    if (l->image == data)
        return 1;
    for (uint32_t d = 0; d < CONFIG_DEVICES_MAX; d++)
        if (l->disk[d] == data)
            return 1;
    return 0;
}

int fleet_image_in_use(const uint8_t *image)
{
    for (uint32_t i = 0; i < lines_end; i++)
        if (lines[i].valid && (lines[i].pending || lines[i].alive) && line_uses(&lines[i], image))
            return 1;
    return 0;
}

const struct config *fleet_config(void)
{
    return config;
}

const struct partition_table *fleet_partitions(void)
{
    return parts;
}

void fleet_report(void)
{
    uint32_t pending = fleet_pending(0);

    if (pending)
        kprintf("mayfly: warning: %u instances never found a partition\n", pending);
    kprintf("mayfly: all guests have ended: %u started, %u exited 0, %u failed, %u killed; "
            "at most %u ran at once\n", counts.started, counts.exited_ok, counts.failed,
            counts.killed, counts.peak);
    if (counts.retired)
        kprintf("mayfly: %u instances were retired when idle (summoned services)\n",
                counts.retired);
    if (counts.launch_failures)
        kprintf("mayfly: %u instances could not be started (see above)\n",
                counts.launch_failures);
    for (uint32_t i = 0; i < net_switch_count(); i++) {
        const struct vswitch *sw = net_switch(i);
        kprintf("mayfly: switch %s: %llu frames switched, %llu dropped; %llu kicks took "
                "%llu TSC ticks\n", sw->name, (unsigned long long)sw->frames,
                (unsigned long long)sw->drops, (unsigned long long)sw->kicks,
                (unsigned long long)sw->busy_tsc);
    }
    uplink_report();
    fleet_lock();
    /* Two lines: a console line is at most 255 characters (kvprintf). */
    if (zeroing.teardowns) {
        uint64_t dirty = zeroing.teardowns - zeroing.teardown_zeroed;
        kprintf("mayfly: %llu teardowns (end to partition free): %llu left it dirty, %llu ticks "
                "on average; %llu zeroed it (no other clean partition in their class), %llu "
                "KiB, %llu ticks on average\n", (unsigned long long)zeroing.teardowns,
                (unsigned long long)dirty,
                (unsigned long long)(dirty ? zeroing.teardown_ticks / dirty : 0),
                (unsigned long long)zeroing.teardown_zeroed,
                (unsigned long long)(zeroing.teardown_bytes / 1024),
                (unsigned long long)(zeroing.teardown_zeroed
                                         ? zeroing.zeroed_ticks / zeroing.teardown_zeroed : 0));
        kprintf("mayfly: %llu KiB zeroed at idle in %llu slices, %llu ticks per MiB; %llu "
                "launches zeroed %llu KiB (no clean partition free)\n",
                (unsigned long long)(zeroing.idle_bytes / 1024),
                (unsigned long long)zeroing.idle_slices,
                (unsigned long long)(zeroing.idle_bytes
                                         ? zeroing.idle_ticks * MIB / zeroing.idle_bytes : 0),
                (unsigned long long)zeroing.launches,
                (unsigned long long)(zeroing.launch_bytes / 1024));
    }
    check_resources(ended_count());
    fleet_unlock();
}

/* The files the boot loader brought (arg: the boot info), for the
 * config's own lines. A 0-byte file may have no address. */
static const uint8_t *find_boot_file(void *arg, const char *name, uint64_t *size)
{
    static const uint8_t empty_file[1];
    const struct boot_file *f = boot_find_file(arg, name);

    if (!f)
        return NULL;
    *size = f->size;
    return f->size ? (const uint8_t *)(uintptr_t)f->addr : empty_file;
}

void fleet_init(const struct config *cfg, struct partition_table *table,
                const struct boot_info *info)
{
    struct fleet_files boot_files = { find_boot_file, (void *)(uintptr_t)info };
    struct net_ports n;

    config = cfg;
    parts = table;
    create_vcpus();
    net_ports_needed(cfg, parts->count, &n);
    if (net_init(cfg, &n) < 0)
        fatal(HV_NO_MEMORY, "hypervisor pool too small for the network ports");
    kprintf("mayfly: %u vCPUs ready, pool %llu KiB used of %llu KiB\n", parts->count,
            (unsigned long long)(pool_used() / 1024), (unsigned long long)(pool_size() / 1024));
    for (uint32_t i = 0; i < cfg->guest_count; i++) {
        uint64_t size = 0;
        const uint8_t *image = find_boot_file((void *)(uintptr_t)info, cfg->guests[i].image,
                                              &size);
        lines[i].cfg = &cfg->guests[i];
        lines[i].cancelled = cancelled ? cancelled[i] : NULL;
        if (check_line(&lines[i], image, size, &boot_files, NULL, 0) == 0)
            fleet_accept(&lines[i]);
    }
    fleet_lock();
    fleet_start_pending();
    fleet_unlock();
}
