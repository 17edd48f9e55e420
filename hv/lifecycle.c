#include <stdarg.h>

#include "lifecycle.h"
#include "fmt.h"
#include "../include/mayfly/abi.h"
#include "arch.h"
#include "console.h"

static struct sched sched;
static struct guest *table;
static uint32_t table_count;

const char *lifecycle_state_name(enum guest_state s)
{
    static const char *const names[] = {
        [GUEST_FREE] = "free", [GUEST_READY] = "ready", [GUEST_RUNNING] = "running",
        [GUEST_WAITING] = "waiting", [GUEST_EXITED] = "exited",
    };
    return (unsigned)s < sizeof(names) / sizeof(names[0]) && names[s] ? names[s] : "invalid";
}

/* The one check every transition makes: g is in a state it may leave by
 * this transition (mask of accepted states). */
static void leave(struct guest *g, unsigned accepted, const char *transition)
{
    if (!(accepted & (1u << g->state)))
        panic("lifecycle_%s: guest %u is %s", transition, g->id, lifecycle_state_name(g->state));
}

#define FROM(s) (1u << (s))

void lifecycle_init(struct guest *guests, uint32_t count, void *storage)
{
    uint32_t *ring = storage;
    uint32_t *pos = ring + count;
    struct sched_waiter *heap = (struct sched_waiter *)(void *)(pos + count);

    table = guests;
    table_count = count;
    sched_init(&sched, count, ring, heap, pos);
}

static uint32_t index_of(const struct guest *g)
{
    uint32_t i = (uint32_t)(g - table);
    if (!table || g < table || i >= table_count)
        panic("lifecycle: guest %u is not in the guest table", g->id);
    return i;
}

static void enqueue(struct guest *g, int to_front)
{
    uint32_t i = index_of(g);
    int r = to_front ? sched_push_front(&sched, i) : sched_push(&sched, i);

    if (r < 0)
        panic("lifecycle: run queue full with guest %u", g->id);
    g->state = GUEST_READY;
}

void lifecycle_admit(struct guest *g)
{
    leave(g, FROM(GUEST_FREE), "admit");
    g->notify_pending = 0;
    enqueue(g, 0);
}

struct guest *lifecycle_dispatch(void)
{
    uint32_t who = sched_pop(&sched);
    struct guest *g;

    if (who == SCHED_NONE)
        return NULL;
    g = &table[who];
    leave(g, FROM(GUEST_READY), "dispatch");
    g->state = GUEST_RUNNING;
    return g;
}

void lifecycle_preempt(struct guest *g, int to_front)
{
    leave(g, FROM(GUEST_RUNNING), "preempt");
    enqueue(g, to_front);
}

void lifecycle_block(struct guest *g, uint64_t deadline)
{
    leave(g, FROM(GUEST_RUNNING), "block");
    if (sched_wait(&sched, index_of(g), deadline) < 0)
        panic("lifecycle_block: guest %u is on the wait heap already", g->id);
    g->state = GUEST_WAITING;
}

void lifecycle_exit(struct guest *g, int64_t status)
{
    leave(g, FROM(GUEST_RUNNING), "exit");
    g->exit_status = status;
    g->state = GUEST_EXITED;
}

/* One reason at a time: a killed guest is finished before the next runs. */
static char kill_why[VM_KILL_WHY_MAX];

void lifecycle_kill(struct guest *g, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(kill_why, sizeof(kill_why), fmt, ap);
    va_end(ap);
    lifecycle_exit(g, -1);
    g->killed = 1;
}

const char *lifecycle_kill_reason(void)
{
    return kill_why;
}

/* WAITING -> READY with the wait's result, which the guest's personality
 * hands over before it runs (hv/personality.h, wake). */
static void wake(struct guest *g, int64_t result)
{
    leave(g, FROM(GUEST_WAITING), "wake");
    g->wake_result = result;
    g->woken = 1;
    enqueue(g, 0);
}

uint32_t lifecycle_wake_due(uint64_t now)
{
    uint32_t woken = 0, who;

    while ((who = sched_pop_due(&sched, now)) != SCHED_NONE) {
        wake(&table[who], 0);
        woken++;
    }
    return woken;
}

void lifecycle_notify(struct guest *g, uint64_t bits)
{
    if (g->state == GUEST_FREE)
        return;
    g->notify_pending |= bits;
    if (g->state != GUEST_WAITING)
        return;
    sched_unwait(&sched, index_of(g));
    bits = g->notify_pending;
    g->notify_pending = 0;
    wake(g, (int64_t)bits);
}

void lifecycle_retire(struct guest *g)
{
    uint32_t i = index_of(g);

    leave(g, FROM(GUEST_READY) | FROM(GUEST_RUNNING) | FROM(GUEST_WAITING) | FROM(GUEST_EXITED),
          "retire");
    if (g->state == GUEST_READY && sched_dequeue(&sched, i) < 0)
        panic("lifecycle_retire: ready guest %u is not on the run queue", g->id);
    if (g->state == GUEST_WAITING)
        sched_unwait(&sched, i);
    g->notify_pending = 0;
    g->state = GUEST_FREE;
}

int lifecycle_next_deadline(uint64_t *deadline)
{
    return sched_next_deadline(&sched, deadline);
}
