/*
 * CRC-32 as in IEEE 802.3 (reflected, polynomial 0xEDB88320, initial and
 * final value all ones), with zlib's crc32() convention: start from 0 and
 * feed the previous result back in to continue, so
 *   crc32_update(crc32_update(0, a, n), b, m) == crc32 of a then b
 * and crc32_update(0, "123456789", 9) == 0xCBF43926. Pure logic: compiles
 * freestanding and on the host.
 */
#ifndef HV_CRC32_H
#define HV_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
