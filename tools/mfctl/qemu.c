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

/* QEMU splits option values at commas; a literal comma is written twice.
 * Returns -1 if the result does not fit. */
static int qemu_escape(char *dst, size_t size, const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        if (n + 3 > size)
            return -1;
        dst[n++] = *s;
        if (*s == ',')
            dst[n++] = ',';
    }
    dst[n] = '\0';
    return 0;
}

/* Whether /proc/cpuinfo lists the vmx flag. */
static int cpu_has_vmx(void)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    char line[8192];
    int vmx = 0;

    while (f && !vmx && fgets(line, sizeof(line), f))
        vmx = !strncmp(line, "flags", 5) && (strstr(line, " vmx ") || strstr(line, " vmx\n"));
    if (f)
        fclose(f);
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
        note_say("QEMU with TCG (no KVM with VT-x here): the hypervisor runs guests with "
                 "AMD-V on QEMU's emulated CPU (-cpu max)");
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

/* A QEMU command line and the strings it points into. */
struct qemu_cmd {
    const char *argv[48];
    char memory[32];
    char cpus[24];
    char bios[MFCTL_PATH_MAX];
    char drive[2 * MFCTL_PATH_MAX + 64];
    char chardev[2 * MFCTL_PATH_MAX + 64];
};

static int qemu_cmd_build(struct qemu_cmd *q, const struct run_job *job)
{
    char escaped[2 * MFCTL_PATH_MAX];
    const char **argv = q->argv;
    int n = 0, kvm = kvm_usable();

    snprintf(q->memory, sizeof(q->memory), "%lluM", job->memory_mib);
    snprintf(q->cpus, sizeof(q->cpus), "%llu", job->cpus);
    if (path_join(q->bios, sizeof(q->bios), job->dir, "ovmf.fd") < 0)
        return -1;
    if (qemu_escape(escaped, sizeof(escaped), job->image) < 0)
        return -1;
    snprintf(q->drive, sizeof(q->drive), "if=none,id=disk,format=raw,snapshot=on,file=%s",
             escaped);
    if (job->control) {
        if (qemu_escape(escaped, sizeof(escaped), job->control) < 0)
            return -1;
        snprintf(q->chardev, sizeof(q->chardev), "socket,id=ctl,path=%s,server=on,wait=off",
                 escaped);
    }
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
    argv[n++] = q->memory;
    argv[n++] = "-smp";
    argv[n++] = q->cpus;
    argv[n++] = "-bios";
    argv[n++] = q->bios;
    argv[n++] = "-drive";
    argv[n++] = q->drive;
    argv[n++] = "-device";
    argv[n++] = "virtio-blk-pci,drive=disk,bootindex=0";
    argv[n++] = "-nodefaults";
    argv[n++] = "-nic";
    argv[n++] = "none";
    argv[n++] = "-display";
    argv[n++] = "none";
    argv[n++] = "-monitor";
    argv[n++] = "none";
    /* COM1 first, then COM2: the order of -serial is the order of the ports. */
    argv[n++] = "-chardev";
    argv[n++] = "stdio,id=com1,signal=off";
    argv[n++] = "-serial";
    argv[n++] = "chardev:com1";
    if (job->control) {
        argv[n++] = "-chardev";
        argv[n++] = q->chardev;
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
    static struct qemu_cmd cmd;
    struct watch w = { .pipe_fd = -1, .log_fd = -1 };
    int fds[2] = { -1, -1 };
    struct stat st;

    console_init(&w.console);
    if (!file_is_regular(job->ovmf)) {
        error_say("no OVMF firmware at %s: install it with 'sudo apt-get install ovmf' or "
                  "pass --ovmf FILE", job->ovmf);
        return EXIT_EMULATOR;
    }
    if (qemu_cmd_build(&cmd, job) < 0) {
        error_say("path too long: %s", job->control ? job->control : job->image);
        return EXIT_EMULATOR;
    }
    /* OVMF.fd holds its variable store too: each run gets a private copy. */
    if (file_copy(job->ovmf, cmd.bios) < 0 || (job->control && control_prepare(job->control) < 0))
        return EXIT_EMULATOR;
    if (pipe2(fds, O_CLOEXEC) < 0) {
        error_say("pipe: %s", strerror(errno));
        return EXIT_EMULATOR;
    }
    w.pid = tool_spawn(cmd.argv, fds[1], -1);
    close(fds[1]);
    if (w.pid < 0) {
        close(fds[0]);
        return EXIT_EMULATOR;
    }
    w.pipe_fd = fds[0];
    fcntl(w.pipe_fd, F_SETFL, O_NONBLOCK);
    run_supervise(&w, job->timeout_s);
    if (w.pipe_fd >= 0)
        close(w.pipe_fd);
    /* QEMU leaves its socket behind. */
    if (job->control && lstat(job->control, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(job->control);
    return qemu_result(job, &w);
}
