/* Small pieces both virtualisation backends (vmx/, svm/) share. */
#ifndef X86_BACKEND_H
#define X86_BACKEND_H

#include <stdint.h>
#include "../hv/arch.h"

#define FXSAVE_BYTES 512

/* Makes *exit a kill with code and the formatted reason; returns 1 (the
 * exit goes to the core), for the backends' exit tables. */
int vm_exit_kill(struct vm_exit *exit, enum vm_kill_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the FXSAVE image of a CPU after FNINIT with MXCSR at its reset
 * value: what a new tenant's x87/SSE state starts as. */
void fxsave_init(uint8_t area[FXSAVE_BYTES]);

#endif
