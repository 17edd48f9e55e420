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
 */
#ifndef HV_LIFECYCLE_H
#define HV_LIFECYCLE_H

#include <stdint.h>
#include "guest.h"
#include "sched.h"

/* Bytes of queue storage lifecycle_init needs for count guests. */
#define LIFECYCLE_STORAGE(count) \
    ((count) * (2 * sizeof(uint32_t) + sizeof(struct sched_waiter)))

/* Takes guests[0..count) (guest i is named i in the queues) and storage
 * of LIFECYCLE_STORAGE(count) bytes, 8-byte aligned. Every guest must be
 * FREE. */
void lifecycle_init(struct guest *guests, uint32_t count, void *storage);

/* FREE -> READY: a guest just loaded joins the tail of the run queue. */
void lifecycle_admit(struct guest *g);

/* READY -> RUNNING: the guest at the head of the run queue, or NULL. */
struct guest *lifecycle_dispatch(void);

/* RUNNING -> READY: back to the tail of the run queue (its quantum is
 * over), or to the head (it was interrupted to serve the pollers and
 * runs on at once). */
void lifecycle_preempt(struct guest *g, int to_front);

/* RUNNING -> WAITING until deadline (MF_WAIT_FOREVER: until notified). */
void lifecycle_block(struct guest *g, uint64_t deadline);

/* RUNNING -> EXITED: it asked to end with status; the caller retires it. */
void lifecycle_exit(struct guest *g, int64_t status);

/* RUNNING -> EXITED by the hypervisor from inside g's run (a denied
 * exit, a hostile hypercall): killed, the reason formatted for
 * lifecycle_kill_reason; the run loop finishes it once the run is over,
 * before any other guest runs on this CPU. */
void lifecycle_kill(struct guest *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The reason of the last lifecycle_kill on this CPU. */
const char *lifecycle_kill_reason(void);

/* WAITING -> READY for every guest whose deadline is <= now; its wait
 * returns 0. Returns how many woke. */
uint32_t lifecycle_wake_due(uint64_t now);

/* Raises notification bits on g. A WAITING guest becomes READY and its
 * wait returns the bits (then cleared); otherwise they stay pending for
 * its next wait. A FREE guest has no one to tell: ignored. */
void lifecycle_notify(struct guest *g, uint64_t bits);

/* READY, RUNNING, WAITING or EXITED -> FREE: off every queue. The caller
 * then gives back what the guest held. */
void lifecycle_retire(struct guest *g);

/* Earliest wait deadline: 0 and *deadline, or -1 when nobody waits. */
int lifecycle_next_deadline(uint64_t *deadline);

/* Name of a state, for messages. */
const char *lifecycle_state_name(enum guest_state s);

#endif
