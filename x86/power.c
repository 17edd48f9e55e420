/* Power-off: QEMU's isa-debug-exit (port 0xf4, exit code 2s+1), Bochs's
 * shutdown port (0x8900), then halt for hardware, where neither exists. */
#include "../hv/arch.h"
#include "x86.h"

#define QEMU_DEBUG_EXIT_PORT  0xf4
#define BOCHS_SHUTDOWN_PORT   0x8900

void power_arch_off(int status)
{
    const char *s = "Shutdown";

    outl(QEMU_DEBUG_EXIT_PORT, (uint32_t)status);
    while (*s)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s++);
    cpu_halt_forever();
    __builtin_unreachable();
}

uint64_t time_arch_tsc(void)
{
    return rdtsc();
}
