/*
 * Application processor bring-up (issue 12). The boot CPU reads the
 * MADT, then starts each enabled AP in turn with the Intel MP start
 * sequence (INIT, 10 ms, SIPI, a second SIPI when the AP has not checked
 * in after 200 us), gives it up to SMP_AP_TIMEOUT_MS to check in, and
 * carries on with the CPUs that did. An AP loads its own GDT, TSS, stack
 * and per-CPU state (x86/percpu.h), enables its local APIC and timer,
 * turns virtualisation on for itself (its own VMXON region, or AMD-V
 * host save area), checks in, and sleeps until smp_arch_release; then
 * it runs guests (hv_ap_main).
 */
#include "../hv/arch.h"
#include "../hv/boot_info.h"
#include "../hv/fmt.h"
#include "../hv/lib.h"
#include "../hv/madt.h"
#include "../hv/memmap.h"
#include "../hv/pool.h"
#include "cpu.h"
#include "lapic.h"
#include "percpu.h"
#include "virt.h"
#include "smp.h"
#include "x86.h"

#define SMP_STACK_PAGES         4       /* 16 KiB: the AP's own stack */
#define SMP_IST_PAGES           2       /* its NMI, #DF and #MC stack */
#define SMP_INIT_DELAY_US       10000   /* INIT to SIPI, MP spec B.4 */
#define SMP_SIPI_RETRY_US       200     /* before the second SIPI */
#define SMP_AP_TIMEOUT_MS       100     /* an AP not up by then is skipped */
#define SMP_LOG_IDS_MAX         64      /* APIC ids listed in the log line */
#define SMP_UP_OK               1       /* parked with its own tables, as named */
#define SMP_UP_WRONG            2       /* up, but its GDT, TR or APIC id is not its own */
#define SMP_UP_NO_VIRT          3       /* up, but virtualisation failed on it */
#define SMP_UP_ABANDONED        4       /* the boot CPU gave up waiting for it */
#define SMP_LVT_TIMER           0x320
#define SMP_TIMER_DIVIDE        0x3e0

/* One application processor, in the pool. */
struct smp_cpu {
    struct x86_cpu x86;                 /* its per-CPU state; x86.apic_id is the MADT's */
    uint32_t seen_apic_id;              /* what the AP read from its own APIC */
    volatile uint32_t up;               /* 0 until the AP or the boot CPU sets SMP_UP_* */
    uint64_t stack_top, ist_top;
    uint8_t tables[CPU_TABLES_BYTES] __attribute__((aligned(16)));
    char virt_why[128];                 /* SMP_UP_NO_VIRT: what failed */
};

/* The boot CPU's control registers, for the APs to copy (minus the
 * virtualisation enable bits: each CPU turns those on for itself). */
static uint64_t bsp_cr0, bsp_cr4, bsp_efer_nxe;

static volatile uint32_t smp_cpus_up = 1;
static volatile uint32_t released;      /* smp_arch_release has run */
/* The boot CPU's local APIC timer set-up, copied to each AP. */
static uint32_t bsp_lvt_timer, bsp_timer_divide;

/* madt_read_fn over the identity map: RAM and everything below 4 GiB is
 * mapped (paging_arch_init maps [0, max(4 GiB, end of RAM))). */
struct phys_window {
    uint64_t top;
};

static int read_phys(void *arg, uint64_t addr, void *dst, size_t len)
{
    const struct phys_window *w = arg;

    if (addr > w->top || len > w->top - addr)
        return -1;
    memcpy(dst, (const void *)(uintptr_t)addr, len);
    return 0;
}

static void delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + time_arch_tsc_hz() / 1000000 * us;

    while ((int64_t)(rdtsc() - end) < 0)
        __asm__ volatile("pause");
}

/* Waits up to us microseconds for c to check in. 1 when it did. */
static int wait_up(const struct smp_cpu *c, uint64_t us)
{
    uint64_t end = rdtsc() + time_arch_tsc_hz() / 1000000 * us;

    for (;;) {
        if (__atomic_load_n(&c->up, __ATOMIC_ACQUIRE))
            return 1;
        if ((int64_t)(rdtsc() - end) >= 0)
            return 0;
        __asm__ volatile("pause");
    }
}

/* Whether this AP runs on the GDT and TSS built for it and answers to
 * the APIC id the MADT gave it: what a check-in promises. */
static int ap_state_is_own(const struct smp_cpu *c)
{
    struct table_register gdtr;
    uint16_t tr;

    __asm__ volatile("sgdt %0; str %1" : "=m"(gdtr), "=r"(tr));
    return gdtr.base == (uint64_t)(uintptr_t)c->tables && tr == GDT_TSS &&
           c->seen_apic_id == c->x86.apic_id;
}

/* Checks in with state, unless the boot CPU gave up on it first (then
 * it is not counted and never runs anything). 1 when it checked in. */
static int check_in(struct smp_cpu *c, uint32_t state)
{
    uint32_t expected = 0;

    return __atomic_compare_exchange_n(&c->up, &expected, state, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

/* The AP's first C code, on its own stack; never returns. */
static void __attribute__((noreturn, used)) smp_ap_main(struct smp_cpu *c)
{
    write_cr0(bsp_cr0);
    write_cr4(bsp_cr4);
    if (bsp_efer_nxe)
        wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_NXE);
    cpu_ap_tables_load(c->tables, c->ist_top);
    x86_cpu_install(&c->x86);
    lapic_ap_enable();
    time_ap_init(bsp_lvt_timer, bsp_timer_divide);
    c->seen_apic_id = lapic_id();
    if (!ap_state_is_own(c)) {
        check_in(c, SMP_UP_WRONG);
        cpu_halt_forever();
    }
    /* Before check-in: a CPU that cannot virtualise is reported as not up. */
    if (virt_cpu_init_ap(c->virt_why, sizeof(c->virt_why)) != 0) {
        check_in(c, SMP_UP_NO_VIRT);
        cpu_halt_forever();
    }
    if (!check_in(c, SMP_UP_OK))
        cpu_halt_forever();
    /* Asleep until smp_arch_release kicks it. */
    while (!__atomic_load_n(&released, __ATOMIC_ACQUIRE))
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    x86_cpu_take_kick();
    hv_ap_main(c->x86.index);
}

/* Whether [SMP_TRAMPOLINE_BASE, + SMP_TRAMPOLINE_PAGES pages) is RAM the
 * firmware called usable: it must not be firmware's own memory. */
static int trampoline_area_usable(const struct boot_info *info)
{
    uint64_t lo = SMP_TRAMPOLINE_BASE, hi = lo + SMP_TRAMPOLINE_PAGES * PAGE_SIZE;

    for (uint32_t i = 0; i < info->range_count; i++)
        if (info->ranges[i].base <= lo && hi <= info->ranges[i].base + info->ranges[i].size)
            return 1;
    return 0;
}

static struct smp_trampoline_data *trampoline_slot(void)
{
    return (struct smp_trampoline_data *)(uintptr_t)(SMP_TRAMPOLINE_BASE +
                                                     (uintptr_t)(trampoline_data -
                                                                 trampoline_start));
}

/* Copies the trampoline to low memory and builds its page tables:
 * PML4[0] -> PDPT[0] -> PD[0], one 2 MiB page at 0. */
static void trampoline_install(void)
{
    uint8_t *base = (uint8_t *)(uintptr_t)SMP_TRAMPOLINE_BASE;
    uint64_t *pml4 = (uint64_t *)(uintptr_t)(SMP_TRAMPOLINE_BASE + PAGE_SIZE);
    uint64_t *pdpt = pml4 + 512, *pd = pdpt + 512;

    memset(base, 0, SMP_TRAMPOLINE_PAGES * PAGE_SIZE);
    memcpy(base, trampoline_start, (size_t)(trampoline_end - trampoline_start));
    pml4[0] = (uint64_t)(uintptr_t)pdpt | 0x3;
    pdpt[0] = (uint64_t)(uintptr_t)pd | 0x3;
    pd[0] = 0x83;                               /* present, writable, 2 MiB */
    trampoline_slot()->pml4 = (uint32_t)(uintptr_t)pml4;
}

/* A struct smp_cpu with its stacks and virtualisation areas, from the
 * pool; NULL when it is full. */
static struct smp_cpu *cpu_alloc(uint32_t apic_id, uint32_t index)
{
    struct smp_cpu *c = pool_alloc_bytes(sizeof(*c), 64);
    uint64_t stack = pool_alloc_pages(SMP_STACK_PAGES), ist = pool_alloc_pages(SMP_IST_PAGES);

    if (!c || !stack || !ist)
        return NULL;
    c->x86.apic_id = apic_id;
    c->x86.index = index;
    c->stack_top = stack + SMP_STACK_PAGES * PAGE_SIZE;
    c->ist_top = ist + SMP_IST_PAGES * PAGE_SIZE;
    return virt_cpu_prepare(&c->x86) == 0 ? c : NULL;
}

/* Starts one AP: INIT, 10 ms, SIPI, and a second SIPI if it has not
 * checked in after 200 us. 1 when it checked in in time with its own
 * tables and APIC id. silent (the
 * test hook selftest=ap-silent) sends the INIT but no SIPI, so that the
 * AP never checks in. */
static int start_ap(struct smp_cpu *c, int silent)
{
    struct smp_trampoline_data *td = trampoline_slot();

    td->cr3 = read_cr3();
    td->stack = c->stack_top;
    td->entry = (uint64_t)(uintptr_t)smp_ap_main;
    __atomic_store_n(&td->arg, (uint64_t)(uintptr_t)c, __ATOMIC_RELEASE);
    lapic_send_init(c->x86.apic_id);
    delay_us(SMP_INIT_DELAY_US);
    if (!silent)
        lapic_send_startup(c->x86.apic_id, SMP_TRAMPOLINE_VECTOR);
    if (!wait_up(c, SMP_SIPI_RETRY_US)) {
        if (!silent)
            lapic_send_startup(c->x86.apic_id, SMP_TRAMPOLINE_VECTOR);
        if (!wait_up(c, SMP_AP_TIMEOUT_MS * 1000ULL)) {
            /* Withdraw the fill if the AP never took it, and the check-in
             * if it is only slow. */
            __atomic_store_n(&td->arg, 0, __ATOMIC_RELEASE);
            if (check_in(c, SMP_UP_ABANDONED))
                return 0;
        }
    }
    if (__atomic_load_n(&c->up, __ATOMIC_ACQUIRE) != SMP_UP_OK)
        return 0;
    x86_cpus[c->x86.index] = &c->x86;
    x86_cpu_count = c->x86.index + 1;
    return 1;
}

/* Appends to the log line. */
static void say(char *log, size_t n, size_t *len, const char *s)
{
    if (*len < n)
        *len += str_copy(log + *len, s, n - *len);
}

static void say_ids(char *log, size_t n, size_t *len, const struct madt_info *m)
{
    char buf[16];
    uint32_t listed = 0;

    for (uint32_t i = 0; i < m->cpu_count; i++) {
        if (!m->cpus[i].enabled)
            continue;
        if (listed++ == SMP_LOG_IDS_MAX) {
            say(log, n, len, " ...");
            break;
        }
        fmt_snprintf(buf, sizeof(buf), listed == 1 ? "%u" : " %u", m->cpus[i].apic_id);
        say(log, n, len, buf);
    }
}

static uint32_t enabled_cpus(const struct madt_info *m)
{
    uint32_t count = m->cpus_dropped;

    for (uint32_t i = 0; i < m->cpu_count; i++)
        count += m->cpus[i].enabled;
    return count;
}

/* The boot CPU's APIC id and control registers, once, before any start. */
static uint32_t bsp_prepare(void)
{
    if (!lapic_ready())
        lapic_enable();
    bsp_cr0 = read_cr0();
    bsp_cr4 = read_cr4() & ~CR4_VMXE;
    bsp_efer_nxe = rdmsr(MSR_IA32_EFER) & EFER_NXE;
    (void)time_arch_tsc_hz();           /* calibrated before the first delay */
    bsp_lvt_timer = lapic_read(SMP_LVT_TIMER);
    bsp_timer_divide = lapic_read(SMP_TIMER_DIVIDE);
    x86_cpu_self()->apic_id = lapic_id();
    return lapic_id();
}

/* Whether the command line has word among its space-separated words. */
static int has_word(const char *line, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = line; *p; p++)
        if ((p == line || p[-1] == ' ') && !strncmp(p, word, n) && (p[n] == ' ' || !p[n]))
            return 1;
    return 0;
}

/* Starts the enabled APs of m, in MADT order, until want CPUs are up;
 * the APIC ids of those that did not start go to fails ("2, 5"), each
 * with the reason where the AP gave one, and *no_room is set when the
 * pool ran out. With silent, the first AP gets no start-up IPI (the test
 * of an AP that does not start). */
static void bring_up(const struct madt_info *m, uint32_t want, int silent, char *fails,
                     size_t fn, uint32_t *failed, int *no_room)
{
    uint32_t bsp_id = bsp_prepare();
    size_t len = 0;
    char buf[192];

    trampoline_install();
    for (uint32_t i = 0; i < m->cpu_count && smp_cpus_up < want; i++) {
        const struct madt_cpu *mc = &m->cpus[i];
        struct smp_cpu *c;
        if (!mc->enabled || mc->apic_id == bsp_id)
            continue;
        c = cpu_alloc(mc->apic_id, smp_cpus_up);
        if (!c) {
            *no_room = 1;
            return;
        }
        if (start_ap(c, silent)) {
            smp_cpus_up++;
        } else {
            int no_virt = __atomic_load_n(&c->up, __ATOMIC_ACQUIRE) == SMP_UP_NO_VIRT;
            fmt_snprintf(buf, sizeof(buf), "%s%u%s%s%s", *failed ? ", " : "", mc->apic_id,
                         no_virt ? " (" : "", no_virt ? c->virt_why : "", no_virt ? ")" : "");
            say(fails, fn, &len, buf);
            ++*failed;
        }
        silent = 0;
    }
}

static struct madt_info madt;           /* 1.6 KiB: not on the boot stack */
static int madt_state;                  /* 0 not read, 1 read, -1 unreadable */
static char madt_err[MADT_REASON_MAX];

/* The MADT, read once. 0, or -1 (madt_err says why). */
static int read_madt(const struct boot_info *info)
{
    /* The identity map hv_main builds (or, before it, the boot loader's). */
    struct phys_window w = { memmap_top(info->ranges, info->range_count, 4ULL << 30) };
    const uint8_t *copy = info->rsdp == (uint64_t)(uintptr_t)info->rsdp_copy ?
                          info->rsdp_copy : NULL;

    if (!madt_state)
        madt_state = madt_discover(read_phys, &w, info->rsdp, copy,
                                   copy ? sizeof(info->rsdp_copy) : 0, &madt, madt_err,
                                   sizeof(madt_err)) < 0 ? -1 : 1;
    return madt_state > 0 ? 0 : -1;
}

/* How many CPUs to try for: the enabled ones, at most max_cpus (0: no
 * limit) and CPU_MAX. */
static uint32_t wanted(uint32_t total, uint32_t max_cpus)
{
    uint32_t want = max_cpus && max_cpus < total ? max_cpus : total;

    return want < CPU_MAX ? want : CPU_MAX;
}

uint32_t smp_arch_plan(const struct boot_info *info, uint32_t max_cpus)
{
    if (!info->rsdp || read_madt(info) < 0 || !trampoline_area_usable(info))
        return 1;
    return wanted(enabled_cpus(&madt), max_cpus);
}

uint32_t smp_arch_start(const struct boot_info *info, uint32_t max_cpus, char *log, size_t n)
{
    char buf[96], fails[384] = "";
    uint32_t want, total, failed = 0;
    int no_room = 0;
    size_t len = 0;

    if (!info->rsdp) {
        fmt_snprintf(log, n, "CPUs: no ACPI RSDP from the boot loader: only the boot CPU "
                     "runs");
        return 1;
    }
    if (read_madt(info) < 0) {
        fmt_snprintf(log, n, "CPUs: the MADT cannot be read (%s): only the boot CPU runs",
                     madt_err);
        return 1;
    }
    total = enabled_cpus(&madt);
    want = wanted(total, max_cpus);
    if (want > 1 && trampoline_area_usable(info))
        bring_up(&madt, want, has_word(info->cmdline, "selftest=ap-silent"), fails,
                 sizeof(fails), &failed, &no_room);
    fmt_snprintf(buf, sizeof(buf), "CPUs: %u in the MADT (APIC id%s ", total,
                 total == 1 ? "" : "s");
    say(log, n, &len, buf);
    say_ids(log, n, &len, &madt);
    fmt_snprintf(buf, sizeof(buf), "), %u up", smp_cpus_up);
    say(log, n, &len, buf);
    if (max_cpus && max_cpus < total) {
        fmt_snprintf(buf, sizeof(buf), " (cpus %u in mayfly.conf)", max_cpus);
        say(log, n, &len, buf);
    } else if (max_cpus > total) {
        fmt_snprintf(buf, sizeof(buf), " (cpus %u in mayfly.conf, but the MADT lists %u)",
                     max_cpus, total);
        say(log, n, &len, buf);
    } else if (want < total) {
        fmt_snprintf(buf, sizeof(buf), " (Mayfly runs guests on at most %d)", CPU_MAX);
        say(log, n, &len, buf);
    }
    if (want > 1 && !trampoline_area_usable(info)) {
        fmt_snprintf(buf, sizeof(buf), "; not started: the AP trampoline page 0x%x is not "
                     "usable RAM", SMP_TRAMPOLINE_BASE);
        say(log, n, &len, buf);
    }
    if (failed) {
        say(log, n, &len, failed == 1 ? "; APIC id " : "; APIC ids ");
        say(log, n, &len, fails);
        say(log, n, &len, " did not start");
    }
    if (no_room)
        say(log, n, &len, "; the hypervisor pool has no room for more CPUs' stacks");
    return smp_cpus_up;
}

void smp_arch_release(void)
{
    __atomic_store_n(&released, 1, __ATOMIC_RELEASE);
    for (uint32_t i = 1; i < x86_cpu_count; i++)
        cpu_arch_kick(i);
}
