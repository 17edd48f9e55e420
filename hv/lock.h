/*
 * Spin locks for the core (issue 12). The hypervisor runs with
 * interrupts off except while a CPU idles in HLT, and no interrupt or
 * NMI handler takes a lock, so a lock is never taken by its own holder's
 * interrupt. Hold times are short (a queue operation, a frame copy, one
 * console line); nobody sleeps or enters a guest holding one. Which
 * lock guards what, and the one order they are taken in, are in
 * docs/smp.md.
 */
#ifndef HV_LOCK_H
#define HV_LOCK_H

#include <stdint.h>

struct lock {
    volatile uint32_t held;
};

static inline void lock_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("pause" ::: "memory");
#endif
}

static inline void lock_take(struct lock *l)
{
    while (__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->held, __ATOMIC_RELAXED))
            lock_relax();
}

/* 1 when taken, 0 when someone holds it. */
static inline int lock_try(struct lock *l)
{
    return !__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE);
}

static inline void lock_give(struct lock *l)
{
    __atomic_store_n(&l->held, 0, __ATOMIC_RELEASE);
}

#endif
