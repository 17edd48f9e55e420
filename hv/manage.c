#include "manage.h"
#include "../include/mayfly/abi.h"
#include "arch.h"
#include "console.h"
#include "fmt.h"
#include "lib.h"
#include "log.h"
#include "lifecycle.h"
#include "net.h"

/* How long a STOP waits for a guest on another CPU to end. */
#define MANAGE_STOP_WAIT_MS 1000

static uint64_t boot_tsc;

void manage_init(void)
{
    boot_tsc = time_arch_tsc();
}

/* Refuses a START that would leave more instances waiting than allowed,
 * or start instances without the ports they need. Nothing has changed. */
static int check_capacity(const struct guest_line *l, char *why, size_t n)
{
    uint32_t now = fleet_partitions_for(l), count = l->cfg->count;
    uint32_t starting = now < count ? now : count, waiting = count - starting;
    uint32_t queue = net_queue_ports_of(l->cfg);

    if (waiting > RUN_PENDING_PER_START)
        return fmt_error(why, n, -MF_ERANGE, "%u of %u instances would wait for a partition "
                         "(%u free): at most %d may wait per START; lower --count", waiting,
                         count, now, RUN_PENDING_PER_START);
    if (fleet_pending(1) + waiting > RUN_PENDING_MAX)
        return fmt_error(why, n, -MF_ENOMEM, "%u instances already wait for a partition: at "
                         "most %d may wait in all; stop some (mfctl ps lists them)",
                         fleet_pending(1), RUN_PENDING_MAX);
    if ((uint64_t)starting * l->cfg->net_count > net_ports_free())
        return fmt_error(why, n, -MF_ENOMEM, "%u instances need %u network ports and %u are "
                         "free; lower --count", starting, starting * l->cfg->net_count,
                         net_ports_free());
    if ((uint64_t)starting * queue > net_queue_ports_free())
        return fmt_error(why, n, -MF_ENOMEM, "%u instances need %u Solo5 network ports and "
                         "%u are free; lower --count", starting, starting * queue,
                         net_queue_ports_free());
    return 0;
}

/* The config module's rules for c: 0, or the -MF_E* a START answers. */
static int check_config(const struct config_guest *c, char *why, size_t why_size)
{
    const struct config *cfg = fleet_config();

    if (config_check_guest(cfg, c, why, why_size) < 0)
        return c->class_name[0] && config_find_class(cfg, c->class_name) < 0 ? -MF_ENOENT
                                                                              : -MF_EINVAL;
    return 0;
}

/* The rest of a start once its line l is taken (or NULL, r saying why):
 * capacity, then the line goes live and its instances start. Under the
 * fleet lock, which it gives back. */
static int start_line(struct guest_line *l, int r, struct manage_started *out, char *why,
                      size_t why_size)
{
    if (l && (r = check_capacity(l, why, why_size)) < 0)
        fleet_abandon(l);
    if (l && r == 0) {
        fleet_accept(l);
        fleet_start_pending();
        out->started = l->next_instance;
        out->pending = l->pending;
        out->first_id = l->first_id;
    }
    fleet_unlock();
    return r;
}

int manage_start(const struct config_guest *c, const uint8_t *image, uint64_t size,
                 const struct fleet_files *files, uint64_t request_tsc,
                 struct manage_started *out, char *why, size_t why_size)
{
    struct guest_line *l;
    int r = check_config(c, why, why_size);

    if (r < 0)
        return r;
    fleet_lock();
    l = fleet_new_line(c, image, size, files, request_tsc, &r, why, why_size);
    return start_line(l, r, out, why, why_size);
}

int manage_check_template(struct guest_line *tmpl, const uint8_t *image, uint64_t size,
                          const struct fleet_files *files, char *why, size_t why_size)
{
    int r = check_config(tmpl->cfg, why, why_size);

    tmpl->valid = 0;
    if (r < 0)
        return r;
    return fleet_check_template(tmpl, image, size, files, why, why_size) < 0 ? -MF_EINVAL : 0;
}

int manage_start_from(const struct guest_line *tmpl, uint64_t request_tsc,
                      struct manage_started *out, char *why, size_t why_size)
{
    struct guest_line *l;
    int r = 0;

    fleet_lock();
    l = fleet_new_line_from(tmpl, request_tsc, &r, why, why_size);
    return start_line(l, r, out, why, why_size);
}

/* Waits (with no lock held) until the tenant of slot g that ended
 * ends times has ended, at most MANAGE_STOP_WAIT_MS. 0 when it did. */
static int wait_ended(const struct guest *g, uint32_t ends)
{
    uint64_t until = time_arch_tsc() + time_arch_tsc_hz() / 1000 * MANAGE_STOP_WAIT_MS;

    while (__atomic_load_n(&g->ends, __ATOMIC_ACQUIRE) == ends)
        if (time_arch_tsc() >= until)
            return -1;
    return 0;
}

/* A guest on this CPU is READY or WAITING (requests are served between
 * guests) and is finished here; one on another CPU is asked to stop
 * there (kicked out of the guest if it runs) and waited for. Either way
 * it is gone (partition scrubbed and free) before the reply. */
static int stop_guest(uint32_t id, const char *retire_why, char *why, size_t why_size)
{
    struct guest_line *l;
    struct guest *g;
    uint32_t k, ends, self = cpu_arch_self();
    int r = 0;

    fleet_lock();
    g = fleet_find(id);
    if (g) {
        ends = g->ends;
        g->retire = retire_why != NULL;
        g->stop_why = retire_why;
        if (g->cpu == self) {
            fleet_unlock();
            fleet_finish(g, 1, retire_why ? retire_why : "stopped over the control channel");
            return 0;
        }
        lifecycle_request_stop(g, self);
        fleet_unlock();
        if (wait_ended(g, ends) < 0)
            return fmt_error(why, why_size, -MF_EAGAIN, "guest %u on CPU %u did not end within "
                             "%d ms of the stop: it is stopped when its CPU next schedules",
                             id, g->cpu, MANAGE_STOP_WAIT_MS);
        return 0;
    }
    if (fleet_find_pending(id, &l, &k) == 0) {
        fleet_cancel(l, k);
        kprintf("mayfly: guest %u %s.%u cancelled before it started\n", id, l->cfg->name, k);
        log_printf(id, "cancelled before it started");
    } else {
        r = fmt_error(why, why_size, -MF_ENOENT, "no guest %u is running or waiting for a "
                      "partition (see mfctl ps)", id);
    }
    fleet_unlock();
    return r;
}

int manage_stop(uint32_t id, char *why, size_t why_size)
{
    return stop_guest(id, NULL, why, why_size);
}

int manage_retire(uint32_t id, const char *reason, char *why, size_t why_size)
{
    return stop_guest(id, reason, why, why_size);
}

static enum manage_state state_of(const struct guest *g)
{
    return g->state == GUEST_WAITING ? MANAGE_WAITING : MANAGE_RUNNING;
}

static const char *class_of(const struct guest_line *l)
{
    return l->class_index >= 0 ? fleet_partitions()->classes[l->class_index].name : "";
}

/* A summoned instance's line is named after its service. */
static const char *service_of(const struct config_guest *c)
{
    return c->service ? c->name : NULL;
}

static void live_entry(struct manage_entry *e, const struct guest *g, uint64_t now)
{
    const struct partition_table *parts = fleet_partitions();

    memset(e, 0, sizeof(*e));
    e->id = g->id;
    e->state = state_of(g);
    str_copy(e->name, g->name, sizeof(e->name));
    e->image = fleet_line(g->line)->cfg->image;
    e->personality = g->pers->name;
    e->service = service_of(fleet_line(g->line)->cfg);
    e->service_slot = fleet_line(g->line)->cfg->service_slot;
    e->class_name = parts->classes[parts->parts[g->partition].class_index].name;
    e->mem_size = g->mem_size;
    e->uptime_tsc = now - g->start_tsc;
    e->hypercalls = g->hypercalls;
}

static void pending_entry(struct manage_entry *e, const struct guest_line *l, uint32_t k)
{
    memset(e, 0, sizeof(*e));
    e->id = l->first_id + k;
    e->state = MANAGE_PENDING;
    guest_instance_name(e->name, sizeof(e->name), l, k);
    e->image = l->cfg->image;
    e->personality = l->pers->name;
    e->service = service_of(l->cfg);
    e->service_slot = l->cfg->service_slot;
    e->class_name = class_of(l);
}

uint32_t manage_list(uint32_t first, uint32_t max, uint32_t *total,
                     void (*emit)(const struct manage_entry *e, void *arg), void *arg)
{
    uint32_t n = 0, index = 0;
    uint64_t now = time_arch_tsc();
    struct manage_entry e;

    fleet_lock();
    for (uint32_t i = 0; i < fleet_slots(); i++) {
        const struct guest *g = fleet_slot(i);
        if (g->state == GUEST_FREE || index++ < first || n == max)
            continue;
        live_entry(&e, g, now);
        emit(&e, arg);
        n++;
    }
    for (uint32_t i = 0; i < FLEET_LINES_MAX; i++) {
        const struct guest_line *l = fleet_line(i);
        for (uint32_t k = l->next_instance; l->valid && l->pending && k < l->cfg->count; k++) {
            if (fleet_cancelled(l, k) || index++ < first || n == max)
                continue;
            pending_entry(&e, l, k);
            emit(&e, arg);
            n++;
        }
    }
    fleet_unlock();
    *total = index;
    return n;
}

static int guest_stats(uint32_t id, struct manage_guest_stats *out, char *why, size_t why_size)
{
    const struct guest *g = fleet_find(id);
    const struct port *ports[CONFIG_DEVICES_MAX];
    struct guest_line *l;
    uint32_t k, n;

    memset(out, 0, sizeof(*out));
    if (!g) {
        if (fleet_find_pending(id, &l, &k) == 0) {
            out->state = MANAGE_PENDING;
            return 0;
        }
        return fmt_error(why, why_size, -MF_ENOENT, "no guest %u is running or waiting for a "
                         "partition (see mfctl ps)", id);
    }
    out->state = state_of(g);
    out->uptime_tsc = time_arch_tsc() - g->start_tsc;
    out->hypercalls = g->hypercalls;
    out->preemptions = g->preemptions;
    n = g->pers->ports(g, ports, CONFIG_DEVICES_MAX);
    for (uint32_t i = 0; i < n; i++) {
        out->rx_frames += ports[i]->stats.rx_frames;
        out->tx_frames += ports[i]->stats.tx_frames;
        out->drops += ports[i]->stats.drops_no_buffer + ports[i]->stats.drops_malformed;
    }
    return 0;
}

int manage_guest_stats(uint32_t id, struct manage_guest_stats *out, char *why, size_t why_size)
{
    int r;

    fleet_lock();
    r = guest_stats(id, out, why, why_size);
    fleet_unlock();
    return r;
}

void manage_stats(struct manage_stats *out)
{
    const struct partition_table *parts = fleet_partitions();

    memset(out, 0, sizeof(*out));
    fleet_lock();
    fleet_counts(&out->counts);
    out->uptime_tsc = time_arch_tsc() - boot_tsc;
    for (uint32_t i = 0; i < parts->class_count; i++)
        out->partitions_free += parts->classes[i].free_count;
    for (uint32_t i = 0; i < net_switch_count(); i++) {
        out->frames += net_switch(i)->frames;
        out->drops += net_switch(i)->drops;
    }
    fleet_unlock();
}

int manage_image_in_use(const uint8_t *image)
{
    int r;

    fleet_lock();
    r = fleet_image_in_use(image);
    fleet_unlock();
    return r;
}

int manage_boot_image(const struct boot_info *info, const char *name, const uint8_t **data,
                      uint64_t *size)
{
    const struct boot_file *f = boot_find_file(info, name);

    if (!f || !strcmp(name, "mayfly.conf"))
        return -1;
    *data = (const uint8_t *)(uintptr_t)f->addr;
    *size = f->size;
    return 0;
}

uint64_t manage_largest_partition(void)
{
    const struct partition_table *parts = fleet_partitions();
    uint64_t largest = 0;

    for (uint32_t i = 0; i < parts->class_count; i++)
        if (parts->classes[i].size > largest)
            largest = parts->classes[i].size;
    return largest;
}
