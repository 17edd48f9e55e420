/* Messages, paths, files and temporary directories for mfctl. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mfctl.h"

static void say(const char *fmt, va_list ap)
{
    fflush(stdout);
    fputs("mfctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void error_say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
}

/* Progress notes go to stderr too, so that stdout stays the console. */
void note_say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
}

const char *path_base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void path_dir(const char *path, char *dst, size_t size)
{
    const char *slash = strrchr(path, '/');
    size_t n;

    if (!slash) {
        snprintf(dst, size, ".");
        return;
    }
    n = slash == path ? 1 : (size_t)(slash - path);
    snprintf(dst, size, "%.*s", (int)n, path);
}

int path_join(char *dst, size_t size, const char *dir, const char *name)
{
    int n = snprintf(dst, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size) {
        error_say("path too long: %s/%s", dir, name);
        return -1;
    }
    return 0;
}

int exe_dir(char *dst, size_t size)
{
    char self[MFCTL_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n <= 0) {
        error_say("cannot read /proc/self/exe (%s): pass the file's path explicitly",
                  strerror(errno));
        return -1;
    }
    self[n] = '\0';
    path_dir(self, dst, size);
    return 0;
}

int file_is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int file_read(const char *path, size_t max, uint8_t **data, size_t *size)
{
    struct stat st;
    uint8_t *buf;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        error_say("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        error_say("%s is not a regular file", path);
        close(fd);
        return -1;
    }
    if ((unsigned long long)st.st_size > max) {
        error_say("%s is too large (%lld bytes, at most %zu)", path, (long long)st.st_size, max);
        close(fd);
        return -1;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        error_say("out of memory reading %s", path);
        close(fd);
        return -1;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            error_say("cannot read %s: %s", path, n < 0 ? strerror(errno) : "file shrank");
            free(buf);
            close(fd);
            return -1;
        }
        got += (size_t)n;
    }
    close(fd);
    buf[got] = 0;
    *data = buf;
    *size = got;
    return 0;
}

static int write_all(int fd, const void *data, size_t size)
{
    const uint8_t *p = data;

    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

int file_write(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0 || write_all(fd, data, size) < 0) {
        error_say("cannot write %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (close(fd) < 0) {
        error_say("cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int file_copy(const char *src, const char *dst)
{
    uint8_t *data;
    size_t size;
    int rc;

    if (file_read(src, (size_t)1 << 30, &data, &size) < 0)
        return -1;
    rc = file_write(dst, data, size);
    free(data);
    return rc;
}

int number_parse(const char *s, unsigned long long min, unsigned long long max,
                 unsigned long long *out)
{
    unsigned long long v;
    char *end;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* An absolute path: emulator config files name files inside it. */
int temp_dir_create(char *dst, size_t size)
{
    const char *env = getenv("TMPDIR");
    char base[PATH_MAX];
    int n;

    if (!env || !*env || !realpath(env, base))
        snprintf(base, sizeof(base), "/tmp");
    n = snprintf(dst, size, "%s/mfctl.XXXXXX", base);
    if (n < 0 || (size_t)n >= size || !mkdtemp(dst)) {
        error_say("cannot create a temporary directory under %s: %s", base, strerror(errno));
        return -1;
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

void temp_dir_remove(const char *dir)
{
    if (dir && *dir)
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
