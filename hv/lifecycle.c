#include <stdarg.h>

#include "lifecycle.h"
#include "fmt.h"
#include "../include/mayfly/abi.h"
#include "arch.h"
#include "console.h"
#include "lock.h"
#include "param.h"

/* One CPU's part: its queues under its lock, whether it idles, how many
 * guests it holds, and the reason of its last kill (a killed guest is
 * finished before the next one runs there). */
struct lc_cpu {
    struct lock lock;
    struct sched sched;
    uint32_t load;
    volatile uint32_t idle;
    char kill_why[VM_KILL_WHY_MAX];
};

static struct lc_cpu cpus[CPU_MAX];
static uint32_t cpu_count;
static struct guest *table;
static uint32_t table_count;
static void (*kick_fn)(uint32_t cpu);
static uint64_t (*clock_fn)(void);
static uint32_t (*self_fn)(void);

void lifecycle_set_probes(uint64_t (*clock)(void), uint32_t (*self)(void))
{
    clock_fn = clock;
    self_fn = self;
}

/* The calling CPU, for a wake's record: looked up only then. */
#define LIFECYCLE_SELF_LAZY (SCHED_NONE - 1)

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

void lifecycle_init(struct guest *guests, uint32_t count, uint32_t ncpus, void *storage,
                    void (*kick)(uint32_t cpu))
{
    uint8_t *p = storage;

    if (ncpus == 0 || ncpus > CPU_MAX)
        panic("lifecycle_init: %u CPUs (1 to %d)", ncpus, CPU_MAX);
    table = guests;
    table_count = count;
    cpu_count = ncpus;
    kick_fn = kick;
    for (uint32_t c = 0; c < ncpus; c++, p += LIFECYCLE_STORAGE(count)) {
        uint32_t *ring = (uint32_t *)(void *)p;
        uint32_t *pos = ring + count;
        struct sched_waiter *heap = (struct sched_waiter *)(void *)(pos + count);
        cpus[c].load = 0;
        cpus[c].idle = 0;
        cpus[c].lock.held = 0;
        sched_init(&cpus[c].sched, count, ring, heap, pos);
    }
}

uint32_t lifecycle_cpus(void)
{
    return cpu_count;
}

static uint32_t index_of(const struct guest *g)
{
    uint32_t i = (uint32_t)(g - table);
    if (!table || g < table || i >= table_count)
        panic("lifecycle: guest %u is not in the guest table", g->id);
    return i;
}

/* The CPU g belongs to. */
static struct lc_cpu *cpu_of(const struct guest *g)
{
    if (g->cpu >= cpu_count)
        panic("lifecycle: guest %u is on CPU %u of %u", g->id, g->cpu, cpu_count);
    return &cpus[g->cpu];
}

/* From another CPU: takes the lock of the CPU g belongs to, or NULL
 * (no lock) when g is FREE. g->cpu may change under the caller (g
 * retired there and admitted elsewhere), so both are looked at again
 * once the lock is held: a guest that is not FREE under its CPU's lock
 * stays on that CPU until the lock is given back. The state is read
 * first: admission writes g->cpu before the state (lifecycle_admit). */
static struct lc_cpu *lock_guest_cpu(const struct guest *g)
{
    for (;;) {
        uint32_t cpu = __atomic_load_n(&g->cpu, __ATOMIC_RELAXED);
        struct lc_cpu *c;
        if (cpu >= cpu_count)
            panic("lifecycle: guest %u is on CPU %u of %u", g->id, cpu, cpu_count);
        c = &cpus[cpu];
        lock_take(&c->lock);
        if (__atomic_load_n(&g->state, __ATOMIC_ACQUIRE) == GUEST_FREE) {
            lock_give(&c->lock);
            return NULL;
        }
        if (&cpus[__atomic_load_n(&g->cpu, __ATOMIC_ACQUIRE)] == c)
            return c;
        lock_give(&c->lock);
    }
}

/* CPU cpu's part; a CPU that is not there is a broken caller. */
static struct lc_cpu *cpu_at(uint32_t cpu)
{
    if (cpu >= cpu_count)
        panic("lifecycle: CPU %u of %u", cpu, cpu_count);
    return &cpus[cpu];
}

/* Under c's lock. */
static void enqueue(struct lc_cpu *c, struct guest *g, int to_front)
{
    uint32_t i = index_of(g);
    int r = to_front ? sched_push_front(&c->sched, i) : sched_push(&c->sched, i);

    if (r < 0)
        panic("lifecycle: run queue full with guest %u", g->id);
    __atomic_store_n(&g->state, GUEST_READY, __ATOMIC_RELEASE);
}

/* After something was queued on c (its lock given back): an idle CPU
 * is woken. Pairs with lifecycle_idle_begin, which marks idle before it
 * looks at the queue: either it sees the guest or this sees idle. */
static void wake_if_idle(struct lc_cpu *c)
{
    if (__atomic_load_n(&c->idle, __ATOMIC_SEQ_CST) && kick_fn)
        kick_fn((uint32_t)(c - cpus));
}

uint32_t lifecycle_place(void)
{
    uint32_t best = 0;

    for (uint32_t c = 1; c < cpu_count; c++)
        if (__atomic_load_n(&cpus[c].load, __ATOMIC_RELAXED) <
            __atomic_load_n(&cpus[best].load, __ATOMIC_RELAXED))
            best = c;
    return best;
}

uint32_t lifecycle_load(uint32_t cpu)
{
    return cpu < cpu_count ? __atomic_load_n(&cpus[cpu].load, __ATOMIC_RELAXED) : 0;
}

void lifecycle_admit(struct guest *g, uint32_t cpu)
{
    struct lc_cpu *c;

    if (cpu >= cpu_count)
        panic("lifecycle_admit: guest %u to CPU %u of %u", g->id, cpu, cpu_count);
    c = &cpus[cpu];
    lock_take(&c->lock);
    leave(g, FROM(GUEST_FREE), "admit");
    __atomic_store_n(&g->cpu, cpu, __ATOMIC_RELEASE);
    g->notify_pending = 0;
    g->stop_requested = 0;
    __atomic_add_fetch(&c->load, 1, __ATOMIC_RELAXED);
    enqueue(c, g, 0);
    lock_give(&c->lock);
    wake_if_idle(c);
}

struct guest *lifecycle_dispatch(uint32_t cpu)
{
    struct lc_cpu *c = cpu_at(cpu);
    struct guest *g = NULL;
    uint32_t who;

    lock_take(&c->lock);
    who = sched_pop(&c->sched);
    if (who != SCHED_NONE) {
        g = &table[who];
        leave(g, FROM(GUEST_READY), "dispatch");
        g->state = GUEST_RUNNING;
    }
    lock_give(&c->lock);
    return g;
}

void lifecycle_preempt(struct guest *g, int to_front)
{
    struct lc_cpu *c = cpu_of(g);

    lock_take(&c->lock);
    leave(g, FROM(GUEST_RUNNING), "preempt");
    enqueue(c, g, to_front);
    lock_give(&c->lock);
}

/* Under c's lock. */
static void block(struct lc_cpu *c, struct guest *g, uint64_t deadline)
{
    leave(g, FROM(GUEST_RUNNING), "block");
    if (sched_wait(&c->sched, index_of(g), deadline) < 0)
        panic("lifecycle_block: guest %u is on the wait heap already", g->id);
    g->state = GUEST_WAITING;
}

void lifecycle_block(struct guest *g, uint64_t deadline)
{
    struct lc_cpu *c = cpu_of(g);

    lock_take(&c->lock);
    block(c, g, deadline);
    lock_give(&c->lock);
}

uint64_t lifecycle_wait(struct guest *g, uint64_t deadline)
{
    struct lc_cpu *c = cpu_of(g);
    uint64_t bits;

    lock_take(&c->lock);
    leave(g, FROM(GUEST_RUNNING), "wait");
    bits = __atomic_exchange_n(&g->notify_pending, 0, __ATOMIC_ACQ_REL);
    if (!bits)
        block(c, g, deadline);
    lock_give(&c->lock);
    return bits;
}

/* No lock: notifiers raise bits with an atomic OR (under the CPU's
 * lock, which orders them against lifecycle_wait), so one exchange takes
 * exactly what was raised. */
uint64_t lifecycle_take_pending(struct guest *g)
{
    return __atomic_exchange_n(&g->notify_pending, 0, __ATOMIC_ACQ_REL);
}

void lifecycle_exit(struct guest *g, int64_t status)
{
    leave(g, FROM(GUEST_RUNNING), "exit");
    g->exit_status = status;
    g->state = GUEST_EXITED;
}

void lifecycle_kill(struct guest *g, const char *fmt, ...)
{
    struct lc_cpu *c = cpu_of(g);
    va_list ap;

    leave(g, FROM(GUEST_RUNNING), "kill");
    va_start(ap, fmt);
    fmt_vsnprintf(c->kill_why, sizeof(c->kill_why), fmt, ap);
    va_end(ap);
    lifecycle_exit(g, -1);
    g->killed = 1;
}

const char *lifecycle_kill_reason(const struct guest *g)
{
    return cpu_of(g)->kill_why;
}

/* WAITING -> READY with the wait's result, which the guest's personality
 * hands over before it runs (hv/personality.h, wake). Under c's lock. */
static void wake(struct lc_cpu *c, struct guest *g, int64_t result)
{
    leave(g, FROM(GUEST_WAITING), "wake");
    g->wake_result = result;
    g->woken = 1;
    g->wake_from = 0;
    enqueue(c, g, 0);
}

uint32_t lifecycle_wake_due(uint32_t cpu, uint64_t now)
{
    struct lc_cpu *c = cpu_at(cpu);
    uint32_t woken = 0, who;

    lock_take(&c->lock);
    while ((who = sched_pop_due(&c->sched, now)) != SCHED_NONE) {
        wake(c, &table[who], 0);
        woken++;
    }
    lock_give(&c->lock);
    return woken;
}

void lifecycle_notify_from(struct guest *g, uint64_t bits, uint32_t from_cpu)
{
    struct lc_cpu *c;
    int woke = 0;

    if (g->state == GUEST_FREE)
        return;
    c = lock_guest_cpu(g);
    if (!c)
        return;
    __atomic_fetch_or(&g->notify_pending, bits, __ATOMIC_ACQ_REL);
    if (g->state == GUEST_WAITING) {
        sched_unwait(&c->sched, index_of(g));
        bits = __atomic_exchange_n(&g->notify_pending, 0, __ATOMIC_ACQ_REL);
        wake(c, g, (int64_t)bits);
        if (from_cpu == LIFECYCLE_SELF_LAZY)
            from_cpu = self_fn ? self_fn() : SCHED_NONE;
        g->wake_from = from_cpu == SCHED_NONE ? 0 : from_cpu + 1;
        g->wake_tsc = clock_fn ? clock_fn() : 0;
        woke = 1;
    }
    lock_give(&c->lock);
    if (woke)
        wake_if_idle(c);
}

void lifecycle_notify(struct guest *g, uint64_t bits)
{
    lifecycle_notify_from(g, bits, LIFECYCLE_SELF_LAZY);
}

int lifecycle_request_stop(struct guest *g, uint32_t self)
{
    struct lc_cpu *c;
    int r = -1;

    if (g->state == GUEST_FREE)
        return -1;
    c = lock_guest_cpu(g);
    if (!c)
        return -1;
    g->stop_requested = 1;
    if (g->state == GUEST_WAITING) {
        sched_unwait(&c->sched, index_of(g));
        wake(c, g, 0);
    }
    r = 0;
    lock_give(&c->lock);
    /* Always: g may be on that CPU now, and only an exit gets it off. */
    if (r == 0 && (uint32_t)(c - cpus) != self && kick_fn)
        kick_fn((uint32_t)(c - cpus));
    return r;
}

void lifecycle_retire(struct guest *g)
{
    struct lc_cpu *c = cpu_of(g);
    uint32_t i = index_of(g);

    lock_take(&c->lock);
    leave(g, FROM(GUEST_READY) | FROM(GUEST_RUNNING) | FROM(GUEST_WAITING) | FROM(GUEST_EXITED),
          "retire");
    if (g->state == GUEST_READY && sched_dequeue(&c->sched, i) < 0)
        panic("lifecycle_retire: ready guest %u is not on the run queue", g->id);
    if (g->state == GUEST_WAITING)
        sched_unwait(&c->sched, i);
    g->notify_pending = 0;
    __atomic_store_n(&g->state, GUEST_FREE, __ATOMIC_RELEASE);
    __atomic_sub_fetch(&c->load, 1, __ATOMIC_RELAXED);
    lock_give(&c->lock);
}

int lifecycle_next_deadline(uint32_t cpu, uint64_t *deadline)
{
    struct lc_cpu *c = cpu_at(cpu);
    int r;

    lock_take(&c->lock);
    r = sched_next_deadline(&c->sched, deadline);
    lock_give(&c->lock);
    return r;
}

int lifecycle_idle_begin(uint32_t cpu)
{
    struct lc_cpu *c = cpu_at(cpu);
    uint32_t queued;

    __atomic_store_n(&c->idle, 1, __ATOMIC_SEQ_CST);
    lock_take(&c->lock);
    queued = c->sched.count;
    lock_give(&c->lock);
    if (queued)
        __atomic_store_n(&c->idle, 0, __ATOMIC_SEQ_CST);
    return !queued;
}

void lifecycle_idle_end(uint32_t cpu)
{
    __atomic_store_n(&cpu_at(cpu)->idle, 0, __ATOMIC_SEQ_CST);
}
