#include "cap.h"
#include "../include/mayfly/abi.h"
#include "lib.h"

void cap_space_clear(struct cap_space *cs)
{
    memset(cs, 0, sizeof(*cs));
}

int cap_install(struct cap_space *cs, uint64_t slot, uint16_t type, uint16_t rights,
                void *object)
{
    if (slot >= MF_CAP_SLOTS)
        return -1;
    cs->slots[slot].type = type;
    cs->slots[slot].rights = rights;
    cs->slots[slot].object = object;
    return 0;
}

int cap_lookup(const struct cap_space *cs, uint64_t slot, uint16_t type, uint16_t rights,
               void **object)
{
    const struct cap *c;

    if (slot >= MF_CAP_SLOTS || cs->slots[slot].type == MF_OBJ_NONE)
        return -MF_ENOENT;
    c = &cs->slots[slot];
    if (c->type != type)
        return -MF_ETYPE;
    if ((c->rights & rights) != rights)
        return -MF_EPERM;
    *object = c->object;
    return 0;
}
