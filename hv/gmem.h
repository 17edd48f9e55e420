/*
 * A guest's memory as the hypervisor sees it, and the one translation from
 * guest-physical addresses to host pointers. Everything the hypervisor
 * reads or writes on a guest's behalf (hypercall arguments, virtqueues,
 * frame buffers) goes through gmem_at(). Header-only: the translation is
 * on every ring access, so it is inlined.
 */
#ifndef HV_GMEM_H
#define HV_GMEM_H

#include <stddef.h>
#include <stdint.h>

/* Guest-physical 0 is base; the guest owns [0, size). */
struct guest_mem {
    uint8_t *base;
    uint64_t size;
};

/* The host pointer of [gpa, gpa + len), or NULL if any byte of it lies
 * outside [0, size) (or m has no memory). Overflow-safe for every gpa and
 * len: gpa + len is never computed. An empty range at gpa == size is
 * inside. */
static inline void *gmem_at(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    if (!m || !m->base || gpa > m->size || len > m->size - gpa)
        return NULL;
    return m->base + gpa;
}

#endif
