/*
 * Running other programs: fork and exec with an argument vector, never a
 * shell string, so no file name is ever reinterpreted. A failed exec is
 * reported back through a close-on-exec pipe, which lets the parent tell
 * "not installed" from "failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mfctl.h"

#define OUTPUT_MAX 16384            /* tool output kept for an error message */

/* The Debian packages behind the tools mfctl runs (tools/install-deps.sh). */
static const struct {
    const char *tool, *package;
} packages[] = {
    { "sgdisk", "gdisk" },
    { "mformat", "mtools" },
    { "mmd", "mtools" },
    { "mcopy", "mtools" },
    { "qemu-system-x86_64", "qemu-system-x86 ovmf" },
    { "bochs", "bochs bochsbios vgabios" },
    { "grub-mkrescue", "grub-pc-bin grub-common xorriso mtools" },
    { "xorriso", "xorriso" },
};

void tool_missing(const char *name)
{
    const char *package = NULL;

    for (size_t i = 0; i < sizeof(packages) / sizeof(packages[0]); i++)
        if (!strcmp(packages[i].tool, name))
            package = packages[i].package;
    if (package)
        error_say("%s is not installed: install it with 'sudo apt-get install %s' "
                  "(or run tools/install-deps.sh)", name, package);
    else
        error_say("%s is not installed or not on $PATH", name);
}

/* Tools such as sgdisk live in /usr/sbin, which a user's $PATH often lacks. */
static int sbin_path(const char *name, char *dst, size_t size)
{
    static const char *const dirs[] = { "/usr/sbin", "/sbin" };

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        int n = snprintf(dst, size, "%s/%s", dirs[i], name);
        if (n > 0 && (size_t)n < size && access(dst, X_OK) == 0)
            return 0;
    }
    return -1;
}

int tool_exists(const char *name)
{
    const char *path = getenv("PATH");
    char buf[MFCTL_PATH_MAX];

    if (strchr(name, '/'))
        return access(name, X_OK) == 0;
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        int m = snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? path : ".", name);
        if (m > 0 && (size_t)m < sizeof(buf) && access(buf, X_OK) == 0)
            return 1;
        path = end ? end + 1 : NULL;
    }
    return sbin_path(name, buf, sizeof(buf)) == 0;
}

/* In the child: exec argv or report errno on report_fd and exit. */
static void child_exec(const char *const argv[], int report_fd)
{
    char alt[MFCTL_PATH_MAX];
    int err;

    execvp(argv[0], (char *const *)argv);
    err = errno;
    if (err == ENOENT && !strchr(argv[0], '/') && sbin_path(argv[0], alt, sizeof(alt)) == 0) {
        execv(alt, (char *const *)argv);
        err = errno;
    }
    if (write(report_fd, &err, sizeof(err)) < 0)
        _exit(127);
    _exit(127);
}

static void child_redirect(int in_fd, int out_fd, int err_fd)
{
    if (in_fd >= 0)
        dup2(in_fd, 0);
    if (out_fd >= 0)
        dup2(out_fd, 1);
    if (err_fd >= 0)
        dup2(err_fd, 2);
}

/* Forks and execs; returns the pid, or -1 after a message. */
static pid_t spawn(const char *const argv[], int out_fd, int err_fd, int own_group)
{
    int report[2], err = 0, null_fd;
    pid_t pid;
    ssize_t n;

    if (pipe2(report, O_CLOEXEC) < 0) {
        error_say("pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        error_say("fork: %s", strerror(errno));
        close(report[0]);
        close(report[1]);
        return -1;
    }
    if (pid == 0) {
        if (own_group)
            setpgid(0, 0);
        signal(SIGPIPE, SIG_DFL);
        null_fd = open("/dev/null", O_RDONLY);
        child_redirect(null_fd, out_fd, err_fd);
        child_exec(argv, report[1]);
    }
    if (own_group)
        setpgid(pid, pid);
    close(report[1]);
    do {
        n = read(report[0], &err, sizeof(err));
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof(err)) {
        waitpid(pid, NULL, 0);
        if (err == ENOENT)
            tool_missing(argv[0]);
        else
            error_say("cannot run %s: %s", argv[0], strerror(err));
        return -1;
    }
    return pid;
}

pid_t tool_spawn(const char *const argv[], int out_fd, int err_fd)
{
    return spawn(argv, out_fd, err_fd, 1);
}

static void print_command(const char *const argv[])
{
    fputs("mfctl:   command:", stderr);
    for (size_t i = 0; argv[i]; i++)
        fprintf(stderr, " %s", argv[i]);
    fputc('\n', stderr);
}

/* Prints the tool's output, indented, below the error. */
static void print_output(const char *out, size_t len)
{
    const char *p = out, *end = out + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        fprintf(stderr, "mfctl:   | %.*s\n", (int)n, p);
        p += n + 1;
    }
}

int tool_run(const char *const argv[])
{
    char *out = malloc(OUTPUT_MAX);
    size_t len = 0;
    int fds[2], status;
    pid_t pid;

    if (!out || pipe2(fds, O_CLOEXEC) < 0) {
        error_say("cannot run %s: out of resources", argv[0]);
        free(out);
        return -1;
    }
    pid = spawn(argv, fds[1], fds[1], 0);
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        free(out);
        return -1;
    }
    for (;;) {
        char buf[4096];
        ssize_t n = read(fds[0], buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t keep = (size_t)n < OUTPUT_MAX - len ? (size_t)n : OUTPUT_MAX - len;
        memcpy(out + len, buf, keep);
        len += keep;
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        free(out);
        return 0;
    }
    if (WIFEXITED(status))
        error_say("%s failed (exit status %d)", argv[0], WEXITSTATUS(status));
    else
        error_say("%s was killed by signal %d", argv[0], WTERMSIG(status));
    print_command(argv);
    print_output(out, len);
    free(out);
    return -1;
}

/* Waits up to ms for pid to end; 1 if it did (and was reaped). */
static int wait_for(pid_t pid, int ms)
{
    struct timespec tick = { 0, 50 * 1000 * 1000 };

    for (int waited = 0; waited <= ms; waited += 50) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return 1;
        nanosleep(&tick, NULL);
    }
    return 0;
}

void tool_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(-pid, SIGTERM);
    if (wait_for(pid, 3000))
        return;
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
}
