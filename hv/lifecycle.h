/*
 * The guest lifecycle: one explicit state machine. Every change of a
 * guest's state goes through one function here; each checks the state it
 * leaves and keeps the scheduler's queues in step with it, so a guest is
 * on the run queue exactly when it is READY and on the wait heap exactly
 * when it is WAITING.
 *
 *   FREE ──admit──▶ READY ──dispatch──▶ RUNNING ──preempt──▶ READY
 *                     ▲                  │  │ └──exit──▶ EXITED
 *                     └──wake / notify── WAITING ◀──block──┘
 *   READY, RUNNING, WAITING, EXITED ──retire──▶ FREE
 *
 * A transition from a state it does not accept is a broken hypervisor
 * invariant (no guest or control input can cause one): it panics with
 * both states named. Pure logic over the scheduler queues: it is
 * compiled and unit-tested on the host.
 *
 * Per CPU (issue 12): every CPU has its own run queue and wait heap
 * under its own lock. A guest is admitted to one CPU (g->cpu) and stays
 * there until it is retired: only that CPU dispatches, preempts, blocks,
 * exits, kills and retires it. Any CPU may notify it or ask it to stop;
 * when that queues it on a CPU that idles, that CPU is kicked (the kick
 * function given to lifecycle_init), so nothing waits for its timer.
 */
#ifndef HV_LIFECYCLE_H
#define HV_LIFECYCLE_H

#include <stdint.h>
#include "guest.h"
#include "sched.h"

/* Bytes of queue storage lifecycle_init needs per CPU for count guests. */
#define LIFECYCLE_STORAGE(count) \
    ((count) * (2 * sizeof(uint32_t) + sizeof(struct sched_waiter)))

/* Takes guests[0..count) (guest i is named i in the queues), cpus CPUs
 * (1 to CPU_MAX), storage of cpus * LIFECYCLE_STORAGE(count) bytes,
 * 8-byte aligned, and kick(cpu), called (outside any lock here) when
 * work was queued on a CPU that idles. Every guest must be FREE. */
void lifecycle_init(struct guest *guests, uint32_t count, uint32_t cpus, void *storage,
                    void (*kick)(uint32_t cpu));

/* The number of CPUs given to lifecycle_init. */
uint32_t lifecycle_cpus(void);

/* The CPU with the fewest guests admitted and not retired (the lowest
 * index among equals): where a new guest goes unless it is pinned. */
uint32_t lifecycle_place(void);

/* Guests admitted to cpu and not yet retired. */
uint32_t lifecycle_load(uint32_t cpu);

/* FREE -> READY: a guest just loaded joins the tail of cpu's run queue;
 * it belongs to cpu until it is retired. */
void lifecycle_admit(struct guest *g, uint32_t cpu);

/* READY -> RUNNING: the guest at the head of cpu's run queue, or NULL. */
struct guest *lifecycle_dispatch(uint32_t cpu);

/* RUNNING -> READY: back to the tail of the run queue (its quantum is
 * over), or to the head (it was interrupted to serve the pollers or a
 * kick and runs on at once). */
void lifecycle_preempt(struct guest *g, int to_front);

/* RUNNING -> WAITING until deadline (MF_WAIT_FOREVER: until notified),
 * unless notification bits are pending: then it stays RUNNING, the bits
 * are cleared and returned. 0 when it waits. One step under the CPU's
 * lock, so a notification from another CPU is never lost between a
 * guest's last look and its wait. */
uint64_t lifecycle_wait(struct guest *g, uint64_t deadline);

/* RUNNING -> WAITING until deadline, whatever is pending. */
void lifecycle_block(struct guest *g, uint64_t deadline);

/* The pending notification bits of g (cleared). */
uint64_t lifecycle_take_pending(struct guest *g);

/* RUNNING -> EXITED: it asked to end with status; the caller retires it. */
void lifecycle_exit(struct guest *g, int64_t status);

/* RUNNING -> EXITED by the hypervisor from inside g's run (a denied
 * exit, a hostile hypercall): killed, the reason formatted for
 * lifecycle_kill_reason; the run loop finishes it once the run is over,
 * before any other guest runs on this CPU. */
void lifecycle_kill(struct guest *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The reason of the last lifecycle_kill on g's CPU. */
const char *lifecycle_kill_reason(const struct guest *g);

/* WAITING -> READY for every guest on cpu whose deadline is <= now; its
 * wait returns 0. Returns how many woke. */
uint32_t lifecycle_wake_due(uint32_t cpu, uint64_t now);

/* Raises notification bits on g, from any CPU. A WAITING guest becomes
 * READY and its wait returns the bits (then cleared); otherwise they
 * stay pending for its next wait. A FREE guest has no one to tell:
 * ignored. */
void lifecycle_notify(struct guest *g, uint64_t bits);

/* lifecycle_notify from CPU from_cpu: a guest it wakes remembers it
 * (g->wake_from = from_cpu + 1) and when (g->wake_tsc), so that its CPU
 * can time the wake-up; a guest woken otherwise has wake_from 0.
 * lifecycle_notify names the calling CPU itself. The clock and the
 * calling CPU come from the functions given to lifecycle_set_probes,
 * read only when a guest wakes (NULL: 0 and no CPU). */
void lifecycle_notify_from(struct guest *g, uint64_t bits, uint32_t from_cpu);
void lifecycle_set_probes(uint64_t (*clock)(void), uint32_t (*self)(void));

/* From any CPU: asks g's CPU to end g (g->stop_requested; a WAITING g
 * becomes READY) and kicks that CPU, whatever it is doing, unless it is
 * the calling CPU (self). The run loop finishes g when it next
 * dispatches it. 0, or -1 when g is FREE. */
int lifecycle_request_stop(struct guest *g, uint32_t self);

/* READY, RUNNING, WAITING or EXITED -> FREE: off every queue. The caller
 * then gives back what the guest held. */
void lifecycle_retire(struct guest *g);

/* Earliest wait deadline on cpu: 0 and *deadline, or -1 when nobody
 * waits there. */
int lifecycle_next_deadline(uint32_t cpu, uint64_t *deadline);

/* Idling: lifecycle_idle_begin marks cpu idle and then looks at its run
 * queue: 1 (stay idle: anything queued from now on kicks it) or 0
 * (work arrived: not idle). lifecycle_idle_end when it wakes. */
int lifecycle_idle_begin(uint32_t cpu);
void lifecycle_idle_end(uint32_t cpu);

/* Name of a state, for messages. */
const char *lifecycle_state_name(enum guest_state s);

#endif
