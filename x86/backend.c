/* Small pieces both virtualisation backends share. */
#include <stdarg.h>

#include "../hv/fmt.h"
#include "../hv/lib.h"
#include "backend.h"

int vm_exit_kill(struct vm_exit *exit, enum vm_kill_code code, const char *fmt, ...)
{
    va_list ap;

    exit->kind = VM_EXIT_KILL;
    exit->kill.code = code;
    va_start(ap, fmt);
    fmt_vsnprintf(exit->kill.why, sizeof(exit->kill.why), fmt, ap);
    va_end(ap);
    return 1;
}

void fxsave_init(uint8_t area[FXSAVE_BYTES])
{
    uint16_t fcw = 0x037f;          /* FNINIT's control word */
    uint32_t mxcsr = 0x1f80;        /* MXCSR after reset */

    memset(area, 0, FXSAVE_BYTES);
    memcpy(&area[0], &fcw, sizeof(fcw));
    memcpy(&area[24], &mxcsr, sizeof(mxcsr));
}
