/*
 * Capability spaces: a fixed array of slots per guest, filled when the
 * guest starts (console, notification, one slot per network port) and
 * emptied when it ends. cap_lookup is the one place a slot is checked.
 */
#ifndef HV_CAP_H
#define HV_CAP_H

#include <stdint.h>
#include "../include/mayfly/cap.h"

struct cap {
    uint16_t type;              /* MF_OBJ_* */
    uint16_t rights;            /* MF_RIGHT_* */
    void *object;
};

struct cap_space {
    struct cap slots[MF_CAP_SLOTS];
};

/* Empties every slot. */
void cap_space_clear(struct cap_space *cs);

/* Puts (type, object, rights) in slot. Returns 0, or -1 if slot is out of range. */
int cap_install(struct cap_space *cs, uint64_t slot, uint16_t type, uint16_t rights,
                void *object);

/*
 * Looks slot up and checks it holds an object of type with every right in
 * rights. Returns 0 with the object in *object, or -MF_ENOENT (empty or
 * out-of-range slot), -MF_ETYPE (another type) or -MF_EPERM (a right is
 * missing). Has no side effects.
 */
int cap_lookup(const struct cap_space *cs, uint64_t slot, uint16_t type, uint16_t rights,
               void **object);

#endif
