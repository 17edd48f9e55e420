/*
 * mfctl run --qemu: QEMU + OVMF boots the image's UEFI entry from a
 * virtio disk. COM1 is QEMU's stdout, read by mfctl; COM2 is a Unix
 * socket server when --control is given; the hypervisor's power-off
 * reaches mfctl through isa-debug-exit (exit code 2s+1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mfctl.h"

static int qemu_result(const struct run_job *job, const struct watch *w)
{
    int rc = run_common_result(w, "QEMU", job->timeout_s), code, status = w->console.power_status;

    if (rc >= 0)
        return rc;
    if (WIFSIGNALED(w->wait_status)) {
        error_say("QEMU was killed by signal %d", WTERMSIG(w->wait_status));
        return EXIT_EMULATOR;
    }
    code = WEXITSTATUS(w->wait_status);
    /* isa-debug-exit turns the status s written to port 0xf4 into 2s+1. */
    if (status >= 0) {
        if (code != 2 * status + 1)
            error_say("warning: QEMU exit code %d, but the console says status %d", code,
                      status);
        return status;
    }
    if (code > 1 && (code & 1)) {
        error_say("warning: no power-off line on the console; QEMU's debug exit says "
                  "status %d", code >> 1);
        return code >> 1;
    }
    if (code == 0)
        error_say("QEMU stopped without a power-off (a triple fault or reset ends it so "
                  "under -no-reboot)");
    else
        error_say("QEMU failed (exit code %d); see its messages above", code);
    return EXIT_EMULATOR;
}

/* QEMU splits option values at commas; a literal comma is written twice. */
static char *qemu_escape(const char *s)
{
    size_t len = strlen(s), n = 0;
    char *out = malloc(2 * len + 1);

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        out[n++] = s[i];
        if (s[i] == ',')
            out[n++] = ',';
    }
    out[n] = '\0';
    return out;
}

/* Whether /proc/cpuinfo lists the vmx flag. */
static int cpu_has_vmx(void)
{
    uint8_t *info;
    size_t size = 0;
    int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC), vmx;

    if (fd < 0)
        return 0;
    info = malloc(1 << 22);
    while (info && size < (1 << 22) - 1) {
        ssize_t n = read(fd, info + size, (1 << 22) - 1 - size);
        if (n <= 0)
            break;
        size += (size_t)n;
    }
    close(fd);
    if (!info)
        return 0;
    info[size] = '\0';
    vmx = strstr((char *)info, " vmx ") != NULL || strstr((char *)info, " vmx\n") != NULL;
    free(info);
    return vmx;
}

/* KVM is used where /dev/kvm opens and the CPU has VT-x. */
static int kvm_usable(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

    if (fd < 0)
        return 0;
    close(fd);
    return cpu_has_vmx();
}

/* The hypervisor is itself a KVM guest: it sees VT-x only with nested on. */
static int kvm_nested(void)
{
    char c = 0;
    int fd = open("/sys/module/kvm_intel/parameters/nested", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    if (read(fd, &c, 1) != 1)
        c = 0;
    close(fd);
    return c == 'Y' || c == '1';
}

static void say_accelerator(int kvm)
{
    if (kvm && kvm_nested())
        note_say("QEMU with KVM and nested VT-x");
    else if (kvm)
        note_say("QEMU with KVM, but kvm_intel has nested=0: the hypervisor will stop with "
                 "'VT-x not available' (status 5); turn nested on to run guests");
    else
        note_say("QEMU with TCG (no KVM with VT-x here): the hypervisor will stop with "
                 "'VT-x not available' (status 5); use --bochs to run guests");
}

/* Where COM2 goes under QEMU: a Unix socket server; a stale socket is replaced. */
static int control_prepare(const char *path)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        error_say("%s exists and is not a socket: choose another --control path", path);
        return -1;
    }
    unlink(path);
    return 0;
}

static int qemu_argv(const struct run_job *job, const char **argv, char **owned)
{
    static char memory[32], bios[MFCTL_PATH_MAX + 16];
    int n = 0, kvm = kvm_usable();

    snprintf(memory, sizeof(memory), "%lluM", job->memory_mib);
    snprintf(bios, sizeof(bios), "%s/ovmf.fd", job->dir);
    owned[0] = qemu_escape(job->image);
    owned[1] = job->control ? qemu_escape(job->control) : NULL;
    owned[2] = malloc(2 * MFCTL_PATH_MAX + 64);
    owned[3] = malloc(2 * MFCTL_PATH_MAX + 64);
    if (!owned[0] || !owned[2] || !owned[3] || (job->control && !owned[1]))
        return -1;
    snprintf(owned[2], 2 * MFCTL_PATH_MAX + 64, "if=none,id=disk,format=raw,snapshot=on,file=%s",
             owned[0]);
    if (job->control)
        snprintf(owned[3], 2 * MFCTL_PATH_MAX + 64,
                 "socket,id=ctl,path=%s,server=on,wait=off", owned[1]);
    say_accelerator(kvm);
    argv[n++] = "qemu-system-x86_64";
    argv[n++] = "-machine";
    argv[n++] = "q35";
    if (kvm) {
        argv[n++] = "-enable-kvm";
        argv[n++] = "-cpu";
        argv[n++] = "host";
    } else {
        argv[n++] = "-cpu";
        argv[n++] = "max";
    }
    argv[n++] = "-m";
    argv[n++] = memory;
    argv[n++] = "-bios";
    argv[n++] = bios;
    argv[n++] = "-drive";
    argv[n++] = owned[2];
    argv[n++] = "-device";
    argv[n++] = "virtio-blk-pci,drive=disk,bootindex=0";
    argv[n++] = "-nodefaults";
    argv[n++] = "-nic";
    argv[n++] = "none";
    argv[n++] = "-display";
    argv[n++] = "none";
    argv[n++] = "-monitor";
    argv[n++] = "none";
    argv[n++] = "-chardev";
    argv[n++] = "stdio,id=com1,signal=off";
    argv[n++] = "-serial";
    argv[n++] = "chardev:com1";
    if (job->control) {
        argv[n++] = "-chardev";
        argv[n++] = owned[3];
        argv[n++] = "-serial";
        argv[n++] = "chardev:ctl";
    }
    argv[n++] = "-no-reboot";
    argv[n++] = "-device";
    argv[n++] = "isa-debug-exit,iobase=0xf4,iosize=0x04";
    argv[n] = NULL;
    return 0;
}

int run_qemu(struct run_job *job)
{
    const char *argv[48];
    char *owned[4] = { NULL, NULL, NULL, NULL };
    char bios[MFCTL_PATH_MAX + 16];
    struct watch w = { .pipe_fd = -1, .log_fd = -1 };
    int fds[2] = { -1, -1 }, rc = EXIT_EMULATOR;
    struct stat st;

    console_init(&w.console);
    snprintf(bios, sizeof(bios), "%s/ovmf.fd", job->dir);
    if (!file_is_regular(job->ovmf)) {
        error_say("no OVMF firmware at %s: install it with 'sudo apt-get install ovmf' or "
                  "pass --ovmf FILE", job->ovmf);
        goto out;
    }
    /* OVMF.fd holds its variable store too: each run gets a private copy. */
    if (file_copy(job->ovmf, bios) < 0 || (job->control && control_prepare(job->control) < 0))
        goto out;
    if (qemu_argv(job, argv, owned) < 0 || pipe2(fds, O_CLOEXEC) < 0) {
        error_say("out of memory");
        goto out;
    }
    w.pid = tool_spawn(argv, fds[1], -1);
    close(fds[1]);
    if (w.pid < 0)
        goto out;
    w.pipe_fd = fds[0];
    fcntl(w.pipe_fd, F_SETFL, O_NONBLOCK);
    run_supervise(&w, job->timeout_s);
    rc = qemu_result(job, &w);
    /* QEMU leaves its socket behind. */
    if (job->control && lstat(job->control, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(job->control);
out:
    if (w.pipe_fd >= 0)
        close(w.pipe_fd);
    for (int i = 0; i < 4; i++)
        free(owned[i]);
    return rc;
}

