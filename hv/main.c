/*
 * hv_main: console, config, memory, partitions, virtualisation, guests.
 * Every fatal condition prints one line naming the cause and the fix and
 * powers off with a distinct status (hv/hv.h).
 */
#include "arch.h"
#include "boot_info.h"
#include "config.h"
#include "console.h"
#include "control.h"
#include "ctlnet.h"
#include "fleet.h"
#include "hv.h"
#include "lib.h"
#include "lifecycle.h"
#include "log.h"
#include "manage.h"
#include "memmap.h"
#include "nicscan.h"
#include "partition.h"
#include "pool.h"
#include "run.h"
#include "summon.h"
#include "uplink.h"
#include "e1000.h"

static struct config config;
static struct partition_table partitions;
static struct mem_range free_ranges[BOOT_MAX_RANGES];
static uint32_t free_count;

const struct boot_file *boot_find_file(const struct boot_info *info, const char *name)
{
    for (uint32_t i = 0; i < info->file_count; i++)
        if (!strcmp(info->files[i].name, name))
            return &info->files[i];
    return NULL;
}

static void print_memory(const struct boot_info *info)
{
    uint64_t total = memmap_total(info->ranges, info->range_count);

    kprintf("mayfly: memory: %u usable ranges, %llu MiB usable\n", info->range_count,
            (unsigned long long)(total / MIB));
    for (uint32_t i = 0; i < info->range_count; i++)
        kprintf("mayfly:   ram %016llx-%016llx\n", (unsigned long long)info->ranges[i].base,
                (unsigned long long)(info->ranges[i].base + info->ranges[i].size));
    kprintf("mayfly: image %llx-%llx, %u files, rsdp %llx\n",
            (unsigned long long)info->image_base, (unsigned long long)info->image_end,
            info->file_count, (unsigned long long)info->rsdp);
}

static void load_config(const struct boot_info *info)
{
    const struct boot_file *f = boot_find_file(info, "mayfly.conf");
    struct config_error err;

    if (!f)
        fatal(HV_BAD_CONFIG, "no mayfly.conf was loaded: put it at \\mayfly\\mayfly.conf "
              "on the EFI system partition, or pass 'module2 <path> mayfly.conf' in GRUB");
    if (config_parse((const char *)(uintptr_t)f->addr, f->size, &config, &err) < 0) {
        if (err.line)
            fatal(HV_BAD_CONFIG, "mayfly.conf line %u: %s", err.line, err.message);
        fatal(HV_BAD_CONFIG, "mayfly.conf: %s", err.message);
    }
    kprintf("mayfly: config: %u partition classes, %u guest lines\n", config.class_count,
            config.guest_count);
}

/* Takes the image, loaded files and low memory out of the usable list. */
static void reserve_boot_memory(const struct boot_info *info)
{
    uint32_t dropped = 0;

    memcpy(free_ranges, info->ranges, info->range_count * sizeof(free_ranges[0]));
    free_count = info->range_count;
    free_count = memmap_reserve(free_ranges, free_count, BOOT_MAX_RANGES, 0,
                                LOW_MEMORY_LIMIT, &dropped);
    free_count = memmap_reserve(free_ranges, free_count, BOOT_MAX_RANGES, info->image_base,
                                info->image_end - info->image_base, &dropped);
    for (uint32_t i = 0; i < info->file_count; i++)
        free_count = memmap_reserve(free_ranges, free_count, BOOT_MAX_RANGES,
                                    info->files[i].addr, info->files[i].size, &dropped);
    if (dropped)
        kprintf("mayfly: warning: %u memory ranges dropped (map too fragmented)\n", dropped);
}

/* Sized for the CPUs smp_arch_plan says will be tried: each beyond the
 * boot CPU takes its stacks and tables and its own scheduler queues. */
static void setup_pool(const struct boot_info *info)
{
    uint64_t size = POOL_FIXED_BYTES, base;
    uint32_t nparts = (uint32_t)config_partition_total(&config);
    uint32_t cpus = smp_arch_plan(info, config.max_cpus);

    for (uint32_t i = 0; i < config.class_count; i++)
        size += config.classes[i].count * fleet_footprint(config.classes[i].size);
    size += fleet_pool_extra(&config, nparts);
    size += (uint64_t)(cpus - 1) * (CPU_POOL_BYTES + LIFECYCLE_STORAGE(nparts));
    size += (uint64_t)config.uplink_count * E1000_POOL_BYTES;      /* the NICs' rings */
    size = ALIGN_UP(size, PAGE_2M);
    if (memmap_take(free_ranges, &free_count, BOOT_MAX_RANGES, size, PAGE_2M, &base) < 0)
        fatal(HV_NO_MEMORY, "no room for the %llu MiB hypervisor pool: give the machine more "
              "RAM", (unsigned long long)(size / MIB));
    pool_init(base, size);
    if (paging_arch_init(memmap_top(info->ranges, info->range_count, 4ULL << 30)) < 0)
        fatal(HV_NO_MEMORY, "hypervisor pool too small for the page tables");
    kprintf("mayfly: pool %llx-%llx (%llu MiB)\n", (unsigned long long)base,
            (unsigned long long)(base + size), (unsigned long long)(size / MIB));
}

/* The image store for uploads over the control channel, when it is on. */
static uint8_t *reserve_store(void)
{
    uint64_t base, size = ALIGN_UP(config.store_size, PAGE_2M);

    if (!config.control)
        return NULL;
    if (memmap_take(free_ranges, &free_count, BOOT_MAX_RANGES, size, PAGE_2M, &base) < 0)
        fatal(HV_NO_MEMORY, "no room for the %llu MiB image store: lower store= on the "
              "control line of mayfly.conf or give the machine more RAM",
              (unsigned long long)(size / MIB));
    return (uint8_t *)(uintptr_t)base;
}

static void carve_partitions(void)
{
    struct carve_shortfall sf;

    if (partition_carve(&partitions, &config, free_ranges, &free_count, BOOT_MAX_RANGES,
                        &sf) < 0) {
        const struct config_class *c = &config.classes[sf.first_class];
        fatal(HV_NO_MEMORY, "not enough memory for partitions: %u of them (first in class "
              "'%s') do not fit, %llu MiB missing (partitions need %llu MiB, %llu MiB free "
              "after the hypervisor): give the machine more RAM or shrink the partition "
              "lines in mayfly.conf", sf.missing_partitions, c->name,
              (unsigned long long)((sf.missing + MIB - 1) / MIB),
              (unsigned long long)(sf.needed / MIB),
              (unsigned long long)(sf.available / MIB));
    }
    for (uint32_t i = 0; i < partitions.class_count; i++) {
        const struct partition_class *c = &partitions.classes[i];
        kprintf("mayfly: partition class %s: %llu MiB x %u at %llx-%llx\n", c->name,
                (unsigned long long)(c->size / MIB), c->count,
                (unsigned long long)c->lowest, (unsigned long long)c->highest_end);
    }
    kprintf("mayfly: memory left unused: %llu MiB\n",
            (unsigned long long)(memmap_total(free_ranges, free_count) / MIB));
}

/* What the loader brought for each guest line: before anything can stop
 * the boot, so that the log shows it even on a machine without VT-x. */
static void list_guests(const struct boot_info *info)
{
    for (uint32_t i = 0; i < config.guest_count; i++) {
        const struct config_guest *g = &config.guests[i];
        const struct boot_file *f = boot_find_file(info, g->image);
        if (f)
            kprintf("mayfly: guest %s: image %s (%llu bytes), class %s, count %u\n", g->name,
                    g->image, (unsigned long long)f->size,
                    g->class_name[0] ? g->class_name : "any", g->count);
        else
            kprintf("mayfly: guest %s: image %s was not loaded: put it next to mayfly.conf\n",
                    g->name, g->image);
    }
}

static void start_virtualisation(void)
{
    char buf[256];
    int status = virt_arch_probe(buf, sizeof(buf));

    if (status != HV_OK)
        fatal(status, "%s", buf);
    kprintf("mayfly: %s\n", buf);
    status = virt_arch_cpu_init(buf, sizeof(buf));
    if (status != HV_OK)
        fatal(status, "%s", buf);
    kprintf("mayfly: %s\n", buf);
}

/* The other CPUs (issue 12): started, with virtualisation on, waiting
 * for smp_arch_release; one line for the log. */
static void start_cpus(const struct boot_info *info)
{
    char line[512];

    smp_arch_start(info, config.max_cpus, line, sizeof(line));
    kprintf("mayfly: %s\n", line);
}

static void console_poller_poll(void)
{
    console_poll();
}

/* Every CPU drains the console, so that a line an AP writes leaves even
 * while the boot CPU sleeps. */
static const struct run_poller console_poller = { console_poller_poll, console_pending, 0, 1,
                                                  NULL };

/* The uplink NICs, polled by the boot CPU. */
static const struct run_poller uplink_poller = { uplink_poll, uplink_wanted, 0, 0, NULL };

/* With uplink lines only: the PCI scan (a line per function) brings up
 * as many NICs as there are uplink lines, and each line takes one. */
static void start_uplinks(const struct boot_info *info)
{
    struct nic *nics[CONFIG_UPLINKS_MAX];
    uint32_t n;

    if (!config.uplink_count)
        return;
    n = nic_scan(info, nics, config.uplink_count);
    if (uplink_init(&config, nics, n))
        run_add_poller(&uplink_poller);
}

/* The log (with a control channel: only LOGS reads it), console
 * buffering (so that launches do not wait for the serial line), the
 * guests and the control channel, in that order. */
static void start_services(const struct boot_info *info, uint8_t *store)
{
    if (config.control) {
        void *log_ring = pool_alloc_bytes(LOG_RING_BYTES, 8);
        if (!log_ring)
            fatal(HV_NO_MEMORY, "hypervisor pool too small for the control channel's log ring");
        log_init(log_ring);
    }
    time_arch_wall_init();
    kprintf("mayfly: TSC %llu kHz, quantum %u ms\n",
            (unsigned long long)(time_arch_tsc_hz() / 1000), RUN_QUANTUM_MS);
    manage_init();
    run_init();
    console_start_buffering();
    run_add_poller(&console_poller);
    fleet_init(&config, &partitions, info);
    start_uplinks(info);
    summon_init(&config, info);
    control_init(&config, info, store, config.store_size);
    ctlnet_init(&config);
    fleet_booted();
}

void hv_main(const struct boot_info *info)
{
    uint8_t *store;

    cpu_arch_init();
    console_init();
    kprintf("\nmayfly: Mayfly microhypervisor, %s entry\n", info->entry_name);
    if (info->range_count == 0)
        fatal(HV_BAD_BOOT, "the boot loader reported no usable memory");
    print_memory(info);
    load_config(info);
    reserve_boot_memory(info);
    setup_pool(info);
    store = reserve_store();
    carve_partitions();
    list_guests(info);
    start_virtualisation();
    start_cpus(info);
    virt_arch_selftest(info->cmdline);
    start_services(info, store);
    smp_arch_release();
    run_loop(0);
}

/* An application processor, released: one line, then its own loop. */
void hv_ap_main(uint32_t cpu)
{
    kprintf("mayfly: CPU %u runs guests\n", cpu);
    run_loop(cpu);
}
