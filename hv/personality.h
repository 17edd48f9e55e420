/*
 * A personality: the guest interface an image is built against, chosen
 * by the note it carries (hv/elf.h). It owns the guest-physical layout,
 * the boot-info structure, the first CPU state, what the exits its
 * guests make turn into, and its hypercall table:
 *
 *   - hv/mayfly.c: the Mayfly ABI (include/mayfly/abi.h): VMCALL
 *     hypercalls, capabilities, virtio-net ports;
 *   - hv/solo5.c: Solo5's hvt (include/mayfly/hvt.h): hypercalls by
 *     port I/O, devices from the image's manifest.
 *
 * The core (guest.c, fleet.c, run.c) calls a guest's personality only
 * through this table.
 */
#ifndef HV_PERSONALITY_H
#define HV_PERSONALITY_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct fleet_files;
struct guest;
struct guest_line;
struct port;
struct vm_exit;

/* What the run loop does after an exit the personality served, when the
 * guest is still RUNNING (a guest that waits or exits leaves the CPU
 * whatever this says). */
enum pers_next {
    PERS_RUN_ON = 0,            /* enter the guest again at once */
    PERS_CONSOLE,               /* it wrote console output: look at the pollers, then run on */
    PERS_YIELD,                 /* to the back of the run queue */
};

/* Launch costs, for the boot info. */
struct launch_costs {
    uint64_t scrub_tsc, load_tsc;
};

struct personality {
    const char *name;           /* "mayfly", "solo5-hvt": logs and mfctl ps */
    /* Checks line l (its image already validated) against what the image
     * needs (its devices, the files they name, found through files), and
     * sets l->need. 0, or -1 with the reason in why. */
    int (*check_line)(struct guest_line *l, const struct fleet_files *files, char *why,
                      size_t n);
    /* After the image is loaded into g's scrubbed partition: grants what
     * the guest gets (capabilities, ports, devices), writes its boot info
     * and resets its vCPU. 0, or -1 (logged); the caller gives back what
     * was taken (release). */
    int (*launch)(struct guest *g, const struct guest_line *l, const struct config *cfg,
                  const struct launch_costs *costs);
    /* A hypercall or port-I/O exit of g (RUNNING), in the middle of its
     * run: serves it (or ends the guest: guest_kill). */
    enum pers_next (*on_exit)(struct guest *g, const struct vm_exit *exit);
    /* A wait of g ended (with result: 0 timed out, else notification
     * bits): gives the guest what its wait returns, before it runs. */
    void (*wake)(struct guest *g, int64_t result);
    /* Gives back what launch granted (ports); safe on a partial launch. */
    void (*release)(struct guest *g);
    /* Lists g's network ports (at most max) into out; returns how many. */
    uint32_t (*ports)(const struct guest *g, const struct port **out, uint32_t max);
};

extern const struct personality personality_mayfly;
extern const struct personality personality_solo5;

#endif
