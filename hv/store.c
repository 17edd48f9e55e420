#include "store.h"
#include "../include/mayfly/abi.h"
#include "crc32.h"
#include "fmt.h"
#include "lib.h"

void store_init(struct store *st, uint8_t *base, uint64_t size)
{
    memset(st, 0, sizeof(*st));
    st->base = base;
    st->size = size;
}

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Lowest offset where size bytes fit between the visible images. */
static int find_room(const struct store *st, uint64_t size, uint64_t *offset)
{
    uint64_t candidate = 0;

    for (;;) {
        int moved = 0;
        if (candidate > st->size || size > st->size - candidate)
            return -1;
        for (uint32_t i = 0; i < STORE_IMAGES_MAX; i++) {
            const struct store_image *im = &st->images[i];
            if (im->valid && overlaps(candidate, size, im->offset, im->size)) {
                candidate = (im->offset + im->size + 7) & ~7ULL;
                moved = 1;
            }
        }
        if (!moved) {
            *offset = candidate;
            return 0;
        }
    }
}

static int valid_name(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++) {
        char c = name[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return n > 0 && n < STORE_NAME_MAX;
}

int store_begin(struct store *st, const char *name, uint64_t size, char *why, size_t n)
{
    uint64_t offset;

    /* Every check first: a refused BEGIN leaves the upload in progress. */
    if (!valid_name(name))
        return fmt_error(why, n, -MF_EINVAL, "bad image name (letters, digits, '_', '-', '.'; at "
                         "most 31 characters)");
    if (size == 0 || size > st->size)
        return fmt_error(why, n, -MF_ERANGE, "image size is 0 or larger than the image store "
                         "(raise store= on the control line of mayfly.conf)");
    if (!store_find(st, name)) {
        uint32_t used = 0;
        for (uint32_t i = 0; i < STORE_IMAGES_MAX; i++)
            used += st->images[i].valid != 0;
        if (used == STORE_IMAGES_MAX)
            return fmt_error(why, n, -MF_ENOMEM, "the image store holds 32 images already");
    }
    if (find_room(st, size, &offset) < 0)
        return fmt_error(why, n, -MF_ENOMEM, "no room left in the image store: its images fill it");
    st->upload.active = 1;              /* an unfinished upload is abandoned */
    st->upload.finished = 0;
    str_copy(st->upload.name, name, sizeof(st->upload.name));
    st->upload.offset = offset;
    st->upload.size = size;
    st->upload.received = 0;
    return 0;
}

int store_chunk(struct store *st, uint64_t offset, const uint8_t *data, uint64_t len,
                char *why, size_t n)
{
    if (!st->upload.active)
        return fmt_error(why, n, -MF_EINVAL, "no upload in progress: send UPLOAD_BEGIN first");
    if (offset != st->upload.received)
        return fmt_error(why, n, -MF_EINVAL, "chunk out of order: its offset is not the number of "
                         "bytes received so far");
    if (len > st->upload.size - st->upload.received)
        return fmt_error(why, n, -MF_ERANGE, "chunk goes past the size given at UPLOAD_BEGIN");
    memcpy(st->base + st->upload.offset + offset, data, len);
    st->upload.received += len;
    return 0;
}

int store_finish(struct store *st, uint32_t crc, const uint8_t **data, uint64_t *size,
                 char *why, size_t n)
{
    const uint8_t *p = st->base + st->upload.offset;

    if (!st->upload.active)
        return fmt_error(why, n, -MF_EINVAL, "no upload in progress: send UPLOAD_BEGIN first");
    /* A refused END changes nothing: the missing chunks may still come. */
    if (st->upload.received != st->upload.size)
        return fmt_error(why, n, -MF_EINVAL, "upload ended before all its bytes arrived (%llu of "
                         "%llu): send the rest first", (unsigned long long)st->upload.received,
                         (unsigned long long)st->upload.size);
    if (crc32_update(0, p, st->upload.size) != crc)
        return fmt_error(why, n, -MF_EINVAL, "image checksum does not match: upload it again");
    *data = p;
    *size = st->upload.size;
    st->upload.finished = 1;
    return 0;
}

void store_commit(struct store *st)
{
    struct store_image *slot = NULL;

    if (!st->upload.active || !st->upload.finished)
        return;                         /* only a finished, checked upload is published */
    for (uint32_t i = 0; i < STORE_IMAGES_MAX; i++) {
        struct store_image *im = &st->images[i];
        if (im->valid && !strcmp(im->name, st->upload.name))
            im->valid = 0;              /* replaced */
        if (!im->valid && !slot)
            slot = im;
    }
    if (slot) {
        str_copy(slot->name, st->upload.name, sizeof(slot->name));
        slot->offset = st->upload.offset;
        slot->size = st->upload.size;
        slot->valid = 1;
    }
    st->upload.active = 0;
    st->upload.finished = 0;
}

void store_abort(struct store *st)
{
    st->upload.active = 0;
    st->upload.finished = 0;
}

const struct store_image *store_find(const struct store *st, const char *name)
{
    for (uint32_t i = 0; i < STORE_IMAGES_MAX; i++)
        if (st->images[i].valid && !strcmp(st->images[i].name, name))
            return &st->images[i];
    return NULL;
}

uint64_t store_free_bytes(const struct store *st)
{
    uint64_t used = 0;
    for (uint32_t i = 0; i < STORE_IMAGES_MAX; i++)
        if (st->images[i].valid)
            used += st->images[i].size;
    return st->size - used;
}
