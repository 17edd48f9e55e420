/* The stack protector: GCC's checks (-fstack-protector-strong
 * -mstack-protector-guard=global) compare against __stack_chk_guard,
 * which start.S sets from the TSC before any C runs. */
#include "hvtlib.h"

uintptr_t __stack_chk_guard;

void __stack_chk_fail(void)
{
    hvt_puts("Solo5: stack smashing detected\n");
    hvt_halt(HVT_EXIT_ABORT);
}
