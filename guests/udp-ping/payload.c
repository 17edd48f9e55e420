/* The check pattern (udp-ping.h). */
#include "udp-ping.h"

#define FNV32_OFFSET    0x811c9dc5u
#define FNV32_PRIME     0x01000193u

static uint32_t fnv32(const uint8_t *p, size_t len)
{
    uint32_t h = FNV32_OFFSET;

    while (len--)
        h = (h ^ *p++) * FNV32_PRIME;
    return h;
}

static uint8_t pattern_byte(uint32_t seq, uint32_t tag, size_t i)
{
    return (uint8_t)((seq * 131u + (uint32_t)i * 7u + (uint32_t)(i >> 8)) ^ tag ^ (tag >> 8));
}

void payload_fill(uint8_t *p, size_t len, uint32_t seq, uint32_t tag)
{
    uint8_t header[PAYLOAD_HEADER];
    uint32_t sum = FNV32_OFFSET;

    for (size_t i = PAYLOAD_HEADER; i < len; i++)
        p[i] = pattern_byte(seq, tag, i);
    if (len > PAYLOAD_HEADER)
        sum = fnv32(p + PAYLOAD_HEADER, len - PAYLOAD_HEADER);
    net_put32(header, seq);
    net_put32(header + 4, tag);
    net_put32(header + 8, sum);
    memcpy(p, header, len < PAYLOAD_HEADER ? len : PAYLOAD_HEADER);
}

int payload_check(const uint8_t *p, size_t len, uint32_t seq, uint32_t tag)
{
    uint8_t header[PAYLOAD_HEADER];
    uint32_t sum = FNV32_OFFSET;
    size_t n = len < PAYLOAD_HEADER ? len : PAYLOAD_HEADER;

    for (size_t i = PAYLOAD_HEADER; i < len; i++)
        if (p[i] != pattern_byte(seq, tag, i))
            return 0;
    if (len > PAYLOAD_HEADER)
        sum = fnv32(p + PAYLOAD_HEADER, len - PAYLOAD_HEADER);
    net_put32(header, seq);
    net_put32(header + 4, tag);
    net_put32(header + 8, sum);
    return memcmp(p, header, n) == 0;
}
