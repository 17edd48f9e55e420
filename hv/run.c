/*
 * The run loop: every guest on the boot CPU, round robin, each for a
 * quantum of wall time that covers its hypercalls; waiting guests leave
 * the run queue until their deadline or a notification; the pollers run
 * between guests; the CPU idles when nothing can run. It only runs:
 * which guests exist is hv/fleet.c's, their states hv/lifecycle.c's.
 */
#include "console.h"
#include "fleet.h"
#include "fmt.h"
#include "hv.h"
#include "lifecycle.h"
#include "personality.h"
#include "run.h"

static const struct run_poller *pollers[RUN_POLLERS_MAX];
static uint32_t poller_count;
static uint64_t quantum_tsc, poll_tsc, next_poll;

void run_add_poller(const struct run_poller *p)
{
    if (poller_count == RUN_POLLERS_MAX)
        panic("run_add_poller: more than %d pollers", RUN_POLLERS_MAX);
    pollers[poller_count++] = p;
}

/* Whether any poller has work now (or always wants to look). */
static int pollers_wanted(void)
{
    for (uint32_t i = 0; i < poller_count; i++)
        if (pollers[i]->wanted())
            return 1;
    return 0;
}

/* Whether a poller may still bring guests (the control channel): then
 * the machine never counts as finished. */
static int pollers_keep_alive(void)
{
    for (uint32_t i = 0; i < poller_count; i++)
        if (pollers[i]->keeps_alive)
            return 1;
    return 0;
}

/* The pollers run only between guests, never while one is on the CPU,
 * at most every RUN_POLL_US: a request sees every guest READY, WAITING
 * or FREE. */
static void run_pollers(uint64_t now)
{
    next_poll = now + poll_tsc;
    for (uint32_t i = 0; i < poller_count; i++)
        pollers[i]->poll();
}

static void finish_time_limit(struct guest *g)
{
    char why[64];

    fmt_snprintf(why, sizeof(why), "time limit of %llu ms reached",
                 (unsigned long long)fleet_line(g->line)->cfg->timeout_ms);
    fleet_finish(g, 1, why);
}

/* One guest's run: the guest and what its personality said last. */
struct run_call {
    struct guest *g;
    enum pers_next next;
};

/* Hypercalls and port I/O go to the guest's personality inside
 * vcpu_arch_run, which enters the guest again at once when it stays
 * RUNNING with nothing else to do; the others end the run. */
static int on_call(void *ctx, const struct vm_exit *exit)
{
    struct run_call *call = ctx;

    call->next = call->g->pers->on_exit(call->g, exit);
    return call->g->state == GUEST_RUNNING && call->next == PERS_RUN_ON;
}

/* What a call that ended the run asks of the loop: 1 to run on. */
static int after_call(struct guest *g, const struct run_call *call, uint64_t *until)
{
    if (g->state == GUEST_EXITED) {
        fleet_finish(g, g->killed, g->killed ? lifecycle_kill_reason() : NULL);
        return 0;
    }
    if (g->state == GUEST_WAITING) {
        g->slice_end = 0;
        return 0;
    }
    if (call->next == PERS_YIELD) {
        g->slice_end = 0;
        lifecycle_preempt(g, 0);
        return 0;
    }
    /* Console output may make the pollers due earlier: look again. */
    if (next_poll < *until && console_pending())
        *until = next_poll;
    return 1;
}

/* Runs g until its quantum (which covers the hypercalls it makes) ends,
 * it waits, yields or ends. When the pollers fall due first it goes back
 * to the head of the run queue and runs on after them, in the same
 * quantum. */
static void run_guest(struct guest *g)
{
    uint64_t now = time_arch_tsc(), until;
    struct run_call call = { g, PERS_RUN_ON };
    struct vm_exit exit;

    if (g->kill_tsc && now >= g->kill_tsc) {
        finish_time_limit(g);
        return;
    }
    if (g->woken) {
        g->woken = 0;
        g->pers->wake(g, g->wake_result);
    }
    if (now >= g->slice_end)
        g->slice_end = g->kill_tsc && g->kill_tsc - now < quantum_tsc ? g->kill_tsc
                                                                       : now + quantum_tsc;
    /* Decided once here, not on every exit: only console output a
     * hypercall adds can make the pollers due earlier. */
    until = next_poll < g->slice_end && pollers_wanted() ? next_poll : g->slice_end;
    for (;;) {
        vcpu_arch_run(g->vcpu, until, on_call, &call, &exit);
        if (exit.kind == VM_EXIT_HYPERCALL || exit.kind == VM_EXIT_IO) {
            if (!after_call(g, &call, &until))
                return;
        } else if (exit.kind == VM_EXIT_PREEMPTED) {
            break;
        } else {
            fleet_finish(g, 1, exit.kill.why);
            return;
        }
    }
    /* Cut short for the pollers, or by the preemption timer (it counts in
     * 2^shift ticks) just before its quantum's end: it runs on at the
     * head of the queue. */
    now = time_arch_tsc();
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

/* Idles until deadline, or until the pollers fall due when they are wanted. */
static void idle_until(uint64_t deadline)
{
    if (pollers_wanted() && next_poll < deadline)
        deadline = next_poll;
    time_arch_idle_until(deadline);
}

/* Nothing runs and nothing waits. Without a poller that can bring guests
 * that is the end: power off (poweroff when-idle) or idle for good. With
 * one, more guests may come: keep serving it. */
static void nothing_left(int *reported)
{
    struct fleet_counts c;

    if (!*reported) {
        fleet_report();
        *reported = 1;
        fleet_counts(&c);
        if (!pollers_keep_alive()) {
            if (fleet_config()->poweroff_when_idle)
                hv_power_off((c.failed || c.killed || c.launch_failures) ? HV_GUEST_FAILED
                                                                         : HV_OK);
            kprintf("mayfly: idle (add 'poweroff when-idle' to mayfly.conf to power off here)\n");
            console_flush();
        }
    }
    idle_until(time_arch_tsc() + time_arch_tsc_hz());
}

void run_loop(void)
{
    int reported = 0;

    quantum_tsc = time_arch_tsc_hz() / 1000 * RUN_QUANTUM_MS;
    poll_tsc = time_arch_tsc_hz() / 1000000 * RUN_POLL_US;
    next_poll = time_arch_tsc() + poll_tsc;     /* the guests first: they were just started */
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
