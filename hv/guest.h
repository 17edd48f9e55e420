/*
 * One guest: at most one per partition at a time, with its vCPU,
 * capabilities, ports and console line. This module launches an
 * instance into a partition (zeroing what of it may hold old bytes)
 * and tears it down again; hv/fleet.c owns the table of all of them and
 * the guest lines, hv/lifecycle.c their states.
 */
#ifndef HV_GUEST_H
#define HV_GUEST_H

#include <stdint.h>
#include "arch.h"
#include "cap.h"
#include "config.h"
#include "console.h"
#include "elf.h"
#include "partition.h"
#include "personality.h"
#include "qport.h"
#include "vswitch.h"
#include "../include/mayfly/hvt.h"

/* The states of hv/lifecycle.h, which alone changes them. */
enum guest_state {
    GUEST_FREE = 0,             /* the partition holds no guest */
    GUEST_READY,                /* on the run queue */
    GUEST_RUNNING,              /* on the CPU (taken off the run queue) */
    GUEST_WAITING,              /* in the wait hypercall, on the wait heap */
    GUEST_EXITED,               /* asked to exit; retired before anything else runs */
};

#define GUEST_NAME_MAX     40
#define GUEST_LINE_MAX     160
#define GUEST_ERRORS_LOGGED 8   /* hypercall errors logged per guest, then silence */

/* A Solo5 guest's device (hv/solo5.c): a NET_BASIC port or a BLOCK_BASIC
 * disk, its private copy in the partition above the guest's memory. */
struct hvt_device {
    uint16_t type;              /* HVT_MFT_NET_BASIC or HVT_MFT_BLOCK_BASIC */
    uint16_t handle;            /* its manifest index */
    uint32_t sector;            /* BLOCK: bytes per sector */
    union {
        struct qport *port;     /* NET */
        uint64_t disk_gpa;      /* BLOCK: where its copy starts (>= mem_size) */
    };
    uint64_t capacity;          /* BLOCK: bytes */
};

/* What the Solo5 personality keeps per guest. */
struct hvt_state {
    uint64_t mem_size;          /* guest-physical memory it sees: [0, mem_size) */
    uint64_t poll_gpa;          /* the POLL it waits in */
    uint32_t device_count;
    uint8_t polling;
    struct hvt_device devices[CONFIG_DEVICES_MAX];
};

/* What the Mayfly personality keeps per guest. */
struct mayfly_state {
    struct cap_space caps;
    struct vport *ports[CONFIG_NETS_MAX];
};

struct guest {
    uint32_t id;                /* unique over the hypervisor's lifetime */
    uint32_t line;              /* index of its config guest line */
    uint32_t partition;
    uint32_t line_len;          /* bytes in line_buf */
    enum guest_state state;
    struct console_quota console;   /* its share of the console's transmit ring */
    uint32_t errors_logged;
    uint8_t *mem;               /* host pointer of guest-physical 0 */
    uint64_t mem_size;
    struct vcpu_arch *vcpu;
    uint64_t start_tsc;
    uint64_t kill_tsc;          /* time limit, 0 for none */
    int64_t exit_status;
    uint64_t hypercalls;
    uint64_t preemptions;
    uint64_t slice_end;         /* TSC at which its current quantum ends; 0: none */
    char name[GUEST_NAME_MAX];  /* "<config name>.<instance>" */
    char line_buf[GUEST_LINE_MAX];
    uint64_t notify_pending;    /* notification bits not yet returned by a wait */
    uint8_t woken;              /* a wait ended: wake_result is for the guest */
    uint8_t killed;             /* EXITED by the hypervisor (lifecycle_kill) */
    volatile uint8_t stop_requested;    /* lifecycle_request_stop: end it when dispatched */
    uint8_t retire;             /* that stop retires it (manage_retire): not a failure */
    const char *stop_why;       /* the stop's reason for the log; NULL: a control STOP */
    uint32_t cpu;               /* the CPU it was admitted to (lifecycle_admit) */
    volatile uint32_t ends;     /* tenants that have ended in this slot (fleet_finish) */
    uint32_t wake_from;         /* woken by a notify from CPU wake_from - 1; 0: otherwise */
    uint64_t wake_tsc;          /* when that notify woke it */
    int64_t wake_result;
    const struct personality *pers;
    union {                     /* its personality's */
        struct mayfly_state mf;
        struct hvt_state hvt;
    };
};

/* Per config guest line: the validated image and instances left to start. */
struct guest_line {
    const struct config_guest *cfg;
    const uint8_t *image;
    uint64_t image_size;
    struct elf_image elf;
    const struct personality *pers;     /* the one the image's note names */
    const uint8_t *disk[CONFIG_DEVICES_MAX];    /* Solo5: each config device's backing */
    uint64_t disk_size[CONFIG_DEVICES_MAX];     /* (block: devices only) */
    uint64_t disk_total;        /* bytes the private copies take, 2 MiB aligned */
    int class_index;            /* -1: smallest class that fits */
    uint64_t need;              /* guest memory the image needs */
    uint32_t first_id;          /* guest id of instance 0; instance k is first_id + k */
    uint32_t next_instance;     /* the next instance to consider starting */
    uint32_t pending;           /* instances waiting for a partition (not cancelled) */
    uint32_t alive;             /* instances running or waiting now */
    uint8_t *cancelled;         /* bit k: pending instance k was cancelled */
    int valid;
    int dynamic;                /* started over the control channel */
    uint64_t request_tsc;       /* when its START request arrived (dynamic lines) */
};

/* Checked guest memory translation: the host pointer for guest-physical
 * [gpa, gpa + len), or NULL if any byte of it lies outside the guest's
 * memory (overflow-safe). The only way the hypervisor touches guest memory
 * on a guest's behalf. */
void *guest_memory(const struct guest *g, uint64_t gpa, uint64_t len);

/* The MAC of g's network ports: its line's mac= (count=1 lines only),
 * else 02:4d:46 and its 24-bit id (locally administered). */
void guest_mac(const struct guest *g, const struct guest_line *l, uint8_t mac[6]);

/* Logs a hypercall error for g (rate-limited per guest). */
void guest_log_error(struct guest *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends len bytes of guest console output to g's line buffer, printing
 * whole lines with the guest's prefix. */
void guest_console(struct guest *g, const char *text, uint64_t len);

/* Instance k of line l's name: "<line>.<k>", where a summoned instance's
 * k is its slot in the service (each summon is a line of its own). */
void guest_instance_name(char *buf, size_t size, const struct guest_line *l, uint32_t k);

/* Launches instance k of line l (index line_index) into g, whose
 * partition the caller has just taken, for CPU cpu (named in the log):
 * zeroed where it may hold old bytes, image copied, capabilities and
 * ports granted, boot-info page written, vCPU reset; the caller then
 * admits g (lifecycle_admit). 0, or -1 (logged) with everything given
 * back, the partition included. */
int guest_launch(struct guest *g, const struct guest_line *l, uint32_t line_index, uint32_t k,
                 uint32_t cpu, struct partition_table *parts, const struct config *cfg);

/* Ends g on the CPU that ran it: logs how it ended, drops what that CPU
 * caches of its vCPU, gives back its ports and capabilities. The caller
 * then frees its partition (fleet_finish: dirty, or zeroed first). */
void guest_teardown(struct guest *g, int killed, const char *why);

/* Gives back what a guest held (ports, capabilities, its partition,
 * dirty), whatever its state; for guest_launch and guest_teardown. */
void guest_release(struct guest *g, struct partition_table *parts);

#endif
