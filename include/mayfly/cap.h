/*
 * Capabilities, in seL4's style but our own: a guest names every object
 * it may use by the index of a slot in its capability space; each slot
 * holds (object type, object, rights). The hypervisor looks a slot up and
 * checks type and rights before anything else happens. C99 only;
 * append-only like abi.h.
 */
#ifndef MAYFLY_CAP_H
#define MAYFLY_CAP_H

#include <stdint.h>

/* Object types. */
#define MF_OBJ_NONE             0   /* empty slot */
#define MF_OBJ_CONSOLE          1   /* the hypervisor console (write) */
#define MF_OBJ_NOTIFICATION     2   /* the guest's notification word (wait on it) */
#define MF_OBJ_NET_PORT         3   /* a virtio-net port on a switch */
#define MF_OBJ_GUEST_CONTROL    4   /* create, start and stop guests (control plane) */

/* Rights, a bit set. */
#define MF_RIGHT_READ           (1u << 0)
#define MF_RIGHT_WRITE          (1u << 1)
#define MF_RIGHT_GRANT          (1u << 2)
#define MF_RIGHT_CONTROL        (1u << 3)

/*
 * The slots every guest gets, by convention (listed in its boot info):
 *   0  console, write
 *   1  its notification, read
 *   2… one network port per net=<switch> of its config line, in order,
 *      read and write
 */
#define MF_CAP_CONSOLE          0
#define MF_CAP_NOTIFICATION     1
#define MF_CAP_FIRST_PORT       2
#define MF_CAP_SLOTS            8   /* size of every capability space */

/* A port's notification bit in the word MF_HC_WAIT returns. */
#define MF_NOTIFY_BIT(slot)     (1ULL << (slot))

/* One capability as the boot-info page lists it. */
struct mf_cap_info {
    uint32_t slot;
    uint16_t type;              /* MF_OBJ_* */
    uint16_t rights;            /* MF_RIGHT_* */
    uint8_t mac[6];             /* network ports: the port's MAC address */
    uint16_t reserved;
    char name[16];              /* network ports: the switch's name */
};
_Static_assert(sizeof(struct mf_cap_info) == 32, "mf_cap_info layout");

#endif
