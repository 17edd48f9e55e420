/*
 * A transmit ring in front of a slow byte device (a UART): bytes wait
 * in [sent, written) (both counters only grow; offsets are taken modulo
 * the size) and txring_pump hands the device what it takes now, without
 * waiting. The console and the control channel each keep one. Pure
 * logic.
 */
#ifndef HV_TXRING_H
#define HV_TXRING_H

#include <stddef.h>
#include <stdint.h>

struct txring {
    uint8_t *buf;
    uint32_t size;
    uint64_t written, sent;
};

/* Writes what the device takes now from buf (at most len bytes); returns
 * the count. */
typedef size_t (*txring_write_fn)(const uint8_t *buf, size_t len);

void txring_init(struct txring *r, uint8_t *storage, uint32_t size);

/* Bytes waiting, and room left. */
uint64_t txring_pending(const struct txring *r);
uint64_t txring_room(const struct txring *r);

/* Appends n bytes; the caller has made sure of the room. */
void txring_put(struct txring *r, const void *data, uint32_t n);

/* Hands the device what it takes now. Whether bytes still wait. */
int txring_pump(struct txring *r, txring_write_fn write_some);

/* The oldest waiting byte, taken off the ring (for a caller that must
 * wait for the device byte by byte). pending must not be 0. */
uint8_t txring_take(struct txring *r);

/* Takes up to max of the oldest waiting bytes into out (two copies at
 * most); returns how many. */
size_t txring_get(struct txring *r, uint8_t *out, size_t max);

#endif
