/*
 * mfctl run: boots a disk image in QEMU + OVMF (the UEFI entry) or in
 * Bochs (the Multiboot2 entry through GRUB), relays the serial console to
 * stdout and turns the way the run ended into mfctl's exit status: the
 * hypervisor's power-off status, 124 on --timeout, 125 when the emulator
 * failed or stopped without a power-off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mfctl.h"

#define OVMF_DEFAULT    "/usr/share/ovmf/OVMF.fd"
#define CPU_DEFAULT     "tigerlake"
#define MEMORY_DEFAULT  512ULL
#define CPUS_BOCHS_MAX  14      /* Bochs 2.7 panics at 15 ("too many registered timers") */
#define CPUS_QEMU_MAX   64
#define TICK_MS         100

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void install_signals(void)
{
    struct sigaction sa = { .sa_handler = on_signal };

    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int parse_number(const char *opt, const char *arg, unsigned long long min,
                        unsigned long long max, unsigned long long *out)
{
    if (number_parse(arg, min, max, out) == 0)
        return 0;
    return usage_error("run", "%s takes a number from %llu to %llu, not '%s'", opt, min, max,
                       arg);
}

/* Returns -1 to go on, or the exit status (help, usage errors). */
static int parse_option(struct run_job *job, int opt, char **argv)
{
    switch (opt) {
    case 'q': job->bochs = 0; break;
    case 'b': job->bochs = 1; break;
    case 'c': job->control = optarg; break;
    case 't':
        if (parse_number("--timeout", optarg, 1, 86400ULL * 365, &job->timeout_s) != 0)
            return EXIT_USAGE;
        break;
    case 'm':
        if (parse_number("--memory", optarg, 32, 262144, &job->memory_mib) != 0)
            return EXIT_USAGE;
        break;
    case 'n': job->cpus_arg = optarg; break;
    case 'e': job->elf_arg = optarg; job->bochs_only = 1; break;
    case 'p': job->cpu = optarg; job->bochs_only = 1; break;
    case 'o': job->ovmf = optarg; job->qemu_only = 1; break;
    case 'h': usage_print("run", stdout); return 0;
    case ':': return usage_error("run", "option '%s' needs a value", argv[optind - 1]);
    default: return usage_error("run", "unknown option '%s'", argv[optind - 1]);
    }
    return -1;
}

/* --cpus, checked once the emulator is known (options come in any order):
 * 1 to 14 for Bochs, 1 to 64 for QEMU. Returns -1 to go on, or EXIT_USAGE. */
static int parse_cpus(struct run_job *job)
{
    unsigned long long max = job->bochs ? CPUS_BOCHS_MAX : CPUS_QEMU_MAX;

    job->cpus = 1;
    if (!job->cpus_arg || number_parse(job->cpus_arg, 1, max, &job->cpus) == 0)
        return -1;
    if (job->bochs)
        return usage_error("run", "--cpus takes a number from 1 to %llu with --bochs "
                           "(Bochs 2.7 panics at 15 or more), not '%s'", max, job->cpus_arg);
    return usage_error("run", "--cpus takes a number from 1 to %llu with --qemu, not '%s'", max,
                       job->cpus_arg);
}

/* Returns -1 to go on, or the exit status (help, usage errors). */
static int parse_args(struct run_job *job, int argc, char **argv)
{
    static const struct option options[] = {
        { "qemu", no_argument, NULL, 'q' },
        { "bochs", no_argument, NULL, 'b' },
        { "control", required_argument, NULL, 'c' },
        { "timeout", required_argument, NULL, 't' },
        { "memory", required_argument, NULL, 'm' },
        { "cpus", required_argument, NULL, 'n' },
        { "elf", required_argument, NULL, 'e' },
        { "cpu", required_argument, NULL, 'p' },
        { "ovmf", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt, rc;

    job->memory_mib = MEMORY_DEFAULT;
    job->cpu = CPU_DEFAULT;
    job->ovmf = OVMF_DEFAULT;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1)
        if ((rc = parse_option(job, opt, argv)) >= 0)
            return rc;
    if (optind >= argc)
        return usage_error("run", "no image given: mfctl run mayfly.img");
    if (optind + 1 < argc)
        return usage_error("run", "one image at a time, not '%s' too", argv[optind + 1]);
    job->image = argv[optind];
    if (job->bochs && job->qemu_only)
        return usage_error("run", "--ovmf is for --qemu");
    if (!job->bochs && job->bochs_only)
        return usage_error("run", "--elf and --cpu are for --bochs");
    return parse_cpus(job);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copies what the pipe or the log file has now to the console. */
static void pump(struct watch *w, int *fd)
{
    char buf[8192];
    ssize_t n;

    while (*fd >= 0) {
        n = read(*fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0) {
            console_feed(&w->console, buf, (size_t)n);
            continue;
        }
        if (n == 0 && fd == &w->pipe_fd) {   /* the pipe's writer is gone */
            close(*fd);
            *fd = -1;
        }
        return;     /* EAGAIN, or the end of the log file for now */
    }
}

static void follow_log(struct watch *w)
{
    if (w->log_fd < 0 && w->log_path[0])
        w->log_fd = open(w->log_path, O_RDONLY | O_CLOEXEC);
    pump(w, &w->log_fd);
}

static void poll_once(struct watch *w)
{
    struct pollfd fds[8];
    int n = 0, ready;

    if (w->pipe_fd >= 0) {
        fds[n].fd = w->pipe_fd;
        fds[n].events = POLLIN;
        fds[n++].revents = 0;
    }
    int bridge_first = n;
    if (w->bridge)
        n += bridge_poll_fds(w->bridge, fds + n);
    ready = poll(fds, (nfds_t)n, TICK_MS);
    if (ready <= 0)
        return;
    if (w->pipe_fd >= 0 && fds[0].revents)
        pump(w, &w->pipe_fd);
    if (w->bridge)
        bridge_service(w->bridge, fds + bridge_first, n - bridge_first);
}

void run_supervise(struct watch *w, unsigned long long timeout_s)
{
    long long deadline = timeout_s ? now_ms() + (long long)timeout_s * 1000 : 0;

    for (;;) {
        poll_once(w);
        follow_log(w);
        if (waitpid(w->pid, &w->wait_status, WNOHANG) == w->pid) {
            w->exited = 1;
            break;
        }
        if (stop_signal)
            w->interrupted = 1;
        else if (deadline && now_ms() >= deadline)
            w->timed_out = 1;
        else if (!w->console.saw_shell)
            continue;
        tool_stop(w->pid);
        break;
    }
    pump(w, &w->pipe_fd);
    follow_log(w);
    console_finish(&w->console);
}

int run_common_result(const struct watch *w, const char *emulator, unsigned long long secs)
{
    if (w->interrupted) {
        error_say("interrupted; %s stopped", emulator);
        return EXIT_SIGNAL;
    }
    if (w->timed_out) {
        error_say("timed out after %llu s (--timeout); %s stopped", secs, emulator);
        return EXIT_TIMEOUT;
    }
    if (w->console.saw_shell) {
        error_say("OVMF fell into its UEFI shell: the image has no bootable "
                  "EFI/BOOT/BOOTX64.EFI, or it returned; %s stopped", emulator);
        return EXIT_EMULATOR;
    }
    return -1;
}

int cmd_run(int argc, char **argv)
{
    static struct run_job job;
    int rc = parse_args(&job, argc, argv);

    if (rc >= 0)
        return rc;
    if (!file_is_regular(job.image)) {
        error_say("no disk image at %s: build one with 'mfctl image'", job.image);
        return EXIT_EMULATOR;
    }
    if (!job.bochs && !tool_exists("qemu-system-x86_64")) {
        tool_missing("qemu-system-x86_64");
        return EXIT_EMULATOR;
    }
    install_signals();
    if (temp_dir_create(job.dir, sizeof(job.dir)) < 0)
        return EXIT_EMULATOR;
    rc = job.bochs ? run_bochs(&job) : run_qemu(&job);
    temp_dir_remove(job.dir);
    /* A Ctrl-C while a tool prepared the run also reaches that tool. */
    return stop_signal && rc == EXIT_EMULATOR ? EXIT_SIGNAL : rc;
}

