/*
 * The live commands: load, start, stop, ps, stats and logs drive a running
 * hypervisor over its control channel (session.c), one request at a time.
 * Results go to stdout (a table, or JSON with --json), progress and errors
 * to stderr. Exit status: 0 done, 1 a request was refused (the
 * hypervisor's message is printed), 2 usage, 3 connection, timeout or
 * protocol trouble.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "crc32.h"
#include "elf.h"
#include "mayfly/abi.h"
#include "session.h"

#define GUEST_FILE_MAX      (1ULL << 30)
#define ELF_CHECK_LIMIT     (1ULL << 30)    /* validated for the largest guest */
#define CHUNK_DATA          (MF_CTL_PAYLOAD_MAX - sizeof(struct mf_ctl_upload_chunk))
#define UPLOAD_WINDOW       8       /* chunks in flight over TCP */
#define LOGS_TEXT_MAX       (MF_CTL_PAYLOAD_MAX - sizeof(struct mf_ctl_logs_reply))
#define LIST_PAGES_MAX      4096            /* a bound on paging, whatever the replies say */

static struct session session = { .fd = -1 };

static int no_own_options(void *ctx, int opt, const char *arg)
{
    (void)ctx;
    (void)opt;
    (void)arg;
    return EXIT_USAGE;      /* not reached: getopt only returns the options given it */
}

/* Copies s into a fixed name field; -1 with a usage error if it does not fit. */
static int field_set(char *dst, size_t size, const char *s, const char *command, const char *what)
{
    if (strlen(s) >= size) {
        usage_error(command, "%s '%s' is too long (at most %zu characters)", what, s, size - 1);
        return -1;
    }
    if (!*s) {
        usage_error(command, "%s is empty", what);
        return -1;
    }
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int id_parse(const char *command, const char *s, uint32_t min, uint32_t *id)
{
    unsigned long long v;

    if (number_parse(s, min, UINT32_MAX, &v) < 0)
        return usage_error(command, "'%s' is not a guest id (a number from %u, as 'mfctl ps' "
                           "shows)", s, min);
    *id = (uint32_t)v;
    return 0;
}

static const char *state_name(uint32_t state)
{
    switch (state) {
    case MF_CTL_GUEST_RUNNING: return "running";
    case MF_CTL_GUEST_WAITING: return "waiting";
    case MF_CTL_GUEST_PENDING: return "pending";
    default: return "unknown";
    }
}

/* 2M, 64K, 1G, or bytes: short enough for a table column. */
static void size_format(char *dst, size_t size, uint64_t bytes)
{
    if (bytes && bytes % (1ULL << 30) == 0)
        snprintf(dst, size, "%lluG", (unsigned long long)(bytes >> 30));
    else if (bytes && bytes % (1ULL << 20) == 0)
        snprintf(dst, size, "%lluM", (unsigned long long)(bytes >> 20));
    else if (bytes && bytes % (1ULL << 10) == 0)
        snprintf(dst, size, "%lluK", (unsigned long long)(bytes >> 10));
    else
        snprintf(dst, size, "%llu", (unsigned long long)bytes);
}

/* A fixed-size, maybe unterminated name field as a C string. */
static const char *field_str(char *dst, size_t size, const char *field, size_t field_size)
{
    size_t n = strnlen(field, field_size);

    if (n >= size)
        n = size - 1;
    memcpy(dst, field, n);
    dst[n] = '\0';
    return dst;
}

/* ---- load ---------------------------------------------------------------- */

struct load_args {
    int no_check, disk;
};

enum { OPT_NO_CHECK = OPT_COMMAND, OPT_DISK };

static int load_option(void *ctx, int opt, const char *arg)
{
    (void)arg;
    if (opt == OPT_NO_CHECK) {
        ((struct load_args *)ctx)->no_check = 1;
        return -1;
    }
    if (opt == OPT_DISK) {
        ((struct load_args *)ctx)->disk = 1;
        return -1;
    }
    return EXIT_USAGE;
}

struct upload {
    const char *path, *name;
    uint8_t *data;
    size_t size;
    uint32_t kind;                  /* MF_CTL_UPLOAD_* */
};

static const char *upload_kind_name(uint32_t kind)
{
    return kind == MF_CTL_UPLOAD_DISK ? "disk" : "image";
}

/* A bar redrawn as the percentage moves on a terminal; else a line per quarter. */
static void progress(const struct upload *u, uint64_t done, int tty)
{
    static int last = -1;
    const int width = 30;
    int pct = u->size ? (int)(done * 100 / u->size) : 100, fill = pct * width / 100;

    if (done == 0)
        last = -1;
    if (pct == last)
        return;
    if (tty) {
        fprintf(stderr, "\r%s [%.*s%*s] %3d%%  %llu/%llu bytes", u->name, fill,
                "##############################", width - fill, "", pct,
                (unsigned long long)done, (unsigned long long)u->size);
        fflush(stderr);
    } else if (done && done < u->size && pct / 25 != last / 25) {
        note_say("%s: %d%% (%llu/%llu bytes)", u->name, pct, (unsigned long long)done,
                 (unsigned long long)u->size);
    }
    last = pct;
}

static int upload_one(const struct upload *u, const struct live_options *o, int tty, int first)
{
    struct mf_ctl_upload_begin begin = { .size = u->size, .kind = u->kind };
    struct mf_ctl_upload_end end = { .crc32 = crc32_update(0, u->data, u->size) };
    static uint8_t chunk[MF_CTL_PAYLOAD_MAX];
    char what[MF_CTL_NAME_MAX + 64];
    uint64_t done = 0;
    int rc;

    memcpy(begin.name, u->name, strlen(u->name) + 1);
    snprintf(what, sizeof(what), "load %s", u->name);
    if (!tty)
        note_say("%s: uploading %zu bytes%s", u->name, u->size,
                 u->kind == MF_CTL_UPLOAD_DISK ? " (a disk)" : "");
    progress(u, 0, tty);
    rc = session_call(&session, MF_CTL_UPLOAD_BEGIN, &begin, sizeof(begin),
                      sizeof(struct mf_ctl_status), what);
    /* Over TCP up to UPLOAD_WINDOW chunks are in flight (the link, not
     * the round trip, sets the pace); over a serial line one at a time
     * (the UART's FIFO holds 16 bytes and nothing pushes back). The
     * hypervisor handles them in order: one refused refuses the rest. */
    uint32_t window = session.tcp ? UPLOAD_WINDOW : 1, seqs[UPLOAD_WINDOW];
    uint64_t sent = 0, sizes[UPLOAD_WINDOW];
    uint32_t head = 0, inflight = 0;

    while (rc == 0 && done < u->size) {
        while (rc == 0 && inflight < window && sent < u->size) {
            struct mf_ctl_upload_chunk c = { .offset = sent };
            size_t n = u->size - sent < CHUNK_DATA ? u->size - sent : CHUNK_DATA;
            uint32_t k = (head + inflight) % UPLOAD_WINDOW;

            memcpy(chunk, &c, sizeof(c));
            memcpy(chunk + sizeof(c), u->data + sent, n);
            rc = session_send_request(&session, MF_CTL_UPLOAD_CHUNK, chunk,
                                      (uint32_t)(sizeof(c) + n), &seqs[k]);
            sizes[k] = n;
            sent += n;
            inflight++;
        }
        if (rc == 0)
            rc = session_finish(&session, seqs[head], MF_CTL_UPLOAD_CHUNK,
                                sizeof(struct mf_ctl_status), what);
        if (rc == 0) {
            done += sizes[head];
            head = (head + 1) % UPLOAD_WINDOW;
            inflight--;
            progress(u, done, tty);
        }
    }
    if (rc == 0)
        rc = session_call(&session, MF_CTL_UPLOAD_END, &end, sizeof(end),
                          sizeof(struct mf_ctl_status), what);
    if (tty)
        fputc('\n', stderr);
    if (rc != 0)
        return rc;
    if (!tty)
        note_say("%s: %zu bytes uploaded and stored", u->name, u->size);
    if (o->json) {
        printf("%s{\"name\":", first ? "" : ",");
        json_string(stdout, u->name, strlen(u->name));
        printf(",\"kind\":\"%s\",\"size\":%zu,\"crc32\":\"%08x\"}",
               upload_kind_name(u->kind), u->size, end.crc32);
    } else {
        printf("loaded %s (%s%zu bytes, crc32 %08x)\n", u->name,
               u->kind == MF_CTL_UPLOAD_DISK ? "disk, " : "", u->size, end.crc32);
    }
    fflush(stdout);
    return 0;
}

/* Whether name ends in suffix. */
static int name_ends(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);

    return n >= k && !strcmp(name + n - k, suffix);
}

/* Whether a file is taken for a disk without --disk: it lacks the ELF
 * magic and its name does not say it is an image (.elf, .hvt: such a
 * file without the magic is a broken image, and refused as one). */
static int looks_like_disk(const struct upload *u)
{
    if (u->size >= 4 && !memcmp(u->data, "\177ELF", 4))
        return 0;
    return !name_ends(u->name, ".elf") && !name_ends(u->name, ".hvt");
}

/* What a file is: a disk when --disk says so or, unless --no-check, when
 * it looks like one (a block device's backing); else an image, checked
 * unless --no-check as the hypervisor will check it (--no-check uploads
 * every file as an image, for the hypervisor to refuse a broken one).
 * 0, or -1 with a message. */
static int load_classify(struct upload *u, const struct load_args *a)
{
    struct elf_image *img;
    char err[ELF_REASON_MAX];
    int rc = 0;

    u->kind = a->disk || (!a->no_check && looks_like_disk(u)) ? MF_CTL_UPLOAD_DISK
                                                              : MF_CTL_UPLOAD_IMAGE;
    if (u->kind == MF_CTL_UPLOAD_DISK) {
        if (!a->disk)
            note_say("%s has no ELF header: uploading it as a disk for a block device "
                     "(--disk says so without this note)", u->path);
        if (u->size % 512)
            note_say("warning: %s is %zu bytes, not a whole number of 512-byte sectors; a "
                     "block device refuses it", u->path, u->size);
        return 0;
    }
    if (a->no_check)
        return 0;
    img = malloc(sizeof(*img));             /* several KiB with its manifest */
    if (!img) {
        error_say("out of memory");
        return -1;
    }
    if (elf_validate(u->data, u->size, ELF_CHECK_LIMIT, img, err, sizeof(err)) < 0) {
        error_say("%s rejected: %s (nothing uploaded)", u->path, err);
        rc = -1;
    }
    free(img);
    return rc;
}

/* Reads every file and checks it as the hypervisor will, before any upload. */
static int load_prepare(struct upload *ups, int count, char **paths, const struct load_args *a)
{
    int bad = 0;

    for (int i = 0; i < count; i++) {
        struct upload *u = &ups[i];

        u->path = paths[i];
        u->name = path_base(paths[i]);
        for (int j = 0; j < i; j++)
            if (!strcmp(ups[j].name, u->name)) {
                error_say("two images are called %s: %s and %s; images are stored by base "
                          "name", u->name, ups[j].path, u->path);
                bad = 1;
            }
        if (strlen(u->name) >= MF_CTL_NAME_MAX || !*u->name) {
            error_say("%s: an image name is 1 to %d characters: rename the file", u->path,
                      MF_CTL_NAME_MAX - 1);
            bad = 1;
            continue;
        }
        if (file_read(u->path, GUEST_FILE_MAX, &u->data, &u->size) < 0) {
            bad = 1;
            continue;
        }
        if (!u->size) {
            error_say("%s is empty: nothing to upload", u->path);
            bad = 1;
            continue;
        }
        if (load_classify(u, a) < 0)
            bad = 1;
    }
    return bad ? -1 : 0;
}

int cmd_load(int argc, char **argv)
{
    static const struct option own[] = {
        { "no-check", no_argument, NULL, OPT_NO_CHECK },
        { "disk", no_argument, NULL, OPT_DISK },
        { NULL, 0, NULL, 0 },
    };
    struct load_args args = { 0 };
    struct live_options o;
    struct upload *ups;
    int rc, count, tty = isatty(STDERR_FILENO), worst = 0, shown = 0;

    if ((rc = live_parse("load", argc, argv, own, load_option, &args, &o)) >= 0)
        return rc;
    count = argc - optind;
    if (count <= 0)
        return usage_error("load", "no file given: mfctl load --control SOCKET hello.elf "
                           "(or --disk site.img)");
    ups = calloc((size_t)count, sizeof(*ups));
    if (!ups) {
        error_say("out of memory");
        return EXIT_REFUSED;
    }
    if (load_prepare(ups, count, argv + optind, &args) < 0) {
        rc = EXIT_REFUSED;
        goto out;
    }
    if ((rc = session_open(&session, "load", &o)) != 0)
        goto out;
    if (o.json)
        putchar('[');
    /* A refused image does not stop the others; a broken connection does. */
    for (int i = 0; i < count && worst != EXIT_CONNECT; i++) {
        rc = upload_one(&ups[i], &o, tty, !shown);
        if (rc == 0)
            shown++;
        else if (rc > worst)
            worst = rc;
    }
    if (o.json)
        puts("]");
    rc = worst;
out:
    session_close(&session);
    for (int i = 0; i < count; i++)
        free(ups[i].data);
    free(ups);
    return rc;
}

/* ---- start --------------------------------------------------------------- */

enum { OPT_NAME = OPT_COMMAND, OPT_CLASS, OPT_COUNT, OPT_ARGS, OPT_NET, OPT_TIMEOUT_MS };

struct start_args {
    struct mf_ctl_start req;
    int name_given, nets;
};

/* Whether arg is one of start's device options, which getopt cannot
 * take (their names hold the device): --net:<device>=<switch>,
 * --block:<device>=<file>, --block-sector-size:<device>=<n>. */
static int device_arg(const char *arg)
{
    return !strncmp(arg, "--net:", 6) || !strncmp(arg, "--block:", 8) ||
           !strncmp(arg, "--block-sector-size:", 20);
}

/* Moves the device options before any "--" out of argv into dev (in
 * order); returns how many arguments are left in argv. */
static int device_args_take(int argc, char **argv, char **dev, int *dev_count)
{
    int kept = 0, i;

    *dev_count = 0;
    for (i = 0; i < argc && strcmp(argv[i], "--"); i++) {
        if (i > 0 && device_arg(argv[i]))
            dev[(*dev_count)++] = argv[i];
        else
            argv[kept++] = argv[i];
    }
    for (; i < argc; i++)
        argv[kept++] = argv[i];
    argv[kept] = NULL;
    return kept;
}

/* Appends " word" to a config line being built; -1 if it does not fit. */
static int line_append(char *line, size_t size, size_t *len, const char *word)
{
    int n = snprintf(line + *len, size - *len, " %s", word);

    if (n < 0 || (size_t)n >= size - *len)
        return -1;
    *len += (size_t)n;
    return 0;
}

/* The device options as the guest line a config would hold, read by the
 * hypervisor's own parser, so they obey its rules exactly (device
 * names, each device once, sector sizes, net= beside them); then into
 * the request. 0, or EXIT_USAGE after a usage error. */
static int devices_fill(struct start_args *a, char **dev, int count)
{
    static struct config cfg;
    struct config_error err;
    static char line[CONFIG_LINE_MAX];
    size_t len = (size_t)snprintf(line, sizeof(line), "partition p 2M x 1\nguest mfctl image=x");
    char nets[8 + MF_CTL_NETS_MAX * sizeof(a->req.nets[0])] = "net=";
    const char *why;

    /* --net too, so that mixing it with device options is refused here. */
    for (int i = 0; i < a->nets; i++)
        snprintf(nets + strlen(nets), sizeof(nets) - strlen(nets), "%s%s", i ? "," : "",
                 a->req.nets[i]);
    if (a->nets)
        line_append(line, sizeof(line), &len, nets);
    for (int i = 0; i < count; i++) {
        if (strpbrk(dev[i], " \t\"#") || !strchr(dev[i], '='))
            return usage_error("start", "'%s': a device option is --net:<device>=<switch>, "
                               "--block:<device>=<file> or --block-sector-size:<device>=<n>, "
                               "without spaces, quotes or '#'", dev[i]);
        if (line_append(line, sizeof(line), &len, dev[i] + 2) < 0)
            return usage_error("start", "the device options are too long for one guest line "
                               "(at most %d characters)", CONFIG_LINE_MAX - 1);
    }
    if (config_parse(line, len, &cfg, &err) < 0) {
        why = !strncmp(err.message, "guest 'mfctl': ", 15) ? err.message + 15 : err.message;
        return usage_error("start", "%s", why);
    }
    a->req.device_count = cfg.guests[0].device_count;
    for (uint32_t i = 0; i < a->req.device_count; i++) {
        const struct config_device *d = &cfg.guests[0].devices[i];
        struct mf_ctl_device *out = &a->req.devices[i];
        out->kind = d->kind == CONFIG_DEVICE_NET ? MF_CTL_DEVICE_NET : MF_CTL_DEVICE_BLOCK;
        out->sector_size = d->sector_size;
        snprintf(out->name, sizeof(out->name), "%s", d->name);
        snprintf(out->target, sizeof(out->target), "%s", d->target);
    }
    return 0;
}

static int start_option(void *ctx, int opt, const char *arg)
{
    struct start_args *a = ctx;
    unsigned long long v;

    switch (opt) {
    case OPT_NAME:
        a->name_given = 1;
        return field_set(a->req.name, sizeof(a->req.name), arg, "start", "--name") ? EXIT_USAGE
                                                                                    : -1;
    case OPT_CLASS:
        return field_set(a->req.class_name, sizeof(a->req.class_name), arg, "start", "--class")
               ? EXIT_USAGE : -1;
    case OPT_COUNT:
        if (number_parse(arg, 1, 4096, &v) < 0)
            return usage_error("start", "--count takes a number from 1 to 4096, not '%s'", arg);
        a->req.count = (uint32_t)v;
        return -1;
    case OPT_ARGS:
        if (strlen(arg) >= sizeof(a->req.args))
            return usage_error("start", "--args is too long (at most %zu characters)",
                               sizeof(a->req.args) - 1);
        memcpy(a->req.args, arg, strlen(arg) + 1);
        return -1;
    case OPT_NET:
        if (a->nets == MF_CTL_NETS_MAX)
            return usage_error("start", "at most %d --net switches", MF_CTL_NETS_MAX);
        return field_set(a->req.nets[a->nets++], sizeof(a->req.nets[0]), arg, "start", "--net")
               ? EXIT_USAGE : -1;
    case OPT_TIMEOUT_MS:
        if (number_parse(arg, 0, UINT32_MAX, &v) < 0)
            return usage_error("start", "--timeout-ms takes milliseconds from 0 (none) to %u, "
                               "not '%s'", UINT32_MAX, arg);
        a->req.timeout_ms = (uint32_t)v;
        return -1;
    default:
        return EXIT_USAGE;
    }
}

int cmd_start(int argc, char **argv)
{
    static const struct option own[] = {
        { "name", required_argument, NULL, OPT_NAME },
        { "class", required_argument, NULL, OPT_CLASS },
        { "count", required_argument, NULL, OPT_COUNT },
        { "args", required_argument, NULL, OPT_ARGS },
        { "net", required_argument, NULL, OPT_NET },
        { "timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS },
        { NULL, 0, NULL, 0 },
    };
    static struct start_args a;
    struct mf_ctl_start_reply reply;
    struct live_options o;
    char what[MF_CTL_NAME_MAX + 16];
    char **dev = calloc((size_t)argc + 1, sizeof(*dev));
    int rc, dev_count;

    if (!dev) {
        error_say("out of memory");
        return EXIT_REFUSED;
    }
    memset(&a, 0, sizeof(a));
    a.req.count = 1;
    argc = device_args_take(argc, argv, dev, &dev_count);
    rc = live_parse("start", argc, argv, own, start_option, &a, &o);
    if (rc < 0 && dev_count && devices_fill(&a, dev, dev_count) != 0)
        rc = EXIT_USAGE;
    free(dev);
    if (rc >= 0)
        return rc;
    if (optind >= argc)
        return usage_error("start", "no image given: mfctl start --control SOCKET hello.elf");
    if (optind + 1 < argc)
        return usage_error("start", "one image at a time, not '%s' too (--count N starts "
                           "several instances)", argv[optind + 1]);
    if (field_set(a.req.image, sizeof(a.req.image), argv[optind], "start", "the image name"))
        return EXIT_USAGE;
    if (!a.name_given) {
        /* hello.elf (or www.hvt) runs as "hello" unless --name says otherwise. */
        size_t n = strlen(a.req.image);
        memcpy(a.req.name, a.req.image, n + 1);
        if (n > 4 && (!strcmp(a.req.name + n - 4, ".elf") || !strcmp(a.req.name + n - 4, ".hvt")))
            a.req.name[n - 4] = '\0';
    }
    if ((rc = session_open(&session, "start", &o)) != 0)
        goto out;
    snprintf(what, sizeof(what), "start %s", a.req.image);
    /* Without devices, the first version's payload: any hypervisor takes it. */
    rc = session_call(&session, MF_CTL_START, &a.req,
                      a.req.device_count ? sizeof(a.req) : MF_CTL_START_V1_BYTES, sizeof(reply),
                      what);
    if (rc != 0)
        goto out;
    memcpy(&reply, session.reply.payload, sizeof(reply));
    if (o.json) {
        printf("{\"name\":");
        json_string(stdout, a.req.name, strlen(a.req.name));
        printf(",\"started\":%u,\"pending\":%u,\"first_id\":%u,\"ids\":[", reply.started,
               reply.pending, reply.first_id);
        for (uint32_t i = 0; i < reply.started; i++)
            printf("%s%u", i ? "," : "", reply.first_id + i);
        printf("]}\n");
    } else {
        printf("started:");
        for (uint32_t i = 0; i < reply.started; i++)
            printf(" %u", reply.first_id + i);
        printf("\npending: %u\n", reply.pending);
    }
out:
    session_close(&session);
    return rc;
}

/* ---- stop ---------------------------------------------------------------- */

int cmd_stop(int argc, char **argv)
{
    struct live_options o;
    uint32_t *ids;
    int rc, count, worst = 0, shown = 0;

    if ((rc = live_parse("stop", argc, argv, NULL, no_own_options, NULL, &o)) >= 0)
        return rc;
    count = argc - optind;
    if (count <= 0)
        return usage_error("stop", "no guest id given: mfctl stop --control SOCKET ID "
                           "('mfctl ps' lists them)");
    ids = calloc((size_t)count, sizeof(*ids));
    if (!ids) {
        error_say("out of memory");
        return EXIT_REFUSED;
    }
    for (int i = 0; i < count; i++)
        if (id_parse("stop", argv[optind + i], 1, &ids[i]) != 0) {
            free(ids);
            return EXIT_USAGE;
        }
    if ((rc = session_open(&session, "stop", &o)) != 0)
        goto out;
    if (o.json)
        putchar('[');
    for (int i = 0; i < count && worst != EXIT_CONNECT; i++) {
        struct mf_ctl_guest_ref ref = { .id = ids[i] };
        char what[32];

        snprintf(what, sizeof(what), "stop %u", ids[i]);
        rc = session_call(&session, MF_CTL_STOP, &ref, sizeof(ref),
                          sizeof(struct mf_ctl_status), what);
        if (rc != 0) {
            if (rc > worst)
                worst = rc;
            continue;
        }
        if (o.json)
            printf("%s%u", shown++ ? "," : "", ids[i]);
        else
            printf("stopped %u\n", ids[i]);
    }
    if (o.json)
        puts("]");
    rc = worst;
out:
    session_close(&session);
    free(ids);
    return rc;
}

/* ---- ps ------------------------------------------------------------------ */

struct ps_row {
    uint32_t id;
    char name[MF_CTL_NAME_MAX], image[MF_CTL_NAME_MAX], class_name[MF_CTL_NAME_MAX];
    char personality[MF_CTL_PERSONALITY_MAX];
    const char *state;
    char mem[24], uptime[24], hypercalls[24];
    char service[MF_CTL_NAME_MAX + 12];     /* "web/2", or "-" */
};

/* Copies count entries of entry_size bytes (the reply says which; an
 * older hypervisor's are the 128-byte ones, without a personality, or
 * the 144-byte ones, without the service) into the widest form. */
static void entries_widen(struct mf_ctl_guest_entry3 *dst, const uint8_t *src, uint32_t count,
                          uint32_t entry_size)
{
    size_t n = entry_size < sizeof(*dst) ? entry_size : sizeof(*dst);

    for (uint32_t i = 0; i < count; i++) {
        memset(&dst[i], 0, sizeof(dst[i]));
        memcpy(&dst[i], src + (size_t)i * entry_size, n);
    }
}

/* LIST, page by page from first = 0, until total entries came; asks for
 * the entries with the personality and the service. */
static int list_all(struct mf_ctl_guest_entry3 **out, uint32_t *count)
{
    struct mf_ctl_guest_entry3 *all = NULL;
    uint32_t have = 0, cap = 0;

    for (int page = 0; page < LIST_PAGES_MAX; page++) {
        struct mf_ctl_list_reply lr;
        struct mf_ctl_list req = { .first = have, .entry_size = sizeof(*all) };
        uint32_t size;
        int rc = session_call(&session, MF_CTL_LIST, &req, sizeof(req), sizeof(lr), "ps");

        if (rc != 0) {
            free(all);
            return rc;
        }
        memcpy(&lr, session.reply.payload, sizeof(lr));
        size = lr.entry_size ? lr.entry_size : sizeof(struct mf_ctl_guest_entry);
        if (size < sizeof(struct mf_ctl_guest_entry) || size > MF_CTL_PAYLOAD_MAX ||
            lr.count > (session.reply.hdr.length - sizeof(lr)) / size) {
            error_say("ps: protocol error: a LIST reply of %u bytes cannot hold %u entries of "
                      "%u bytes", session.reply.hdr.length, lr.count, size);
            free(all);
            return EXIT_CONNECT;
        }
        if (have + lr.count > cap) {
            struct mf_ctl_guest_entry3 *grown;
            cap = (have + lr.count) * 2;
            grown = realloc(all, cap * sizeof(*all));
            if (!grown) {
                error_say("out of memory");
                free(all);
                return EXIT_REFUSED;
            }
            all = grown;
        }
        entries_widen(all + have, session.reply.payload + sizeof(lr), lr.count, size);
        have += lr.count;
        /* Guests that end while we page shrink the total; none left, done. */
        if (lr.count == 0 || have >= lr.total)
            break;
    }
    *out = all;
    *count = have;
    return 0;
}

static void ps_json(const struct mf_ctl_guest_entry3 *all, uint32_t count)
{
    char buf[MF_CTL_NAME_MAX];

    putchar('[');
    for (uint32_t i = 0; i < count; i++) {
        const struct mf_ctl_guest_entry *e = &all[i].e2.e;
        printf("%s{\"id\":%u,\"name\":", i ? "," : "", e->id);
        field_str(buf, sizeof(buf), e->name, sizeof(e->name));
        json_string(stdout, buf, strlen(buf));
        printf(",\"image\":");
        field_str(buf, sizeof(buf), e->image, sizeof(e->image));
        json_string(stdout, buf, strlen(buf));
        printf(",\"class\":");
        field_str(buf, sizeof(buf), e->class_name, sizeof(e->class_name));
        json_string(stdout, buf, strlen(buf));
        printf(",\"personality\":");
        field_str(buf, sizeof(buf), all[i].e2.personality, sizeof(all[i].e2.personality));
        json_string(stdout, buf, strlen(buf));
        /* null: not a summoned instance (or a hypervisor that does not say). */
        field_str(buf, sizeof(buf), all[i].service, sizeof(all[i].service));
        if (buf[0]) {
            printf(",\"service\":");
            json_string(stdout, buf, strlen(buf));
            printf(",\"service_slot\":%u", all[i].service_slot);
        } else {
            printf(",\"service\":null,\"service_slot\":null");
        }
        printf(",\"state\":\"%s\",\"mem_size\":%llu,\"uptime_ms\":%llu,\"uptime_tsc\":%llu,"
               "\"hypercalls\":%llu}", state_name(e->state), (unsigned long long)e->mem_size,
               (unsigned long long)tsc_to_ms(e->uptime_tsc, session.hello.tsc_hz),
               (unsigned long long)e->uptime_tsc, (unsigned long long)e->hypercalls);
    }
    puts("]");
}

/* The table; the SERVICE column (last, so the others keep their
 * places) only when a summoned instance is listed. */
static void ps_table(const struct mf_ctl_guest_entry3 *all, uint32_t count)
{
    static const char *const heads[] = {
        "ID", "NAME", "IMAGE", "PERSONALITY", "CLASS", "STATE", "MEM", "UPTIME(ms)", "HYPERCALLS",
        "SERVICE",
    };
    enum { COLUMNS = sizeof(heads) / sizeof(heads[0]) };
    int w[COLUMNS], services = 0;
    struct ps_row *rows = calloc(count ? count : 1, sizeof(*rows));

    if (!rows) {
        error_say("out of memory");
        return;
    }
    for (int c = 0; c < COLUMNS; c++)
        w[c] = (int)strlen(heads[c]);
    for (uint32_t i = 0; i < count; i++) {
        struct ps_row *r = &rows[i];
        const struct mf_ctl_guest_entry *e = &all[i].e2.e;
        char id[16], service[MF_CTL_NAME_MAX];
        const char *cells[COLUMNS];

        field_str(r->name, sizeof(r->name), e->name, sizeof(e->name));
        field_str(r->image, sizeof(r->image), e->image, sizeof(e->image));
        field_str(r->class_name, sizeof(r->class_name), e->class_name, sizeof(e->class_name));
        if (!r->class_name[0])
            snprintf(r->class_name, sizeof(r->class_name), "-");
        /* "-": a hypervisor that does not say (older ones run Mayfly guests only). */
        field_str(r->personality, sizeof(r->personality), all[i].e2.personality,
                  sizeof(all[i].e2.personality));
        if (!r->personality[0])
            snprintf(r->personality, sizeof(r->personality), "-");
        r->state = state_name(e->state);
        size_format(r->mem, sizeof(r->mem), e->mem_size);
        if (session.hello.tsc_hz)
            snprintf(r->uptime, sizeof(r->uptime), "%llu",
                     (unsigned long long)tsc_to_ms(e->uptime_tsc, session.hello.tsc_hz));
        else
            snprintf(r->uptime, sizeof(r->uptime), "-");
        snprintf(r->hypercalls, sizeof(r->hypercalls), "%llu",
                 (unsigned long long)e->hypercalls);
        field_str(service, sizeof(service), all[i].service, sizeof(all[i].service));
        if (service[0]) {
            snprintf(r->service, sizeof(r->service), "%s/%u", service, all[i].service_slot);
            services = 1;
        } else {
            snprintf(r->service, sizeof(r->service), "-");
        }
        snprintf(id, sizeof(id), "%u", e->id);
        r->id = e->id;
        cells[0] = id; cells[1] = r->name; cells[2] = r->image; cells[3] = r->personality;
        cells[4] = r->class_name; cells[5] = r->state; cells[6] = r->mem; cells[7] = r->uptime;
        cells[8] = r->hypercalls; cells[9] = r->service;
        for (int c = 0; c < COLUMNS; c++)
            if ((int)strlen(cells[c]) > w[c])
                w[c] = (int)strlen(cells[c]);
    }
    printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %*s  %*s  %*s", w[0], heads[0], w[1],
           heads[1], w[2], heads[2], w[3], heads[3], w[4], heads[4], w[5], heads[5], w[6],
           heads[6], w[7], heads[7], w[8], heads[8]);
    if (services)
        printf("  %s", heads[9]);
    putchar('\n');
    for (uint32_t i = 0; i < count; i++) {
        const struct ps_row *r = &rows[i];
        printf("%-*u  %-*s  %-*s  %-*s  %-*s  %-*s  %*s  %*s  %*s", w[0], r->id, w[1],
               r->name, w[2], r->image, w[3], r->personality, w[4], r->class_name, w[5],
               r->state, w[6], r->mem, w[7], r->uptime, w[8], r->hypercalls);
        if (services)
            printf("  %s", r->service);
        putchar('\n');
    }
    free(rows);
}

int cmd_ps(int argc, char **argv)
{
    struct mf_ctl_guest_entry3 *all = NULL;
    struct live_options o;
    uint32_t count = 0;
    int rc;

    if ((rc = live_parse("ps", argc, argv, NULL, no_own_options, NULL, &o)) >= 0)
        return rc;
    if (optind < argc)
        return usage_error("ps", "unexpected argument '%s'", argv[optind]);
    if ((rc = session_open(&session, "ps", &o)) == 0 && (rc = list_all(&all, &count)) == 0) {
        if (o.json)
            ps_json(all, count);
        else
            ps_table(all, count);
    }
    free(all);
    session_close(&session);
    return rc;
}

/* ---- stats --------------------------------------------------------------- */

struct stat_field {
    const char *key;
    uint64_t value;
    int global_only, guest_only;
};

#define SERVICES_PAGES_MAX  256             /* a bound on paging, whatever the replies say */

/* Whether the hypervisor serves SERVICES: one that sends LIST entries
 * of mf_ctl_guest_entry3's size does (both came with summoning). An
 * older one is not asked: it refuses a type it does not know without
 * signing the refusal, which with a key is never taken for the answer,
 * so the call would wait for --timeout. A LIST from past every guest
 * asks for nothing else. 1, 0, or -EXIT_*. */
static int services_served(void)
{
    struct mf_ctl_list req = { .first = UINT32_MAX,
                               .entry_size = sizeof(struct mf_ctl_guest_entry3) };
    struct mf_ctl_list_reply lr;
    int rc = session_call(&session, MF_CTL_LIST, &req, sizeof(req), sizeof(lr), "stats");

    if (rc)
        return -rc;
    memcpy(&lr, session.reply.payload, sizeof(lr));
    return lr.entry_size >= sizeof(struct mf_ctl_guest_entry3);
}

/* Every summoned service, page by page (none from a hypervisor that
 * does not serve SERVICES, or answers it with -MF_ENOSYS). 0 or EXIT_*. */
static int services_all(struct mf_ctl_service_entry **out, uint32_t *count)
{
    struct mf_ctl_service_entry *all = NULL;
    uint32_t have = 0;
    int rc = services_served();

    *out = NULL;
    *count = 0;
    if (rc <= 0)
        return -rc;
    for (int page = 0; page < SERVICES_PAGES_MAX; page++) {
        struct mf_ctl_services req = { .first = have };
        struct mf_ctl_services_reply sr;
        struct mf_ctl_service_entry *grown;

        session.quiet_status = -MF_ENOSYS;
        rc = session_call(&session, MF_CTL_SERVICES, &req, sizeof(req), sizeof(sr), "stats");
        session.quiet_status = 0;
        if (rc == EXIT_REFUSED && session.status == -MF_ENOSYS && page == 0)
            return 0;
        if (rc != 0) {
            free(all);
            return rc;
        }
        memcpy(&sr, session.reply.payload, sizeof(sr));
        if (sr.entry_size < sizeof(*all) || sr.entry_size > MF_CTL_PAYLOAD_MAX ||
            sr.count > (session.reply.hdr.length - sizeof(sr)) / sr.entry_size) {
            error_say("stats: protocol error: a SERVICES reply of %u bytes cannot hold %u "
                      "entries of %u bytes", session.reply.hdr.length, sr.count, sr.entry_size);
            free(all);
            return EXIT_CONNECT;
        }
        grown = realloc(all, ((size_t)have + sr.count + 1) * sizeof(*all));
        if (!grown) {
            error_say("out of memory");
            free(all);
            return EXIT_REFUSED;
        }
        all = grown;
        /* Later entries grow at their end: the part this mfctl knows. */
        for (uint32_t i = 0; i < sr.count; i++)
            memcpy(&all[have + i], session.reply.payload + sizeof(sr) + (size_t)i * sr.entry_size,
                   sizeof(*all));
        have += sr.count;
        if (sr.count == 0 || have >= sr.total)
            break;
    }
    *out = all;
    *count = have;
    return 0;
}

/* Ticks as whole microseconds at tsc_hz. */
static uint64_t tsc_to_us(uint64_t ticks, uint64_t tsc_hz)
{
    return ticks / tsc_hz * 1000000 + ticks % tsc_hz * 1000000 / tsc_hz;
}

/* A service's address (ip[0] in the top byte) as "10.0.0.9". */
static int service_ip(char *dst, size_t size, const struct mf_ctl_service_entry *e)
{
    return snprintf(dst, size, "%u.%u.%u.%u", e->ip >> 24, e->ip >> 16 & 255, e->ip >> 8 & 255,
                    e->ip & 255);
}

/* "10.0.0.9:80", or "10.0.0.9" for a service on every port. */
static void service_address(char *dst, size_t size, const struct mf_ctl_service_entry *e)
{
    int n = service_ip(dst, size, e);

    if (e->port && n > 0 && (size_t)n < size)
        snprintf(dst + n, size - (size_t)n, ":%u", e->port);
}

static void service_json(const struct mf_ctl_service_entry *e, uint64_t tsc_hz, int first)
{
    char name[MF_CTL_NAME_MAX + 1], ip[20];

    field_str(name, sizeof(name), e->name, sizeof(e->name));
    service_ip(ip, sizeof(ip), e);
    printf("%s{\"name\":", first ? "" : ",");
    json_string(stdout, name, strlen(name));
    printf(",\"ip\":\"%s\",\"port\":%u,\"max\":%u,\"running\":%u,\"idle_ms\":%u,"
           "\"summoned\":%llu,\"idled\":%llu,\"ended\":%llu,\"launch_failures\":%llu,"
           "\"flows\":%llu,\"held\":%llu,\"flushed\":%llu,\"hold_drops\":%llu,"
           "\"no_instance_drops\":%llu,\"arp_answered\":%llu,\"latency_count\":%llu,"
           "\"latency_avg_tsc\":%llu,\"latency_min_tsc\":%llu,\"latency_max_tsc\":%llu",
           ip, e->port, e->max, e->running, e->idle_ms, (unsigned long long)e->summoned,
           (unsigned long long)e->idled, (unsigned long long)e->ended,
           (unsigned long long)e->launch_failures, (unsigned long long)e->flows,
           (unsigned long long)e->held, (unsigned long long)e->flushed,
           (unsigned long long)e->hold_drops, (unsigned long long)e->no_instance_drops,
           (unsigned long long)e->arp_answered, (unsigned long long)e->latency_count,
           (unsigned long long)e->latency_avg, (unsigned long long)e->latency_min,
           (unsigned long long)e->latency_max);
    if (tsc_hz)
        printf(",\"latency_avg_us\":%llu,\"latency_min_us\":%llu,\"latency_max_us\":%llu",
               (unsigned long long)tsc_to_us(e->latency_avg, tsc_hz),
               (unsigned long long)tsc_to_us(e->latency_min, tsc_hz),
               (unsigned long long)tsc_to_us(e->latency_max, tsc_hz));
    putchar('}');
}

/* One line: what the service is, what runs, what it did. */
static void service_line(const struct mf_ctl_service_entry *e, uint64_t tsc_hz)
{
    char name[MF_CTL_NAME_MAX + 1], addr[32];

    field_str(name, sizeof(name), e->name, sizeof(e->name));
    service_address(addr, sizeof(addr), e);
    printf("service %s %s: %u/%u running, summoned %llu times, %llu idled out, %llu launch "
           "failures; ", name, addr, e->running, e->max, (unsigned long long)e->summoned,
           (unsigned long long)e->idled, (unsigned long long)e->launch_failures);
    if (!e->latency_count)
        printf("first reply not timed yet");
    else
        printf("first reply %llu ticks (%llu..%llu, %llu timed)",
               (unsigned long long)e->latency_avg, (unsigned long long)e->latency_min,
               (unsigned long long)e->latency_max, (unsigned long long)e->latency_count);
    if (e->latency_count && tsc_hz)
        printf(" = %llu us (%llu..%llu)", (unsigned long long)tsc_to_us(e->latency_avg, tsc_hz),
               (unsigned long long)tsc_to_us(e->latency_min, tsc_hz),
               (unsigned long long)tsc_to_us(e->latency_max, tsc_hz));
    printf("; frames %llu held, %llu dropped\n", (unsigned long long)e->held,
           (unsigned long long)(e->hold_drops + e->no_instance_drops));
}

int cmd_stats(int argc, char **argv)
{
    struct live_options o;
    struct mf_ctl_guest_ref ref = { 0 };
    struct mf_ctl_stats_reply r;
    struct mf_ctl_service_entry *services = NULL;
    uint32_t service_count = 0;
    char what[32];
    int rc;

    if ((rc = live_parse("stats", argc, argv, NULL, no_own_options, NULL, &o)) >= 0)
        return rc;
    if (optind + 1 < argc)
        return usage_error("stats", "one guest id at most, not '%s' too", argv[optind + 1]);
    if (optind < argc && (rc = id_parse("stats", argv[optind], 0, &ref.id)) != 0)
        return rc;
    if ((rc = session_open(&session, "stats", &o)) != 0)
        goto out;
    snprintf(what, sizeof(what), ref.id ? "stats %u" : "stats", ref.id);
    if ((rc = session_call(&session, MF_CTL_STATS, &ref, sizeof(ref), sizeof(r), what)) != 0)
        goto out;
    memcpy(&r, session.reply.payload, sizeof(r));

    const struct mf_ctl_hello_reply *h = &session.hello;
    const struct stat_field fields[] = {
        { "id", r.id, 0, 0 },
        { "uptime_ms", tsc_to_ms(r.uptime_tsc, h->tsc_hz), 0, 0 },
        { "uptime_tsc", r.uptime_tsc, 0, 0 },
        { "hypercalls", r.hypercalls, 0, 0 },
        { "preemptions", r.preemptions, 0, 0 },
        { "guests_started", r.guests_started, 1, 0 },
        { "guests_running", r.guests_running, 1, 0 },
        { "guests_exited", r.guests_exited, 1, 0 },
        { "guests_failed", r.guests_failed, 1, 0 },
        { "guests_pending", r.guests_pending, 1, 0 },
        { "partitions_free", r.partitions_free, 1, 0 },
        { "net_rx_frames", r.net_rx_frames, 0, 0 },
        { "net_tx_frames", r.net_tx_frames, 0, 0 },
        { "net_drops", r.net_drops, 0, 0 },
        { "control_requests", r.control_requests, 1, 0 },
        { "control_errors", r.control_errors, 1, 0 },
        { "control_unanswered", r.control_unanswered, 1, 0 },
        { "store_size", h->store_size, 1, 0 },
        { "store_free", h->store_free, 1, 0 },
        { "tsc_hz", h->tsc_hz, 1, 0 },
    };
    int global = r.id == 0, shown = 0;

    if (global && (rc = services_all(&services, &service_count)) != 0)
        goto out;
    if (o.json) {
        putchar('{');
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            if (!(fields[i].global_only && !global) && !(fields[i].guest_only && global))
                printf("%s\"%s\":%llu", shown++ ? "," : "", fields[i].key,
                       (unsigned long long)fields[i].value);
        if (global) {
            printf(",\"version\":");
            json_string(stdout, h->version, strlen(h->version));
            printf(",\"services\":[");
            for (uint32_t i = 0; i < service_count; i++)
                service_json(&services[i], h->tsc_hz, i == 0);
            putchar(']');
        } else {
            printf(",\"state\":\"%s\"", state_name(r.state));
        }
        puts("}");
    } else {
        if (global)
            printf("%-18s %s\n", "version", h->version);
        else
            printf("%-18s %s\n", "state", state_name(r.state));
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            if (!(fields[i].global_only && !global) && !(fields[i].guest_only && global))
                printf("%-18s %llu\n", fields[i].key, (unsigned long long)fields[i].value);
        for (uint32_t i = 0; i < service_count; i++)
            service_line(&services[i], h->tsc_hz);
    }
out:
    free(services);
    session_close(&session);
    return rc;
}

/* ---- logs ---------------------------------------------------------------- */

enum { OPT_BYTES = OPT_COMMAND };

static int logs_option(void *ctx, int opt, const char *arg)
{
    unsigned long long v;

    if (opt != OPT_BYTES)
        return EXIT_USAGE;
    if (number_parse(arg, 1, UINT32_MAX, &v) < 0)
        return usage_error("logs", "--bytes takes a number from 1, not '%s'", arg);
    ((struct mf_ctl_logs *)ctx)->max_bytes = (uint32_t)v;
    return -1;
}

int cmd_logs(int argc, char **argv)
{
    static const struct option own[] = {
        { "bytes", required_argument, NULL, OPT_BYTES },
        { NULL, 0, NULL, 0 },
    };
    struct mf_ctl_logs req = { .max_bytes = LOGS_TEXT_MAX };
    struct mf_ctl_logs_reply r;
    struct live_options o;
    const char *text;
    char what[32];
    int rc;

    if ((rc = live_parse("logs", argc, argv, own, logs_option, &req, &o)) >= 0)
        return rc;
    if (optind >= argc)
        return usage_error("logs", "no guest id given: mfctl logs --control SOCKET ID (0: the "
                           "hypervisor's own lines)");
    if (optind + 1 < argc)
        return usage_error("logs", "one guest id at a time, not '%s' too", argv[optind + 1]);
    if ((rc = id_parse("logs", argv[optind], 0, &req.id)) != 0)
        return rc;
    if ((rc = session_open(&session, "logs", &o)) != 0)
        goto out;
    snprintf(what, sizeof(what), "logs %u", req.id);
    if ((rc = session_call(&session, MF_CTL_LOGS, &req, sizeof(req), sizeof(r), what)) != 0)
        goto out;
    memcpy(&r, session.reply.payload, sizeof(r));
    if (r.length > session.reply.hdr.length - sizeof(r)) {
        error_say("logs: protocol error: %u bytes of text announced, %zu came", r.length,
                  session.reply.hdr.length - sizeof(r));
        rc = EXIT_CONNECT;
        goto out;
    }
    text = (const char *)session.reply.payload + sizeof(r);
    if (o.json) {
        printf("{\"id\":%u,\"truncated\":%s,\"text\":", req.id, r.truncated ? "true" : "false");
        json_string(stdout, text, r.length);
        puts("}");
    } else {
        fwrite(text, 1, r.length, stdout);
        if (r.truncated)
            note_say("(older lines of %s %u were dropped; the hypervisor keeps the latest)",
                     req.id ? "guest" : "log", req.id);
    }
out:
    session_close(&session);
    return rc;
}
