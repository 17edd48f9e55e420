/*
 * Finds the EFI system partition of a disk image: the GPT header at LBA 1
 * (UEFI spec 2.10, 5.3), its partition entries, the entry whose type is
 * the ESP GUID. A bare FAT file system (an ESP image with no partition
 * table, as tests/lib/emu.sh builds) is accepted at offset 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mfctl.h"

#define SECTOR          512ULL
#define GPT_ENTRY_MIN   128
#define GPT_ENTRIES_MAX 1024

/* C12A7328-F81F-11D2-BA4B-00A0C93EC93B as stored on disk (mixed endian). */
static const uint8_t esp_type[16] = {
    0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
    0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b,
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int read_at(int fd, void *buf, size_t len, uint64_t offset)
{
    ssize_t n = pread(fd, buf, len, (off_t)offset);
    return n == (ssize_t)len ? 0 : -1;
}

/* A FAT boot sector: the 0x55AA signature and a FAT type string. */
static int is_fat(const uint8_t *sector)
{
    return sector[510] == 0x55 && sector[511] == 0xaa &&
           (!memcmp(sector + 54, "FAT", 3) || !memcmp(sector + 82, "FAT32", 5));
}

static int scan_entries(int fd, const uint8_t *header, uint64_t file_size,
                        uint64_t *offset, uint64_t *size)
{
    uint64_t lba = le64(header + 72);
    uint32_t count = le32(header + 80), entry_size = le32(header + 84);
    uint8_t entry[GPT_ENTRY_MIN];

    if (entry_size < GPT_ENTRY_MIN || entry_size > 4096 || count > GPT_ENTRIES_MAX)
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t at = lba * SECTOR + (uint64_t)i * entry_size;
        if (read_at(fd, entry, sizeof(entry), at) < 0)
            return -1;
        if (memcmp(entry, esp_type, sizeof(esp_type)) != 0)
            continue;
        uint64_t first = le64(entry + 32), last = le64(entry + 40);
        if (last < first || last >= file_size / SECTOR)
            return -1;
        *offset = first * SECTOR;
        *size = (last - first + 1) * SECTOR;
        return 0;
    }
    return -1;
}

int gpt_find_esp(const char *image, uint64_t *offset, uint64_t *size)
{
    uint8_t sector[SECTOR];
    struct stat st;
    int fd = open(image, O_RDONLY | O_CLOEXEC), rc = -1;

    if (fd < 0) {
        error_say("cannot open %s: %s", image, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < 2 * SECTOR) {
        error_say("%s is not a disk image (build one with 'mfctl image')", image);
        close(fd);
        return -1;
    }
    if (read_at(fd, sector, SECTOR, SECTOR) == 0 && !memcmp(sector, "EFI PART", 8)) {
        rc = scan_entries(fd, sector, (uint64_t)st.st_size, offset, size);
        if (rc < 0)
            error_say("%s: no EFI system partition in its GPT (build the image with "
                      "'mfctl image')", image);
    } else if (read_at(fd, sector, SECTOR, 0) == 0 && is_fat(sector)) {
        *offset = 0;
        *size = (uint64_t)st.st_size;
        rc = 0;
    } else {
        error_say("%s has neither a GPT nor a FAT file system (build it with 'mfctl image')",
                  image);
    }
    close(fd);
    return rc;
}
