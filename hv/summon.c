/*
 * The summoner: the boot CPU's poller for the summoned services. The
 * fronts (hv/service.c) do the per-frame work under their switch's lock;
 * here, with no lock held, instances are launched through the management
 * layer like a START over the control channel, and stopped like a STOP.
 */
#include "summon.h"
#include "arch.h"
#include "console.h"
#include "elf.h"
#include "fleet.h"
#include "fmt.h"
#include "lib.h"
#include "lock.h"
#include "manage.h"
#include "net.h"
#include "pool.h"
#include "run.h"
#include "service.h"
#include "vswitch.h"

struct summoned {
    const struct config_summon *cfg;
    struct service svc;
    struct vswitch *sw;
    struct config_guest line;       /* what an instance runs (service and slot set per launch) */
    struct guest_line tmpl;         /* line checked once at boot; each launch copies it */
    const uint8_t *image;
    uint64_t image_size;
    uint64_t idle_tsc;
    uint64_t refused_tsc;           /* the last launch refusal logged */
    char reason[SUMMON_INSTANCES_MAX][64];  /* why each instance was stopped, for its end */
};

static struct summoned services[CONFIG_SUMMONS_MAX];
static uint32_t service_count;
static const struct boot_info *boot;

static uint64_t tsc_clock(void)
{
    return time_arch_tsc();
}

static const uint8_t *find_boot_file(void *arg, const char *name, uint64_t *size)
{
    const uint8_t *data;

    (void)arg;
    return manage_boot_image(boot, name, &data, size) == 0 ? data : NULL;
}

static const struct fleet_files boot_files = { find_boot_file, NULL };

/* The config keeps a service's address as a number (ip[0] in the top
 * byte); its text is fmt_ipv4's. */
static char *ip_text(char out[FMT_IPV4_LEN], uint32_t ip)
{
    const uint8_t bytes[4] = { (uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8),
                               (uint8_t)ip };

    return fmt_ipv4(out, bytes);
}

/* Whether args already say ip= (as a word of their own). */
static int has_ip_arg(const char *args)
{
    for (const char *a = args; *a; a++)
        if ((a == args || a[-1] == ' ') && !strncmp(a, "ip=", 3))
            return 1;
    return 0;
}

/* The line an instance runs, checked here once (image, class, config
 * rules: launches copy it without checking again): a Mayfly image is
 * told the service's address (ip= first in its args) unless its args
 * name one; a Solo5 unikernel's args are its own business and kept as
 * they are. */
static int make_line(struct summoned *s, char *why, size_t n)
{
    char ip[FMT_IPV4_LEN];

    s->line = s->cfg->guest;
    s->tmpl.cfg = &s->line;
    if (manage_check_template(&s->tmpl, s->image, s->image_size, &boot_files, why, n) < 0)
        return -1;
    if (s->tmpl.elf.personality == ELF_MAYFLY && !has_ip_arg(s->line.args)) {
        char args[CONFIG_ARGS_MAX];
        ip_text(ip, s->cfg->ip);
        fmt_snprintf(args, sizeof(args), "ip=%s%s%s", ip, s->line.args[0] ? " " : "",
                     s->line.args);
        if (strlen(s->line.args) + strlen(ip) + 4 >= sizeof(args))
            return fmt_error(why, n, -1, "args too long to add ip=%s: shorten them or put "
                             "ip= in them", ip);
        str_copy(s->line.args, args, sizeof(s->line.args));
    }
    return 0;
}

static int summon_wanted(void)
{
    return service_count != 0;
}

static void summon_poll(void);

/* It does not keep the machine up by itself: 'poweroff when-idle' powers
 * off once no guest runs, summoned or not (docs/summon.md). */
static const struct run_poller summon_poller = { summon_poll, summon_wanted, 0, 0,
                                                 summon_report };

void summon_init(const struct config *cfg, const struct boot_info *info)
{
    char ip[FMT_IPV4_LEN], mac[FMT_MAC_LEN], why[160];

    boot = info;
    for (uint32_t i = 0; i < cfg->summon_count; i++) {
        const struct config_summon *c = &cfg->summons[i];
        struct summoned *s = &services[service_count];
        int sw = config_find_switch(cfg, config_summon_switch(&c->guest));
        uint8_t *storage;

        ip_text(ip, c->ip);
        memset(s, 0, sizeof(*s));
        s->cfg = c;
        if (manage_boot_image(info, c->guest.image, &s->image, &s->image_size) < 0) {
            kprintf("mayfly: summon %s: image %s was not loaded: put it next to mayfly.conf; "
                    "the service is left out\n", c->guest.name, c->guest.image);
            continue;
        }
        if (make_line(s, why, sizeof(why)) < 0) {
            kprintf("mayfly: summon %s: image %s refused: %s; the service is left out\n",
                    c->guest.name, c->guest.image, why);
            continue;
        }
        s->sw = sw >= 0 ? net_switch((uint32_t)sw) : NULL;
        storage = pool_alloc_bytes(SERVICE_HOLD_BYTES, 16);
        if (!s->sw || !storage) {
            kprintf("mayfly: summon %s: no switch %s or no memory for its hold queue; the "
                    "service is left out\n", c->guest.name, config_summon_switch(&c->guest));
            continue;
        }
        service_init(&s->svc, c->ip, c->port, c->guest.mac, c->max, tsc_clock, time_arch_tsc_hz(),
                     storage);
        s->svc.wake = run_poll_soon;
        s->idle_tsc = time_arch_tsc_hz() / 1000 * c->idle_ms;
        lock_take(&s->sw->lock);
        sw = service_attach(&s->svc, s->sw);
        lock_give(&s->sw->lock);
        if (sw < 0) {
            kprintf("mayfly: summon %s: switch %s has no free port or table entry for it; the "
                    "service is left out\n", c->guest.name, config_summon_switch(&c->guest));
            continue;
        }
        service_count++;
        fmt_snprintf(why, sizeof(why), c->port ? "port %u" : "any port", c->port);
        kprintf("mayfly: summon %s: %s %s on switch %s, mac %s, image %s, up to %u instances, "
                "idle %u ms\n", c->guest.name, ip, why, config_summon_switch(&c->guest),
                fmt_mac(mac, c->guest.mac), c->guest.image, c->max, c->idle_ms);
    }
    if (service_count)
        run_add_poller(&summon_poller);
}

void summon_join(const struct config_guest *c, struct port *p)
{
    struct summoned *s;

    if (!c->service || c->service > service_count)
        return;
    s = &services[c->service - 1];
    lock_take(&s->sw->lock);
    service_join(&s->svc, c->service_slot, p);
    lock_give(&s->sw->lock);
}

static void launch(struct summoned *s, uint32_t index, uint32_t slot, uint64_t wanted)
{
    struct manage_started started;
    char why[160];
    int r;

    s->line.service = (uint8_t)(index + 1);
    s->line.service_slot = (uint8_t)slot;
    r = manage_start_from(&s->tmpl, wanted, &started, why, sizeof(why));
    lock_take(&s->sw->lock);
    if (r == 0)
        service_launched(&s->svc, slot, started.first_id, time_arch_tsc());
    else
        service_launch_failed(&s->svc, slot);
    lock_give(&s->sw->lock);
    if (r == 0) {
        kprintf("mayfly: summon %s: instance %u is guest %u%s, %llu ticks after its first "
                "frame\n", s->cfg->guest.name, slot, started.first_id,
                started.pending ? " (waiting for a partition)" : "",
                (unsigned long long)(time_arch_tsc() - wanted));
    } else if (time_arch_tsc() - s->refused_tsc > time_arch_tsc_hz()) {
        s->refused_tsc = time_arch_tsc();
        kprintf("mayfly: summon %s: instance %u not started: %s (its frames are dropped)\n",
                s->cfg->guest.name, slot, why);
    }
}

static void stop(struct summoned *s, uint32_t slot, uint32_t id, int answered)
{
    char why[160];
    struct manage_stats m;

    if (answered)
        fmt_snprintf(s->reason[slot], sizeof(s->reason[slot]), "idle for %u ms (summoned "
                     "service %s)", s->cfg->idle_ms, s->cfg->guest.name);
    else
        fmt_snprintf(s->reason[slot], sizeof(s->reason[slot]), "it did not answer within %u "
                     "ms of its start (summoned service %s)", SERVICE_START_MS,
                     s->cfg->guest.name);
    if (manage_retire(id, s->reason[slot], why, sizeof(why)) < 0)
        return;                     /* it ended by itself meanwhile */
    lock_take(&s->sw->lock);
    s->svc.counts.idled += answered ? 1u : 0u;
    lock_give(&s->sw->lock);
    manage_stats(&m);
    kprintf("mayfly: summon %s: instance %u (guest %u) stopped; %u running now, %llu "
            "summoned so far; %llu guests running, %llu partitions free\n", s->cfg->guest.name,
            slot, id, service_instances(&s->svc), (unsigned long long)s->svc.counts.summoned,
            (unsigned long long)m.counts.running, (unsigned long long)m.partitions_free);
}

/* Slots whose launch left no guest behind (it failed before its port
 * joined, or was cancelled): given up. */
static void check_lost(struct summoned *s)
{
    uint32_t ids[SUMMON_INSTANCES_MAX], slots[SUMMON_INSTANCES_MAX], n = 0;
    struct manage_guest_stats st;
    char why[96];

    lock_take(&s->sw->lock);
    for (uint32_t i = 0; i < s->svc.max; i++)
        if (s->svc.slots[i].state == SLOT_STARTING && !s->svc.slots[i].port) {
            ids[n] = s->svc.slots[i].guest_id;
            slots[n++] = i;
        }
    lock_give(&s->sw->lock);
    for (uint32_t i = 0; i < n; i++) {
        if (manage_guest_stats(ids[i], &st, why, sizeof(why)) == 0)
            continue;
        lock_take(&s->sw->lock);
        if (s->svc.slots[slots[i]].state == SLOT_STARTING && !s->svc.slots[slots[i]].port &&
            s->svc.slots[slots[i]].guest_id == ids[i])
            service_start_lost(&s->svc, slots[i]);
        lock_give(&s->sw->lock);
    }
}

/* One line when an instance got its first frame, one when it first
 * answered (under the switch's lock: the console only queues). */
static void say_progress(struct summoned *s)
{
    for (uint32_t i = 0; i < s->svc.max; i++) {
        struct service_slot *sl = &s->svc.slots[i];
        if (sl->ready_tsc && !sl->said_ready) {
            sl->said_ready = 1;
            kprintf("mayfly: summon %s: instance %u (guest %u) got the first frame %llu ticks "
                    "after it arrived\n", s->cfg->guest.name, i, sl->guest_id,
                    (unsigned long long)(sl->ready_tsc - sl->wanted_tsc));
        }
        if (sl->replied && !sl->said_reply) {
            sl->said_reply = 1;
            kprintf("mayfly: summon %s: instance %u (guest %u) sent its first frame %llu ticks "
                    "after the first frame for it arrived\n", s->cfg->guest.name, i,
                    sl->guest_id, (unsigned long long)(sl->reply_tsc - sl->wanted_tsc));
        }
    }
}

static void summon_poll(void)
{
    for (uint32_t i = 0; i < service_count; i++) {
        struct summoned *s = &services[i];
        uint32_t want[SUMMON_INSTANCES_MAX], idle[SUMMON_INSTANCES_MAX], nw, ni;
        uint32_t ids[SUMMON_INSTANCES_MAX];
        uint64_t wanted[SUMMON_INSTANCES_MAX];
        int started[SUMMON_INSTANCES_MAX];

        lock_take(&s->sw->lock);
        service_poll(&s->svc, time_arch_tsc(), s->idle_tsc, want, &nw, idle, &ni);
        say_progress(s);
        for (uint32_t k = 0; k < nw; k++)
            wanted[k] = s->svc.slots[want[k]].wanted_tsc;
        for (uint32_t k = 0; k < ni; k++) {
            ids[k] = s->svc.slots[idle[k]].guest_id;
            started[k] = s->svc.slots[idle[k]].state == SLOT_READY &&
                         s->svc.slots[idle[k]].replied;
        }
        lock_give(&s->sw->lock);
        for (uint32_t k = 0; k < nw; k++)
            launch(s, i, want[k], wanted[k]);
        for (uint32_t k = 0; k < ni; k++)
            stop(s, idle[k], ids[k], started[k]);
        check_lost(s);
    }
}

uint32_t summon_services(void)
{
    return service_count;
}

int summon_info(uint32_t i, struct summon_info *out)
{
    struct summoned *s;
    const struct service_counts *c;

    if (i >= service_count)
        return -1;
    s = &services[i];
    memset(out, 0, sizeof(*out));
    out->name = s->cfg->guest.name;
    out->ip = s->cfg->ip;
    out->port = s->cfg->port;
    out->max = s->cfg->max;
    out->idle_ms = s->cfg->idle_ms;
    lock_take(&s->sw->lock);
    c = &s->svc.counts;
    out->running = service_instances(&s->svc);
    out->summoned = c->summoned;
    out->idled = c->idled;
    out->ended = c->ended;
    out->launch_failures = c->launch_failures;
    out->flows = c->flows;
    out->held = c->held;
    out->flushed = c->flushed;
    out->hold_drops = c->hold_drops;
    out->no_instance_drops = c->no_instance_drops;
    out->arp_answered = c->arp_answered;
    out->latency_count = c->latency_count;
    out->latency_avg = c->latency_count ? c->latency_sum / c->latency_count : 0;
    out->latency_min = c->latency_count ? c->latency_min : 0;
    out->latency_max = c->latency_max;
    lock_give(&s->sw->lock);
    return 0;
}

void summon_report(void)
{
    for (uint32_t i = 0; i < service_count; i++) {
        const struct summoned *s = &services[i];
        const struct service_counts *c = &s->svc.counts;
        uint64_t avg = c->latency_count ? c->latency_sum / c->latency_count : 0;

        kprintf("mayfly: summon %s: %llu summoned, %llu idled out, %llu ended, %u running, "
                "%llu launch failures; %llu flows, %llu ARP answers\n", s->cfg->guest.name,
                (unsigned long long)c->summoned, (unsigned long long)c->idled,
                (unsigned long long)c->ended, service_instances(&s->svc),
                (unsigned long long)c->launch_failures, (unsigned long long)c->flows,
                (unsigned long long)c->arp_answered);
        kprintf("mayfly: summon %s: frames %llu held, %llu delivered from the hold, %llu "
                "dropped from it, %llu for no instance\n", s->cfg->guest.name,
                (unsigned long long)c->held, (unsigned long long)c->flushed,
                (unsigned long long)c->hold_drops, (unsigned long long)c->no_instance_drops);
        kprintf("mayfly: summon %s: first reply %llu ticks after the first frame on average "
                "(%llu to %llu, %llu timed)\n", s->cfg->guest.name, (unsigned long long)avg,
                (unsigned long long)(c->latency_count ? c->latency_min : 0),
                (unsigned long long)c->latency_max, (unsigned long long)c->latency_count);
    }
}
