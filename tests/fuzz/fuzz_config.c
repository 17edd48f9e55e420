/* libFuzzer target: config_parse on raw bytes. Besides the sanitizers'
 * checks, a parse that succeeds must have produced a config that keeps
 * every rule of the grammar (nothing declared twice among them, device
 * mappings as docs/config.md says), whose every guest line
 * config_check_guest (the rules for START's lines) accepts, args aside;
 * and a
 * failure must carry a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static int valid_name(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if (n == 0 || n == max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", s[i]))
            return 0;
    return 1;
}

/* A line's devices: names [A-Za-z0-9]{1,67}, unique; net: on a switch
 * of the config, block: a file name and a sector size 0 or a power of
 * two 512..32768; never beside net=. */
static void check_devices(const struct config *cfg, const struct config_guest *g)
{
    check(g->device_count <= CONFIG_DEVICES_MAX);
    check(!g->device_count || !g->net_count);
    for (uint32_t i = 0; i < g->device_count; i++) {
        const struct config_device *d = &g->devices[i];
        size_t n = strnlen(d->name, sizeof(d->name));
        check(n > 0 && n < sizeof(d->name) && strspn(d->name, "abcdefghijklmnopqrstuvwxyz"
              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n);
        if (d->kind == CONFIG_DEVICE_NET) {
            check(d->sector_size == 0 && config_find_switch(cfg, d->target) >= 0);
        } else {
            check(d->kind == CONFIG_DEVICE_BLOCK && valid_name(d->target, sizeof(d->target)));
            check(d->sector_size == 0 || (d->sector_size >= 512 && d->sector_size <= 32768 &&
                                          !(d->sector_size & (d->sector_size - 1))));
        }
        for (uint32_t j = 0; j < i; j++)
            check(strcmp(g->devices[j].name, d->name) != 0);
    }
}

static uint32_t count_lines(const uint8_t *data, size_t size)
{
    uint32_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    return lines;
}

static void check_config(const struct config *cfg, uint32_t lines)
{
    uint64_t total = 0;

    check(cfg->class_count >= 1 && cfg->class_count <= CONFIG_MAX_CLASSES);
    for (uint32_t i = 0; i < cfg->class_count; i++) {
        const struct config_class *c = &cfg->classes[i];
        check(valid_name(c->name, sizeof(c->name)));
        check(c->size != 0 && c->size % PARTITION_ALIGN == 0);
        check(c->count >= 1 && c->count <= PARTITION_MAX);
        check(config_find_class(cfg, c->name) == (int)i);     /* names are unique */
        check(c->line >= 1 && c->line <= lines && (i == 0 || c->line > cfg->classes[i - 1].line));
        total += c->count;
    }
    check(total <= PARTITION_MAX && total == config_partition_total(cfg));
    check(cfg->guest_count <= CONFIG_MAX_GUESTS);
    for (uint32_t i = 0; i < cfg->guest_count; i++) {
        const struct config_guest *g = &cfg->guests[i];
        check(valid_name(g->name, sizeof(g->name)));
        check(valid_name(g->image, sizeof(g->image)));
        check(g->class_name[0] == '\0' || config_find_class(cfg, g->class_name) >= 0);
        check(g->count >= 1 && g->count <= PARTITION_MAX);
        check(memchr(g->args, '\0', sizeof(g->args)) != NULL);
        check(g->line >= 1 && g->line <= lines);
        check(g->timeout_ms <= 1000ULL * 3600 * 24 * 365);
        for (uint32_t j = 0; j < i; j++)
            check(strcmp(cfg->guests[j].name, g->name) != 0);
        check_devices(cfg, g);
        {
            /* args aside: the config takes any byte in them but a
             * START's must be printable (checked there, not here). */
            static struct config_guest copy;
            char why[192];
            copy = *g;
            copy.args[0] = '\0';
            check(config_check_guest(cfg, &copy, why, sizeof(why)) == 0);
        }
    }
    check(cfg->poweroff_when_idle == 0 || cfg->poweroff_when_idle == 1);
    /* Each singular line was seen at most once, on a line that exists. */
    check(cfg->poweroff_line <= lines && (cfg->poweroff_line || !cfg->poweroff_when_idle));
    check(cfg->control_line <= lines && cfg->control_net.line <= lines);
    check(cfg->control == (cfg->control_line || cfg->control_net.line));
    check(cfg->control_line != cfg->control_net.line || !cfg->control_line);
    /* Network control: a key, a port, an existing switch. */
    if (cfg->control_net.line) {
        check(cfg->key_len >= 16 && cfg->control_net.port != 0);
        check(config_find_switch(cfg, cfg->control_net.sw) >= 0);
        check(!cfg->control_net.class_name[0] ||
              config_find_class(cfg, cfg->control_net.class_name) >= 0);
    }
    check(cfg->control || (cfg->key_len == 0 && cfg->store_size == 0));
    check(cfg->switch_count <= CONFIG_SWITCHES_MAX);
    for (uint32_t i = 0; i < cfg->switch_count; i++) {
        check(valid_name(cfg->switches[i], SWITCH_NAME_MAX));
        check(cfg->switch_lines[i] <= lines);
        for (uint32_t j = 0; j < i; j++)
            check(strcmp(cfg->switches[j], cfg->switches[i]) != 0 &&
                  (!cfg->switch_lines[i] || cfg->switch_lines[j] != cfg->switch_lines[i]));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config cfg;
    static struct config_error err;
    uint32_t lines = count_lines(data, size);

    if (config_parse((const char *)data, size, &cfg, &err) == 0) {
        check_config(&cfg, lines);
    } else {
        size_t n = strnlen(err.message, sizeof(err.message));
        check(n > 0 && n < sizeof(err.message));
        check(err.line <= lines);
    }
    return 0;
}
