/*
 * mfctl, Mayfly's host control tool: shared declarations. Every
 * subcommand is one `cmd_<name>(argc, argv)` returning the process exit
 * status; argv[0] is the subcommand's name.
 *
 * Exit statuses, over all subcommands:
 *   0        success (for `run`: the hypervisor powered off with status 0)
 *   1        `image` refused its input or a tool it runs failed; for the
 *            live commands (load, start, stop, ps, stats, logs, raw) the
 *            hypervisor refused a request (its message is printed)
 *   2        usage error (unknown subcommand or option, missing argument);
 *            for `run` also the hypervisor's own status 2 (panic)
 *   3        live commands: no connection, no reply in time, or a reply
 *            that breaks the protocol (session.h)
 *   1..9     for `run`: the hypervisor's power-off status (hv/hv.h)
 *   124      for `run`: --timeout expired and the emulator was stopped
 *   125      for `run`: the emulator could not start or ended without a
 *            power-off (triple fault, firmware shell, crash)
 *   130      interrupted (SIGINT, SIGTERM, SIGHUP)
 */
#ifndef MFCTL_H
#define MFCTL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define EXIT_USAGE      2
#define EXIT_TIMEOUT    124
#define EXIT_EMULATOR   125
#define EXIT_SIGNAL     130

#define MFCTL_PATH_MAX  4096

/* Subcommands (main.c holds the table). */
int cmd_image(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* Prints the usage of one subcommand (or the overview for NULL) to f. */
void usage_print(const char *command, FILE *f);
/* Usage on stderr after an error; returns EXIT_USAGE. */
int usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* util.c: messages, paths, files. */
void error_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *path_base(const char *path);
/* dst = the directory part of path ("." when it has none). */
void path_dir(const char *path, char *dst, size_t size);
/* dst = dir + "/" + name; -1 (and a message) if it does not fit. */
int path_join(char *dst, size_t size, const char *dir, const char *name);
/* The directory mfctl's own binary is in (for build/BOOTX64.EFI etc.). */
int exe_dir(char *dst, size_t size);
/* Reads a whole regular file of at most max bytes into malloc'ed memory. */
int file_read(const char *path, size_t max, uint8_t **data, size_t *size);
int file_write(const char *path, const void *data, size_t size);
int file_copy(const char *src, const char *dst);
int file_is_regular(const char *path);
/* Parses a decimal number in [min, max]; -1 if malformed or out of range. */
int number_parse(const char *s, unsigned long long min, unsigned long long max,
                 unsigned long long *out);
/* A fresh private directory under $TMPDIR (or /tmp); removed with temp_dir_remove. */
int temp_dir_create(char *dst, size_t size);
void temp_dir_remove(const char *dir);

/* proc.c: running well-kept tools with fork/exec, never through a shell. */
/*
 * Runs argv to completion with its output captured. Returns 0 when it
 * exited 0; otherwise prints what failed, the command and the tool's
 * output, and returns -1.
 */
int tool_run(const char *const argv[]);
/*
 * Starts argv in a process group of its own with stdin from /dev/null,
 * stdout to out_fd and stderr to err_fd (-1: inherit). Returns the pid,
 * or -1 with a message (a missing tool names the package to install).
 */
pid_t tool_spawn(const char *const argv[], int out_fd, int err_fd);
/* Whether a program is found on $PATH (or in /usr/sbin, /sbin). */
int tool_exists(const char *name);
/* Prints a message naming the Debian package that provides tool. */
void tool_missing(const char *name);
/* Stops a process group started by tool_spawn: SIGTERM, then SIGKILL. */
void tool_stop(pid_t pid);

/* gpt.c: where the EFI system partition of a disk image starts. */
/*
 * Finds the EFI system partition in a GPT disk image, or accepts a bare
 * FAT file system (offset 0). Returns 0 with *offset and *size in bytes,
 * or -1 with a message.
 */
int gpt_find_esp(const char *image, uint64_t *offset, uint64_t *size);

/* console.c: the serial console relayed to stdout. */
struct console {
    char line[512];                 /* the current line, for matching */
    size_t line_len;
    int cr_pending;                 /* a '\r' not yet known to precede '\n' */
    int escape;                     /* inside an ANSI escape: 1 after ESC, 2 in CSI */
    int power_status;               /* last "power off (status N)", -1 if none */
    int saw_shell;                  /* OVMF fell into its shell */
};
void console_init(struct console *c);
/* Writes len bytes to stdout (CR LF becomes LF) and watches for markers. */
void console_feed(struct console *c, const char *buf, size_t len);
/* Writes a pending '\r' and flushes. */
void console_finish(struct console *c);

/* bridge.c: COM2 of Bochs (a TCP socket client) as a Unix socket server. */
struct bridge {
    int tcp_listen, tcp;            /* Bochs connects here */
    int unix_listen, client;        /* control clients connect here */
    char path[108];
};
/* Listens on 127.0.0.1 (port chosen by the kernel) and on the Unix socket path. */
int bridge_open(struct bridge *b, const char *path, unsigned *tcp_port);
/* pollfd entries the bridge wants; returns how many it filled (at most 4). */
int bridge_poll_fds(const struct bridge *b, struct pollfd *fds);
/* Handles whatever poll() reported on the entries bridge_poll_fds filled. */
void bridge_service(struct bridge *b, const struct pollfd *fds, int count);
void bridge_close(struct bridge *b);

/* run.c: what `mfctl run` was asked for and how the run went. */
struct run_job {
    const char *image, *control, *elf_arg, *cpu, *ovmf;
    const char *cpus_arg;               /* --cpus as given: its range depends on the emulator */
    int bochs, qemu_only, bochs_only;   /* options given that belong to one emulator */
    unsigned long long timeout_s, memory_mib, cpus;
    char dir[MFCTL_PATH_MAX];           /* the run's temporary directory */
};

/* What the supervising loop watches and how the run ended. */
struct watch {
    pid_t pid;
    int pipe_fd;                    /* QEMU: its stdout (the console); else -1 */
    char log_path[MFCTL_PATH_MAX];  /* Bochs: the console's log file; else "" */
    int log_fd;
    struct bridge *bridge;          /* Bochs: the control channel, or NULL */
    struct console console;
    int wait_status, exited, timed_out, interrupted;
};
/* Runs until the emulator ends, the deadline passes (timeout_s, 0: none),
 * a signal comes or OVMF falls into its shell; stops the emulator in the
 * last three cases, then copies the rest of the console. */
void run_supervise(struct watch *w, unsigned long long timeout_s);
/* The endings every emulator shares (signal, timeout, UEFI shell) as an
 * exit status, or -1 when the run ended on its own. */
int run_common_result(const struct watch *w, const char *emulator, unsigned long long secs);

/* qemu.c and bochs.c: one run each; return mfctl's exit status. */
int run_qemu(struct run_job *job);
int run_bochs(struct run_job *job);

#endif
