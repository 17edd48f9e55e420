#include "config.h"
#include "fmt.h"
#include "lib.h"

/* Words on a line: a guest line may map CONFIG_DEVICES_MAX devices and
 * give each a sector size besides its own options. */
#define MAX_WORDS 32

#define SECTOR_SIZE_MIN 512
#define SECTOR_SIZE_MAX 32768

/* One line split into words; a word may be key="quoted value". */
struct line {
    uint32_t number;
    uint32_t word_count;
    char *words[MAX_WORDS];
    char text[CONFIG_LINE_MAX];
};

static int fail(struct config_error *err, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct config_error *err, uint32_t line, const char *fmt, ...)
{
    va_list ap;

    err->line = line;
    va_start(ap, fmt);
    fmt_vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* Whether s is 1 to max - 1 name characters; reads at most max bytes,
 * so a field of max bytes without its NUL is refused, not overrun. */
static int valid_name(const char *s, size_t max)
{
    size_t n = 0;
    for (; n < max && s[n]; n++)
        if (!is_name_char(s[n]))
            return 0;
    return n > 0 && n < max;
}

/* A device name as Solo5 manifests have them: [A-Za-z0-9]{1,67}, read
 * like valid_name. */
static int valid_device_name(const char *s)
{
    size_t n = 0;
    for (; n < CONFIG_DEVICE_NAME_MAX && s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
              (s[n] >= '0' && s[n] <= '9')))
            return 0;
    return n > 0 && n < CONFIG_DEVICE_NAME_MAX;
}

/* A block device's sector size: 0 (512) or a power of two 512..32768. */
static int valid_sector_size(uint32_t v)
{
    return v == 0 || (v >= SECTOR_SIZE_MIN && v <= SECTOR_SIZE_MAX && !(v & (v - 1)));
}

int config_parse_size(const char *s, uint64_t *out)
{
    uint64_t v = 0, mult = 1;

    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        uint64_t digit = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    if (*s == 'K' || *s == 'k')
        mult = 1024;
    else if (*s == 'M' || *s == 'm')
        mult = 1024 * 1024;
    else if (*s == 'G' || *s == 'g')
        mult = 1024ULL * 1024 * 1024;
    if (mult > 1)
        s++;
    if (*s == 'i' && s[1] == 'B' && mult > 1)
        s += 2;
    if (*s || v > UINT64_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int parse_count(const char *s, uint32_t *out)
{
    uint64_t v;
    if (!all_digits(s) || config_parse_size(s, &v) < 0 || v == 0 || v > PARTITION_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Splits ln->text into words in place; "..." keeps spaces inside a word. */
static int split_words(struct line *ln, struct config_error *err)
{
    char *p = ln->text;

    ln->word_count = 0;
    for (;;) {
        while (is_space(*p))
            p++;
        if (!*p || *p == '#')
            return 0;
        if (ln->word_count == MAX_WORDS)
            return fail(err, ln->number, "too many words (at most %d)", MAX_WORDS);
        ln->words[ln->word_count++] = p;
        while (*p && !is_space(*p)) {
            if (*p == '"') {
                char *close = p + 1;
                while (*close && *close != '"')
                    close++;
                if (!*close)
                    return fail(err, ln->number, "unterminated quote");
                p = close;
            }
            p++;
        }
        if (*p)
            *p++ = '\0';
    }
}

/* Copies the value of key=value into dst, stripping surrounding quotes. */
static int take_value(const struct line *ln, const char *word, const char *value,
                      char *dst, size_t size, struct config_error *err)
{
    size_t n = strlen(value);

    if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
        value++;
        n -= 2;
    }
    if (n >= size)
        return fail(err, ln->number, "value of '%s' is too long (at most %zu characters)",
                    word, size - 1);
    memcpy(dst, value, n);
    dst[n] = '\0';
    return 0;
}

static int parse_partition(const struct line *ln, struct config *cfg, struct config_error *err)
{
    struct config_class *c;
    uint64_t size;
    uint32_t count;

    if (ln->word_count != 5 || strcmp(ln->words[3], "x") != 0)
        return fail(err, ln->number, "expected 'partition <class> <size> x <count>'");
    if (!valid_name(ln->words[1], CONFIG_NAME_MAX))
        return fail(err, ln->number, "bad class name '%s' (letters, digits, '_', '-', '.'; "
                    "at most %d characters)", ln->words[1], CONFIG_NAME_MAX - 1);
    if (config_find_class(cfg, ln->words[1]) >= 0)
        return fail(err, ln->number, "class '%s' is declared twice (first on line %u): keep "
                    "one partition line per class", ln->words[1],
                    cfg->classes[config_find_class(cfg, ln->words[1])].line);
    if (cfg->class_count == CONFIG_MAX_CLASSES)
        return fail(err, ln->number, "too many partition classes (at most %d)",
                    CONFIG_MAX_CLASSES);
    if (config_parse_size(ln->words[2], &size) < 0 || size == 0)
        return fail(err, ln->number, "bad size '%s' (write e.g. 2M, 64M or 1G)", ln->words[2]);
    if (size % PARTITION_ALIGN)
        return fail(err, ln->number, "partition size '%s' is not a multiple of 2 MiB",
                    ln->words[2]);
    if (parse_count(ln->words[4], &count) < 0)
        return fail(err, ln->number, "bad count '%s' (a number from 1 to %d)",
                    ln->words[4], PARTITION_MAX);
    if (config_partition_total(cfg) + count > PARTITION_MAX)
        return fail(err, ln->number, "more than %d partitions in all", PARTITION_MAX);
    c = &cfg->classes[cfg->class_count++];
    str_copy(c->name, ln->words[1], sizeof(c->name));
    c->size = size;
    c->count = count;
    c->line = ln->number;
    return 0;
}

/* Adds switch name to the config's list if it is not there yet; returns
 * its index, or -1. */
static int add_switch(const struct line *ln, struct config *cfg, const char *name,
                      struct config_error *err)
{
    int i;

    if (!valid_name(name, SWITCH_NAME_MAX))
        return fail(err, ln->number, "bad switch name '%s' (letters, digits, '_', '-', '.'; at "
                    "most %d characters)", name, SWITCH_NAME_MAX - 1);
    i = config_find_switch(cfg, name);
    if (i >= 0)
        return i;
    if (cfg->switch_count == CONFIG_SWITCHES_MAX)
        return fail(err, ln->number, "too many switches (at most %d)", CONFIG_SWITCHES_MAX);
    str_copy(cfg->switches[cfg->switch_count], name, SWITCH_NAME_MAX);
    return (int)cfg->switch_count++;
}

/* switch <name>: a switch for guests started later over the control
 * channel. One switch line per switch; a net= that names it too is fine. */
static int parse_switch(const struct line *ln, struct config *cfg, struct config_error *err)
{
    int i;

    if (ln->word_count != 2)
        return fail(err, ln->number, "expected 'switch <name>'");
    i = add_switch(ln, cfg, ln->words[1], err);
    if (i < 0)
        return -1;
    if (cfg->switch_lines[i])
        return fail(err, ln->number, "switch '%s' is declared twice (first on line %u)",
                    ln->words[1], cfg->switch_lines[i]);
    cfg->switch_lines[i] = ln->number;
    return 0;
}

static int hex_value(char c);

int config_parse_mac(const char *s, uint8_t mac[6])
{
    uint8_t any = 0;

    for (uint32_t i = 0; i < 6; i++, s += 3) {
        int hi = hex_value(s[0]), lo = hi < 0 ? -1 : hex_value(s[1]);
        if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
            return -1;
        mac[i] = (uint8_t)(hi << 4 | lo);
        any |= mac[i];
    }
    return (mac[0] & 1u) || !any ? -1 : 0;
}

int config_parse_ipv4(const char *s, uint32_t *out)
{
    uint32_t v = 0;

    for (uint32_t i = 0; i < 4; i++) {
        uint32_t part = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            part = part * 10 + (uint32_t)(*s++ - '0');
            digits++;
        }
        if (!digits || digits > 3 || part > 255 || *s != (i == 3 ? '\0' : '.'))
            return -1;
        if (i < 3)
            s++;
        v = v << 8 | part;
    }
    *out = v;
    return 0;
}

/* An address a host may have: not 0.0.0.0, not loopback, multicast or
 * the broadcast address. */
static int ipv4_unicast(uint32_t a)
{
    return a != 0 && (a >> 24) != 127 && (a >> 24) < 224;
}

/* pci=BB:DD.F, hex bus and device, a function 0-7. */
static int parse_pci(const char *s, struct config_uplink *u)
{
    int b1 = hex_value(s[0]), b2 = b1 < 0 ? -1 : hex_value(s[1]);
    int d1 = hex_value(s[3]), d2 = d1 < 0 ? -1 : hex_value(s[4]);

    if (b2 < 0 || s[2] != ':' || d2 < 0 || s[5] != '.' || s[6] < '0' || s[6] > '7' || s[7])
        return -1;
    u->bus = (uint8_t)(b1 << 4 | b2);
    u->dev = (uint8_t)(d1 << 4 | d2);
    u->fn = (uint8_t)(s[6] - '0');
    u->has_pci = 1;
    return u->dev < 32 ? 0 : -1;
}

/* uplink <switch> [pci=BB:DD.F] [mac=...]: one per switch. */
static int parse_uplink(const struct line *ln, struct config *cfg, struct config_error *err)
{
    struct config_uplink *u;
    int sw;

    if (ln->word_count < 2 || ln->word_count > 4)
        return fail(err, ln->number, "expected 'uplink <switch> [pci=BB:DD.F] [mac=...]'");
    if (cfg->uplink_count == CONFIG_UPLINKS_MAX)
        return fail(err, ln->number, "too many uplink lines (at most %d)", CONFIG_UPLINKS_MAX);
    sw = add_switch(ln, cfg, ln->words[1], err);
    if (sw < 0)
        return -1;
    for (uint32_t i = 0; i < cfg->uplink_count; i++)
        if (!strcmp(cfg->uplinks[i].sw, ln->words[1]))
            return fail(err, ln->number, "switch '%s' has an uplink already (line %u): one "
                        "NIC per switch", ln->words[1], cfg->uplinks[i].line);
    u = &cfg->uplinks[cfg->uplink_count];
    memset(u, 0, sizeof(*u));
    str_copy(u->sw, ln->words[1], sizeof(u->sw));
    u->line = ln->number;
    for (uint32_t i = 2; i < ln->word_count; i++) {
        const char *w = ln->words[i];
        if (!strncmp(w, "pci=", 4) && !u->has_pci) {
            if (parse_pci(w + 4, u) < 0)
                return fail(err, ln->number, "bad pci '%s' (bus:device.function in hex, like "
                            "pci=00:03.0)", w + 4);
        } else if (!strncmp(w, "mac=", 4) && !u->has_mac) {
            if (config_parse_mac(w + 4, u->mac) < 0)
                return fail(err, ln->number, "bad mac '%s' (six hex bytes like "
                            "52:54:00:12:34:56, not a group address, not all zeros)", w + 4);
            u->has_mac = 1;
        } else {
            return fail(err, ln->number, "unexpected '%s' on the uplink line (expected pci= "
                        "and mac=, each once)", w);
        }
    }
    cfg->uplink_count++;
    return 0;
}

/* net=a,b: one port per switch; naming a switch declares it. */
static int parse_nets(const struct line *ln, struct config *cfg, struct config_guest *g,
                      char *list, struct config_error *err)
{
    char *name = list;

    for (;;) {
        char *end = name;
        char saved;
        while (*end && *end != ',')
            end++;
        saved = *end;
        *end = '\0';
        if (add_switch(ln, cfg, name, err) < 0)
            return -1;
        if (g->net_count == CONFIG_NETS_MAX)
            return fail(err, ln->number, "too many ports in net= (at most %d)",
                        CONFIG_NETS_MAX);
        for (uint32_t i = 0; i < g->net_count; i++)
            if (!strcmp(g->nets[i], name))
                return fail(err, ln->number, "switch '%s' named twice in net=", name);
        str_copy(g->nets[g->net_count++], name, SWITCH_NAME_MAX);
        if (!saved)
            return 0;
        name = end + 1;
    }
}

/* The options of a guest line, in the order of the "unknown option" message. */
static const char *const guest_options[] = { "image", "class", "count", "args", "timeout", "net",
                                             "cpu", "mac" };

/* Index of option key in guest_options, or -1. */
static int guest_option_index(const char *key)
{
    for (uint32_t i = 0; i < sizeof(guest_options) / sizeof(guest_options[0]); i++)
        if (!strcmp(key, guest_options[i]))
            return (int)i;
    return -1;
}

/* What a guest line has said so far: a bit per option given (a repeat is
 * refused instead of winning), and the block-sector-size: values, which
 * may come before their block: and are applied once the line is read. */
struct guest_parse {
    uint32_t given;
    uint32_t size_count;
    struct {
        const char *device;
        uint32_t size;
    } sizes[MAX_WORDS];
};

/* Index of the device called name on line g, or -1. */
static int guest_device(const struct config_guest *g, const char *name)
{
    for (uint32_t i = 0; i < g->device_count && i < CONFIG_DEVICES_MAX; i++)
        if (!strncmp(g->devices[i].name, name, CONFIG_DEVICE_NAME_MAX))
            return (int)i;
    return -1;
}

/* net:<device>=<switch> or block:<device>=<file>: one of the devices a
 * Solo5 image's manifest declares. A net: target is a switch as net=
 * names one; a block: target a file as image= does. */
static int parse_device(const struct line *ln, struct config *cfg, struct config_guest *g,
                        uint32_t kind, const char *name, const char *value,
                        struct config_error *err)
{
    const char *prefix = kind == CONFIG_DEVICE_NET ? "net" : "block";
    struct config_device *d;

    if (!valid_device_name(name))
        return fail(err, ln->number, "bad %s: device name '%s' (letters and digits, 1 to "
                    "%d characters, as the image's manifest names it)", prefix, name,
                    CONFIG_DEVICE_NAME_MAX - 1);
    if (guest_device(g, name) >= 0)
        return fail(err, ln->number, "device '%s' is mapped twice on this line: map each "
                    "device once (net:%s=... or block:%s=...)", name, name, name);
    if (g->device_count == CONFIG_DEVICES_MAX)
        return fail(err, ln->number, "too many devices (at most %d net: and block: mappings "
                    "a line)", CONFIG_DEVICES_MAX);
    d = &g->devices[g->device_count];
    memset(d, 0, sizeof(*d));
    d->kind = kind;
    str_copy(d->name, name, sizeof(d->name));
    if (kind == CONFIG_DEVICE_NET) {
        if (add_switch(ln, cfg, value, err) < 0)
            return -1;
        str_copy(d->target, value, sizeof(d->target));
    } else {
        if (take_value(ln, "block", value, d->target, sizeof(d->target), err) < 0)
            return -1;
        if (!valid_name(d->target, BOOT_NAME_MAX))
            return fail(err, ln->number, "block:%s needs a file name (letters, digits, '_', "
                        "'-', '.'), as image= takes one: block:%s=disk.img", name, name);
    }
    g->device_count++;
    return 0;
}

/* block-sector-size:<device>=<n>: kept until the line is read. */
static int parse_sector_size(const struct line *ln, struct guest_parse *gp, const char *device,
                             const char *value, struct config_error *err)
{
    uint64_t v;

    for (uint32_t i = 0; i < gp->size_count; i++)
        if (!strcmp(gp->sizes[i].device, device))
            return fail(err, ln->number, "block-sector-size:%s is given twice: keep one",
                        device);
    if (!all_digits(value) || config_parse_size(value, &v) < 0 || v > SECTOR_SIZE_MAX ||
        !v || !valid_sector_size((uint32_t)v))
        return fail(err, ln->number, "bad sector size '%s' in block-sector-size:%s (a power "
                    "of two from %d to %d)", value, device, SECTOR_SIZE_MIN, SECTOR_SIZE_MAX);
    gp->sizes[gp->size_count].device = device;
    gp->sizes[gp->size_count++].size = (uint32_t)v;
    return 0;
}

/* Gives each block device its sector size, once the whole line is read. */
static int apply_sector_sizes(const struct line *ln, struct config_guest *g,
                              const struct guest_parse *gp, struct config_error *err)
{
    for (uint32_t i = 0; i < gp->size_count; i++) {
        const char *name = gp->sizes[i].device;
        int k = guest_device(g, name);
        struct config_device *d = k >= 0 ? &g->devices[k] : NULL;
        if (!d)
            return fail(err, ln->number, "block-sector-size:%s names no device of this line: "
                        "map it with block:%s=<file>", name, name);
        if (d->kind != CONFIG_DEVICE_BLOCK)
            return fail(err, ln->number, "block-sector-size:%s names a net: device; only "
                        "block devices have a sector size", name);
        d->sector_size = gp->sizes[i].size;
    }
    return 0;
}

/* A key with a ':' (net:<device>, block:<device>, block-sector-size:<device>). */
static int device_option(const struct line *ln, struct config *cfg, struct config_guest *g,
                         struct guest_parse *gp, char *key, char *colon, const char *value,
                         struct config_error *err)
{
    *colon = '\0';
    if (!strcmp(key, "net"))
        return parse_device(ln, cfg, g, CONFIG_DEVICE_NET, colon + 1, value, err);
    if (!strcmp(key, "block"))
        return parse_device(ln, cfg, g, CONFIG_DEVICE_BLOCK, colon + 1, value, err);
    if (!strcmp(key, "block-sector-size"))
        return parse_sector_size(ln, gp, colon + 1, value, err);
    return fail(err, ln->number, "unknown guest option '%s:%s' (expected net:<device>, "
                "block:<device> or block-sector-size:<device>)", key, colon + 1);
}

/* One key=value of a guest line. */
static int guest_option(const struct line *ln, struct config *cfg, struct config_guest *g,
                        char *word, struct guest_parse *gp, struct config_error *err)
{
    char *eq = word, *colon;
    int opt;

    while (*eq && *eq != '=')
        eq++;
    if (!*eq)
        return fail(err, ln->number, "expected key=value, got '%s'", word);
    *eq = '\0';
    for (colon = word; colon < eq && *colon != ':'; colon++)
        ;
    if (colon < eq)
        return device_option(ln, cfg, g, gp, word, colon, eq + 1, err);
    opt = guest_option_index(word);
    if (opt >= 0 && (gp->given & (1u << opt)))
        return fail(err, ln->number, "guest option '%s' is given twice%s", word,
                    strcmp(word, "net") ? ": keep one" : ": name every switch in one "
                    "net=<switch>,<switch>");
    if (opt >= 0)
        gp->given |= 1u << opt;
    if (!strcmp(word, "image"))
        return take_value(ln, word, eq + 1, g->image, sizeof(g->image), err);
    if (!strcmp(word, "class"))
        return take_value(ln, word, eq + 1, g->class_name, sizeof(g->class_name), err);
    if (!strcmp(word, "args"))
        return take_value(ln, word, eq + 1, g->args, sizeof(g->args), err);
    if (!strcmp(word, "net"))
        return parse_nets(ln, cfg, g, eq + 1, err);
    if (!strcmp(word, "timeout")) {
        if (!all_digits(eq + 1) || config_parse_size(eq + 1, &g->timeout_ms) < 0 ||
            g->timeout_ms == 0 ||
            g->timeout_ms > CONFIG_TIMEOUT_MAX_MS)
            return fail(err, ln->number, "bad timeout '%s' (milliseconds, e.g. timeout=500)",
                        eq + 1);
        return 0;
    }
    if (!strcmp(word, "mac")) {
        if (config_parse_mac(eq + 1, g->mac) < 0)
            return fail(err, ln->number, "bad mac '%s' (six hex bytes like 02:00:00:00:00:01, "
                        "not a group address, not all zeros)", eq + 1);
        g->has_mac = 1;
        return 0;
    }
    if (!strcmp(word, "cpu")) {
        uint64_t v;
        if (!all_digits(eq + 1) || config_parse_size(eq + 1, &v) < 0 || v >= CPU_MAX)
            return fail(err, ln->number, "bad cpu '%s' (a CPU index from 0 to %d: cpu=0 is "
                        "the boot CPU)", eq + 1, CPU_MAX - 1);
        g->cpu = (uint32_t)v + 1;
        return 0;
    }
    if (!strcmp(word, "count")) {
        if (parse_count(eq + 1, &g->count) < 0)
            return fail(err, ln->number, "bad count '%s' (a number from 1 to %d)",
                        eq + 1, PARTITION_MAX);
        return 0;
    }
    return fail(err, ln->number, "unknown guest option '%s' (expected image, class, "
                "count, args, timeout, net, cpu, mac, net:<device>, block:<device> or "
                "block-sector-size:<device>)", word);
}

static int check_devices(const struct config *cfg, const struct config_guest *g, char *why,
                         size_t n);

static int parse_guest(const struct line *ln, struct config *cfg, struct config_error *err)
{
    static struct guest_parse gp;
    struct config_guest *g;
    char why[sizeof(err->message)];

    if (ln->word_count < 3)
        return fail(err, ln->number, "expected 'guest <name> image=<file> [class=<class>] "
                    "[count=N] [args=\"...\"] [timeout=<ms>] [net=<switch>,...] [cpu=N]'");
    if (!valid_name(ln->words[1], CONFIG_NAME_MAX))
        return fail(err, ln->number, "bad guest name '%s'", ln->words[1]);
    if (cfg->guest_count == CONFIG_MAX_GUESTS)
        return fail(err, ln->number, "too many guest lines (at most %d)", CONFIG_MAX_GUESTS);
    for (uint32_t i = 0; i < cfg->guest_count; i++)
        if (!strcmp(cfg->guests[i].name, ln->words[1]))
            return fail(err, ln->number, "guest '%s' is declared twice (first on line %u): "
                        "give each guest line its own name", ln->words[1],
                        cfg->guests[i].line);
    g = &cfg->guests[cfg->guest_count];
    memset(g, 0, sizeof(*g));
    memset(&gp, 0, sizeof(gp));
    str_copy(g->name, ln->words[1], sizeof(g->name));
    g->count = 1;
    g->line = ln->number;
    for (uint32_t i = 2; i < ln->word_count; i++)
        if (guest_option(ln, cfg, g, ln->words[i], &gp, err) < 0)
            return -1;
    if (!g->image[0] || !valid_name(g->image, BOOT_NAME_MAX))
        return fail(err, ln->number, "guest '%s' needs image=<file> (a plain file name)",
                    g->name);
    if (g->has_mac && g->count != 1)
        return fail(err, ln->number, "guest '%s': mac= gives one address, so it needs count=1 "
                    "(each instance would have the same MAC)", g->name);
    if (apply_sector_sizes(ln, g, &gp, err) < 0)
        return -1;
    if (check_devices(cfg, g, why, sizeof(why)) < 0)
        return fail(err, ln->number, "guest '%s': %s", g->name, why);
    cfg->guest_count++;
    return 0;
}

uint32_t config_image_lines(const struct config *cfg)
{
    return cfg->guest_count + cfg->summon_count;
}

const struct config_guest *config_image_line(const struct config *cfg, uint32_t i)
{
    return i < cfg->guest_count ? &cfg->guests[i] : &cfg->summons[i - cfg->guest_count].guest;
}

uint32_t config_summon_nets(const struct config_guest *g)
{
    uint32_t n = g->net_count;

    for (uint32_t i = 0; i < g->device_count; i++)
        n += g->devices[i].kind == CONFIG_DEVICE_NET;
    return n;
}

const char *config_summon_switch(const struct config_guest *g)
{
    if (g->net_count)
        return g->nets[0];
    for (uint32_t i = 0; i < g->device_count; i++)
        if (g->devices[i].kind == CONFIG_DEVICE_NET)
            return g->devices[i].target;
    return "";
}

/* A summon line's own options (ip, port, idle, max); 1 if word was one
 * of them (0, or -1 on error, in *r), 0 to try it as a guest option. */
static int summon_option(const struct line *ln, struct config_summon *s, const char *word,
                         uint32_t *given, int *r, struct config_error *err)
{
    static const char *const own[] = { "ip=", "port=", "idle=", "max=" };
    uint64_t v;
    uint32_t i = 0;

    while (i < 4 && strncmp(word, own[i], strlen(own[i])))
        i++;
    if (i == 4)
        return 0;
    *r = -1;
    if (*given & (1u << i))
        return fail(err, ln->number, "summon option '%.*s' is given twice: keep one",
                    (int)strlen(own[i]) - 1, own[i]), 1;
    *given |= 1u << i;
    word += strlen(own[i]);
    if (i == 0) {
        if (config_parse_ipv4(word, &s->ip) < 0 || !ipv4_unicast(s->ip))
            return fail(err, ln->number, "bad ip '%s' (a unicast IPv4 address like "
                        "ip=10.0.0.9: not 0.0.0.0, 127.x, multicast or broadcast)", word), 1;
    } else if (!all_digits(word) || config_parse_size(word, &v) < 0 ||
               (i == 1 && (v == 0 || v > 65535)) ||
               (i == 2 && (v == 0 || v > CONFIG_TIMEOUT_MAX_MS)) ||
               (i == 3 && (v == 0 || v > SUMMON_INSTANCES_MAX))) {
        if (i == 1)
            return fail(err, ln->number, "bad port '%s' (a TCP or UDP port, 1 to 65535)",
                        word), 1;
        if (i == 2)
            return fail(err, ln->number, "bad idle '%s' (milliseconds without a frame before "
                        "an instance is stopped, e.g. idle=2000)", word), 1;
        return fail(err, ln->number, "bad max '%s' (instances at once, 1 to %d)", word,
                    SUMMON_INSTANCES_MAX), 1;
    } else if (i == 1) {
        s->port = (uint16_t)v;
    } else if (i == 2) {
        s->idle_ms = (uint32_t)v;
    } else {
        s->max = (uint32_t)v;
    }
    *r = 0;
    return 1;
}

/* summon <name> image=<file> ip=<a.b.c.d> [port=N] [idle=ms] [max=N] and
 * any guest option but count= (max= says how many). */
static int parse_summon(const struct line *ln, struct config *cfg, struct config_error *err)
{
    static struct guest_parse gp;
    struct config_summon *s;
    struct config_guest *g;
    uint32_t given = 0;

    if (ln->word_count < 4)
        return fail(err, ln->number, "expected 'summon <name> image=<file> ip=<a.b.c.d> "
                    "[port=N] [idle=<ms>] [max=N] [net=<switch>] [class=<class>] "
                    "[args=\"...\"] [mac=...]'");
    if (!valid_name(ln->words[1], CONFIG_NAME_MAX))
        return fail(err, ln->number, "bad service name '%s'", ln->words[1]);
    if (cfg->summon_count == CONFIG_SUMMONS_MAX)
        return fail(err, ln->number, "too many summon lines (at most %d)", CONFIG_SUMMONS_MAX);
    for (uint32_t i = 0; i < cfg->guest_count; i++)
        if (!strcmp(cfg->guests[i].name, ln->words[1]))
            return fail(err, ln->number, "'%s' is a guest line's name already (line %u): give "
                        "the service its own name", ln->words[1], cfg->guests[i].line);
    for (uint32_t i = 0; i < cfg->summon_count; i++)
        if (!strcmp(cfg->summons[i].guest.name, ln->words[1]))
            return fail(err, ln->number, "service '%s' is declared twice (first on line %u)",
                        ln->words[1], cfg->summons[i].guest.line);
    s = &cfg->summons[cfg->summon_count];
    memset(s, 0, sizeof(*s));
    memset(&gp, 0, sizeof(gp));
    g = &s->guest;
    str_copy(g->name, ln->words[1], sizeof(g->name));
    g->count = 1;
    g->line = ln->number;
    s->idle_ms = SUMMON_IDLE_DEFAULT_MS;
    s->max = 1;
    for (uint32_t i = 2; i < ln->word_count; i++) {
        int r = 0;
        if (summon_option(ln, s, ln->words[i], &given, &r, err)) {
            if (r < 0)
                return -1;
            continue;
        }
        if (!strncmp(ln->words[i], "count=", 6))
            return fail(err, ln->number, "a summon line takes max=N (instances at once), not "
                        "count=");
        if (guest_option(ln, cfg, g, ln->words[i], &gp, err) < 0)
            return -1;
    }
    if (!(given & 1u))
        return fail(err, ln->number, "service '%s' needs ip=<a.b.c.d>: the address its "
                    "first frame is sent to", g->name);
    if (!g->image[0] || !valid_name(g->image, BOOT_NAME_MAX))
        return fail(err, ln->number, "service '%s' needs image=<file> (a plain file name)",
                    g->name);
    if (config_summon_nets(g) > 1)
        return fail(err, ln->number, "service '%s': its instances have one port, on the "
                    "service's switch: name one net=<switch> (a Solo5 image: one "
                    "net:<device>=<switch>)", g->name);
    for (uint32_t i = 0; i < cfg->summon_count; i++)
        if (cfg->summons[i].ip == s->ip)
            return fail(err, ln->number, "service '%s' has the address of service '%s' (line "
                        "%u): one service per address", g->name, cfg->summons[i].guest.name,
                        cfg->summons[i].guest.line);
    if (!g->has_mac) {
        static const uint8_t base[6] = { 0x02, 0x4d, 0x53, 0, 0, 0 };
        memcpy(g->mac, base, 6);
        g->mac[5] = (uint8_t)(cfg->summon_count + 1);
        g->has_mac = 1;
    }
    cfg->summon_count++;
    return 0;
}

static int parse_poweroff(const struct line *ln, struct config *cfg, struct config_error *err)
{
    if (cfg->poweroff_line)
        return fail(err, ln->number, "a second poweroff line (the first is line %u): keep one",
                    cfg->poweroff_line);
    cfg->poweroff_line = ln->number;
    if (ln->word_count == 2 && !strcmp(ln->words[1], "when-idle"))
        cfg->poweroff_when_idle = 1;
    else if (ln->word_count == 2 && !strcmp(ln->words[1], "never"))
        cfg->poweroff_when_idle = 0;
    else
        return fail(err, ln->number, "expected 'poweroff when-idle' or 'poweroff never'");
    return 0;
}

/* cpus <N|all>: the most CPUs to bring up, the boot CPU included. */
static int parse_cpus(const struct line *ln, struct config *cfg, struct config_error *err)
{
    uint64_t v;

    if (cfg->cpus_line)
        return fail(err, ln->number, "a second cpus line (the first is line %u): keep one",
                    cfg->cpus_line);
    cfg->cpus_line = ln->number;
    if (ln->word_count == 2 && !strcmp(ln->words[1], "all")) {
        cfg->max_cpus = 0;
        return 0;
    }
    if (ln->word_count != 2 || !all_digits(ln->words[1]) ||
        config_parse_size(ln->words[1], &v) < 0 || v == 0 || v > CONFIG_CPUS_MAX)
        return fail(err, ln->number, "expected 'cpus all' or 'cpus <N>' with N from 1 to %d",
                    CONFIG_CPUS_MAX);
    cfg->max_cpus = (uint32_t)v;
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int parse_key(const struct line *ln, struct config *cfg, const char *hex,
                     struct config_error *err)
{
    size_t n = strlen(hex);

    if (n < 32 || n % 2 || n / 2 > CONFIG_KEY_MAX)
        return fail(err, ln->number, "key= needs 16 to %d bytes as hex digits (32 to %d "
                    "characters)", CONFIG_KEY_MAX, 2 * CONFIG_KEY_MAX);
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return fail(err, ln->number, "key= is not hex: '%c%c'", hex[i], hex[i + 1]);
        cfg->key[i / 2] = (uint8_t)(hi * 16 + lo);
    }
    cfg->key_len = (uint32_t)(n / 2);
    return 0;
}

/* store= or key= of a control line: each once over all control lines
 * (they belong to the one control server). 1 when w was one of them, 0
 * when it is something else, -1 on an error. */
static int control_common_option(const struct line *ln, struct config *cfg, const char *w,
                                 struct config_error *err)
{
    if (!strncmp(w, "store=", 6)) {
        if (cfg->store_line)
            return fail(err, ln->number, "control option 'store' is given twice (first on "
                        "line %u): keep one", cfg->store_line);
        cfg->store_line = ln->number;
        if (config_parse_size(w + 6, &cfg->store_size) < 0 || cfg->store_size < PAGE_SIZE ||
            cfg->store_size > STORE_MAX)
            return fail(err, ln->number, "bad store size '%s' (e.g. store=16M, at most 1G)",
                        w + 6);
        return 1;
    }
    if (!strncmp(w, "key=", 4)) {
        if (cfg->key_line)
            return fail(err, ln->number, "control option 'key' is given twice (first on line "
                        "%u): keep one", cfg->key_line);
        cfg->key_line = ln->number;
        return parse_key(ln, cfg, w + 4, err) < 0 ? -1 : 1;
    }
    return 0;
}

/* A control line of either kind turns the control server on. */
static void control_enable(struct config *cfg)
{
    if (!cfg->control && !cfg->store_line)
        cfg->store_size = STORE_DEFAULT;
    cfg->control = 1;
}

/* control com2 [store=<size>] [key=<hex>] */
static int parse_control_com2(const struct line *ln, struct config *cfg,
                              struct config_error *err)
{
    if (cfg->control_line)
        return fail(err, ln->number, "a second control line for com2 (the first is line "
                    "%u): put store= and key= on one control line", cfg->control_line);
    control_enable(cfg);
    cfg->control_line = ln->number;
    for (uint32_t i = 2; i < ln->word_count; i++) {
        int r = control_common_option(ln, cfg, ln->words[i], err);
        if (r < 0)
            return -1;
        if (!r)
            return fail(err, ln->number, "unknown control option '%s' (expected store or key)",
                        ln->words[i]);
    }
    return 0;
}

/* ip=, mask= or gw= of a control net line. */
static int control_net_address(const struct line *ln, const char *w, const char *what,
                               uint8_t out[4], int *given, struct config_error *err)
{
    uint32_t m;

    if ((*given)++)
        return fail(err, ln->number, "control net option '%s' is given twice: keep one", what);
    if (config_parse_ipv4(w, &m) < 0)
        return fail(err, ln->number, "bad %s '%s' (four numbers 0-255 like 10.0.0.2)", what, w);
    for (uint32_t i = 0; i < 4; i++)
        out[i] = (uint8_t)(m >> (24 - 8 * i));
    if (!strcmp(what, "mask") ? (m & (~m >> 1)) != 0 || !m : !ipv4_unicast(m))
        return fail(err, ln->number, "bad %s '%s' (%s)", what, w,
                    !strcmp(what, "mask") ? "a run of ones from the top, like 255.255.255.0"
                                          : "a unicast address: not 0.0.0.0, 127.x, multicast "
                                            "or broadcast");
    return 0;
}

/* What a control net line says beside its switch: counts of each option
 * given (each at most once). */
struct control_net_parse {
    int ip, port, mask, gw, mac, class_name;
};

static int control_net_option(const struct line *ln, struct config *cfg,
                              struct control_net_parse *np, const char *w,
                              struct config_error *err)
{
    struct config_control_net *c = &cfg->control_net;
    uint64_t v;
    int r = control_common_option(ln, cfg, w, err);

    if (r)
        return r < 0 ? -1 : 0;
    if (!strncmp(w, "ip=", 3))
        return control_net_address(ln, w + 3, "ip", c->ip, &np->ip, err);
    if (!strncmp(w, "mask=", 5))
        return control_net_address(ln, w + 5, "mask", c->mask, &np->mask, err);
    if (!strncmp(w, "gw=", 3))
        return control_net_address(ln, w + 3, "gw", c->gw, &np->gw, err);
    if (!strncmp(w, "port=", 5)) {
        if (np->port++)
            return fail(err, ln->number, "control net option 'port' is given twice: keep one");
        if (!all_digits(w + 5) || config_parse_size(w + 5, &v) < 0 || v == 0 || v > 65535)
            return fail(err, ln->number, "bad port '%s' (a TCP port from 1 to 65535)", w + 5);
        c->port = (uint16_t)v;
        return 0;
    }
    if (!strncmp(w, "mac=", 4)) {
        if (np->mac++)
            return fail(err, ln->number, "control net option 'mac' is given twice: keep one");
        if (config_parse_mac(w + 4, c->mac) < 0)
            return fail(err, ln->number, "bad mac '%s' (six hex bytes like 52:54:00:12:34:56, "
                        "not a group address, not all zeros)", w + 4);
        c->has_mac = 1;
        return 0;
    }
    if (!strncmp(w, "class=", 6)) {
        if (np->class_name++)
            return fail(err, ln->number, "control net option 'class' is given twice: keep one");
        if (!valid_name(w + 6, CONFIG_NAME_MAX))
            return fail(err, ln->number, "bad class name '%s'", w + 6);
        str_copy(c->class_name, w + 6, sizeof(c->class_name));
        return 0;
    }
    return fail(err, ln->number, "unknown control net option '%s' (expected ip, port, mask, "
                "gw, mac, class, store or key)", w);
}

/* Whether word is key=value (where a name was expected). */
static int has_equals(const char *w)
{
    for (; *w; w++)
        if (*w == '=')
            return 1;
    return 0;
}

/* control net <switch> ip=A.B.C.D port=N [mask=] [gw=] [mac=] [class=]
 * [store=] [key=]: the switch, class and key are checked once the whole
 * file is read (check_control_net). */
static int parse_control_net(const struct line *ln, struct config *cfg,
                             struct config_error *err)
{
    struct config_control_net *c = &cfg->control_net;
    struct control_net_parse np;

    if (c->line)
        return fail(err, ln->number, "a second control line for net (the first is line "
                    "%u): one network control endpoint at most", c->line);
    if (ln->word_count < 3 || has_equals(ln->words[2]))
        return fail(err, ln->number, "expected 'control net <switch> ip=A.B.C.D port=N "
                    "[mask=A.B.C.D] [gw=A.B.C.D] [mac=MAC] [class=CLASS] [key=HEX] "
                    "[store=SIZE]'");
    if (!valid_name(ln->words[2], SWITCH_NAME_MAX))
        return fail(err, ln->number, "bad switch name '%s' (letters, digits, '_', '-', '.'; at "
                    "most %d characters)", ln->words[2], SWITCH_NAME_MAX - 1);
    control_enable(cfg);
    c->line = ln->number;
    str_copy(c->sw, ln->words[2], sizeof(c->sw));
    memset(&np, 0, sizeof(np));
    for (uint32_t i = 3; i < ln->word_count; i++)
        if (control_net_option(ln, cfg, &np, ln->words[i], err) < 0)
            return -1;
    if (!np.ip || !np.port)
        return fail(err, ln->number, "control net needs ip=A.B.C.D and port=N (the address "
                    "and TCP port mfctl --control tcp://IP:PORT connects to)");
    return 0;
}

static int parse_control(const struct line *ln, struct config *cfg, struct config_error *err)
{
    if (ln->word_count >= 2 && !strcmp(ln->words[1], "com2"))
        return parse_control_com2(ln, cfg, err);
    if (ln->word_count >= 2 && !strcmp(ln->words[1], "net"))
        return parse_control_net(ln, cfg, err);
    return fail(err, ln->number, "expected 'control com2 [store=<size>] [key=<hex>]' or "
                "'control net <switch> ip=A.B.C.D port=N [mask=] [gw=] [mac=] [class=] "
                "[store=] [key=]'");
}

static int parse_line(struct line *ln, struct config *cfg, struct config_error *err)
{
    const char *kw;

    if (split_words(ln, err) < 0)
        return -1;
    if (ln->word_count == 0)
        return 0;
    kw = ln->words[0];
    if (!strcmp(kw, "partition"))
        return parse_partition(ln, cfg, err);
    if (!strcmp(kw, "guest"))
        return parse_guest(ln, cfg, err);
    if (!strcmp(kw, "poweroff"))
        return parse_poweroff(ln, cfg, err);
    if (!strcmp(kw, "control"))
        return parse_control(ln, cfg, err);
    if (!strcmp(kw, "switch"))
        return parse_switch(ln, cfg, err);
    if (!strcmp(kw, "cpus"))
        return parse_cpus(ln, cfg, err);
    if (!strcmp(kw, "uplink"))
        return parse_uplink(ln, cfg, err);
    if (!strcmp(kw, "summon"))
        return parse_summon(ln, cfg, err);
    return fail(err, ln->number, "unknown keyword '%s' (expected partition, guest, switch, "
                "uplink, summon, poweroff, control or cpus)", kw);
}

/* What a control net line names must exist once the whole file is read:
 * its switch (a switch, uplink or net= names it), its class; and network
 * control is never without a key (the network is not a cable to a desk). */
static int check_control_net(const struct config *cfg, struct config_error *err)
{
    const struct config_control_net *c = &cfg->control_net;

    if (!c->line)
        return 0;
    if (!cfg->key_len)
        return fail(err, c->line, "network control needs a key: add key=<hex> to a control "
                    "line; mfctl then needs --key");
    if (config_find_switch(cfg, c->sw) < 0)
        return fail(err, c->line, "control net names switch '%s', which nothing declares: add "
                    "'switch %s' (and an 'uplink %s' to reach it from outside)", c->sw, c->sw,
                    c->sw);
    if (c->class_name[0] && config_find_class(cfg, c->class_name) < 0)
        return fail(err, c->line, "control net names class '%s', which no partition line "
                    "declares", c->class_name);
    for (uint32_t i = 0; i < cfg->guest_count; i++)
        if (!strcmp(cfg->guests[i].name, CONFIG_CONTROL_GUEST_NAME))
            return fail(err, cfg->guests[i].line, "guest name '%s' is taken by the network "
                        "control guest of line %u: rename this guest", CONFIG_CONTROL_GUEST_NAME,
                        c->line);
    return 0;
}

/* Checks what needs the whole file: classes exist, something to carve. */
static int check_references(struct config *cfg, struct config_error *err)
{
    if (cfg->class_count == 0)
        return fail(err, 0, "no partition classes: add a line like 'partition small 2M x 16'");
    for (uint32_t i = 0; i < cfg->guest_count; i++) {
        const struct config_guest *g = &cfg->guests[i];
        if (g->class_name[0] && config_find_class(cfg, g->class_name) < 0)
            return fail(err, g->line, "guest '%s' names class '%s', which no partition line "
                        "declares", g->name, g->class_name);
    }
    for (uint32_t i = 0; i < cfg->summon_count; i++) {
        struct config_guest *g = &cfg->summons[i].guest;
        if (g->class_name[0] && config_find_class(cfg, g->class_name) < 0)
            return fail(err, g->line, "service '%s' names class '%s', which no partition line "
                        "declares", g->name, g->class_name);
        if (config_summon_nets(g) == 0 && cfg->switch_count != 1)
            return fail(err, g->line, "service '%s' needs net=<switch>: the config has %u "
                        "switches, so which one its address is on must be said", g->name,
                        cfg->switch_count);
        if (config_summon_nets(g) == 0) {
            str_copy(g->nets[0], cfg->switches[0], SWITCH_NAME_MAX);
            g->net_count = 1;
        }
    }
    return check_control_net(cfg, err);
}

int config_parse(const char *text, size_t len, struct config *cfg, struct config_error *err)
{
    struct line ln;
    size_t pos = 0;

    memset(cfg, 0, sizeof(*cfg));
    memset(err, 0, sizeof(*err));
    ln.number = 0;
    while (pos < len) {
        size_t n = 0;
        ln.number++;
        while (pos < len && text[pos] != '\n') {
            if (text[pos] == '\0')
                return fail(err, ln.number, "NUL byte: the config must be plain text");
            if (n + 1 >= sizeof(ln.text))
                return fail(err, ln.number, "line too long (at most %d characters)",
                            CONFIG_LINE_MAX - 1);
            ln.text[n++] = text[pos++];
        }
        ln.text[n] = '\0';
        pos++;
        if (parse_line(&ln, cfg, err) < 0)
            return -1;
    }
    return check_references(cfg, err);
}

int config_find_class(const struct config *cfg, const char *name)
{
    for (uint32_t i = 0; i < cfg->class_count; i++)
        if (!strcmp(cfg->classes[i].name, name))
            return (int)i;
    return -1;
}

int config_find_switch(const struct config *cfg, const char *name)
{
    for (uint32_t i = 0; i < cfg->switch_count; i++)
        if (!strcmp(cfg->switches[i], name))
            return (int)i;
    return -1;
}

uint64_t config_partition_total(const struct config *cfg)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < cfg->class_count; i++)
        n += cfg->classes[i].count;
    return n;
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

/* The rules a guest line obeys, for lines that did not come from the
 * parser (START over the control channel): what config would refuse,
 * this refuses too. */
int config_check_guest(const struct config *cfg, const struct config_guest *g, char *why,
                       size_t n)
{
    if (!valid_name(g->name, CONFIG_NAME_MAX))
        return fmt_error(why, n, -1, "bad guest name (letters, digits, '_', '-', '.'; at most "
                         "%d characters)", CONFIG_NAME_MAX - 1);
    if (!valid_name(g->image, BOOT_NAME_MAX))
        return fmt_error(why, n, -1, "bad image name (a plain file name: letters, digits, "
                         "'_', '-', '.')");
    if (g->class_name[0] && config_find_class(cfg, g->class_name) < 0)
        return fmt_error(why, n, -1, "no partition class '%s' in mayfly.conf", g->class_name);
    if (g->count == 0 || g->count > PARTITION_MAX)
        return fmt_error(why, n, -1, "count must be 1 to %d", PARTITION_MAX);
    if (g->has_mac && g->count != 1)
        return fmt_error(why, n, -1, "mac= gives one address: it needs count=1 (each instance "
                         "would have the same MAC)");
    if (g->timeout_ms > CONFIG_TIMEOUT_MAX_MS)
        return fmt_error(why, n, -1, "timeout is longer than a year");
    if (!printable(g->args))
        return fmt_error(why, n, -1, "args hold a control or non-ASCII byte (printable ASCII "
                         "only)");
    if (g->net_count > CONFIG_NETS_MAX)
        return fmt_error(why, n, -1, "too many ports (at most %d)", CONFIG_NETS_MAX);
    if (check_devices(cfg, g, why, n) < 0)
        return -1;
    for (uint32_t i = 0; i < g->net_count; i++) {
        if (config_find_switch(cfg, g->nets[i]) < 0)
            return fmt_error(why, n, -1, "no switch '%s': declare it in mayfly.conf ('switch "
                             "%s') or name it in a guest's net=", g->nets[i], g->nets[i]);
        for (uint32_t k = 0; k < i; k++)
            if (!strcmp(g->nets[k], g->nets[i]))
                return fmt_error(why, n, -1, "switch '%s' named twice", g->nets[i]);
    }
    return 0;
}

/* One device mapping by the rules the parser applies to net:, block:
 * and block-sector-size:. */
static int check_device(const struct config *cfg, const struct config_device *d, char *why,
                        size_t n)
{
    if (!valid_device_name(d->name))
        return fmt_error(why, n, -1, "bad device name (letters and digits, 1 to %d "
                         "characters, as the image's manifest names it)",
                         CONFIG_DEVICE_NAME_MAX - 1);
    if (d->kind == CONFIG_DEVICE_NET) {
        if (d->sector_size)
            return fmt_error(why, n, -1, "net device %s has a sector size; only block devices "
                             "have one", d->name);
        if (!valid_name(d->target, SWITCH_NAME_MAX))
            return fmt_error(why, n, -1, "net device %s needs a switch name (letters, digits, "
                             "'_', '-', '.'; at most %d characters)", d->name,
                             SWITCH_NAME_MAX - 1);
        if (config_find_switch(cfg, d->target) < 0)
            return fmt_error(why, n, -1, "net device %s: no switch '%s': declare it in "
                             "mayfly.conf ('switch %s') or name it in a guest's net=",
                             d->name, d->target, d->target);
        return 0;
    }
    if (d->kind == CONFIG_DEVICE_BLOCK) {
        if (!valid_sector_size(d->sector_size))
            return fmt_error(why, n, -1, "block device %s: sector size %u is not a power of "
                             "two from %d to %d", d->name, d->sector_size, SECTOR_SIZE_MIN,
                             SECTOR_SIZE_MAX);
        if (!valid_name(d->target, BOOT_NAME_MAX))
            return fmt_error(why, n, -1, "block device %s needs a file name (letters, digits, "
                             "'_', '-', '.')", d->name);
        return 0;
    }
    return fmt_error(why, n, -1, "device %s has kind %u (net or block)", d->name, d->kind);
}

/* A line's device mappings: at most CONFIG_DEVICES_MAX, each valid, none
 * named twice, and not beside net= (a line's image is either a Mayfly
 * guest, whose ports net= gives, or a Solo5 image, whose devices net:
 * and block: map). */
static int check_devices(const struct config *cfg, const struct config_guest *g, char *why,
                         size_t n)
{
    if (g->device_count > CONFIG_DEVICES_MAX)
        return fmt_error(why, n, -1, "too many devices (at most %d)", CONFIG_DEVICES_MAX);
    if (g->device_count && g->net_count)
        return fmt_error(why, n, -1, "net= (ports of a Mayfly guest) and net:/block: (devices "
                         "of a Solo5 image) on one line: a line's image is one or the other; "
                         "map a Solo5 image's networks with net:<device>=<switch>");
    for (uint32_t i = 0; i < g->device_count; i++) {
        if (check_device(cfg, &g->devices[i], why, n) < 0)
            return -1;
        for (uint32_t k = 0; k < i; k++)
            if (!strcmp(g->devices[k].name, g->devices[i].name))
                return fmt_error(why, n, -1, "device %s is mapped twice", g->devices[i].name);
    }
    return 0;
}
