/*
 * Hypercalls: one table indexed by number, empty slots go to hc_bad.
 * Each handler validates its arguments without side effects, then acts.
 * Results: >= 0 on success, -MF_E* on failure; a bad argument is the
 * guest's error to handle (it is logged), never the hypervisor's.
 */
#include "../include/mayfly/abi.h"
#include "arch.h"
#include "console.h"
#include "control.h"
#include "fleet.h"
#include "guest.h"
#include "hypercall.h"
#include "lifecycle.h"
#include "lib.h"
#include "run.h"
#include "vport.h"

typedef int64_t (*hypercall_fn)(struct guest *g, const uint64_t *args);

static int64_t hc_bad(struct guest *g, const uint64_t *args)
{
    (void)args;
    (void)g;
    return -MF_ENOSYS;
}

static int64_t hc_console_write(struct guest *g, const uint64_t *args)
{
    uint64_t gpa = args[1], len = args[2];
    const char *buf;
    void *console;
    int r = cap_lookup(&g->mf.caps, args[0], MF_OBJ_CONSOLE, MF_RIGHT_WRITE, &console);

    if (r < 0)
        return r;
    if (len > MF_CONSOLE_WRITE_MAX)
        len = MF_CONSOLE_WRITE_MAX;         /* a partial write, as write(2) */
    buf = guest_memory(g, gpa, len);
    if (!buf) {
        guest_log_error(g, "console write of %llu bytes at 0x%llx is outside its memory "
                        "(returned -MF_EFAULT)", (unsigned long long)args[2],
                        (unsigned long long)gpa);
        return -MF_EFAULT;
    }
    guest_console(g, buf, len);
    return (int64_t)len;
}

static int64_t hc_exit(struct guest *g, const uint64_t *args)
{
    lifecycle_exit(g, (int64_t)args[0]);
    return 0;
}

/* Returns pending notification bits at once; otherwise parks the guest
 * until the deadline (result 0) or a notification (result: the bits). */
static int64_t hc_wait(struct guest *g, const uint64_t *args)
{
    void *self;
    int r = cap_lookup(&g->mf.caps, args[0], MF_OBJ_NOTIFICATION, MF_RIGHT_READ, &self);
    int64_t bits;

    if (r < 0)
        return r;
    /* Unsigned: a deadline that has passed returns at once, any later one
     * is kept, MF_WAIT_FOREVER included. The time limit caps it. Pending
     * bits are taken in the same step as the wait begins: a notification
     * from another CPU cannot fall between them. */
    if (args[1] <= time_arch_tsc())
        return (int64_t)lifecycle_take_pending(g);
    bits = (int64_t)lifecycle_wait(g, g->kill_tsc && g->kill_tsc < args[1] ? g->kill_tsc
                                                                           : args[1]);
    return bits;
}

static int64_t hc_notify(struct guest *g, const uint64_t *args)
{
    void *target;
    int r = cap_lookup(&g->mf.caps, args[0], MF_OBJ_NOTIFICATION, MF_RIGHT_WRITE, &target);

    if (r < 0)
        return r;
    if (!args[1] || (args[1] >> 63))
        return -MF_EINVAL;
    lifecycle_notify(target, args[1]);
    return 0;
}

/* A port operation: looks the capability up and copies the argument
 * structure in before anything is done with it. */
static int64_t hc_net_setup(struct guest *g, const uint64_t *args)
{
    struct mf_net_setup setup, *shared;
    struct vport *p;
    int r = cap_lookup(&g->mf.caps, args[0], MF_OBJ_NET_PORT, MF_RIGHT_WRITE, (void **)&p);

    if (r < 0)
        return r;
    shared = guest_memory(g, args[1], sizeof(setup));
    if (!shared)
        return -MF_EFAULT;
    memcpy(&setup, shared, sizeof(setup));
    r = vport_setup(p, &setup);
    if (r < 0) {
        guest_log_error(g, "port %llu setup refused: %s", (unsigned long long)args[0],
                        p->port.why);
        return r;
    }
    memcpy(shared, &setup, sizeof(setup));
    return 0;
}

/* A port that fails meanwhile (the kicker's TX ring, or a receiver's RX
 * ring) tells its owner itself. */
static int64_t hc_net_kick(struct guest *g, const uint64_t *args)
{
    struct vport *p;
    int r = cap_lookup(&g->mf.caps, args[0], MF_OBJ_NET_PORT, MF_RIGHT_WRITE, (void **)&p);

    if (r < 0)
        return r;
    return vport_kick(p, args[1]);
}

static int64_t hc_net_status(struct guest *g, const uint64_t *args)
{
    struct mf_net_status status, *out;
    struct vport *p;
    int r = cap_lookup(&g->mf.caps, args[0], MF_OBJ_NET_PORT, MF_RIGHT_READ, (void **)&p);

    if (r < 0)
        return r;
    out = guest_memory(g, args[1], sizeof(status));
    if (!out)
        return -MF_EFAULT;
    port_status(&p->port, &status);
    memcpy(out, &status, sizeof(status));
    return 0;
}

/* The network control guest's byte carrier: only its capability names
 * the channel. The bytes are queued both ways here and nothing else
 * happens inside this exit: the poller on the boot CPU handles the
 * requests (one may stop this very guest), woken at once. */
static int64_t hc_ctl_xfer(struct guest *g, const uint64_t *args)
{
    struct mf_ctl_xfer x, *shared;
    struct control_xfer_result r;
    const uint8_t *in;
    uint8_t *out;
    void *channel;
    int rc = cap_lookup(&g->mf.caps, args[0], MF_OBJ_GUEST_CONTROL,
                        MF_RIGHT_READ | MF_RIGHT_WRITE, &channel);

    if (rc < 0)
        return rc;
    shared = guest_memory(g, args[1], sizeof(x));
    if (!shared)
        return -MF_EFAULT;
    memcpy(&x, shared, sizeof(x));
    in = guest_memory(g, x.in_gpa, x.in_len);
    out = guest_memory(g, x.out_gpa, x.out_room);
    if (!in || !out) {
        guest_log_error(g, "control transfer buffers at 0x%llx (%u bytes in) and 0x%llx (%u "
                        "bytes out) are not inside its memory (returned -MF_EFAULT)",
                        (unsigned long long)x.in_gpa, x.in_len, (unsigned long long)x.out_gpa,
                        x.out_room);
        return -MF_EFAULT;
    }
    rc = control_net_xfer(in, x.in_len, out, x.out_room, x.flags, &r);
    if (rc < 0)
        return rc;
    x.in_taken = r.in_taken;
    x.out_len = r.out_len;
    x.out_pending = r.out_pending;
    memcpy(shared, &x, sizeof(x));
    if (r.wake_poller)
        run_poll_soon();
    return 0;
}

static int64_t hc_yield(struct guest *g, const uint64_t *args)
{
    (void)args;
    g->preemptions++;                       /* the scheduler requeues it */
    return 0;
}

static int64_t hc_null(struct guest *g, const uint64_t *args)
{
    (void)g;
    (void)args;
    return 0;
}

static int64_t hc_info(struct guest *g, const uint64_t *args)
{
    struct mf_info info, *out = guest_memory(g, args[0], sizeof(info));

    if (!out) {
        guest_log_error(g, "info buffer at 0x%llx is outside its memory (returned -MF_EFAULT)",
                        (unsigned long long)args[0]);
        return -MF_EFAULT;
    }
    info.abi_version = MF_ABI_VERSION;
    info.guest_id = g->id;
    info.tsc_hz = time_arch_tsc_hz();
    info.now_tsc = time_arch_tsc();
    info.guests_running = fleet_running_count();
    memcpy(out, &info, sizeof(info));
    return 0;
}

static const hypercall_fn hypercalls[MF_HC_COUNT] = {
    [MF_HC_CONSOLE_WRITE] = hc_console_write,
    [MF_HC_EXIT] = hc_exit,
    [MF_HC_WAIT] = hc_wait,
    [MF_HC_YIELD] = hc_yield,
    [MF_HC_INFO] = hc_info,
    [MF_HC_NULL] = hc_null,
    [MF_HC_NET_SETUP] = hc_net_setup,
    [MF_HC_NET_KICK] = hc_net_kick,
    [MF_HC_NET_STATUS] = hc_net_status,
    [MF_HC_NOTIFY] = hc_notify,
    [MF_HC_CTL_XFER] = hc_ctl_xfer,
};

void hypercall_dispatch(struct guest *g, uint64_t nr, const uint64_t *args)
{
    hypercall_fn fn = nr < MF_HC_COUNT && hypercalls[nr] ? hypercalls[nr] : hc_bad;
    int64_t result;

    g->hypercalls++;
    result = fn(g, args);
    if (fn == hc_bad)
        guest_log_error(g, "unknown hypercall %llu (returned -MF_ENOSYS)",
                        (unsigned long long)nr);
    vcpu_arch_set_result(g->vcpu, result);
}
