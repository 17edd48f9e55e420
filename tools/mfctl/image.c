/*
 * mfctl image: a GPT disk image with one EFI system partition holding
 * EFI/BOOT/BOOTX64.EFI, mayfly/mayfly.conf and the files the config names
 * (guest images, the disks of block devices). Everything is checked
 * first, with the hypervisor's own config parser (hv/config.c) and ELF
 * validator (hv/elf.c), so an image that mfctl writes never stops at boot
 * on a bad config, a bad image or a disk of a broken size. Only
 * then is the image built, in a temporary file beside the output that is
 * renamed over it at the end (disk.c): a failed run leaves no output.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "elf.h"
#include "image.h"

#define CONFIG_FILE_MAX     (1ULL << 20)
#define GUEST_FILE_MAX      (1ULL << 30)
#define EFI_FILE_MAX        (64ULL << 20)

static int parse_args(struct image_job *job, int argc, char **argv)
{
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' },
        { "output", required_argument, NULL, 'o' },
        { "efi", required_argument, NULL, 'e' },
        { "size", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":c:o:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': job->config_path = optarg; break;
        case 'o': job->output = optarg; break;
        case 'e': job->efi_arg = optarg; break;
        case 's':
            if (number_parse(optarg, IMAGE_MIN_MIB, IMAGE_MAX_MIB, &job->size_mib) < 0)
                return usage_error("image", "--size takes MiB from %llu to %llu, not '%s'",
                                   IMAGE_MIN_MIB, IMAGE_MAX_MIB, optarg);
            break;
        case 'h': usage_print("image", stdout); return 0;
        case ':': return usage_error("image", "option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("image", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!job->config_path)
        return usage_error("image", "no config: pass -c mayfly.conf");
    if (!job->output)
        return usage_error("image", "no output: pass -o mayfly.img");
    job->images = argv + optind;
    job->image_count = argc - optind;
    return -1;
}

static int check_config(struct image_job *job)
{
    struct config_error err;
    uint8_t *text;
    size_t size;

    if (file_read(job->config_path, CONFIG_FILE_MAX, &text, &size) < 0)
        return -1;
    job->config_size = size;
    if (config_parse((const char *)text, size, &job->config, &err) < 0) {
        if (err.line)
            error_say("%s line %u: %s", job->config_path, err.line, err.message);
        else
            error_say("%s: %s", job->config_path, err.message);
        free(text);
        return -1;
    }
    free(text);
    return 0;
}

/* Command-line images with the same base name would be ambiguous. */
static int check_image_args(const struct image_job *job)
{
    for (int i = 0; i < job->image_count; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(path_base(job->images[i]), path_base(job->images[j]))) {
                error_say("two images are called %s: %s and %s; the config names images "
                          "by base name, so rename one", path_base(job->images[i]),
                          job->images[j], job->images[i]);
                return -1;
            }
    return 0;
}

/* Where the config's image=NAME comes from: the command line, else next to the config. */
static int find_image(const struct image_job *job, const char *name, char *path, size_t size)
{
    char dir[MFCTL_PATH_MAX];

    for (int i = 0; i < job->image_count; i++)
        if (!strcmp(path_base(job->images[i]), name)) {
            snprintf(path, size, "%s", job->images[i]);
            return 0;
        }
    path_dir(job->config_path, dir, sizeof(dir));
    if (path_join(path, size, dir, name) < 0)
        return -1;
    return file_is_regular(path) ? 0 : -1;
}

/* The payload for the file called name that line g names (what: "image"
 * or "disk"), read once however many lines name it. NULL after a message. */
static struct payload *payload_find(struct image_job *job, const struct config_guest *g,
                                    const char *name, const char *what)
{
    struct payload *p;

    for (uint32_t i = 0; i < job->payload_count; i++) {
        if (!strcmp(job->payloads[i].name, name))
            return &job->payloads[i];
        /* FAT keeps the case of a name but ignores it when looking one up. */
        if (!strcasecmp(job->payloads[i].name, name)) {
            error_say("%s line %u: file names %s and %s differ only in case, which the "
                      "FAT file system does not tell apart: rename one", job->config_path,
                      g->line, job->payloads[i].name, name);
            return NULL;
        }
    }
    if (!strcasecmp(name, "mayfly.conf")) {
        error_say("%s line %u: guest %s: %s %s cannot be called mayfly.conf",
                  job->config_path, g->line, g->name, !strcmp(what, "image") ? "an" : "a",
                  what);
        return NULL;
    }
    if (job->payload_count + 1 >= BOOT_MAX_FILES) {
        error_say("%s line %u: more than %d different images and disks; the loader reads at "
                  "most %d files, the config included", job->config_path, g->line,
                  BOOT_MAX_FILES - 1, BOOT_MAX_FILES);
        return NULL;
    }
    p = &job->payloads[job->payload_count];
    p->name = name;
    if (find_image(job, name, p->path, sizeof(p->path)) < 0) {
        error_say("%s line %u: guest %s: %s %s not found: pass its path on the command "
                  "line or put it next to %s", job->config_path, g->line, g->name, what, name,
                  job->config_path);
        return NULL;
    }
    if (file_read(p->path, GUEST_FILE_MAX, &p->data, &p->size) < 0)
        return NULL;
    job->payload_count++;
    return p;
}

static struct payload *payload_get(struct image_job *job, const struct config_guest *g)
{
    return payload_find(job, g, g->image, "image");
}

/* Every block device's disk: found, read once, and a whole number of its
 * sectors, as the hypervisor requires when the guest starts. */
static int check_disks(struct image_job *job)
{
    const struct config *cfg = &job->config;
    int failed = 0;

    for (uint32_t i = 0; i < config_image_lines(cfg); i++) {
        const struct config_guest *g = config_image_line(cfg, i);
        for (uint32_t k = 0; k < g->device_count; k++) {
            const struct config_device *d = &g->devices[k];
            uint32_t sector = d->sector_size ? d->sector_size : 512;
            struct payload *p;

            if (d->kind != CONFIG_DEVICE_BLOCK)
                continue;
            p = payload_find(job, g, d->target, "disk");
            if (!p) {
                failed = 1;
            } else if (p->size == 0 || p->size % sector) {
                error_say("%s line %u: guest %s: disk %s of block device %s is %zu bytes, not "
                          "a whole number of %u-byte sectors (at least one): pad it, e.g. "
                          "truncate -s %zu %s", job->config_path, g->line, g->name, p->path,
                          d->name, p->size, sector,
                          (p->size / sector + 1) * sector, p->path);
                failed = 1;
            }
        }
    }
    return failed ? -1 : 0;
}

/* The guest-physical memory the hypervisor validates a line's image for. */
static uint64_t guest_mem_limit(const struct config *cfg, const struct config_guest *g)
{
    int class_index = g->class_name[0] ? config_find_class(cfg, g->class_name) : -1;
    uint64_t limit = 0;

    for (uint32_t i = 0; i < cfg->class_count; i++)
        if (class_index < 0 || (int)i == class_index)
            limit = cfg->classes[i].size > limit ? cfg->classes[i].size : limit;
    return limit;
}

/* Every guest and summon line's image, with elf_validate as the
 * hypervisor calls it. */
static int check_guests(struct image_job *job)
{
    const struct config *cfg = &job->config;
    struct elf_image elf;
    char why[ELF_REASON_MAX];
    int failed = 0;

    for (uint32_t i = 0; i < config_image_lines(cfg); i++) {
        const struct config_guest *g = config_image_line(cfg, i);
        struct payload *p = payload_get(job, g);
        if (!p) {
            failed = 1;
            continue;
        }
        if (elf_validate(p->data, p->size, guest_mem_limit(cfg, g), &elf, why,
                         sizeof(why)) < 0) {
            error_say("%s line %u: guest %s: image %s rejected: %s", job->config_path,
                      g->line, g->name, p->path, why);
            failed = 1;
        }
    }
    return failed ? -1 : 0;
}

static void warn_unused_images(const struct image_job *job)
{
    for (int i = 0; i < job->image_count; i++) {
        int used = 0;
        for (uint32_t j = 0; j < job->payload_count; j++)
            used |= !strcmp(job->payloads[j].path, job->images[i]);
        if (!used)
            note_say("warning: %s is not named by %s; left off the image", job->images[i],
                     job->config_path);
    }
}

static int check_efi(struct image_job *job)
{
    char dir[MFCTL_PATH_MAX];
    uint8_t *data;
    size_t size;

    if (job->efi_arg) {
        snprintf(job->efi, sizeof(job->efi), "%s", job->efi_arg);
    } else if (exe_dir(dir, sizeof(dir)) < 0 ||
               path_join(job->efi, sizeof(job->efi), dir, "BOOTX64.EFI") < 0) {
        return -1;
    }
    if (!file_is_regular(job->efi)) {
        error_say("no UEFI application at %s: run 'make' or pass --efi FILE", job->efi);
        return -1;
    }
    if (file_read(job->efi, EFI_FILE_MAX, &data, &size) < 0)
        return -1;
    job->efi_size = size;
    if (size < 64 || data[0] != 'M' || data[1] != 'Z') {
        error_say("%s is not a UEFI application (no PE 'MZ' header): pass build/BOOTX64.EFI",
                  job->efi);
        free(data);
        return -1;
    }
    free(data);
    return 0;
}

static uint64_t round_up(uint64_t v, uint64_t to)
{
    return (v + to - 1) / to * to;
}

/* MiB the image needs: the files rounded up to clusters, FAT and directory
 * overhead, and the 1 MiB before and the alignment and GPT copy after the ESP. */
static uint64_t image_needed_mib(const struct image_job *job)
{
    uint64_t files = round_up(job->efi_size, FAT_CLUSTER_MAX) +
                     round_up(job->config_size, FAT_CLUSTER_MAX);

    for (uint32_t i = 0; i < job->payload_count; i++)
        files += round_up(job->payloads[i].size, FAT_CLUSTER_MAX);
    files += MIB_BYTES + files / 16;
    return round_up(files, MIB_BYTES) / MIB_BYTES + 2;
}

static int choose_size(struct image_job *job)
{
    uint64_t need = image_needed_mib(job);

    if (job->size_mib == 0) {
        job->size_mib = need > IMAGE_DEFAULT_MIB ? need : IMAGE_DEFAULT_MIB;
        if (job->size_mib > IMAGE_MAX_MIB) {
            error_say("the files need a %llu MiB image, more than mfctl makes (%llu MiB)",
                      (unsigned long long)need, IMAGE_MAX_MIB);
            return -1;
        }
    } else if (job->size_mib < need) {
        error_say("--size %llu is too small: the files need at least %llu MiB",
                  job->size_mib, (unsigned long long)need);
        return -1;
    }
    return 0;
}

/* mfctl writes image files; a device gets the image with dd (docs/mfctl.md). */
static int check_output(const char *output)
{
    struct stat st;

    if (strstr(output, "@@")) {
        error_say("output path %s contains '@@', which mtools reads as an offset", output);
        return -1;
    }
    if (stat(output, &st) == 0 && !S_ISREG(st.st_mode)) {
        error_say("%s exists and is not a regular file: mfctl image writes an image file; "
                  "write that to a device with dd (see docs/mfctl.md)", output);
        return -1;
    }
    return 0;
}

static void print_summary(const struct image_job *job)
{
    printf("mfctl: wrote %s: %llu MiB GPT disk, EFI system partition %s at 1 MiB with "
           "EFI/BOOT/BOOTX64.EFI, mayfly/mayfly.conf", job->output, job->size_mib,
           job->size_mib >= IMAGE_DEFAULT_MIB ? "(FAT32)" : "(FAT)");
    for (uint32_t i = 0; i < job->payload_count; i++)
        printf("%s mayfly/%s", i + 1 == job->payload_count ? " and" : ",",
               job->payloads[i].name);
    printf("\n");
}

static int check_all(struct image_job *job)
{
    if (check_output(job->output) < 0 || check_config(job) < 0 || check_image_args(job) < 0)
        return -1;
    if (check_guests(job) < 0 || check_disks(job) < 0)
        return -1;
    warn_unused_images(job);
    if (check_efi(job) < 0 || choose_size(job) < 0)
        return -1;
    return 0;
}

int cmd_image(int argc, char **argv)
{
    static struct image_job job;
    int rc;

    rc = parse_args(&job, argc, argv);
    if (rc >= 0)
        return rc;
    if (check_all(&job) < 0 || disk_write(&job) < 0) {
        error_say("%s not written", job.output);
        return 1;
    }
    print_summary(&job);
    return 0;
}

