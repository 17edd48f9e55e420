#include "sched.h"

void sched_init(struct sched *s, uint32_t capacity, uint32_t *ring,
                struct sched_waiter *heap, uint32_t *heap_pos)
{
    s->capacity = capacity;
    s->ring = ring;
    s->head = s->count = 0;
    s->heap = heap;
    s->heap_pos = heap_pos;
    s->waiting = 0;
    for (uint32_t i = 0; i < capacity; i++)
        heap_pos[i] = SCHED_NONE;
}

int sched_push(struct sched *s, uint32_t who)
{
    if (who >= s->capacity || s->count == s->capacity)
        return -1;
    s->ring[(s->head + s->count) % s->capacity] = who;
    s->count++;
    return 0;
}

int sched_push_front(struct sched *s, uint32_t who)
{
    if (who >= s->capacity || s->count == s->capacity)
        return -1;
    s->head = (s->head + s->capacity - 1) % s->capacity;
    s->ring[s->head] = who;
    s->count++;
    return 0;
}

int sched_dequeue(struct sched *s, uint32_t who)
{
    uint32_t i = 0;

    while (i < s->count && s->ring[(s->head + i) % s->capacity] != who)
        i++;
    if (i == s->count)
        return -1;
    for (; i + 1 < s->count; i++)
        s->ring[(s->head + i) % s->capacity] = s->ring[(s->head + i + 1) % s->capacity];
    s->count--;
    return 0;
}

uint32_t sched_pop(struct sched *s)
{
    uint32_t who;

    if (!s->count)
        return SCHED_NONE;
    who = s->ring[s->head];
    s->head = (s->head + 1) % s->capacity;
    s->count--;
    return who;
}

static void heap_place(struct sched *s, uint32_t i, struct sched_waiter w)
{
    s->heap[i] = w;
    s->heap_pos[w.who] = i;
}

static void sift_up(struct sched *s, uint32_t i)
{
    struct sched_waiter w = s->heap[i];

    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (s->heap[parent].deadline <= w.deadline)
            break;
        heap_place(s, i, s->heap[parent]);
        i = parent;
    }
    heap_place(s, i, w);
}

static void sift_down(struct sched *s, uint32_t i)
{
    struct sched_waiter w = s->heap[i];

    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= s->waiting)
            break;
        if (child + 1 < s->waiting && s->heap[child + 1].deadline < s->heap[child].deadline)
            child++;
        if (w.deadline <= s->heap[child].deadline)
            break;
        heap_place(s, i, s->heap[child]);
        i = child;
    }
    heap_place(s, i, w);
}

int sched_wait(struct sched *s, uint32_t who, uint64_t deadline)
{
    struct sched_waiter w = { deadline, who };

    if (who >= s->capacity || s->heap_pos[who] != SCHED_NONE || s->waiting == s->capacity)
        return -1;
    heap_place(s, s->waiting++, w);
    sift_up(s, s->waiting - 1);
    return 0;
}

void sched_unwait(struct sched *s, uint32_t who)
{
    uint32_t i;

    if (who >= s->capacity || s->heap_pos[who] == SCHED_NONE)
        return;
    i = s->heap_pos[who];
    s->heap_pos[who] = SCHED_NONE;
    if (--s->waiting == i)
        return;
    heap_place(s, i, s->heap[s->waiting]);
    if (i > 0 && s->heap[(i - 1) / 2].deadline > s->heap[i].deadline)
        sift_up(s, i);
    else
        sift_down(s, i);
}

uint32_t sched_pop_due(struct sched *s, uint64_t now)
{
    uint32_t who;

    if (!s->waiting || s->heap[0].deadline > now)
        return SCHED_NONE;
    who = s->heap[0].who;
    sched_unwait(s, who);
    return who;
}

int sched_next_deadline(const struct sched *s, uint64_t *deadline)
{
    if (!s->waiting)
        return -1;
    *deadline = s->heap[0].deadline;
    return 0;
}
