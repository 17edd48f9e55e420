/*
 * Unit tests of the hypervisor's side of the network control guest
 * (hv/ctlnet.c, included so its statics are in reach): the guest line it
 * makes of a control net line (name, switch, MAC, class, the arguments
 * guests/ctlnet reads), the boot refused when no class fits, the
 * capability hooks, and the restarts: after the back-off, at most
 * CTLNET_RESTARTS_PER_MINUTE a minute, never while an instance lives or
 * waits for a partition. The fleet, the clock, the control server and
 * the lifecycle are faked below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../hv/ctlnet.c"

#define HZ 1000000000ULL

const uint8_t ctlnet_image_start[64] = { 0x7f, 'E', 'L', 'F' };
const uint8_t ctlnet_image_end[1];
/* The image's size as ctlnet_init sees it: the fake line ignores it. */

static uint64_t now_tsc;
static char last_log[512];
static unsigned log_lines, pollers, accepts, start_pendings, locked, fatals;
static struct guest_line fake_line;
static struct config_guest made_cfg;
static const char *new_line_refusal;     /* fleet_new_line fails with this */
static uint32_t next_id = 1;
static uint32_t registered_id;
static void (*registered_notify)(void *);
static struct guest *notified;
static uint64_t notified_bits;
static jmp_buf fatal_jump;

uint64_t time_arch_tsc(void) { return now_tsc; }
uint64_t time_arch_tsc_hz(void) { return HZ; }

void kprintf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_log, sizeof(last_log), fmt, ap);
    va_end(ap);
    log_lines++;
}

void fatal(int status, const char *fmt, ...)
{
    va_list ap;

    assert_int_equal(status, HV_BAD_CONFIG);
    va_start(ap, fmt);
    vsnprintf(last_log, sizeof(last_log), fmt, ap);
    va_end(ap);
    fatals++;
    longjmp(fatal_jump, 1);
}

void fleet_lock(void) { assert_int_equal(locked++, 0); }
void fleet_unlock(void) { assert_int_equal(--locked, 0); }

struct guest_line *fleet_new_line(const struct config_guest *cfg_line, const uint8_t *image,
                                  uint64_t size, const struct fleet_files *files,
                                  uint64_t request_tsc, int *status, char *why, size_t why_size)
{
    (void)size, (void)files, (void)request_tsc;
    assert_int_equal(locked, 1);
    assert_ptr_equal(image, ctlnet_image_start);
    if (new_line_refusal) {
        *status = -MF_EINVAL;
        snprintf(why, why_size, "%s", new_line_refusal);
        return NULL;
    }
    made_cfg = *cfg_line;
    memset(&fake_line, 0, sizeof(fake_line));
    fake_line.cfg = &made_cfg;
    fake_line.dynamic = 1;
    return &fake_line;
}

void fleet_accept(struct guest_line *l)
{
    assert_int_equal(locked, 1);
    assert_int_equal(l->pending + l->alive, 0);
    l->pending = 1;
    l->first_id = next_id++;
    l->valid = 1;
    accepts++;
}

void fleet_start_pending(void)
{
    assert_int_equal(locked, 1);
    start_pendings++;
}

void lifecycle_notify(struct guest *g, uint64_t bits)
{
    notified = g;
    notified_bits = bits;
}

void control_net_guest(uint32_t id, void (*notify)(void *arg), void *arg)
{
    (void)arg;
    registered_id = id;
    registered_notify = notify;
}

void run_add_poller(const struct run_poller *p)
{
    assert_ptr_equal(p, &ctlnet_poller);
    pollers++;
}

static struct config cfg;

static void setup_world(void)
{
    memset(&cfg, 0, sizeof(cfg));
    cfg.control = 1;
    cfg.control_net.line = 7;
    str_copy(cfg.control_net.sw, "lan0", sizeof(cfg.control_net.sw));
    memcpy(cfg.control_net.ip, (uint8_t[4]){ 10, 0, 0, 2 }, 4);
    cfg.control_net.port = 7000;
    now_tsc = 1000 * HZ;
    log_lines = pollers = accepts = start_pendings = locked = fatals = 0;
    new_line_refusal = NULL;
    next_id = 1;
    registered_id = 0;
    registered_notify = NULL;
    notified = NULL;
    line = NULL;
    restart_tsc = window_tsc = 0;
    window_restarts = 0;
    ended_seen = 0;
    target.g = NULL;
}

/* Brings the line up as ctlnet_init does; the instance "starts". */
static void boot_it(void)
{
    if (setjmp(fatal_jump))
        fail_msg("fatal: %s", last_log);
    ctlnet_init(&cfg);
    assert_ptr_equal(line, &fake_line);
    fake_line.pending = 0;
    fake_line.alive = 1;
}

/* Its instance ends (exit, fault or kill: the fleet says alive 0). */
static void instance_ends(void)
{
    fake_line.alive = 0;
}

static void instance_starts(void)
{
    assert_int_equal(fake_line.pending, 1);
    fake_line.pending = 0;
    fake_line.alive = 1;
}

static void advance_ms(uint64_t ms)
{
    now_tsc += ms * (HZ / 1000);
    ctlnet_poll();
}

static void test_line_from_config(void **state)
{
    (void)state;
    setup_world();
    memcpy(cfg.control_net.mask, (uint8_t[4]){ 255, 255, 255, 0 }, 4);
    memcpy(cfg.control_net.gw, (uint8_t[4]){ 10, 0, 0, 1 }, 4);
    cfg.control_net.has_mac = 1;
    memcpy(cfg.control_net.mac, (uint8_t[6]){ 0x52, 0x54, 0, 0x12, 0x34, 0x56 }, 6);
    str_copy(cfg.control_net.class_name, "ctl", sizeof(cfg.control_net.class_name));
    boot_it();
    assert_string_equal(made_cfg.name, "control");
    assert_string_equal(made_cfg.image, "ctlnet.elf");
    assert_string_equal(made_cfg.class_name, "ctl");
    assert_int_equal(made_cfg.count, 1);
    assert_int_equal(made_cfg.net_count, 1);
    assert_string_equal(made_cfg.nets[0], "lan0");
    assert_int_equal(made_cfg.has_mac, 1);
    assert_int_equal(made_cfg.mac[5], 0x56);
    assert_string_equal(made_cfg.args, "ip=10.0.0.2 port=7000 mask=255.255.255.0 gw=10.0.0.1");
    /* Its slot is not one the channel's STARTs may reuse. */
    assert_int_equal(fake_line.dynamic, 0);
    assert_int_equal(accepts, 1);
    assert_int_equal(start_pendings, 1);
    assert_int_equal(pollers, 1);
    assert_int_equal(registered_id, 1);
    assert_true(ctlnet_line(&fake_line));
    assert_false(ctlnet_line(NULL));
    /* Without mask= and gw= the arguments have neither. */
    setup_world();
    boot_it();
    assert_string_equal(made_cfg.args, "ip=10.0.0.2 port=7000");
    assert_int_equal(made_cfg.has_mac, 0);
    assert_int_equal(made_cfg.class_name[0], 0);
}

static void test_no_line_no_guest(void **state)
{
    (void)state;
    setup_world();
    cfg.control_net.line = 0;
    ctlnet_init(&cfg);
    assert_null(line);
    assert_int_equal(accepts + pollers, 0);
    assert_false(ctlnet_line(&fake_line));
}

/* No class fits: the boot stops, naming the line and the reason. */
static void test_refused_when_it_cannot_run(void **state)
{
    (void)state;
    setup_world();
    new_line_refusal = "it needs 2048 KiB and the largest partition it may get has 1024 KiB";
    if (setjmp(fatal_jump) == 0) {
        ctlnet_init(&cfg);
        fail_msg("ctlnet_init returned");
    }
    assert_int_equal(fatals, 1);
    assert_int_equal(locked, 0);        /* the lock given back before the boot stops */
    assert_non_null(strstr(last_log, "mayfly.conf line 7: control net"));
    assert_non_null(strstr(last_log, "largest partition"));
}

/* Ended: started again after the back-off, not before; a new id, the
 * control server told; never a second instance while one waits. */
static void test_restart_after_backoff(void **state)
{
    (void)state;
    setup_world();
    boot_it();
    advance_ms(1000);
    assert_int_equal(accepts, 1);
    instance_ends();
    advance_ms(1);
    assert_non_null(strstr(last_log, "has ended"));
    assert_int_equal(accepts, 1);
    advance_ms(CTLNET_BACKOFF_MS - 10);
    assert_int_equal(accepts, 1);
    advance_ms(20);
    assert_int_equal(accepts, 2);
    assert_int_equal(registered_id, 2);
    /* It waits for a partition: nothing more happens. */
    advance_ms(10 * CTLNET_BACKOFF_MS);
    assert_int_equal(accepts, 2);
    instance_starts();
    advance_ms(10 * CTLNET_BACKOFF_MS);
    assert_int_equal(accepts, 2);
}

/* A guest that keeps dying: at most CTLNET_RESTARTS_PER_MINUTE restarts
 * in a minute, then one when the minute is over. */
static void test_restarts_bounded_per_minute(void **state)
{
    uint32_t i;

    (void)state;
    setup_world();
    boot_it();
    for (i = 0; i < CTLNET_RESTARTS_PER_MINUTE; i++) {
        instance_ends();
        advance_ms(1);
        advance_ms(CTLNET_BACKOFF_MS);
        instance_starts();
    }
    assert_int_equal(accepts, 1 + CTLNET_RESTARTS_PER_MINUTE);
    instance_ends();
    advance_ms(1);
    assert_non_null(strstr(last_log, "has ended"));
    for (i = 0; i < 50; i++)
        advance_ms(1000);
    assert_int_equal(accepts, 1 + CTLNET_RESTARTS_PER_MINUTE);
    advance_ms(10 * 1000);
    assert_int_equal(accepts, 2 + CTLNET_RESTARTS_PER_MINUTE);
}

/* The capability's hooks: the running instance is notified with its
 * slot's bit; once torn down it is not, and the server forgets its id;
 * another guest's teardown changes nothing. */
static void test_notify_hooks(void **state)
{
    struct guest g, other;

    (void)state;
    setup_world();
    boot_it();
    memset(&g, 0, sizeof(g));
    memset(&other, 0, sizeof(other));
    g.id = 1;
    ctlnet_launched(&g, 3);
    assert_int_equal(registered_id, 1);
    assert_non_null(registered_notify);
    registered_notify(NULL);
    assert_ptr_equal(notified, &g);
    assert_int_equal(notified_bits, MF_NOTIFY_BIT(3));
    ctlnet_released(&other);
    assert_int_equal(registered_id, 1);
    ctlnet_released(&g);
    assert_int_equal(registered_id, 0);
    notified = NULL;
    notify_guest(NULL);
    assert_null(notified);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_from_config),
        cmocka_unit_test(test_no_line_no_guest),
        cmocka_unit_test(test_refused_when_it_cannot_run),
        cmocka_unit_test(test_restart_after_backoff),
        cmocka_unit_test(test_restarts_bounded_per_minute),
        cmocka_unit_test(test_notify_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
