/* Per-CPU state (x86/percpu.h), and hv/arch.h's cpu_arch_self, count
 * and kick over it. */
#include "../hv/arch.h"
#include "lapic.h"
#include "percpu.h"
#include "x86.h"

static struct x86_cpu boot_cpu;
struct x86_cpu *x86_cpus[CPU_MAX];
uint32_t x86_cpu_count;
/* Until the boot CPU's GS base is set, %gs:0 is not ours to read. */
static int installed;

void x86_cpu_install(struct x86_cpu *c)
{
    c->self = c;
    wrmsr(MSR_IA32_GS_BASE, (uint64_t)(uintptr_t)c);
    x86_cpus[c->index] = c;
    if (c->index >= x86_cpu_count)
        x86_cpu_count = c->index + 1;
    installed = 1;
}

/* The boot CPU's, from cpu_arch_init on. */
void x86_cpu_install_boot(void)
{
    boot_cpu.index = 0;
    x86_cpu_install(&boot_cpu);
}

int x86_cpu_take_kick(void)
{
    struct x86_cpu *c = x86_cpu_self();

    if (!__atomic_load_n(&c->kicked, __ATOMIC_ACQUIRE))
        return 0;
    __atomic_store_n(&c->kicked, 0, __ATOMIC_RELAXED);
    return 1;
}

uint32_t cpu_arch_self(void)
{
    return installed ? x86_cpu_self()->index : 0;
}

uint32_t cpu_arch_count(void)
{
    return x86_cpu_count ? x86_cpu_count : 1;
}

/* The flag first, then the IPI: the receiver that wakes from it (or
 * exits a guest for it) finds the flag set. */
void cpu_arch_kick(uint32_t cpu)
{
    struct x86_cpu *c = cpu < x86_cpu_count ? x86_cpus[cpu] : NULL;

    if (!c || !lapic_ready())
        return;
    __atomic_store_n(&c->kicked, 1, __ATOMIC_RELEASE);
    lapic_send_fixed(c->apic_id, LAPIC_KICK_VECTOR);
}
