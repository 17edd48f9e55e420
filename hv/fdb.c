/*
 * Forwarding table: linear probing over a power-of-two array with
 * backward-shift deletion (Knuth 6.4, Algorithm R). Invariant: every entry
 * is reachable from its home slot without crossing an empty slot, and at
 * least one slot is empty, so every probe ends.
 */
#include "fdb.h"
#include "lib.h"

static uint32_t mac_hash(const uint8_t mac[6])
{
    uint64_t x = 0;

    for (int i = 0; i < 6; i++)
        x = (x << 8) | mac[i];
    x *= 0x9e3779b97f4a7c15ull;     /* Fibonacci hashing: the high bits mix every byte */
    return (uint32_t)(x >> 32);
}

static uint32_t home_slot(const struct fdb *t, const uint8_t mac[6])
{
    return mac_hash(mac) & (t->capacity - 1u);
}

uint32_t fdb_limit(uint32_t capacity)
{
    uint32_t spare = capacity / 4u;

    if (capacity == 0)
        return 0;
    return capacity - (spare ? spare : 1u);
}

void fdb_init(struct fdb *t, struct fdb_entry *slots, uint32_t capacity)
{
    while (capacity & (capacity - 1u))
        capacity &= capacity - 1u;  /* clear low bits down to the top one */
    t->slots = slots;
    t->capacity = slots ? capacity : 0;
    t->count = 0;
    t->generation = 1;              /* a zeroed memo is never current */
    if (t->capacity)
        memset(slots, 0, (size_t)t->capacity * sizeof(*slots));
}

/* The slot holding mac, or the empty slot where its probe ends (*found 0).
 * FDB_NONE only for a table with no slots or no empty slot. */
static uint32_t probe(const struct fdb *t, const uint8_t mac[6], int *found)
{
    uint32_t mask = t->capacity - 1u, i;

    *found = 0;
    if (t->capacity == 0)
        return FDB_NONE;
    i = home_slot(t, mac);
    for (uint32_t n = 0; n < t->capacity; n++, i = (i + 1u) & mask) {
        if (!t->slots[i].used)
            return i;
        if (fdb_mac_equal(t->slots[i].mac, mac)) {
            *found = 1;
            return i;
        }
    }
    return FDB_NONE;
}

int fdb_learn(struct fdb *t, const uint8_t mac[6], uint32_t port)
{
    int found;
    uint32_t i = probe(t, mac, &found);

    if (port == FDB_NONE || i == FDB_NONE)
        return -1;
    if (!found) {
        if (t->count >= fdb_limit(t->capacity))
            return -1;
        memcpy(t->slots[i].mac, mac, 6);
        t->slots[i].used = 1;
        t->count++;
    } else if (t->slots[i].port == port) {
        return 0;                   /* known already: no change */
    }
    t->slots[i].port = port;
    t->generation++;
    return 0;
}

uint32_t fdb_lookup(const struct fdb *t, const uint8_t mac[6])
{
    int found;
    uint32_t i = probe(t, mac, &found);

    return found ? t->slots[i].port : FDB_NONE;
}

/* Empties slot hole and moves later entries of its run back into it, each
 * only if that does not put it before its home slot. */
static void remove_at(struct fdb *t, uint32_t hole)
{
    uint32_t mask = t->capacity - 1u;

    for (uint32_t j = (hole + 1u) & mask; t->slots[j].used && j != hole; j = (j + 1u) & mask) {
        uint32_t home = home_slot(t, t->slots[j].mac);

        /* Movable iff home is not cyclically in (hole, j]. */
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    memset(&t->slots[hole], 0, sizeof(t->slots[hole]));
    t->count--;
    t->generation++;
}

int fdb_forget(struct fdb *t, const uint8_t mac[6])
{
    int found;
    uint32_t i = probe(t, mac, &found);

    if (!found)
        return 0;
    remove_at(t, i);
    return 1;
}

void fdb_forget_port(struct fdb *t, uint32_t port)
{
    uint32_t mask = t->capacity - 1u, start = 0, i;

    if (t->count == 0)
        return;
    /* Start right after an empty slot: no run then wraps past the scan's
     * start, and remove_at() only moves entries of the current run into
     * the slot being looked at, which is looked at again. */
    while (start < t->capacity && t->slots[start].used)
        start++;
    if (start == t->capacity)
        start = 0;                  /* cannot happen within fdb_limit() */
    i = (start + 1u) & mask;
    for (uint32_t n = 0; n < t->capacity;) {
        if (t->slots[i].used && t->slots[i].port == port) {
            remove_at(t, i);        /* slot i now holds the next entry of the run, if any */
        } else {
            i = (i + 1u) & mask;
            n++;
        }
    }
}
