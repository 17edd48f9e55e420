/* Turning what a VM exit left in the VMCS into a struct vm_exit, where
 * that is pure arithmetic: compiled on the host by tests/unit/test_exit_decode.c. */
#ifndef VMX_EXIT_DECODE_H
#define VMX_EXIT_DECODE_H

#include <stdint.h>

#include "../hv/arch.h"

/* Fills *exit as a VM_EXIT_IO from an I/O instruction's exit
 * qualification, the guest's RAX and its RIP. Returns 0, or -1 (and
 * leaves *exit alone) when the qualification names an access size the
 * SDM does not define. */
int exit_decode_io(uint64_t qualification, uint64_t rax, uint64_t rip, struct vm_exit *exit);

#endif
