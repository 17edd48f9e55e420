/*
 * The Solo5 hvt personality (include/mayfly/hvt.h, docs/solo5.md): an
 * image with Solo5's ABI1 note for target hvt runs as the hvt tender
 * would run it. The layout, first CPU state and exception handling are
 * the arch's VCPU_LAYOUT_HVT; this file owns the rest:
 *
 *   - the devices of the image's manifest, each mapped by its guest line
 *     (net:<name>=<switch>: a queue port; block:<name>=<file>: a private
 *     copy of the file in the partition above the guest's memory, made
 *     at every start, so writes never reach another guest and vanish
 *     with it);
 *   - the boot info at HVT_BOOT_INFO_GPA: struct hvt_boot_info, the
 *     manifest copy with the devices attached, the command line;
 *   - the hypercalls: a 32-bit OUT to HVT_PIO_BASE + n with the argument
 *     struct's guest-physical address. Each struct is copied in through
 *     the checked translation, validated, acted on, and its results
 *     copied back. A struct or buffer outside the guest's memory ends the
 *     guest (as the tender ends); a bad handle, offset or length is the
 *     guest's error (HVT_R_EINVAL). Any other port I/O, and VMCALL, end
 *     it.
 */
#include "../include/mayfly/hvt.h"
#include "console.h"
#include "fleet.h"
#include "fmt.h"
#include "guest.h"
#include "lib.h"
#include "lifecycle.h"
#include "net.h"
#include "summon.h"

#define NSEC_PER_SEC        1000000000ULL
#define HVT_MTU             1500u           /* NET_BASIC payload bytes */
#define HVT_PUTS_MAX        65536u          /* bytes of one PUTS printed; the rest dropped */
#define HVT_BLOCK_MAX       (1u << 20)      /* bytes of one block request */
#define HVT_SECTOR_DEFAULT  512u
#define HVT_STACK_SLACK     8u              /* RSP = mem_size - 8, as the tender */

static const char *const call_names[HVT_HC_COUNT] = {
    "reserved", "WALLTIME", "PUTS", "POLL", "BLOCK_WRITE", "BLOCK_READ", "NET_WRITE",
    "NET_READ", "HALT",
};

/* The checked translation over the memory the guest sees. */
static void *hvt_memory(const struct guest *g, uint64_t gpa, uint64_t len)
{
    return gmem_at(&(const struct guest_mem){ g->mem, g->hvt.mem_size }, gpa, len);
}

/* ---- lines: the manifest against the config's mappings ---- */

static const char *type_name(uint32_t type)
{
    return type == HVT_MFT_NET_BASIC ? "NET_BASIC" : "BLOCK_BASIC";
}

static uint32_t kind_type(uint32_t kind)
{
    return kind == CONFIG_DEVICE_NET ? HVT_MFT_NET_BASIC : HVT_MFT_BLOCK_BASIC;
}

static uint32_t sector_of(const struct config_device *d)
{
    return d->sector_size ? d->sector_size : HVT_SECTOR_DEFAULT;
}

/* The config device mapping manifest entry name, or -1. */
static int mapping_of(const struct config_guest *c, const char *name)
{
    for (uint32_t d = 0; d < c->device_count; d++)
        if (!strcmp(c->devices[d].name, name))
            return (int)d;
    return -1;
}

/* The backing file of block mapping d: found, and whole sectors. */
static int check_disk(struct guest_line *l, uint32_t d, const struct fleet_files *files,
                      char *why, size_t n)
{
    const struct config_device *dev = &l->cfg->devices[d];
    uint64_t size = 0;
    const uint8_t *data = files ? files->find(files->arg, dev->target, &size) : NULL;

    if (!data)
        return fmt_error(why, n, -1, "block:%s=%s: no file %s was loaded (put it next to "
                         "mayfly.conf, or upload it with mfctl load --disk)", dev->name,
                         dev->target, dev->target);
    if (size < sector_of(dev) || size % sector_of(dev))
        return fmt_error(why, n, -1, "block:%s=%s: the disk image is %llu bytes, not a "
                         "whole number of %u-byte sectors: pad or resize it", dev->name,
                         dev->target, (unsigned long long)size, sector_of(dev));
    l->disk[d] = data;
    l->disk_size[d] = size;
    l->disk_total += ALIGN_UP(size, PAGE_SIZE);
    return 0;
}

static int solo5_check_line(struct guest_line *l, const struct fleet_files *files, char *why,
                            size_t n)
{
    const struct config_guest *c = l->cfg;
    const struct mft_info *m = &l->elf.mft;

    if (c->net_count)
        return fmt_error(why, n, -1, "%s is a Solo5 hvt image: map its network devices with "
                         "net:<device>=<switch>, not net=", c->image);
    memset(l->disk, 0, sizeof(l->disk));
    l->disk_total = 0;
    for (uint32_t i = 1; i < m->entries; i++) {
        int d = mapping_of(c, m->e[i].name);
        if (d < 0)
            return fmt_error(why, n, -1, "device %s (%s) of %s's manifest is not attached: add "
                             "%s:%s=<%s> to the guest line", m->e[i].name,
                             type_name(m->e[i].type), c->image,
                             m->e[i].type == HVT_MFT_NET_BASIC ? "net" : "block", m->e[i].name,
                             m->e[i].type == HVT_MFT_NET_BASIC ? "switch" : "file");
        if (kind_type(c->devices[d].kind) != m->e[i].type)
            return fmt_error(why, n, -1, "device %s of %s's manifest is %s, but the guest line "
                             "maps it with %s:", m->e[i].name, c->image, type_name(m->e[i].type),
                             c->devices[d].kind == CONFIG_DEVICE_NET ? "net" : "block");
        if (m->e[i].type == HVT_MFT_BLOCK_BASIC && check_disk(l, (uint32_t)d, files, why, n) < 0)
            return -1;
    }
    for (uint32_t d = 0; d < c->device_count; d++)
        if (mft_find(m, c->devices[d].name) < 1)
            return fmt_error(why, n, -1, "%s:%s: %s's manifest declares no device %s",
                             c->devices[d].kind == CONFIG_DEVICE_NET ? "net" : "block",
                             c->devices[d].name, c->image, c->devices[d].name);
    l->disk_total = ALIGN_UP(l->disk_total, PARTITION_ALIGN);
    l->need = elf_memory_needed(&l->elf) + l->disk_total;
    return 0;
}

/* ---- launch ---- */

/* A queue port's news: a frame for a guest that may be waiting in POLL. */
static void port_event(struct port *p, enum port_event event)
{
    struct guest *g = p->owner;

    if (event == PORT_EVENT_FAILED)
        kprintf("mayfly: guest %u %s: port on %s failed: %s\n", g->id, g->name,
                p->sw ? p->sw->name : "no switch", p->why);
    else
        lifecycle_notify(g, 1);
}

/* Attaches manifest entry i (mapped by config device d) to g. */
static int attach(struct guest *g, const struct guest_line *l, const struct config *cfg,
                  uint32_t i, uint32_t d, uint64_t *disk_gpa)
{
    const struct config_device *dev = &l->cfg->devices[d];
    struct hvt_device *hd = &g->hvt.devices[g->hvt.device_count];

    memset(hd, 0, sizeof(*hd));
    hd->type = (uint16_t)kind_type(dev->kind);
    hd->handle = (uint16_t)i;
    if (hd->type == HVT_MFT_NET_BASIC) {
        int sw = config_find_switch(cfg, dev->target);
        uint8_t mac[6];

        guest_mac(g, l, mac);
        hd->port = sw >= 0 ? net_queue_port_take((uint32_t)sw, mac, port_event, g) : NULL;
        if (hd->port)
            summon_join(l->cfg, &hd->port->port);
        if (!hd->port) {
            kprintf("mayfly: guest %u %s not started: no free network port for device %s on "
                    "switch %s (stop a Solo5 guest on a switch first)\n", g->id, g->name,
                    dev->name, dev->target);
            return -1;
        }
    } else {
        hd->sector = sector_of(dev);
        hd->capacity = l->disk_size[d];
        hd->disk_gpa = *disk_gpa;
        memcpy(g->mem + hd->disk_gpa, l->disk[d], hd->capacity);
        *disk_gpa += ALIGN_UP(hd->capacity, PAGE_SIZE);
    }
    g->hvt.device_count++;
    return 0;
}

/* The index of the device behind handle, if it is of type; -1 otherwise. */
static int device_index(const struct guest *g, uint64_t handle, uint32_t type)
{
    for (uint32_t d = 0; d < g->hvt.device_count; d++)
        if (g->hvt.devices[d].handle == handle)
            return g->hvt.devices[d].type == type ? (int)d : -1;
    return -1;
}

static struct hvt_device *device(struct guest *g, uint64_t handle, uint32_t type)
{
    int d = device_index(g, handle, type);
    return d < 0 ? NULL : &g->hvt.devices[d];
}

/* The manifest copy the guest reads: every device attached. */
static uint64_t write_manifest(const struct guest *g, const struct mft_info *m, uint8_t *dst)
{
    struct hvt_mft head = { HVT_MFT_VERSION, m->entries };
    struct hvt_mft_entry e;

    memcpy(dst, &head, sizeof(head));
    for (uint32_t i = 0; i < m->entries; i++) {
        int d = i ? device_index(g, i, m->e[i].type) : -1;
        const struct hvt_device *hd = d < 0 ? NULL : &g->hvt.devices[d];
        memset(&e, 0, sizeof(e));
        memcpy(e.name, m->e[i].name, sizeof(e.name));
        e.type = i ? m->e[i].type : HVT_MFT_RESERVED_FIRST;
        if (hd && hd->type == HVT_MFT_NET_BASIC) {
            memcpy(e.u.net.mac, hd->port->port.mac, 6);
            e.u.net.mtu = HVT_MTU;
        } else if (hd) {
            e.u.block.capacity = hd->capacity;
            e.u.block.block_size = (uint16_t)hd->sector;
        }
        e.attached = hd != NULL;
        memcpy(dst + sizeof(head) + (uint64_t)i * sizeof(e), &e, sizeof(e));
    }
    return mft_copy_size(m);
}

/* struct hvt_boot_info, Mayfly's struct hvt_mayfly, the manifest, the
 * command line. */
static void write_boot_info(const struct guest *g, const struct guest_line *l)
{
    struct hvt_boot_info bi;
    struct hvt_mayfly ext = { HVT_MAYFLY_MAGIC, g->start_tsc, g->id, 0 };
    uint64_t pos = HVT_BOOT_INFO_GPA + sizeof(bi);

    memcpy(g->mem + pos, &ext, sizeof(ext));
    pos += sizeof(ext);
    memset(&bi, 0, sizeof(bi));
    bi.mem_size = g->hvt.mem_size;
    bi.kernel_end = l->elf.kernel_end;
    bi.cpu_cycle_freq = time_arch_tsc_hz();
    bi.mft = pos;
    pos += write_manifest(g, &l->elf.mft, g->mem + pos);
    bi.cmdline = pos;
    str_copy((char *)(g->mem + pos), l->cfg->args, HVT_CMDLINE_SIZE);
    memcpy(g->mem + HVT_BOOT_INFO_GPA, &bi, sizeof(bi));
}

static int solo5_launch(struct guest *g, const struct guest_line *l, const struct config *cfg,
                        const struct launch_costs *costs)
{
    const struct mft_info *m = &l->elf.mft;
    uint64_t mem = g->mem_size - l->disk_total, disk_gpa;
    struct vcpu_boot boot;

    (void)costs;
    memset(&g->hvt, 0, sizeof(g->hvt));
    if (l->need > g->mem_size) {      /* fleet.c checks lines; a partition never shrinks */
        kprintf("mayfly: guest %u %s not started: it needs %llu KiB, its partition has %llu "
                "KiB\n", g->id, g->name, (unsigned long long)(l->need / 1024),
                (unsigned long long)(g->mem_size / 1024));
        return -1;
    }
    g->hvt.mem_size = mem < HVT_MEM_MAX ? mem : HVT_MEM_MAX;
    disk_gpa = mem;
    for (uint32_t i = 1; i < m->entries; i++)
        if (attach(g, l, cfg, i, (uint32_t)mapping_of(l->cfg, m->e[i].name), &disk_gpa) < 0)
            return -1;
    write_boot_info(g, l);
    boot.layout = VCPU_LAYOUT_HVT;
    boot.mapped = g->hvt.mem_size;
    boot.entry = l->elf.entry;
    boot.rsp = g->hvt.mem_size - HVT_STACK_SLACK;
    boot.arg = HVT_BOOT_INFO_GPA;
    if (vcpu_arch_reset(g->vcpu, g->mem, &boot) < 0) {
        kprintf("mayfly: guest %u %s not started: %llu MiB of guest memory do not fit the hvt "
                "page tables\n", g->id, g->name, (unsigned long long)(g->hvt.mem_size / MIB));
        return -1;
    }
    return 0;
}

static void solo5_release(struct guest *g)
{
    for (uint32_t d = 0; d < g->hvt.device_count; d++)
        if (g->hvt.devices[d].type == HVT_MFT_NET_BASIC && g->hvt.devices[d].port)
            net_queue_port_give(g->hvt.devices[d].port);
    g->hvt.device_count = 0;
}

/* ---- hypercalls ---- */

/* Copies the argument struct of call nr in; NULL (and g ended) when it
 * is not inside the guest's memory. */
static void *args_in(struct guest *g, uint32_t nr, uint64_t gpa, void *copy, uint64_t size)
{
    void *p = hvt_memory(g, gpa, size);

    if (!p) {
        lifecycle_kill(g, "hvt %s: argument struct at 0x%llx (%llu bytes) lies outside its "
                       "memory (%llu bytes)", call_names[nr], (unsigned long long)gpa,
                       (unsigned long long)size, (unsigned long long)g->hvt.mem_size);
        return NULL;
    }
    memcpy(copy, p, size);
    return p;
}

/* A buffer an argument struct names: NULL (and g ended) when outside. */
static void *buffer(struct guest *g, uint32_t nr, uint64_t gpa, uint64_t len)
{
    void *p = hvt_memory(g, gpa, len);

    if (!p)
        lifecycle_kill(g, "hvt %s: buffer at 0x%llx (%llu bytes) lies outside its memory "
                       "(%llu bytes)", call_names[nr], (unsigned long long)gpa,
                       (unsigned long long)len, (unsigned long long)g->hvt.mem_size);
    return p;
}

static uint64_t tsc_to_ns(uint64_t ticks)
{
    uint64_t hz = time_arch_tsc_hz();
    return ticks / hz * NSEC_PER_SEC + ticks % hz * NSEC_PER_SEC / hz;
}

/* Nanoseconds as TSC ticks from now, saturating (a year is plenty). */
static uint64_t ns_to_tsc(uint64_t ns)
{
    uint64_t hz = time_arch_tsc_hz(), cap = 366ULL * 86400 * NSEC_PER_SEC;

    if (ns > cap)
        ns = cap;
    return ns / NSEC_PER_SEC * hz + ns % NSEC_PER_SEC * hz / NSEC_PER_SEC;
}

static enum pers_next hc_walltime(struct guest *g, uint32_t nr, uint64_t gpa)
{
    struct hvt_hc_walltime a;
    void *p = args_in(g, nr, gpa, &a, sizeof(a));
    uint64_t at, ns = time_arch_wall_ns_at(&at);

    if (!p)
        return PERS_RUN_ON;
    a.nsecs = ns + tsc_to_ns(time_arch_tsc() - at);
    memcpy(p, &a, sizeof(a));
    return PERS_RUN_ON;
}

static enum pers_next hc_puts(struct guest *g, uint32_t nr, uint64_t gpa)
{
    struct hvt_hc_puts a;
    const char *text;

    if (!args_in(g, nr, gpa, &a, sizeof(a)) || !(text = buffer(g, nr, a.data, a.len)))
        return PERS_RUN_ON;
    guest_console(g, text, a.len < HVT_PUTS_MAX ? a.len : HVT_PUTS_MAX);
    return PERS_CONSOLE;
}

/* Bit n set for each NET_BASIC handle n with a frame waiting. */
static uint64_t ready_set(const struct guest *g)
{
    uint64_t set = 0;

    for (uint32_t d = 0; d < g->hvt.device_count; d++) {
        const struct hvt_device *hd = &g->hvt.devices[d];
        if (hd->type == HVT_MFT_NET_BASIC && qport_waiting(hd->port))
            set |= 1ULL << hd->handle;
    }
    return set;
}

/* Writes POLL's results (ready set) into the struct a, copied from gpa. */
static void poll_result(struct guest *g, uint64_t gpa, struct hvt_hc_poll *a, uint64_t set)
{
    void *p = hvt_memory(g, gpa, sizeof(*a));

    if (!p)
        return;             /* checked when the POLL was made; the layout is fixed */
    a->ready_set = set;
    a->ret = 0;
    for (; set; set &= set - 1)
        a->ret++;
    memcpy(p, a, sizeof(*a));
}

/* Ready now or a zero timeout: answered at once. Otherwise g waits (as
 * MF_HC_WAIT does) until the timeout or a frame for any of its ports;
 * the results are written when it wakes (solo5_wake). */
static enum pers_next hc_poll(struct guest *g, uint32_t nr, uint64_t gpa)
{
    struct hvt_hc_poll a;
    uint64_t deadline, set;

    if (!args_in(g, nr, gpa, &a, sizeof(a)))
        return PERS_RUN_ON;
    /* Cleared before the queues are looked at: a frame that comes after
     * the look leaves a notification, and lifecycle_wait then does not
     * wait. */
    lifecycle_take_pending(g);
    set = ready_set(g);
    if (set || !a.timeout_nsecs) {
        poll_result(g, gpa, &a, set);
        return PERS_RUN_ON;
    }
    deadline = time_arch_tsc() + ns_to_tsc(a.timeout_nsecs);
    if (g->kill_tsc && g->kill_tsc < deadline)
        deadline = g->kill_tsc;
    g->hvt.poll_gpa = gpa;
    g->hvt.polling = 1;
    if (lifecycle_wait(g, deadline)) {
        g->hvt.polling = 0;
        poll_result(g, gpa, &a, ready_set(g));
    }
    return PERS_RUN_ON;
}

static void solo5_wake(struct guest *g, int64_t result)
{
    struct hvt_hc_poll a;
    void *p;

    (void)result;           /* the ready set is read from the queues themselves */
    if (!g->hvt.polling)
        return;
    g->hvt.polling = 0;
    if ((p = hvt_memory(g, g->hvt.poll_gpa, sizeof(a)))) {
        memcpy(&a, p, sizeof(a));
        poll_result(g, g->hvt.poll_gpa, &a, ready_set(g));
    }
}

/* A block request's handle, offset and length: whole sectors inside the
 * disk, at most HVT_BLOCK_MAX bytes. */
static struct hvt_device *block_request(struct guest *g, const struct hvt_hc_block *a)
{
    struct hvt_device *hd = device(g, a->handle, HVT_MFT_BLOCK_BASIC);

    if (!hd || !a->len || a->len > HVT_BLOCK_MAX || a->len % hd->sector ||
        a->offset % hd->sector || a->offset >= hd->capacity || a->len > hd->capacity - a->offset)
        return NULL;
    return hd;
}

static enum pers_next hc_block(struct guest *g, uint32_t nr, uint64_t gpa)
{
    struct hvt_hc_block a;
    struct hvt_device *hd;
    uint8_t *p = args_in(g, nr, gpa, &a, sizeof(a)), *buf;

    if (!p)
        return PERS_RUN_ON;
    hd = block_request(g, &a);
    if (!hd) {
        a.ret = HVT_R_EINVAL;
    } else {
        if (!(buf = buffer(g, nr, a.data, a.len)))
            return PERS_RUN_ON;
        if (nr == HVT_HC_BLOCK_READ)
            memcpy(buf, g->mem + hd->disk_gpa + a.offset, a.len);
        else
            memcpy(g->mem + hd->disk_gpa + a.offset, buf, a.len);
        a.ret = HVT_R_OK;
    }
    memcpy(p, &a, sizeof(a));
    return PERS_RUN_ON;
}

/* NET_WRITE: the frame is copied once, then handed to the switch from
 * the copy. A frame the switch refuses (too short or long, another
 * source address) gets HVT_R_EINVAL. */
static enum pers_next hc_net_write(struct guest *g, uint32_t nr, uint64_t gpa)
{
    struct hvt_hc_net a;
    struct hvt_device *hd;
    uint8_t frame[MF_NET_FRAME_MAX];
    uint8_t *p = args_in(g, nr, gpa, &a, sizeof(a)), *buf;

    if (!p)
        return PERS_RUN_ON;
    hd = device(g, a.handle, HVT_MFT_NET_BASIC);
    if (!hd || a.len < PORT_FRAME_MIN || a.len > MF_NET_FRAME_MAX) {
        a.ret = HVT_R_EINVAL;
    } else {
        if (!(buf = buffer(g, nr, a.data, a.len)))
            return PERS_RUN_ON;
        memcpy(frame, buf, a.len);
        a.ret = qport_send(hd->port, frame, (uint32_t)a.len) == 0 ? HVT_R_OK : HVT_R_EINVAL;
    }
    memcpy(p, &a, sizeof(a));
    return PERS_RUN_ON;
}

static enum pers_next hc_net_read(struct guest *g, uint32_t nr, uint64_t gpa)
{
    struct hvt_hc_net a;
    struct hvt_device *hd;
    uint8_t *p = args_in(g, nr, gpa, &a, sizeof(a)), *buf;
    int32_t got;

    if (!p)
        return PERS_RUN_ON;
    hd = device(g, a.handle, HVT_MFT_NET_BASIC);
    if (!hd) {
        a.ret = HVT_R_EINVAL;
    } else {
        uint64_t room = a.len < MF_NET_FRAME_MAX ? a.len : MF_NET_FRAME_MAX;
        if (!(buf = buffer(g, nr, a.data, room)))
            return PERS_RUN_ON;
        got = qport_take(hd->port, buf, (uint32_t)room);
        a.ret = got > 0 ? HVT_R_OK : got == 0 ? HVT_R_AGAIN : HVT_R_EINVAL;
        if (got > 0)
            a.len = (uint64_t)got;
    }
    memcpy(p, &a, sizeof(a));
    return PERS_RUN_ON;
}

static enum pers_next hc_halt(struct guest *g, uint32_t nr, uint64_t gpa)
{
    struct hvt_hc_halt a;

    if (args_in(g, nr, gpa, &a, sizeof(a)))
        lifecycle_exit(g, a.exit_status);
    return PERS_RUN_ON;
}

typedef enum pers_next (*hvt_call_fn)(struct guest *g, uint32_t nr, uint64_t gpa);

static const hvt_call_fn calls[HVT_HC_COUNT] = {
    [HVT_HC_WALLTIME] = hc_walltime,
    [HVT_HC_PUTS] = hc_puts,
    [HVT_HC_POLL] = hc_poll,
    [HVT_HC_BLOCK_WRITE] = hc_block,
    [HVT_HC_BLOCK_READ] = hc_block,
    [HVT_HC_NET_WRITE] = hc_net_write,
    [HVT_HC_NET_READ] = hc_net_read,
    [HVT_HC_HALT] = hc_halt,
};

/* Only a 32-bit OUT (not a string form) to a hypercall port is a call. */
static enum pers_next solo5_on_exit(struct guest *g, const struct vm_exit *exit)
{
    uint32_t nr;

    if (exit->kind != VM_EXIT_IO) {
        lifecycle_kill(g, "VMCALL denied: hvt guests make hypercalls with outl to ports "
                       "0x%x-0x%x", HVT_PIO_BASE + 1, HVT_PIO_BASE + HVT_HC_COUNT - 1);
        return PERS_RUN_ON;
    }
    nr = (uint32_t)exit->io.port - HVT_PIO_BASE;
    if (exit->io.is_in || exit->io.is_string || exit->io.size != 4 ||
        exit->io.port <= HVT_PIO_BASE || nr >= HVT_HC_COUNT) {
        lifecycle_kill(g, "I/O port 0x%x %s (%u bytes%s) denied at rip 0x%llx: hvt hypercalls "
                       "are 32-bit OUTs to ports 0x%x-0x%x", (unsigned)exit->io.port,
                       exit->io.is_in ? "read" : "write", exit->io.size,
                       exit->io.is_string ? ", string" : "", (unsigned long long)exit->io.rip,
                       HVT_PIO_BASE + 1, HVT_PIO_BASE + HVT_HC_COUNT - 1);
        return PERS_RUN_ON;
    }
    /* Past the OUT first: a POLL that waits resumes after it. */
    vcpu_arch_complete_io(g->vcpu, 0);
    g->hypercalls++;
    return calls[nr](g, nr, exit->io.value);
}

static uint32_t solo5_ports(const struct guest *g, const struct port **out, uint32_t max)
{
    uint32_t n = 0;

    for (uint32_t d = 0; d < g->hvt.device_count && n < max; d++)
        if (g->hvt.devices[d].type == HVT_MFT_NET_BASIC)
            out[n++] = &g->hvt.devices[d].port->port;
    return n;
}

const struct personality personality_solo5 = {
    .name = "solo5-hvt",
    .check_line = solo5_check_line,
    .launch = solo5_launch,
    .on_exit = solo5_on_exit,
    .wake = solo5_wake,
    .release = solo5_release,
    .ports = solo5_ports,
};
