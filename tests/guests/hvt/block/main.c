/*
 * hvt-block: the Solo5 block device tests. Manifest: one BLOCK_BASIC
 * device named "storage" (handle 1); its capacity and sector size come
 * from the host's manifest copy (bi->mft, entry 1: u.block). The test
 * disk (tests/guests/hvt/mkdisk.py: build/guests/hvt-disk.img, 64
 * sectors) holds in every 512-byte sector n the ASCII text "sector <n>\n"
 * (n decimal) followed by zero bytes.
 *
 * Every run first prints
 *   hvt-block: storage: <capacity> bytes, <block_size>-byte sectors
 * (or "hvt-block: FAIL no attached block device named storage", exit 1).
 * Then by the first word of the command line:
 *
 *   block (also: empty command line)
 *     1. reads every sector and checks the pattern of each 512 bytes;
 *     2. writes sector 1 and reads it back;
 *     3. reads the last sector (offset capacity - block_size);
 *     4. expects HVT_R_EINVAL from: READ and WRITE at offset = capacity,
 *        READ at capacity - block_size of 2 * block_size bytes (past the
 *        end), READ at offset 100 (misaligned), READ of 100 bytes at 0;
 *     prints
 *       block: read <N> sectors, pattern ok
 *       block: write and read back ok
 *       block: last sector <N-1> ok
 *       block: out-of-range and misaligned requests refused
 *       block ok                                          exit 0
 *     or at the first failure
 *       block: FAIL <what>                                exit 1
 *   block-dirty   writes "dirty" over the start of sector 0, reads it back:
 *       block-dirty: sector 0 now says dirty              exit 0
 *   block-clean   checks sector 0 holds the original pattern (a later
 *                 instance of the same config line: writes vanish when a
 *                 guest ends):
 *       block-clean: sector 0 is clean                    exit 0
 *       block-clean: FAIL sector 0 starts "<text>"        exit 1
 * Any other first word:
 *   hvt-block: unknown mode "<word>"                      exit 2
 */
#include "hvtlib.h"

HVT_MANIFEST(1, HVT_DEVICE_BLOCK("storage"));

#define PATTERN_SIZE    512         /* the disk's pattern repeats per 512 bytes */
#define SECTOR_MAX      4096        /* largest sector size this test handles */
#define MODE_MAX        32

static struct {
    uint64_t handle, capacity, block_size, sectors;
} disk;

static uint8_t sector[SECTOR_MAX], expect[SECTOR_MAX];

static int block_fail(const char *what, uint64_t offset, int ret)
{
    hvt_printf("block: FAIL %s (offset %lu, ret %d)\n", what, (unsigned long)offset, ret);
    return 1;
}

/* The pattern of the disk's bytes [offset, offset + len), as written by
 * mkdisk.py. */
static void pattern(uint8_t *p, uint64_t offset, uint64_t len)
{
    memset(p, 0, len);
    for (uint64_t at = 0; at < len; at += PATTERN_SIZE) {
        char text[32];
        size_t n = fmt_snprintf(text, sizeof(text), "sector %lu\n",
                                (unsigned long)((offset + at) / PATTERN_SIZE));

        memcpy(p + at, text, n);
    }
}

static int check_sector(uint64_t n)
{
    uint64_t offset = n * disk.block_size;
    int ret = hvt_block_read(disk.handle, offset, sector, disk.block_size);

    if (ret != HVT_R_OK)
        return block_fail("read of a sector inside the disk", offset, ret);
    pattern(expect, offset, disk.block_size);
    if (memcmp(sector, expect, disk.block_size) != 0)
        return block_fail("a sector does not hold its pattern", offset, ret);
    return 0;
}

static int block_read_all(void)
{
    for (uint64_t n = 0; n < disk.sectors; n++)
        if (check_sector(n) != 0)
            return 1;
    hvt_printf("block: read %lu sectors, pattern ok\n", (unsigned long)disk.sectors);
    return 0;
}

static int block_write_back(void)
{
    uint64_t offset = disk.block_size;
    int ret;

    for (uint64_t i = 0; i < disk.block_size; i++)
        expect[i] = (uint8_t)(i * 7 + 3);
    ret = hvt_block_write(disk.handle, offset, expect, disk.block_size);
    if (ret != HVT_R_OK)
        return block_fail("write of sector 1", offset, ret);
    memset(sector, 0, disk.block_size);
    ret = hvt_block_read(disk.handle, offset, sector, disk.block_size);
    if (ret != HVT_R_OK || memcmp(sector, expect, disk.block_size) != 0)
        return block_fail("sector 1 does not read back what was written", offset, ret);
    hvt_puts("block: write and read back ok\n");
    return 0;
}

/* One request that must get HVT_R_EINVAL. */
static int expect_einval(const char *what, int write, uint64_t offset, uint64_t len)
{
    static uint8_t big[2 * SECTOR_MAX];
    int ret = write ? hvt_block_write(disk.handle, offset, big, len)
                    : hvt_block_read(disk.handle, offset, big, len);

    if (ret == HVT_R_EINVAL)
        return 0;
    hvt_printf("block: FAIL %s: offset %lu len %lu returned %d, expected %d\n", what,
               (unsigned long)offset, (unsigned long)len, ret, HVT_R_EINVAL);
    return 1;
}

static int block_refusals(void)
{
    uint64_t bs = disk.block_size, cap = disk.capacity;

    if (expect_einval("read at the capacity", 0, cap, bs) ||
        expect_einval("write at the capacity", 1, cap, bs) ||
        expect_einval("read past the end", 0, cap - bs, 2 * bs) ||
        expect_einval("misaligned read", 0, 100, bs) ||
        expect_einval("short read", 0, 0, 100))
        return 1;
    hvt_puts("block: out-of-range and misaligned requests refused\n");
    return 0;
}

static int mode_block(void)
{
    if (block_read_all() || block_write_back())
        return 1;
    if (check_sector(disk.sectors - 1))
        return 1;
    hvt_printf("block: last sector %lu ok\n", (unsigned long)(disk.sectors - 1));
    if (block_refusals())
        return 1;
    hvt_puts("block ok\n");
    return 0;
}

static int mode_dirty(void)
{
    int ret;

    memset(sector, 0, disk.block_size);
    memcpy(sector, "dirty", 5);
    ret = hvt_block_write(disk.handle, 0, sector, disk.block_size);
    if (ret != HVT_R_OK)
        return block_fail("write of sector 0", 0, ret);
    memset(sector, 0, disk.block_size);
    ret = hvt_block_read(disk.handle, 0, sector, disk.block_size);
    if (ret != HVT_R_OK || memcmp(sector, "dirty", 5) != 0)
        return block_fail("sector 0 does not read back dirty", 0, ret);
    hvt_puts("block-dirty: sector 0 now says dirty\n");
    return 0;
}

static int mode_clean(void)
{
    int ret = hvt_block_read(disk.handle, 0, sector, disk.block_size);

    if (ret != HVT_R_OK)
        return block_fail("read of sector 0", 0, ret);
    pattern(expect, 0, disk.block_size);
    if (memcmp(sector, expect, disk.block_size) != 0) {
        char text[16];

        for (size_t i = 0; i < sizeof(text) - 1; i++) {
            char c = (char)sector[i];
            text[i] = (c >= ' ' && c <= '~') ? c : '.';
        }
        text[sizeof(text) - 1] = '\0';
        hvt_printf("block-clean: FAIL sector 0 starts \"%s\"\n", text);
        return 1;
    }
    hvt_puts("block-clean: sector 0 is clean\n");
    return 0;
}

static int disk_find(void)
{
    const struct hvt_mft_entry *e = hvt_device("storage", HVT_MFT_BLOCK_BASIC, &disk.handle);

    if (e == NULL || !e->attached) {
        hvt_puts("hvt-block: FAIL no attached block device named storage\n");
        return -1;
    }
    disk.capacity = e->u.block.capacity;
    disk.block_size = e->u.block.block_size;
    hvt_printf("hvt-block: storage: %lu bytes, %lu-byte sectors\n",
               (unsigned long)disk.capacity, (unsigned long)disk.block_size);
    if (disk.block_size < PATTERN_SIZE || disk.block_size > SECTOR_MAX ||
        disk.block_size % PATTERN_SIZE != 0 || disk.capacity < 2 * disk.block_size ||
        disk.capacity % disk.block_size != 0) {
        hvt_puts("hvt-block: FAIL sector size or capacity this test cannot use\n");
        return -1;
    }
    disk.sectors = disk.capacity / disk.block_size;
    return 0;
}

int main(const struct hvt_boot_info *bi)
{
    char mode[MODE_MAX];

    (void)bi;
    if (disk_find() < 0)
        return 1;
    if (hvt_word(hvt_cmdline(), 0, mode, sizeof(mode)) < 0)
        memcpy(mode, "block", sizeof("block"));
    if (strcmp(mode, "block") == 0)
        return mode_block();
    if (strcmp(mode, "block-dirty") == 0)
        return mode_dirty();
    if (strcmp(mode, "block-clean") == 0)
        return mode_clean();
    hvt_printf("hvt-block: unknown mode \"%s\"\n", mode);
    return 2;
}
