/*
 * udp-ping: shared pieces of the two modes (ping.c, mesh.c).
 *
 * Every datagram this guest sends carries a check pattern (payload.c): its
 * first 12 bytes are the sequence number, a tag and an FNV-1a checksum of
 * the rest (cut short for shorter datagrams); the rest is a pattern derived
 * from sequence number and tag. An echo is intact when it equals, byte for
 * byte, what payload_fill() makes again for the same sequence and tag.
 */
#ifndef UDP_PING_H
#define UDP_PING_H

#include "mf.h"
#include "net/net.h"

#define PING_SRC_PORT_BASE  10000   /* replies come back to 10000 + our last octet */
#define PAYLOAD_HEADER      12

/* Writes len bytes of check pattern for (seq, tag). */
void payload_fill(uint8_t *p, size_t len, uint32_t seq, uint32_t tag);
/* 1 if p (len bytes) is exactly payload_fill(seq, tag, len). */
int payload_check(const uint8_t *p, size_t len, uint32_t seq, uint32_t tag);

/* The number after key= (or def when absent), in [min, max]; -1 and a
 * message if it is malformed or out of range. */
int ping_arg(const char *key, uint64_t def, uint64_t min, uint64_t max, uint64_t *out);

int ping_run(const struct net_config *cfg);
int mesh_run(const struct net_config *cfg, uint64_t mesh);

#endif
