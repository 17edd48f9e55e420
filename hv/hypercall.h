/* The Mayfly personality's hypercalls (VMCALL): one table, hc_bad for
 * every empty slot. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#include <stdint.h>
#include "guest.h"

/* Runs hypercall nr with its arguments for g (RUNNING) and sets the
 * result the guest sees; g may leave RUNNING (wait, exit). */
void hypercall_dispatch(struct guest *g, uint64_t nr, const uint64_t *args);

#endif
