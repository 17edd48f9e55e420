/*
 * mayfly.conf: plain text, one declaration a line, '#' starts a comment.
 *
 *   partition <class> <size> x <count>
 *   guest <name> image=<file> [class=<class>] [count=N] [args="..."] [timeout=<ms>]
 *         [net=<switch>[,<switch>...]]
 *         [net:<device>=<switch>] [block:<device>=<file>] [block-sector-size:<device>=<n>]
 *   poweroff <when-idle|never>
 *   control com2 [store=<size>] [key=<hex>]
 *   control net <switch> ip=A.B.C.D port=N [mask=A.B.C.D] [gw=A.B.C.D] [mac=MAC]
 *         [class=<class>] [store=<size>] [key=<hex>]
 *   switch <name>
 *   cpus <N|all>
 *   summon <name> image=<file> ip=<a.b.c.d> [port=N] [idle=<ms>] [max=N] [net=<switch>]
 *          [class=<class>] [args="..."] [mac=...] [timeout=<ms>] [cpu=N]
 *
 * Sizes are decimal with an optional K, M or G suffix (powers of 1024).
 * Nothing may be said twice: a second poweroff or control line, a class,
 * guest or switch declared twice, or an option given twice on one line is
 * an error naming both lines, never "the last one wins".
 * The parser is pure: the UEFI loader, the core and mfctl share it.
 */
#ifndef HV_CONFIG_H
#define HV_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "param.h"

/* The largest N a 'cpus N' line takes (an xAPIC names at most 255). */
#define CONFIG_CPUS_MAX     1024

struct config_class {
    char name[CONFIG_NAME_MAX];
    uint64_t size;                 /* bytes, a multiple of PARTITION_ALIGN */
    uint32_t count;
    uint32_t line;                 /* the partition line */
};

/* A device a Solo5 (hvt) image's manifest declares, mapped by the line:
 * net:<device>=<switch> or block:<device>=<file> (docs/solo5.md). */
enum config_device_kind {
    CONFIG_DEVICE_NET = 1,              /* a port on switch target */
    CONFIG_DEVICE_BLOCK = 2,            /* a disk backed by file target */
};

struct config_device {
    uint32_t kind;                      /* enum config_device_kind */
    uint32_t sector_size;               /* BLOCK: bytes, a power of two 512..32768; 0: 512 */
    char name[CONFIG_DEVICE_NAME_MAX];  /* the manifest's name: [A-Za-z0-9]{1,67} */
    char target[BOOT_NAME_MAX];         /* NET: a switch name; BLOCK: a file name */
};

struct config_guest {
    char name[CONFIG_NAME_MAX];
    char image[BOOT_NAME_MAX];
    char class_name[CONFIG_NAME_MAX];   /* "" means the smallest class that fits */
    uint32_t count;
    char args[CONFIG_ARGS_MAX];
    uint64_t timeout_ms;                /* 0: no time limit */
    uint32_t cpu;                       /* cpu=N pins it to CPU N: N + 1; 0 least loaded */
    uint8_t has_mac;                    /* mac= given: its ports use mac (count must be 1) */
    uint8_t mac[6];
    uint32_t net_count;                 /* ports, one per switch named by net= */
    char nets[CONFIG_NETS_MAX][SWITCH_NAME_MAX];
    uint32_t device_count;              /* net:/block: mappings, in line order */
    struct config_device devices[CONFIG_DEVICES_MAX];
    uint32_t line;
    uint8_t service;                    /* a summoned instance: its service's index + 1 */
    uint8_t service_slot;               /* and its slot there (hv/summon.c sets both) */
};

/* uplink <switch> [pci=BB:DD.F] [mac=...]: a physical NIC on a switch. */
struct config_uplink {
    char sw[SWITCH_NAME_MAX];
    uint8_t has_pci, bus, dev, fn;      /* pci= given: that NIC, else the first free one */
    uint8_t has_mac;                    /* mac= given: the NIC's address, else its own */
    uint8_t mac[6];
    uint32_t line;
};

/* control net <switch> ...: the control protocol over TCP, carried by the
 * network control guest (hv/ctlnet.c) on that switch, a guest line of
 * its own called CONFIG_CONTROL_GUEST_NAME. */
#define CONFIG_CONTROL_GUEST_NAME "control"

struct config_control_net {
    char sw[SWITCH_NAME_MAX];
    char class_name[CONFIG_NAME_MAX];   /* "" means the smallest class that fits */
    uint8_t ip[4], mask[4], gw[4];      /* mask, gw: all zeros when not given */
    uint16_t port;
    uint8_t has_mac;
    uint8_t mac[6];
    uint32_t line;                      /* the control net line; 0: none */
};

/* summon <name> ...: a service address on a switch whose instances
 * start when a frame for it arrives and stop when idle (docs/summon.md). */
struct config_summon {
    struct config_guest guest;          /* what each instance runs (count 1, mac the
                                           service's: given, or 02:4d:53:00:00:<index+1>) */
    uint32_t ip;                        /* the service address, a.b.c.d as a << 24 | ... */
    uint16_t port;                      /* 0: any; else only TCP/UDP to it summons */
    uint32_t idle_ms;                   /* an instance this long without a frame is stopped */
    uint32_t max;                       /* instances at once, 1..SUMMON_INSTANCES_MAX */
};

#define SUMMON_IDLE_DEFAULT_MS  1000

struct config {
    uint32_t class_count;
    struct config_class classes[CONFIG_MAX_CLASSES];
    uint32_t guest_count;
    struct config_guest guests[CONFIG_MAX_GUESTS];
    int poweroff_when_idle;        /* power off once the last guest has ended */
    uint32_t poweroff_line;        /* the poweroff line; 0: none */
    int control;                   /* serve the control protocol (a control line) */
    uint32_t control_line;         /* the control com2 line; 0: none */
    struct config_control_net control_net;  /* its line 0: no network control */
    uint32_t store_line, key_line; /* the control line that gave store= / key=; 0: none */
    uint64_t store_size;           /* bytes of the image store for uploads */
    uint32_t key_len;              /* 0: no authentication */
    uint8_t key[CONFIG_KEY_MAX];
    uint32_t switch_count;         /* distinct switches named by net=, in order */
    char switches[CONFIG_SWITCHES_MAX][SWITCH_NAME_MAX];
    uint32_t switch_lines[CONFIG_SWITCHES_MAX];  /* its switch line; 0: named by net= only */
    uint32_t max_cpus;             /* the most CPUs to bring up, BSP included; 0: all */
    uint32_t cpus_line;            /* the cpus line; 0: none */
    uint32_t uplink_count;
    struct config_uplink uplinks[CONFIG_UPLINKS_MAX];
    uint32_t summon_count;
    struct config_summon summons[CONFIG_SUMMONS_MAX];
};

struct config_error {
    uint32_t line;                 /* 1-based; 0 when not tied to a line */
    char message[192];
};

/*
 * Parses len bytes of text into *cfg. Returns 0, or -1 with *err naming
 * the line and what is wrong; *cfg is then only partly filled.
 */
int config_parse(const char *text, size_t len, struct config *cfg, struct config_error *err);

/* Index of the class called name, or -1. */
int config_find_class(const struct config *cfg, const char *name);

/* Parses "52:54:00:12:34:56" into mac: 0, or -1 when malformed, a
 * group (multicast) address or all zeros. */
int config_parse_mac(const char *s, uint8_t mac[6]);

/* A summon line's network ports (net= switches and net: devices: one),
 * and the switch of the first. */
uint32_t config_summon_nets(const struct config_guest *g);
const char *config_summon_switch(const struct config_guest *g);

/* Parses "10.0.0.2" into a << 24 | b << 16 | c << 8 | d: 0, or -1. */
int config_parse_ipv4(const char *s, uint32_t *out);

/* Index of the switch called name, or -1. */
int config_find_switch(const struct config *cfg, const char *name);

/* Checks a guest line that did not come from the parser against the
 * parser's rules (names, class, count, timeout, printable args, switches
 * that exist, none twice). 0, or -1 with the reason in why. */
int config_check_guest(const struct config *cfg, const struct config_guest *g, char *why,
                       size_t n);

/* The lines whose files the boot must bring: the guest lines, then the
 * summon lines' instance lines (i < config_image_lines). */
uint32_t config_image_lines(const struct config *cfg);
const struct config_guest *config_image_line(const struct config *cfg, uint32_t i);

/* Total number of partitions over all classes. */
uint64_t config_partition_total(const struct config *cfg);

/* Parses "<digits>[K|M|G]" into bytes; 0 on success, -1 if malformed or too large. */
int config_parse_size(const char *s, uint64_t *out);

#endif
