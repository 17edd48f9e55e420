/*
 * Scheduler queues, pure logic: a FIFO run queue of runnable guests and a
 * min-heap of waiting guests ordered by deadline. Guests are named by
 * index (< capacity); the caller provides the storage, sized at boot.
 */
#ifndef HV_SCHED_H
#define HV_SCHED_H

#include <stdint.h>

#define SCHED_NONE 0xffffffffu

struct sched_waiter {
    uint64_t deadline;
    uint32_t who;
};

struct sched {
    uint32_t capacity;
    uint32_t *ring;                 /* capacity entries */
    uint32_t head, count;
    struct sched_waiter *heap;      /* capacity entries */
    uint32_t *heap_pos;             /* capacity entries: index in heap or SCHED_NONE */
    uint32_t waiting;
};

void sched_init(struct sched *s, uint32_t capacity, uint32_t *ring,
                struct sched_waiter *heap, uint32_t *heap_pos);

/* Appends who to the run queue. Returns 0, or -1 when who is out of range
 * or the queue is full (a guest is queued at most once by its owner). */
int sched_push(struct sched *s, uint32_t who);

/* Puts who at the head of the run queue (it runs next). 0, or -1 as
 * sched_push. */
int sched_push_front(struct sched *s, uint32_t who);

/* Takes the guest at the head of the run queue; SCHED_NONE when empty. */
uint32_t sched_pop(struct sched *s);

/* Takes who out of the run queue wherever it stands (keeping the order
 * of the others). Returns 0, or -1 when it is not queued. O(queue). */
int sched_dequeue(struct sched *s, uint32_t who);

/* Parks who until deadline. Returns 0, or -1 when who is out of range or
 * already waiting. */
int sched_wait(struct sched *s, uint32_t who, uint64_t deadline);

/* Takes who off the wait heap (woken early or killed); no-op if absent. */
void sched_unwait(struct sched *s, uint32_t who);

/* Takes the waiter with the earliest deadline off the heap if that
 * deadline is <= now; SCHED_NONE otherwise. */
uint32_t sched_pop_due(struct sched *s, uint64_t now);


/* Earliest deadline among waiters: 0 and *deadline, or -1 when none wait. */
int sched_next_deadline(const struct sched *s, uint64_t *deadline);

#endif
