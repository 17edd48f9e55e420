/* mfctl image: the job shared by its checks (image.c) and the writer (disk.c). */
#ifndef MFCTL_IMAGE_H
#define MFCTL_IMAGE_H

#include "config.h"
#include "mfctl.h"
#include "param.h"

#define MIB_BYTES           (1024ULL * 1024ULL)
#define SECTOR              512ULL
#define ESP_FIRST_LBA       2048ULL         /* the partition starts at 1 MiB */
#define IMAGE_DEFAULT_MIB   64ULL           /* and FAT32 from this size on */
#define IMAGE_MIN_MIB       8ULL
#define IMAGE_MAX_MIB       32768ULL
#define FAT_CLUSTER_MAX     (64ULL * 1024)  /* worst-case rounding per file */

/* One guest image going onto the ESP as mayfly/<name>. */
struct payload {
    const char *name;               /* the config's image=NAME */
    char path[MFCTL_PATH_MAX];      /* where it was found */
    uint8_t *data;
    size_t size;
};

struct image_job {
    const char *config_path, *output, *efi_arg;
    unsigned long long size_mib;    /* 0: default */
    char **images;                  /* the command line's IMAGE... */
    int image_count;
    struct config config;
    size_t config_size;
    char efi[MFCTL_PATH_MAX];
    size_t efi_size;
    struct payload payloads[BOOT_MAX_FILES];
    uint32_t payload_count;
};

/* Writes the GPT disk image job describes (everything in it checked
 * already), atomically: a temporary file beside the output, renamed over
 * it at the end. Returns 0, or -1 with a message and no output left. */
int disk_write(const struct image_job *job);

#endif
