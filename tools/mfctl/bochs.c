/*
 * Booting an image's files in Bochs. Bochs has no UEFI, so the files on
 * the image's ESP (mayfly/mayfly.conf and the files it names) are
 * taken out with mcopy and handed to the Multiboot2 build of the
 * hypervisor as GRUB modules named by their file names, the same set the
 * UEFI loader would read. The bochsrc is the one tests/lib/emu.sh uses
 * (docs: EMULATORS.md): headless rfb display, fatal panics, a fixed clock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "mfctl.h"

#define CONFIG_FILE_MAX (1u << 20)
#define BOCHS_BIOS      "/usr/share/bochs/BIOS-bochs-latest"
#define BOCHS_VGABIOS   "/usr/share/vgabios/vgabios.bin"

struct bochs_setup {
    const char *image;              /* GPT image built by mfctl image */
    const char *elf;                /* build/mayfly.elf */
    const char *cpu;                /* Bochs CPU model */
    unsigned memory_mib;
    unsigned cpus;                  /* Bochs' count= */
    unsigned com2_port;             /* 0: no control channel */
    const char *dir;                /* the run's temporary directory */
};

/* The files GRUB loads: mayfly.conf first, then each file it names once
 * (a line's image, then its block devices' disks). */
struct module_list {
    char names[BOOT_MAX_FILES][BOOT_NAME_MAX];
    unsigned count;
};

static int extract_esp(const struct bochs_setup *s)
{
    char img[MFCTL_PATH_MAX + 32], dst[MFCTL_PATH_MAX];
    uint64_t offset, size;
    const char *argv[] = { "mcopy", "-s", "-n", "-i", img, "::/mayfly", dst, NULL };

    if (gpt_find_esp(s->image, &offset, &size) < 0)
        return -1;
    snprintf(img, sizeof(img), "%s@@%llu", s->image, (unsigned long long)offset);
    snprintf(dst, sizeof(dst), "%s/", s->dir);
    if (tool_run(argv) < 0) {
        error_say("cannot read mayfly/ from the EFI system partition of %s", s->image);
        return -1;
    }
    return 0;
}

static void module_add(struct module_list *m, const char *dir, const char *name)
{
    char path[MFCTL_PATH_MAX];

    for (unsigned i = 0; i < m->count; i++)
        if (!strcmp(m->names[i], name))
            return;
    if (m->count == BOOT_MAX_FILES || path_join(path, sizeof(path), dir, name) < 0)
        return;
    if (!file_is_regular(path)) {
        note_say("warning: %s is named by mayfly.conf but not on the image", name);
        return;
    }
    snprintf(m->names[m->count++], BOOT_NAME_MAX, "%s", name);
}

/* A config the parser refuses is still booted: the hypervisor reports it. */
static int list_modules(const char *dir, struct module_list *m)
{
    static struct config cfg;
    struct config_error err;
    char path[MFCTL_PATH_MAX];
    uint8_t *text;
    size_t size;

    m->count = 0;
    if (path_join(path, sizeof(path), dir, "mayfly.conf") < 0)
        return -1;
    if (!file_is_regular(path)) {
        error_say("the image has no mayfly/mayfly.conf on its EFI system partition "
                  "(build it with 'mfctl image')");
        return -1;
    }
    module_add(m, dir, "mayfly.conf");
    if (file_read(path, CONFIG_FILE_MAX, &text, &size) < 0)
        return -1;
    /* The guest lines, then the summon lines (their instances start from
     * the same boot files). */
    if (config_parse((const char *)text, size, &cfg, &err) == 0)
        for (uint32_t i = 0; i < cfg.guest_count + cfg.summon_count; i++) {
            const struct config_guest *g = i < cfg.guest_count ? &cfg.guests[i]
                                           : &cfg.summons[i - cfg.guest_count].guest;
            module_add(m, dir, g->image);
            for (uint32_t k = 0; k < g->device_count; k++)
                if (g->devices[k].kind == CONFIG_DEVICE_BLOCK)
                    module_add(m, dir, g->devices[k].target);
        }
    free(text);
    return 0;
}

static int write_grub_cfg(const char *path, const struct module_list *m)
{
    char text[BOOT_MAX_FILES * (2 * BOOT_NAME_MAX + 32) + 256];
    size_t n = 0;

    n += (size_t)snprintf(text + n, sizeof(text) - n,
                          "set timeout=0\nset default=0\nmenuentry \"mayfly\" {\n"
                          "    multiboot2 /boot/mayfly.elf\n");
    for (unsigned i = 0; i < m->count; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "    module2 /boot/%s %s\n",
                              m->names[i], m->names[i]);
    n += (size_t)snprintf(text + n, sizeof(text) - n, "    boot\n}\n");
    return file_write(path, text, n);
}

/* dir/iso/boot/ gets mayfly.elf, the modules and grub/grub.cfg. */
static int make_iso(const struct bochs_setup *s, const struct module_list *m,
                    const char *files)
{
    char boot[MFCTL_PATH_MAX], iso_dir[MFCTL_PATH_MAX], iso[MFCTL_PATH_MAX];
    char grub[MFCTL_PATH_MAX], src[MFCTL_PATH_MAX], dst[MFCTL_PATH_MAX];
    const char *argv[] = { "grub-mkrescue", "-o", iso, iso_dir,
                           "--install-modules=multiboot2 normal configfile iso9660 biosdisk",
                           "--modules=multiboot2", "--fonts=", "--locales=", "--themes=",
                           NULL };

    if (path_join(iso_dir, sizeof(iso_dir), s->dir, "iso") < 0 ||
        path_join(boot, sizeof(boot), iso_dir, "boot") < 0 ||
        path_join(grub, sizeof(grub), boot, "grub") < 0 ||
        path_join(iso, sizeof(iso), s->dir, "boot.iso") < 0 ||
        path_join(dst, sizeof(dst), boot, "mayfly.elf") < 0)
        return -1;
    if (mkdir(iso_dir, 0700) < 0 || mkdir(boot, 0700) < 0 || mkdir(grub, 0700) < 0) {
        error_say("cannot create %s: %s", grub, strerror(errno));
        return -1;
    }
    if (file_copy(s->elf, dst) < 0)
        return -1;
    for (unsigned i = 0; i < m->count; i++) {
        if (path_join(src, sizeof(src), files, m->names[i]) < 0 ||
            path_join(dst, sizeof(dst), boot, m->names[i]) < 0)
            return -1;
        if (rename(src, dst) < 0) {
            error_say("cannot move %s: %s", src, strerror(errno));
            return -1;
        }
    }
    if (path_join(dst, sizeof(dst), grub, "grub.cfg") < 0 || write_grub_cfg(dst, m) < 0)
        return -1;
    return tool_run(argv);
}

static int write_bochsrc(const struct bochs_setup *s)
{
    char text[4096], com2[96] = "", path[MFCTL_PATH_MAX];
    int n;

    if (s->com2_port)
        snprintf(com2, sizeof(com2), "com2: enabled=1, mode=socket-client, dev=127.0.0.1:%u\n",
                 s->com2_port);
    n = snprintf(text, sizeof(text),
                 "memory: guest=%u, host=%u\n"
                 "cpu: model=%s, count=%u, ips=50000000, reset_on_triple_fault=0\n"
                 "romimage: file=" BOCHS_BIOS ", options=fastboot\n"
                 "vgaromimage: file=" BOCHS_VGABIOS "\n"
                 "ata0-master: type=cdrom, path=%s/boot.iso, status=inserted\n"
                 "boot: cdrom\n"
                 "com1: enabled=1, mode=file, dev=%s/serial.log\n"
                 "%s"
                 "display_library: rfb, options=\"timeout=0\"\n"
                 "log: %s/bochs.log\n"
                 "panic: action=fatal\nerror: action=report\ninfo: action=report\n"
                 "debug: action=ignore\n"
                 "clock: sync=none, time0=1\n"
                 "speaker: enabled=0\nsound: driver=dummy\nmouse: enabled=0\n"
                 "floppy_bootsig_check: disabled=1\n",
                 s->memory_mib, s->memory_mib, s->cpu, s->cpus, s->dir, s->dir, com2, s->dir);
    if (n < 0 || (size_t)n >= sizeof(text)) {
        error_say("bochsrc too long (temporary directory path %s)", s->dir);
        return -1;
    }
    if (path_join(path, sizeof(path), s->dir, "bochsrc") < 0 ||
        file_write(path, text, (size_t)n) < 0)
        return -1;
    /* Debian's Bochs stops at its debugger prompt first: continue, and quit
     * if it ever comes back to the prompt. */
    if (path_join(path, sizeof(path), s->dir, "cmds.rc") < 0)
        return -1;
    return file_write(path, "c\nquit\n", 7);
}

static int bochs_prepare(const struct bochs_setup *s)
{
    static struct module_list modules;
    char files[MFCTL_PATH_MAX];

    if (!file_is_regular(s->elf)) {
        error_say("no Multiboot2 hypervisor at %s: run 'make' or pass --elf FILE", s->elf);
        return -1;
    }
    if (path_join(files, sizeof(files), s->dir, "mayfly") < 0 || extract_esp(s) < 0 ||
        list_modules(files, &modules) < 0)
        return -1;
    if (make_iso(s, &modules, files) < 0)
        return -1;
    return write_bochsrc(s);
}

/* Bochs's routine lines look like "00000000000i[CPU0  ] ...". */
static int bochs_info_line(const char *line, size_t len)
{
    const char *mark = memmem(line, len, "i[", 2);
    return mark && mark - line <= 12;
}

/* The last few lines Bochs wrote, without its routine info lines. */
static void bochs_explain(const char *dir)
{
    static const char *const files[] = { "bochs.out", "bochs.log" };
    enum { SHOWN = 8 };

    for (size_t f = 0; f < 2; f++) {
        const char *lines[SHOWN];
        size_t lens[SHOWN], count = 0;
        char path[MFCTL_PATH_MAX];
        uint8_t *text;
        size_t size;

        if (path_join(path, sizeof(path), dir, files[f]) < 0 || !file_is_regular(path) ||
            file_read(path, 64u << 20, &text, &size) < 0)
            continue;
        for (const char *line = (const char *)text; *line;) {
            const char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            if (len && !bochs_info_line(line, len)) {
                lines[count % SHOWN] = line;
                lens[count % SHOWN] = len;
                count++;
            }
            line += len + (nl ? 1 : 0);
        }
        if (count)
            fprintf(stderr, "mfctl: Bochs's %s ends with:\n", files[f]);
        for (size_t i = count > SHOWN ? count - SHOWN : 0; i < count; i++)
            fprintf(stderr, "mfctl:   | %.*s\n", (int)lens[i % SHOWN], lines[i % SHOWN]);
        free(text);
    }
}

static int bochs_result(const struct run_job *job, const struct watch *w)
{
    int rc = run_common_result(w, "Bochs", job->timeout_s);

    if (rc >= 0)
        return rc;
    /* Bochs exits 1 on every power-off: the console's last line has the status. */
    if (w->console.power_status >= 0)
        return w->console.power_status;
    error_say("Bochs stopped without a power-off (exit %d)",
              WIFEXITED(w->wait_status) ? WEXITSTATUS(w->wait_status) : -1);
    bochs_explain(job->dir);
    return EXIT_EMULATOR;
}

static int bochs_start(struct run_job *job, struct watch *w, struct bridge *bridge)
{
    struct bochs_setup setup = {
        .image = job->image, .cpu = job->cpu, .memory_mib = (unsigned)job->memory_mib,
        .cpus = (unsigned)job->cpus, .dir = job->dir,
    };
    char elf[MFCTL_PATH_MAX], rc_file[MFCTL_PATH_MAX], rc_path[MFCTL_PATH_MAX];
    char out[MFCTL_PATH_MAX];
    const char *argv[] = { "bochs", "-q", "-f", rc_file, "-rc", rc_path, NULL };
    int out_fd;

    if (job->elf_arg)
        snprintf(elf, sizeof(elf), "%s", job->elf_arg);
    else if (exe_dir(out, sizeof(out)) < 0 || path_join(elf, sizeof(elf), out, "mayfly.elf") < 0)
        return -1;
    setup.elf = elf;
    if (job->control && bridge_open(bridge, job->control, &setup.com2_port) < 0)
        return -1;
    if (job->control)
        w->bridge = bridge;
    if (bochs_prepare(&setup) < 0)
        return -1;
    if (path_join(rc_file, sizeof(rc_file), job->dir, "bochsrc") < 0 ||
        path_join(rc_path, sizeof(rc_path), job->dir, "cmds.rc") < 0 ||
        path_join(out, sizeof(out), job->dir, "bochs.out") < 0 ||
        path_join(w->log_path, sizeof(w->log_path), job->dir, "serial.log") < 0)
        return -1;
    out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out_fd < 0) {
        error_say("cannot create %s: %s", out, strerror(errno));
        return -1;
    }
    note_say("Bochs (%s, %llu CPU%s, %llu MiB) booting %s through GRUB", job->cpu, job->cpus,
             job->cpus == 1 ? "" : "s", job->memory_mib, elf);
    w->pid = tool_spawn(argv, out_fd, out_fd);
    close(out_fd);
    return w->pid < 0 ? -1 : 0;
}

/* Bochs, its ROMs and what builds the GRUB ISO. */
static int bochs_installed(void)
{
    static const char *const tools[] = { "bochs", "grub-mkrescue", "mcopy", "xorriso" };
    static const struct {
        const char *path, *package;
    } roms[] = {
        { BOCHS_BIOS, "bochsbios" },
        { BOCHS_VGABIOS, "vgabios" },
        { "/usr/lib/grub/i386-pc/multiboot2.mod", "grub-pc-bin" },
    };

    for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
        if (!tool_exists(tools[i])) {
            tool_missing(tools[i]);
            return 0;
        }
    for (size_t i = 0; i < sizeof(roms) / sizeof(roms[0]); i++)
        if (!file_is_regular(roms[i].path)) {
            error_say("%s is missing: install it with 'sudo apt-get install %s'", roms[i].path,
                      roms[i].package);
            return 0;
        }
    return 1;
}

int run_bochs(struct run_job *job)
{
    struct bridge bridge = { .tcp_listen = -1, .tcp = -1, .unix_listen = -1, .client = -1 };
    struct watch w = { .pipe_fd = -1, .log_fd = -1 };
    int rc = EXIT_EMULATOR;

    console_init(&w.console);
    if (!bochs_installed())
        return EXIT_EMULATOR;
    if (bochs_start(job, &w, &bridge) == 0) {
        run_supervise(&w, job->timeout_s);
        rc = bochs_result(job, &w);
    }
    if (w.log_fd >= 0)
        close(w.log_fd);
    bridge_close(&bridge);
    return rc;
}

