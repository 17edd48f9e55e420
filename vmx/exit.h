/* VM-exit handling: one table from basic exit reason to handler. */
#ifndef VMX_EXIT_H
#define VMX_EXIT_H

#include "../hv/arch.h"
#include "vcpu.h"

/* Handles the exit that just happened. Returns 0 to re-enter the guest,
 * 1 when *exit holds something for the core. */
int exit_dispatch(struct vcpu_arch *v, struct vm_exit *exit);

/* Fills *exit for a VM entry that failed. */
void exit_entry_failed(struct vcpu_arch *v, struct vm_exit *exit);

/* Defined in vmentry.S: where every VM exit lands. */
void vmx_exit(void);

#endif
