/*
 * The switch's forwarding table: MAC address -> port index. Open
 * addressing with linear probing in storage the caller gives (no
 * allocation); deletion shifts the following entries back, so lookups stay
 * correct without tombstones. The table never fills up completely: it
 * holds at most fdb_limit(capacity) entries, which leaves at least one
 * empty slot to end every probe and keeps lookups O(1) on average.
 *
 * Every change (an entry added, moved to another port or removed) bumps
 * the table's generation, so a caller may remember one lookup's answer
 * (struct fdb_memo) and reuse it for as long as the generation is the
 * same: the switch does, for frames after the first of a burst to one
 * destination.
 */
#ifndef HV_FDB_H
#define HV_FDB_H

#include <stdint.h>

#define FDB_NONE 0xffffffffu

struct fdb_entry {
    uint8_t mac[6];
    uint8_t used;
    uint8_t reserved;
    uint32_t port;
};

struct fdb {
    struct fdb_entry *slots;
    uint32_t capacity;          /* a power of two */
    uint32_t count;
    uint64_t generation;        /* bumped by every change: 64 bits never wrap */
};

/* One remembered lookup: mac mapped to port when the table's generation
 * was generation. Zeroed, it remembers nothing (generations start at 1). */
struct fdb_memo {
    uint64_t generation;
    uint8_t mac[6];
    uint32_t port;
};

/* Whether two MAC addresses are equal: two loads and compares each, not
 * a byte loop (the hypervisor's memcmp is one); on every switched frame. */
static inline int fdb_mac_equal(const uint8_t a[6], const uint8_t b[6])
{
    uint32_t a4, b4;
    uint16_t a2, b2;

    __builtin_memcpy(&a4, a, 4);
    __builtin_memcpy(&b4, b, 4);
    __builtin_memcpy(&a2, a + 4, 2);
    __builtin_memcpy(&b2, b + 4, 2);
    return a4 == b4 && a2 == b2;
}

/* Empties the table over slots[capacity]. A capacity that is not a power
 * of two is rounded down to one. */
void fdb_init(struct fdb *t, struct fdb_entry *slots, uint32_t capacity);

/* Most entries a table of this capacity holds: 3/4 of it, always leaving
 * one slot empty (0 for capacity 1). */
uint32_t fdb_limit(uint32_t capacity);

/* Maps mac to port (inserting it, or moving it to port). 0, or -1 if the
 * table is full or port is FDB_NONE. */
int fdb_learn(struct fdb *t, const uint8_t mac[6], uint32_t port);

/* The port mac was learnt on, or FDB_NONE. */
uint32_t fdb_lookup(const struct fdb *t, const uint8_t mac[6]);

/* fdb_lookup through memo: the remembered answer while the table has not
 * changed since and mac is the one asked about, else a lookup that memo
 * then remembers (FDB_NONE too). */
static inline uint32_t fdb_lookup_memo(const struct fdb *t, struct fdb_memo *memo,
                                       const uint8_t mac[6])
{
    if (memo->generation == t->generation && fdb_mac_equal(memo->mac, mac))
        return memo->port;
    memo->port = fdb_lookup(t, mac);
    __builtin_memcpy(memo->mac, mac, 6);
    memo->generation = t->generation;
    return memo->port;
}

/* Removes mac; 1 if it was there, else 0. */
int fdb_forget(struct fdb *t, const uint8_t mac[6]);

/* Removes every entry that maps to port. O(capacity). */
void fdb_forget_port(struct fdb *t, uint32_t port);

#endif
