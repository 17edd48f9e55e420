/*
 * Writing the disk image: sgdisk lays out a GPT with one EFI system
 * partition (type EF00) from 1 MiB to the last whole MiB before the backup
 * GPT, mformat puts a FAT file system on it at its byte offset
 * (IMAGE@@OFFSET), mmd and mcopy fill it. The result is a plain disk
 * image: `dd` it to a USB stick, or boot it with `mfctl run`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

/* The temporary output, removed if a signal ends mfctl half-way. */
static char temp_output[MFCTL_PATH_MAX];

static void on_signal(int sig)
{
    (void)sig;
    if (temp_output[0])
        unlink(temp_output);
    _exit(EXIT_SIGNAL);
}

/* The ESP spans 1 MiB to the last whole MiB before the backup GPT (33 sectors). */
static uint64_t esp_sectors(uint64_t size_mib)
{
    uint64_t sectors = size_mib * MIB_BYTES / SECTOR;
    uint64_t end = (sectors - 33) / ESP_FIRST_LBA * ESP_FIRST_LBA;
    return end - ESP_FIRST_LBA;
}

/* mtools addresses the partition as IMAGE@@OFFSET. */
static int mtools_image(char *dst, size_t size, const char *path)
{
    int n = snprintf(dst, size, "%s@@%llu", path, ESP_FIRST_LBA * SECTOR);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

static int make_partition(const char *path, uint64_t size_mib)
{
    char new_arg[64];
    const char *argv[] = { "sgdisk", "--clear", new_arg, "--typecode=1:EF00",
                           "--change-name=1:EFI system partition", path, NULL };

    snprintf(new_arg, sizeof(new_arg), "--new=1:%llu:%llu", ESP_FIRST_LBA,
             (unsigned long long)(ESP_FIRST_LBA + esp_sectors(size_mib) - 1));
    return tool_run(argv);
}

static int make_fat(const char *img, uint64_t size_mib)
{
    char total[32], hidden[32];
    const char *argv[12];
    int n = 0;

    snprintf(total, sizeof(total), "%llu", (unsigned long long)esp_sectors(size_mib));
    snprintf(hidden, sizeof(hidden), "%llu", ESP_FIRST_LBA);
    argv[n++] = "mformat";
    argv[n++] = "-i";
    argv[n++] = img;
    argv[n++] = "-T";
    argv[n++] = total;
    argv[n++] = "-H";
    argv[n++] = hidden;
    argv[n++] = "-v";
    argv[n++] = "MAYFLY";
    if (size_mib >= IMAGE_DEFAULT_MIB)
        argv[n++] = "-F";           /* below that, mformat picks FAT12/16 */
    argv[n++] = "::";
    argv[n] = NULL;
    return tool_run(argv);
}

static int copy_in(const char *img, const char *src, const char *dst)
{
    char dotted[MFCTL_PATH_MAX + 2];
    const char *argv[] = { "mcopy", "-i", img, src, dst, NULL };

    /* A file name that starts with '-' is not an option. */
    if (src[0] == '-') {
        snprintf(dotted, sizeof(dotted), "./%s", src);
        argv[3] = dotted;
    }
    return tool_run(argv);
}

static int fill_fat(const struct image_job *job, const char *img)
{
    const char *mmd[] = { "mmd", "-i", img, "::/EFI", "::/EFI/BOOT", "::/mayfly", NULL };
    char dst[BOOT_NAME_MAX + 16];

    if (tool_run(mmd) < 0 || copy_in(img, job->efi, "::/EFI/BOOT/BOOTX64.EFI") < 0 ||
        copy_in(img, job->config_path, "::/mayfly/mayfly.conf") < 0)
        return -1;
    for (uint32_t i = 0; i < job->payload_count; i++) {
        snprintf(dst, sizeof(dst), "::/mayfly/%s", job->payloads[i].name);
        if (copy_in(img, job->payloads[i].path, dst) < 0)
            return -1;
    }
    return 0;
}

/* A sparse file of the image's size, mode 0666 less the umask. */
static int create_temp(const struct image_job *job)
{
    mode_t mask = umask(0);
    int fd, n;

    umask(mask);
    n = snprintf(temp_output, sizeof(temp_output), "%s%s.XXXXXX",
                 job->output[0] == '-' ? "./" : "", job->output);
    if (n < 0 || (size_t)n >= sizeof(temp_output)) {
        temp_output[0] = '\0';
        error_say("output path too long: %s", job->output);
        return -1;
    }
    fd = mkostemp(temp_output, O_CLOEXEC);
    if (fd < 0) {
        error_say("cannot create a file beside %s: %s", job->output, strerror(errno));
        temp_output[0] = '\0';
        return -1;
    }
    if (fchmod(fd, 0666 & ~mask) < 0 ||
        ftruncate(fd, (off_t)(job->size_mib * MIB_BYTES)) < 0) {
        error_say("cannot size %s: %s", temp_output, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

int disk_write(const struct image_job *job)
{
    char img[MFCTL_PATH_MAX + 32];

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    if (create_temp(job) < 0)
        return -1;
    if (mtools_image(img, sizeof(img), temp_output) < 0 ||
        make_partition(temp_output, job->size_mib) < 0 ||
        make_fat(img, job->size_mib) < 0 || fill_fat(job, img) < 0)
        goto fail;
    if (sync_file(temp_output) < 0 || rename(temp_output, job->output) < 0) {
        error_say("cannot write %s: %s", job->output, strerror(errno));
        goto fail;
    }
    temp_output[0] = '\0';
    return 0;
fail:
    unlink(temp_output);
    temp_output[0] = '\0';
    return -1;
}

