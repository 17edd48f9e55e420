/*
 * Solo5 manifests (the MFT1 note of an hvt image, include/mayfly/hvt.h):
 * parsing the untrusted descriptor into what the hypervisor keeps, and
 * writing the guest's copy. Pure logic: compiles freestanding and on the
 * host (unit tests, fuzzing).
 */
#ifndef HV_MFT_H
#define HV_MFT_H

#include <stddef.h>
#include <stdint.h>
#include "../include/mayfly/hvt.h"
#include "param.h"

/* Bytes of a buffer that holds every reason mft_parse() gives. */
#define MFT_REASON_MAX 160

/*
 * Devices (entries after entry 0) a kept manifest holds: as many as one
 * guest line can map (CONFIG_DEVICES_MAX), because an image that declares
 * more can never start here. A Solo5 manifest may list up to 63; keeping
 * them all would cost every guest line (every struct elf_image) 4.5 KiB.
 */
#define MFT_DEVICES_MAX CONFIG_DEVICES_MAX

struct mft_device {
    char name[HVT_MFT_NAME_SIZE];   /* NUL-terminated, [A-Za-z0-9]{1,67} */
    uint32_t type;                  /* HVT_MFT_BLOCK_BASIC or HVT_MFT_NET_BASIC */
};

/* A validated manifest: entry 0 (HVT_MFT_RESERVED_FIRST) included, so
 * that a device's handle is its index here; only e[0..entries) is used. */
struct mft_info {
    uint32_t entries;               /* 1..1 + MFT_DEVICES_MAX */
    struct mft_device e[1 + MFT_DEVICES_MAX];
};

/*
 * Parses the MFT1 note's descriptor (descsz bytes at desc, the 4 padding
 * bytes included). Checks: the size is exactly HVT_MFT_NOTE_PAD + 8 +
 * entries * 104; version HVT_MFT_VERSION; 1..HVT_MFT_ENTRIES_MAX entries;
 * entry 0 is HVT_MFT_RESERVED_FIRST with an empty name; every other
 * entry has a name of 1..67 characters [A-Za-z0-9] NUL-terminated inside
 * its 68 bytes, a known type (BLOCK_BASIC, NET_BASIC), attached 0, and
 * no two entries share a name. A manifest that passes the size checks
 * but declares more than MFT_DEVICES_MAX devices is refused before its
 * entries are read (Mayfly could never attach them all). Returns 0 and
 * fills *out, or -1 with a one-line reason in err (which entry, what is
 * wrong) and *out all zero.
 */
int mft_parse(const uint8_t *desc, size_t descsz, struct mft_info *out, char *err,
              size_t err_size);

/* The index of the device called name (1..entries - 1), or -1. */
int mft_find(const struct mft_info *m, const char *name);

/* Bytes the guest's copy of m takes (struct hvt_mft and its entries). */
size_t mft_copy_size(const struct mft_info *m);

#endif
