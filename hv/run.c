/*
 * The run loop, one per CPU: the guests admitted to this CPU, round
 * robin, each for a quantum of wall time that covers its hypercalls;
 * waiting guests leave the run queue until their deadline or a
 * notification; the pollers run between guests; the CPU idles when
 * nothing can run here, until its next deadline or a kick. It only
 * runs: which guests exist is hv/fleet.c's, their states
 * hv/lifecycle.c's. The boot CPU runs every poller and reports (and
 * powers off) once no CPU has anything left; the others run only the
 * pollers marked every_cpu.
 */
#include "console.h"
#include "fleet.h"
#include "fmt.h"
#include "hv.h"
#include "lifecycle.h"
#include "param.h"
#include "personality.h"
#include "run.h"

static const struct run_poller *pollers[RUN_POLLERS_MAX];
static uint32_t poller_count;
static uint64_t quantum_tsc, poll_tsc;
static volatile uint32_t poll_soon;     /* run_poll_soon: the boot CPU polls next */
/* Per CPU: guests woken here by a notify from another CPU, and the
 * ticks from each notify to the guest's dispatch here (the benchmark of
 * a cross-CPU wake-up; reported once no CPU has guests left). */
static struct {
    uint64_t wakes, ticks;
} cross_wakes[CPU_MAX];

/* One CPU's loop: its index and when its pollers are due. */
struct run_cpu {
    uint32_t index;
    uint64_t next_poll;
    uint64_t reported;          /* 1 + guests started when it last reported; 0 never */
};

void run_add_poller(const struct run_poller *p)
{
    if (poller_count == RUN_POLLERS_MAX)
        panic("run_add_poller: more than %d pollers", RUN_POLLERS_MAX);
    pollers[poller_count++] = p;
}

/* Whether p runs on this CPU. */
static int mine(const struct run_cpu *rc, const struct run_poller *p)
{
    return rc->index == 0 || p->every_cpu;
}

/* Whether any poller of this CPU has work now (or always wants to look). */
static int pollers_wanted(const struct run_cpu *rc)
{
    for (uint32_t i = 0; i < poller_count; i++)
        if (mine(rc, pollers[i]) && pollers[i]->wanted())
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

/* The pollers run only between guests, never while one is on this CPU,
 * at most every RUN_POLL_US: a request sees every guest of the boot CPU
 * READY, WAITING or FREE (those of other CPUs may be running). */
static void run_pollers(struct run_cpu *rc, uint64_t now)
{
    rc->next_poll = now + poll_tsc;
    for (uint32_t i = 0; i < poller_count; i++)
        if (mine(rc, pollers[i]))
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
static int after_call(struct run_cpu *rc, struct guest *g, const struct run_call *call,
                      uint64_t *until)
{
    if (g->state == GUEST_EXITED) {
        fleet_finish(g, g->killed, g->killed ? lifecycle_kill_reason(g) : NULL);
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
    if (rc->next_poll < *until && console_pending())
        *until = rc->next_poll;
    return 1;
}

/* Runs g until its quantum (which covers the hypercalls it makes) ends,
 * it waits, yields or ends. When the pollers fall due first, or another
 * CPU kicks this one, it goes back to the head of the run queue and
 * runs on after them, in the same quantum. */
static void run_guest(struct run_cpu *rc, struct guest *g)
{
    uint64_t now = time_arch_tsc(), until;
    struct run_call call = { g, PERS_RUN_ON };
    struct vm_exit exit;

    if (g->stop_requested) {
        fleet_finish(g, 1, g->stop_why ? g->stop_why : "stopped over the control channel");
        return;
    }
    if (g->kill_tsc && now >= g->kill_tsc) {
        finish_time_limit(g);
        return;
    }
    if (g->woken) {
        g->woken = 0;
        if (g->wake_from && g->wake_from - 1 != rc->index) {
            cross_wakes[rc->index].wakes++;
            cross_wakes[rc->index].ticks += now - g->wake_tsc;
        }
        g->pers->wake(g, g->wake_result);
    }
    if (now >= g->slice_end)
        g->slice_end = g->kill_tsc && g->kill_tsc - now < quantum_tsc ? g->kill_tsc
                                                                       : now + quantum_tsc;
    /* Decided once here, not on every exit: only console output a
     * hypercall adds can make the pollers due earlier. */
    until = rc->next_poll < g->slice_end && pollers_wanted(rc) ? rc->next_poll : g->slice_end;
    for (;;) {
        vcpu_arch_run(g->vcpu, until, on_call, &call, &exit);
        g->hypercalls += exit.fast_hypercalls;
        if (exit.kind == VM_EXIT_HYPERCALL || exit.kind == VM_EXIT_IO) {
            if (!after_call(rc, g, &call, &until))
                return;
        } else if (exit.kind == VM_EXIT_PREEMPTED) {
            break;
        } else {
            fleet_finish(g, 1, exit.kill.why);
            return;
        }
    }
    /* Cut short for the pollers or a kick, or by the preemption timer (it
     * counts in 2^shift ticks) just before its quantum's end: it runs on
     * at the head of the queue. */
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

/* One line for the report when guests were woken across CPUs. */
static void report_cross_wakes(void)
{
    uint64_t wakes = 0, ticks = 0;

    for (uint32_t i = 0; i < CPU_MAX; i++) {
        wakes += cross_wakes[i].wakes;
        ticks += cross_wakes[i].ticks;
    }
    if (wakes)
        kprintf("mayfly: %llu cross-CPU wake-ups, %llu ticks on average from the notify to "
                "the guest's dispatch on its CPU\n", (unsigned long long)wakes,
                (unsigned long long)(ticks / wakes));
}

/* Idles until deadline, or until the pollers fall due when they are
 * wanted, or a kick. While a free partition is dirty, it zeroes one
 * slice of it instead and returns, so that the loop looks for work
 * between slices (what arrives waits for one slice at most). */
static void idle_until(const struct run_cpu *rc, uint64_t deadline)
{
    if (pollers_wanted(rc) && rc->next_poll < deadline)
        deadline = rc->next_poll;
    if (time_arch_tsc() < deadline && fleet_scrub_idle())
        return;
    time_arch_idle_until(deadline);
}

/* Nothing runs or waits on this CPU. On the boot CPU, when no CPU has a
 * guest left and nothing is pending, without a poller that can bring
 * guests that is the end: power off (poweroff when-idle) or idle for
 * good. With one, more guests may come: keep serving it. Elsewhere
 * (and while other CPUs still run guests) idle until kicked. */
static void nothing_left(struct run_cpu *rc)
{
    struct fleet_counts c;

    fleet_counts(&c);
    if (rc->index == 0 && !c.running && !c.pending && rc->reported != c.started + 1ULL) {
        fleet_report();
        for (uint32_t i = 0; i < poller_count; i++)
            if (pollers[i]->report)
                pollers[i]->report();
        report_cross_wakes();
        rc->reported = c.started + 1ULL;
        if (!pollers_keep_alive()) {
            if (fleet_config()->poweroff_when_idle)
                hv_power_off((c.failed || c.killed || c.launch_failures) ? HV_GUEST_FAILED
                                                                         : HV_OK);
            kprintf("mayfly: idle (add 'poweroff when-idle' to mayfly.conf to power off here)\n");
            console_flush();
        }
    }
    idle_until(rc, time_arch_tsc() + time_arch_tsc_hz());
}

void run_poll_soon(void)
{
    __atomic_store_n(&poll_soon, 1, __ATOMIC_RELEASE);
    if (cpu_arch_self() != 0)
        cpu_arch_kick(0);
}

/* Whether the boot CPU was asked to poll now (the request is taken). */
static int poll_asked(const struct run_cpu *rc)
{
    return rc->index == 0 && __atomic_load_n(&poll_soon, __ATOMIC_ACQUIRE) &&
           __atomic_exchange_n(&poll_soon, 0, __ATOMIC_ACQ_REL);
}

void run_init(void)
{
    quantum_tsc = time_arch_tsc_hz() / 1000 * RUN_QUANTUM_MS;
    poll_tsc = time_arch_tsc_hz() / 1000000 * RUN_POLL_US;
}

void run_loop(uint32_t cpu)
{
    struct run_cpu rc = { cpu, 0, 0 };

    rc.next_poll = time_arch_tsc() + poll_tsc;  /* the guests first: they were just started */
    for (;;) {
        uint64_t deadline, now = time_arch_tsc();
        struct guest *g;

        if (now >= rc.next_poll || poll_asked(&rc))
            run_pollers(&rc, now);
        lifecycle_wake_due(cpu, now);
        g = lifecycle_dispatch(cpu);
        if (g) {
            run_guest(&rc, g);
            continue;
        }
        if (!lifecycle_idle_begin(cpu))
            continue;
        if (lifecycle_next_deadline(cpu, &deadline) == 0)
            idle_until(&rc, deadline);
        else
            nothing_left(&rc);
        lifecycle_idle_end(cpu);
    }
}
