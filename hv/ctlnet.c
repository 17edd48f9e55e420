/*
 * The network control guest: its line, its capability, its restarts
 * (see ctlnet.h). Everything here runs on the boot CPU (boot, the
 * poller) or under the fleet lock (launch, from fleet_start_pending),
 * except ctlnet_released, on the CPU that tears the guest down.
 */
#include "../include/mayfly/abi.h"
#include "arch.h"
#include "console.h"
#include "control.h"
#include "ctlnet.h"
#include "fleet.h"
#include "fmt.h"
#include "hv.h"
#include "lib.h"
#include "lifecycle.h"
#include "run.h"

extern const uint8_t ctlnet_image_start[], ctlnet_image_end[];

static struct config_guest line_cfg;
static struct guest_line *line;
static uint32_t line_number;        /* the control net line */
static uint64_t restart_tsc;        /* when it starts again; 0: nothing due */
static uint64_t window_tsc;         /* the minute the restarts are counted in */
static uint32_t window_restarts;
static int ended_seen;              /* its last instance's end was handled */

/* The running instance, for its notifications; set under the fleet lock
 * at launch, cleared at its teardown before its partition is freed. */
static struct {
    struct guest *g;
    uint64_t bit;
} target;

/* control.c's hook: replies wait for the control guest. */
static void notify_guest(void *arg)
{
    struct guest *g = __atomic_load_n(&target.g, __ATOMIC_ACQUIRE);

    (void)arg;
    if (g)
        lifecycle_notify(g, target.bit);
}

int ctlnet_line(const struct guest_line *l)
{
    return line && l == line;
}

void ctlnet_launched(struct guest *g, uint32_t slot)
{
    target.bit = MF_NOTIFY_BIT(slot);
    __atomic_store_n(&target.g, g, __ATOMIC_RELEASE);
    control_net_guest(g->id, notify_guest, NULL);
}

void ctlnet_released(struct guest *g)
{
    if (!g || __atomic_load_n(&target.g, __ATOMIC_ACQUIRE) != g)
        return;
    __atomic_store_n(&target.g, NULL, __ATOMIC_RELEASE);
    control_net_guest(0, NULL, NULL);
}

/* The guest line for the control net line: its switch, MAC, class and
 * the arguments guests/ctlnet reads. */
static void line_make(const struct config_control_net *c)
{
    char ip[FMT_IPV4_LEN], mask[FMT_IPV4_LEN], gw[FMT_IPV4_LEN];
    size_t used;

    memset(&line_cfg, 0, sizeof(line_cfg));
    str_copy(line_cfg.name, CONFIG_CONTROL_GUEST_NAME, sizeof(line_cfg.name));
    str_copy(line_cfg.image, CTLNET_IMAGE_NAME, sizeof(line_cfg.image));
    str_copy(line_cfg.class_name, c->class_name, sizeof(line_cfg.class_name));
    line_cfg.count = 1;
    line_cfg.net_count = 1;
    str_copy(line_cfg.nets[0], c->sw, sizeof(line_cfg.nets[0]));
    line_cfg.has_mac = c->has_mac;
    memcpy(line_cfg.mac, c->mac, 6);
    line_cfg.line = c->line;
    fmt_ipv4(ip, c->ip);
    used = (size_t)fmt_snprintf(line_cfg.args, sizeof(line_cfg.args), "ip=%s port=%u", ip,
                                c->port);
    if (c->mask[0] || c->mask[1] || c->mask[2] || c->mask[3]) {
        fmt_ipv4(mask, c->mask);
        used += (size_t)fmt_snprintf(line_cfg.args + used, sizeof(line_cfg.args) - used,
                                     " mask=%s", mask);
    }
    if (c->gw[0] || c->gw[1] || c->gw[2] || c->gw[3]) {
        fmt_ipv4(gw, c->gw);
        fmt_snprintf(line_cfg.args + used, sizeof(line_cfg.args) - used, " gw=%s", gw);
    }
}

/* Its instance (again): ids reserved, started when a partition is free.
 * With the fleet lock held. */
static void line_start(void)
{
    fleet_accept(line);
    control_net_guest(line->first_id, NULL, NULL);
    ended_seen = 0;
    fleet_start_pending();
}

/* When it may start again: CTLNET_BACKOFF_MS after it ended, or, once
 * CTLNET_RESTARTS_PER_MINUTE restarts were spent in this minute, when
 * the minute is over. */
static uint64_t restart_when(uint64_t now)
{
    uint64_t hz = time_arch_tsc_hz(), minute = 60 * hz;

    if (!window_tsc || now - window_tsc >= minute) {
        window_tsc = now;
        window_restarts = 0;
    }
    if (window_restarts < CTLNET_RESTARTS_PER_MINUTE) {
        window_restarts++;
        return now + hz / 1000 * CTLNET_BACKOFF_MS;
    }
    kprintf("mayfly: control: the network control guest ended %u times within a minute; "
            "next start in %llu ms\n", CTLNET_RESTARTS_PER_MINUTE + 1,
            (unsigned long long)((window_tsc + minute - now) / (hz / 1000)));
    window_restarts = 1;
    window_tsc += minute;
    return window_tsc;
}

/* Notices that its instance ended (or could not start) and starts it
 * again when that is due. */
static void ctlnet_poll(void)
{
    uint64_t now = time_arch_tsc();

    fleet_lock();
    if (!ended_seen && !line->pending && !line->alive) {
        ended_seen = 1;
        restart_tsc = restart_when(now);
        kprintf("mayfly: control: the network control guest (guest %u) has ended; it starts "
                "again in %llu ms (network control clients reconnect)\n", line->first_id,
                (unsigned long long)((restart_tsc - now) / (time_arch_tsc_hz() / 1000)));
    }
    if (ended_seen && restart_tsc && now >= restart_tsc) {
        restart_tsc = 0;
        line_start();
    }
    fleet_unlock();
}

static int ctlnet_wanted(void)
{
    return restart_tsc != 0;
}

static const struct run_poller ctlnet_poller = { ctlnet_poll, ctlnet_wanted, 1, 0, NULL };

void ctlnet_init(const struct config *cfg)
{
    const struct config_control_net *c = &cfg->control_net;
    uint64_t size = (uint64_t)(ctlnet_image_end - ctlnet_image_start);
    char why[224];
    int status;

    if (!c->line)
        return;
    line_number = c->line;
    if (!size)
        fatal(HV_BAD_CONFIG, "mayfly.conf line %u: control net: this hypervisor was built "
              "without the network control guest (build/guests/ctlnet.elf); rebuild with make",
              line_number);
    line_make(c);
    fleet_lock();
    line = fleet_new_line(&line_cfg, ctlnet_image_start, size, NULL, 0, &status, why,
                          sizeof(why));
    if (!line) {
        fleet_unlock();
        fatal(HV_BAD_CONFIG, "mayfly.conf line %u: control net: the network control guest "
              "cannot run: %s", line_number, why);
    }
    /* Not a line started over the channel: its slot is never reused. */
    line->dynamic = 0;
    kprintf("mayfly: control: network control on %s at %s (the control guest, restarted "
            "when it ends)\n", c->sw, line_cfg.args);
    line_start();
    fleet_unlock();
    run_add_poller(&ctlnet_poller);
}
