/*
 * Split virtqueues, device side (virtio 1.x, "Split Virtqueues"). The
 * rings live in guest memory and everything in them is hostile: each field
 * is read once into a local copy, checked, then used. Guest memory is only
 * reached through gmem_at(). Pure C: compiles freestanding in the
 * hypervisor and on the host for tests and fuzzing.
 *
 * The caller serialises all calls on one queue (the hypervisor handles a
 * port's hypercalls on one CPU at a time). guest_mem.base must be 16-byte
 * aligned (partitions are 2 MiB aligned) so that aligned guest-physical
 * ring addresses are aligned host addresses. The three ring parts are
 * translated (gmem_at) and checked once, at setup: every call on a queue
 * passes the memory its setup was given.
 */
#ifndef HV_VIRTQ_H
#define HV_VIRTQ_H

#include <stddef.h>
#include <stdint.h>
#include "gmem.h"
#include "../include/mayfly/virtio.h"

#define VIRTQ_AVAIL_RING    4u      /* offset of the avail ring's entries (after flags, idx) */
#define VIRTQ_USED_RING     4u      /* offset of the used ring's elements (after flags, idx) */

struct virtq {
    uint64_t desc, avail, used;     /* guest-physical addresses of the three parts */
    uint8_t *desc_ring, *avail_ring, *used_ring;    /* the same as host pointers */
    uint16_t size;                  /* entries, a power of two */
    uint16_t last_avail;            /* next avail ring entry the device takes */
    uint16_t avail_known;           /* entries after last_avail the driver has posted (read once) */
    uint16_t used_idx;              /* the device's used idx (its copy is the truth) */
    uint16_t used_published;        /* the used idx last written to the guest's ring */
    uint8_t event_idx;              /* VIRTIO_RING_F_EVENT_IDX negotiated */
    uint8_t ready;                  /* set up successfully */
};

/* One validated buffer: [gpa, gpa + len) lies inside guest memory. */
struct virtq_buf {
    uint64_t gpa;
    uint32_t len;
};

struct virtq_chain {
    uint16_t head;                  /* descriptor index to hand back in the used ring */
    uint16_t count;                 /* descriptors in bufs */
    uint32_t total;                 /* sum of bufs[].len (no overflow) */
    struct virtq_buf bufs[MF_NET_CHAIN_MAX];
};

/* Validates a queue setup (size a power of two 1..MF_NET_QUEUE_MAX; desc
 * 16-, avail 2-, used 4-byte aligned; each part, with its EVENT_IDX tail,
 * inside guest memory). On success resets q (indices 0, ready) and returns
 * 0; otherwise returns -1 with why set and q untouched. Writes no guest
 * memory. */
int virtq_setup(struct virtq *q, const struct guest_mem *m, const struct mf_queue_setup *s,
                int event_idx, char *why, size_t why_size);

/* Takes the next available chain. want_write: 1 for receive chains (every
 * descriptor device-writable), 0 for transmit chains (none). Returns 1 with
 * *out filled, 0 when nothing is available (or q is not ready), -1 with
 * why when the ring is malformed. The driver's avail idx is read only when
 * the entries an earlier read showed are all taken: a burst of pops reads
 * it once. Inline (below): the next entry of a burst, a chain of one
 * descriptor, is taken without a call. */
static inline int virtq_pop(struct virtq *q, const struct guest_mem *m, int want_write,
                            struct virtq_chain *out, char *why, size_t why_size);

/* One descriptor as read from the ring (once; next only with
 * VIRTQ_DESC_F_NEXT). */
struct virtq_desc_copy {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

/* Reads descriptor i < q->size once into *d: next only when its flags
 * use it. A descriptor is 16 bytes: addr at 0, len at 8, flags at 12,
 * next at 14. Inline: virtq_pop below and the chain walk in virtq.c. */
static inline void virtq_read_desc(const struct virtq *q, uint16_t i, struct virtq_desc_copy *d)
{
    const uint8_t *p = q->desc_ring + 16u * i;

    d->addr = *(const volatile uint64_t *)(const void *)p;
    d->len = *(const volatile uint32_t *)(const void *)(p + 8);
    d->flags = *(const volatile uint16_t *)(const void *)(p + 12);
    d->next = (d->flags & VIRTQ_DESC_F_NEXT) ? *(const volatile uint16_t *)(const void *)(p + 14)
                                             : 0;
}

/* virtq_pop's parts out of line, for it alone: a pop that must read avail
 * idx first (or finds q not ready), and the rest of a pop whose head (not
 * yet range-checked) and head descriptor (*first, when head is in range)
 * were read already. */
int virtq_pop_fresh(struct virtq *q, const struct guest_mem *m, int want_write,
                    struct virtq_chain *out, char *why, size_t why_size);
int virtq_pop_rest(struct virtq *q, const struct guest_mem *m, int want_write, uint16_t head,
                   const struct virtq_desc_copy *first, struct virtq_chain *out, char *why,
                   size_t why_size);

/* Writes used element {head, len}, then (release order) the new used idx. */
void virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t len);

/* The same in two steps, for a batch: virtq_push_elem writes the element
 * and advances the device's used idx only; virtq_publish then writes that
 * idx to the guest's ring (release order: after the elements), once for
 * all the elements pushed since. Publish before virtq_should_notify. */
static inline void virtq_push_elem(struct virtq *q, const struct guest_mem *m, uint16_t head,
                                   uint32_t len);
void virtq_publish(struct virtq *q, const struct guest_mem *m);

/* Whether the driver wants an interrupt for the used entries published since
 * old_used_idx (EVENT_IDX: used_event, else the avail ring's
 * VIRTQ_AVAIL_F_NO_INTERRUPT). Issues the full barrier the spec asks for
 * between publishing used idx and reading the driver's suppression. */
int virtq_should_notify(const struct virtq *q, const struct guest_mem *m, uint16_t old_used_idx);

/* With EVENT_IDX, writes avail_event (the used ring's tail) = value. */
void virtq_set_avail_event(const struct virtq *q, const struct guest_mem *m, uint16_t value);

/* With EVENT_IDX, asks for a kick when the driver adds the buffer after
 * the last one taken (avail_event = last_avail), then, after a full
 * barrier, returns 1 if buffers arrived meanwhile (take them: no kick will
 * come for them). 0 without EVENT_IDX. */
int virtq_kick_rearm(const struct virtq *q, const struct guest_mem *m);

/* Writes the used ring's flags (VIRTQ_USED_F_NO_NOTIFY: the driver need not
 * kick; a hint the driver may ignore). */
void virtq_set_used_flags(const struct virtq *q, const struct guest_mem *m, uint16_t flags);

/* The driver's avail idx, read once (0 if q is not ready). Use it only as a
 * hint: virtq_pop() validates it again. */
uint16_t virtq_avail_idx(const struct virtq *q, const struct guest_mem *m);

/* Copy bytes out of / into a chain virtq_pop() returned, skipping `skip`
 * bytes of it first. Return the bytes copied: at most max (len) and what
 * the chain holds after skip. */
uint32_t virtq_gather(const struct guest_mem *m, const struct virtq_chain *c, uint32_t skip,
                      uint8_t *dst, uint32_t max);
uint32_t virtq_scatter(const struct guest_mem *m, const struct virtq_chain *c, uint32_t skip,
                       const uint8_t *src, uint32_t len);

/* An avail entry known to be posted, a chain of one descriptor of the
 * wanted kind, non-empty, inside guest memory: taken here. Anything else
 * goes on in virtq_pop_rest with what was read, nothing read twice. */
static inline int virtq_pop(struct virtq *q, const struct guest_mem *m, int want_write,
                            struct virtq_chain *out, char *why, size_t why_size)
{
    const uint8_t *p;
    struct virtq_desc_copy d;
    uint16_t head;

    if (!q->ready || !q->avail_known)
        return virtq_pop_fresh(q, m, want_write, out, why, why_size);
    p = q->avail_ring + VIRTQ_AVAIL_RING + 2u * (q->last_avail & (q->size - 1u));
    head = *(const volatile uint16_t *)(const void *)p;
    if (head >= q->size)
        return virtq_pop_rest(q, m, want_write, head, NULL, out, why, why_size);
    virtq_read_desc(q, head, &d);
    if ((d.flags & (VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT)) !=
        (want_write ? VIRTQ_DESC_F_WRITE : 0) || d.len == 0 || !gmem_at(m, d.addr, d.len))
        return virtq_pop_rest(q, m, want_write, head, &d, out, why, why_size);
    out->head = head;
    out->count = 1;
    out->total = d.len;
    out->bufs[0].gpa = d.addr;
    out->bufs[0].len = d.len;
    q->avail_known--;
    q->last_avail++;
    return 1;
}

/* Inline: one per frame on each side of the switch. Writes only. */
static inline void virtq_push_elem(struct virtq *q, const struct guest_mem *m, uint16_t head,
                                   uint32_t len)
{
    uint8_t *at;
    volatile uint32_t *elem;

    (void)m;
    if (!q->ready)
        return;
    at = q->used_ring + VIRTQ_USED_RING + 8u * (q->used_idx & (q->size - 1u));
    elem = (volatile uint32_t *)(void *)at;
    elem[0] = head;
    elem[1] = len;
    q->used_idx++;
}

#endif
