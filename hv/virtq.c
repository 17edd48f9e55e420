/*
 * Split virtqueues, device side. The guest may change its rings at any
 * moment (another vCPU, or on purpose), so every ring field is read once
 * through a volatile access into a local, checked, and only the local is
 * used. A ring's placement is checked once, at setup, where its three
 * parts are translated through gmem_at(); the offsets used here stay
 * inside them. Buffers' addresses go through gmem_at() on every access.
 */
#include "virtq.h"
#include "fmt.h"
#include "lib.h"
#include "param.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "rings are little-endian");
_Static_assert((MF_NET_QUEUE_MAX & (MF_NET_QUEUE_MAX - 1)) == 0, "queue size limit is a power of two");
_Static_assert(MF_NET_QUEUE_MAX <= 32768, "avail idx distance must fit 16 bits");

/* Offsets inside the ring parts (virtio spec layout). */
#define AVAIL_FLAGS     0u
#define AVAIL_IDX       2u
#define AVAIL_RING      VIRTQ_AVAIL_RING
#define USED_FLAGS      0u
#define USED_IDX        2u
#define USED_RING       VIRTQ_USED_RING
#define DESC_FLAGS      12u             /* (a descriptor is read by virtq_read_desc) */

/* Orders this CPU's accesses to shared rings. Builtins rather than inline
 * assembly: on x86 acquire and release cost nothing but a compiler
 * barrier, the full one is a locked instruction. */
#define fence_acquire() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define fence_release() __atomic_thread_fence(__ATOMIC_RELEASE)
#define fence_full()    __atomic_thread_fence(__ATOMIC_SEQ_CST)

static uint16_t read16_once(const uint8_t *p)
{
    return *(const volatile uint16_t *)(const void *)p;
}

static void write16_once(uint8_t *p, uint16_t v)
{
    *(volatile uint16_t *)(void *)p = v;
}

static int check_part(const struct guest_mem *m, const char *name, uint64_t gpa, uint64_t align,
                      uint64_t bytes, char *why, size_t why_size)
{
    if (gpa & (align - 1))
        return fmt_error(why, why_size, -1, "%s ring at 0x%llx is not %llu-byte aligned", name,
                         (unsigned long long)gpa, (unsigned long long)align);
    if (!gmem_at(m, gpa, bytes))
        return fmt_error(why, why_size, -1, "%s ring 0x%llx+%llu outside guest memory (%llu bytes)",
                         name, (unsigned long long)gpa, (unsigned long long)bytes,
                         (unsigned long long)(m ? m->size : 0));
    return 0;
}

int virtq_setup(struct virtq *q, const struct guest_mem *m, const struct mf_queue_setup *s,
                int event_idx, char *why, size_t why_size)
{
    struct mf_queue_setup c = *s;   /* the caller's copy may still be shared */

    if (c.size == 0 || c.size > MF_NET_QUEUE_MAX || (c.size & (c.size - 1)))
        return fmt_error(why, why_size, -1, "queue size %u is not a power of two in 1..%u",
                         (unsigned)c.size, (unsigned)MF_NET_QUEUE_MAX);
    if (check_part(m, "descriptor", c.desc, 16, VIRTQ_DESC_BYTES(c.size), why, why_size) < 0 ||
        check_part(m, "available", c.avail, 2, VIRTQ_AVAIL_BYTES(c.size), why, why_size) < 0 ||
        check_part(m, "used", c.used, 4, VIRTQ_USED_BYTES(c.size), why, why_size) < 0)
        return -1;
    q->desc = c.desc;
    q->avail = c.avail;
    q->used = c.used;
    q->desc_ring = gmem_at(m, c.desc, VIRTQ_DESC_BYTES(c.size));
    q->avail_ring = gmem_at(m, c.avail, VIRTQ_AVAIL_BYTES(c.size));
    q->used_ring = gmem_at(m, c.used, VIRTQ_USED_BYTES(c.size));
    q->size = (uint16_t)c.size;
    q->last_avail = 0;
    q->avail_known = 0;
    q->used_idx = 0;
    q->used_published = 0;
    q->event_idx = event_idx ? 1 : 0;
    q->ready = 1;
    return 0;
}

uint16_t virtq_avail_idx(const struct virtq *q, const struct guest_mem *m)
{
    (void)m;
    return q->ready ? read16_once(q->avail_ring + AVAIL_IDX) : 0;
}

/* Why a pop failed, formatted off the fast path (cold: the pop itself
 * then needs no stack frame of its own). Returns -1. */
enum pop_fault {
    FAULT_AVAIL_JUMP,               /* a: last_avail, b: idx, c: size */
    FAULT_HEAD,                     /* a: head, c: size */
    FAULT_NEXT,                     /* a: descriptor, b: next, c: size */
    FAULT_LONG,
};

__attribute__((noinline, cold))
static int pop_fault(char *why, size_t why_size, enum pop_fault fault, uint32_t a, uint32_t b,
                     uint32_t c)
{
    switch (fault) {
    case FAULT_AVAIL_JUMP:
        return fmt_error(why, why_size, -1, "avail index jumped from %u to %u (queue size %u)",
                         a, b, c);
    case FAULT_HEAD:
        return fmt_error(why, why_size, -1, "head %u out of range (queue size %u)", a, c);
    case FAULT_NEXT:
        return fmt_error(why, why_size, -1, "descriptor %u: next %u out of range (queue size "
                         "%u)", a, b, c);
    case FAULT_LONG:
    default:
        return fmt_error(why, why_size, -1, "descriptor chain longer than %u (loop?)",
                         (unsigned)MF_NET_CHAIN_MAX);
    }
}

/* What desc_fault is told besides the descriptor's index and flags. */
#define DESC_FAULT_WANT_WRITE   1u          /* the chain is a receive chain */
#define DESC_FAULT_OUTSIDE      2u          /* the buffer is not in guest memory */

/* Why walk_chain refused descriptor i (its flags in index_flags' top
 * half), in the order the checks are listed there. Returns -1. */
__attribute__((noinline, cold))
static int desc_fault(char *why, size_t why_size, uint32_t index_flags, uint32_t bits,
                      uint64_t addr, uint32_t len)
{
    uint32_t i = index_flags & 0xffffu, flags = index_flags >> 16;
    int writable = (flags & VIRTQ_DESC_F_WRITE) != 0;
    int want_write = (bits & DESC_FAULT_WANT_WRITE) != 0;

    if (flags & VIRTQ_DESC_F_INDIRECT)
        return fmt_error(why, why_size, -1, "descriptor %u: indirect descriptors are not supported",
                         i);
    if (want_write && !writable)
        return fmt_error(why, why_size, -1, "descriptor %u: read-only buffer in a receive chain",
                         i);
    if (!want_write && writable)
        return fmt_error(why, why_size, -1, "descriptor %u: device-writable buffer in a transmit "
                         "chain", i);
    if (len == 0)
        return fmt_error(why, why_size, -1, "descriptor %u: zero-length descriptor", i);
    if (bits & DESC_FAULT_OUTSIDE)
        return fmt_error(why, why_size, -1, "descriptor %u: address 0x%llx+%u outside guest memory",
                         i, (unsigned long long)addr, (unsigned)len);
    return fmt_error(why, why_size, -1, "descriptor %u: chain total length overflows", i);
}

/* Walks the chain from head, whose descriptor is *first (read once
 * already), each next descriptor read once; each is checked: the one kind
 * of buffer the chain wants (device-writable for receive, not for
 * transmit, never indirect), not empty, inside guest memory, the total
 * not overflowing; the length bound ends any loop. out is written only on
 * success. */
static int walk_chain(const struct virtq *q, const struct guest_mem *m, int want_write,
                      uint16_t head, const struct virtq_desc_copy *first,
                      struct virtq_chain *out, char *why, size_t why_size)
{
    uint32_t count = 0, total = 0, kind = want_write ? VIRTQ_DESC_F_WRITE : 0;
    struct virtq_desc_copy d = *first;
    uint16_t i = head;

    for (;;) {
        if ((d.flags & (VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT)) != kind || d.len == 0 ||
            !gmem_at(m, d.addr, d.len) || d.len > UINT32_MAX - total)
            return desc_fault(why, why_size, i | (uint32_t)d.flags << 16,
                              (want_write ? DESC_FAULT_WANT_WRITE : 0) |
                              (gmem_at(m, d.addr, d.len) ? 0 : DESC_FAULT_OUTSIDE),
                              d.addr, d.len);
        out->bufs[count].gpa = d.addr;
        out->bufs[count].len = d.len;
        count++;
        total += d.len;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= q->size)
            return pop_fault(why, why_size, FAULT_NEXT, i, d.next, q->size);
        if (count == MF_NET_CHAIN_MAX)
            return pop_fault(why, why_size, FAULT_LONG, 0, 0, 0);
        i = d.next;
        virtq_read_desc(q, i, &d);
    }
    out->head = head;
    out->count = (uint16_t)count;
    out->total = total;
    return 0;
}

int virtq_pop_rest(struct virtq *q, const struct guest_mem *m, int want_write, uint16_t head,
                   const struct virtq_desc_copy *first, struct virtq_chain *out, char *why,
                   size_t why_size)
{
    if (head >= q->size)
        return pop_fault(why, why_size, FAULT_HEAD, head, 0, q->size);
    if (walk_chain(q, m, want_write, head, first, out, why, why_size) < 0)
        return -1;
    q->avail_known--;
    q->last_avail++;
    return 1;
}

int virtq_pop_fresh(struct virtq *q, const struct guest_mem *m, int want_write,
                    struct virtq_chain *out, char *why, size_t why_size)
{
    struct virtq_desc_copy first;
    uint16_t pending, head, idx;

    if (!q->ready)
        return 0;
    if (q->avail_known)
        return virtq_pop(q, m, want_write, out, why, why_size);
    /* One read of avail idx for the entries it shows, checked: at most a
     * ring's worth. */
    idx = read16_once(q->avail_ring + AVAIL_IDX);
    pending = (uint16_t)(idx - q->last_avail);
    if (pending == 0)
        return 0;
    if (pending > q->size)
        return pop_fault(why, why_size, FAULT_AVAIL_JUMP, q->last_avail, idx, q->size);
    fence_acquire();                /* the ring entries were written before idx */
    head = read16_once(q->avail_ring + AVAIL_RING + 2u * (q->last_avail & (q->size - 1u)));
    if (head >= q->size)
        return pop_fault(why, why_size, FAULT_HEAD, head, 0, q->size);
    virtq_read_desc(q, head, &first);
    if (walk_chain(q, m, want_write, head, &first, out, why, why_size) < 0)
        return -1;
    q->avail_known = (uint16_t)(pending - 1u);
    q->last_avail++;
    return 1;
}

void virtq_publish(struct virtq *q, const struct guest_mem *m)
{
    (void)m;
    if (!q->ready || q->used_published == q->used_idx)
        return;
    fence_release();                /* the elements before the index that publishes them */
    q->used_published = q->used_idx;
    write16_once(q->used_ring + USED_IDX, q->used_idx);
}

void virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t len)
{
    virtq_push_elem(q, m, head, len);
    virtq_publish(q, m);
}

int virtq_should_notify(const struct virtq *q, const struct guest_mem *m, uint16_t old_used_idx)
{
    const uint8_t *avail = q->avail_ring;

    (void)m;
    if (!q->ready || q->used_idx == old_used_idx)
        return 0;
    fence_full();                   /* used idx visible before reading the driver's wish */
    if (q->event_idx)
        return virtq_need_event(read16_once(avail + AVAIL_RING + 2u * q->size), q->used_idx,
                                old_used_idx);
    return !(read16_once(avail + AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

void virtq_set_avail_event(const struct virtq *q, const struct guest_mem *m, uint16_t value)
{
    (void)m;
    if (q->ready && q->event_idx)
        write16_once(q->used_ring + USED_RING + 8u * q->size, value);
}

int virtq_kick_rearm(const struct virtq *q, const struct guest_mem *m)
{
    if (!q->ready || !q->event_idx)
        return 0;
    virtq_set_avail_event(q, m, q->last_avail);
    fence_full();                   /* avail_event visible before looking at avail idx */
    return virtq_avail_idx(q, m) != q->last_avail;
}

void virtq_set_used_flags(const struct virtq *q, const struct guest_mem *m, uint16_t flags)
{
    (void)m;
    if (q->ready)
        write16_once(q->used_ring + USED_FLAGS, flags);
}

/* Calls copy(host, offset into the caller's buffer, n) for each piece of
 * the chain after skip, up to limit bytes in all; returns the bytes. */
static uint32_t chain_walk(const struct guest_mem *m, const struct virtq_chain *c, uint32_t skip,
                           uint32_t limit, uint8_t *dst, const uint8_t *src)
{
    uint32_t done = 0;

    for (uint32_t i = 0; i < c->count && i < MF_NET_CHAIN_MAX && done < limit; i++) {
        uint32_t len = c->bufs[i].len, n;
        uint8_t *host;

        if (skip >= len) {
            skip -= len;
            continue;
        }
        n = len - skip;
        if (n > limit - done)
            n = limit - done;
        if (c->bufs[i].gpa > UINT64_MAX - skip)
            break;
        host = gmem_at(m, c->bufs[i].gpa + skip, n);
        if (!host)
            break;
        if (dst)
            memcpy(dst + done, host, n);
        else
            memcpy(host, src + done, n);
        done += n;
        skip = 0;
    }
    return done;
}

uint32_t virtq_gather(const struct guest_mem *m, const struct virtq_chain *c, uint32_t skip,
                      uint8_t *dst, uint32_t max)
{
    return dst ? chain_walk(m, c, skip, max, dst, NULL) : 0;
}

uint32_t virtq_scatter(const struct guest_mem *m, const struct virtq_chain *c, uint32_t skip,
                       const uint8_t *src, uint32_t len)
{
    return src ? chain_walk(m, c, skip, len, NULL, src) : 0;
}
