/*
 * The image store: a region reserved at boot for guest images uploaded
 * over the control channel. An upload is begun, filled in order, then
 * checked (CRC, then the caller's ELF validation) and only then becomes
 * visible; an unfinished upload never is. Pure logic.
 */
#ifndef HV_STORE_H
#define HV_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_IMAGES_MAX 32
#define STORE_NAME_MAX   32

struct store_image {
    char name[STORE_NAME_MAX];
    uint64_t offset, size;
    int valid;
};

struct store {
    uint8_t *base;
    uint64_t size;
    struct store_image images[STORE_IMAGES_MAX];
    struct {
        int active;
        int finished;           /* store_finish succeeded: commit may publish it */
        char name[STORE_NAME_MAX];
        uint64_t offset, size, received;
    } upload;
};

void store_init(struct store *st, uint8_t *base, uint64_t size);

/* Starts an upload of size bytes called name, abandoning any unfinished
 * one. 0, or -MF_E* with why: bad name, size 0 or larger than the store,
 * no room; a refused BEGIN leaves the upload in progress as it was. */
int store_begin(struct store *st, const char *name, uint64_t size, char *why, size_t n);

/* Appends len bytes at offset, which must equal the bytes received. */
int store_chunk(struct store *st, uint64_t offset, const uint8_t *data, uint64_t len,
                char *why, size_t n);

/* Checks the upload is complete and its CRC-32 matches; returns its bytes
 * in *data and *size for the caller to validate. It is not visible yet.
 * Refused (incomplete, wrong CRC), it leaves the upload as it was. */
int store_finish(struct store *st, uint32_t crc, const uint8_t **data, uint64_t *size,
                 char *why, size_t n);

/* Makes the finished upload visible, replacing an image of the same name. */
void store_commit(struct store *st);

/* Drops the current upload (finished or not) without making it visible. */
void store_abort(struct store *st);

const struct store_image *store_find(const struct store *st, const char *name);
uint64_t store_free_bytes(const struct store *st);

#endif
