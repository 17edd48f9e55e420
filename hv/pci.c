/*
 * PCI enumeration (hv/pci.h). The walk is bounded by the address space
 * itself (256 buses x 32 devices x 8 functions) and asks the accessor
 * for nothing else, so a broken or hostile configuration space can make
 * it slow, never make it loop or write outside the registers it sizes.
 * BAR sizing writes all ones to each BAR and reads back what the device
 * decodes, with decode switched off so that no address range is claimed
 * for a moment by a half-written BAR.
 */
#include "pci.h"
#include "fmt.h"
#include "lib.h"

#define HEADER_TYPE_MASK    0x7fu
#define HEADER_MULTI        0x80u
#define HEADER_NORMAL       0u
#define HEADER_BRIDGE       1u

#define BAR_IS_IO           0x1u
#define BAR_MEM_TYPE_SHIFT  1
#define BAR_MEM_TYPE_MASK   0x3u
#define BAR_MEM_TYPE_32     0u
#define BAR_MEM_TYPE_64     2u
#define BAR_PREFETCH        0x8u
#define BAR_MEM_FLAGS       0xfu
#define BAR_IO_FLAGS        0x3u

#define PCI_CLASS_HOST_BRIDGE 0x0600u     /* class and subclass */

#define MCFG_ENTRIES_AT     44u         /* ACPI header (36) and 8 reserved bytes */
#define MCFG_ENTRY_SIZE     16u
#define ECAM_BUS_SHIFT      20

static uint32_t cfg_read(const struct pci_access *a, const struct pci_device *d, uint32_t off)
{
    return a->read32(a->arg, d->bus, d->dev, d->fn, (uint16_t)off);
}

static void cfg_write(const struct pci_access *a, const struct pci_device *d, uint32_t off,
                      uint32_t v)
{
    a->write32(a->arg, d->bus, d->dev, d->fn, (uint16_t)off, v);
}

/* What the BAR register at off decodes: all ones written, read back, the
 * original restored. *orig: its value before. */
static uint32_t bar_size_word(const struct pci_access *a, const struct pci_device *d,
                              uint32_t off, uint32_t *orig)
{
    uint32_t probed;

    *orig = cfg_read(a, d, off);
    cfg_write(a, d, off, 0xffffffffu);
    probed = cfg_read(a, d, off);
    cfg_write(a, d, off, *orig);
    return probed;
}

#define bar_fail(d, ...) fmt_error((d)->why, sizeof((d)->why), -1, __VA_ARGS__)

/* The size and base already decoded into b: a power of two, the base
 * aligned to it, no wrap past the top. */
static int bar_check(struct pci_device *d, uint32_t i, const struct pci_bar *b)
{
    if (b->size == 0 || (b->size & (b->size - 1)) != 0)
        return bar_fail(d, "BAR %u sizes to 0x%llx, not a power of two", i,
                        (unsigned long long)b->size);
    if ((b->base & (b->size - 1)) != 0)
        return bar_fail(d, "BAR %u base 0x%llx is not aligned to its size 0x%llx", i,
                        (unsigned long long)b->base, (unsigned long long)b->size);
    if (b->base + b->size < b->base)
        return bar_fail(d, "BAR %u at 0x%llx size 0x%llx wraps past the top", i,
                        (unsigned long long)b->base, (unsigned long long)b->size);
    return 0;
}

/* An I/O BAR (orig, probed: its value and what it decodes). Devices that
 * decode only 64 KiB of ports may read 0 in the upper half. */
static int bar_io(struct pci_device *d, uint32_t i, uint32_t orig, uint32_t probed)
{
    struct pci_bar *b = &d->bars[i];
    uint32_t mask = probed & ~BAR_IO_FLAGS;

    if (mask == 0)
        return bar_fail(d, "I/O BAR %u reads 0x%x and decodes no address bits (size 0)", i,
                        orig);
    if ((mask & 0xffff0000u) == 0)
        mask |= 0xffff0000u;
    b->kind = PCI_BAR_IO;
    b->base = orig & ~BAR_IO_FLAGS;
    b->size = (uint32_t)(~mask + 1u);
    return bar_check(d, i, b);
}

/* A memory BAR in slot i; *used: the slots it takes (2 when 64-bit). */
static int bar_memory(const struct pci_access *a, struct pci_device *d, uint32_t i,
                      uint32_t orig, uint32_t probed, uint32_t *used)
{
    struct pci_bar *b = &d->bars[i];
    uint32_t type = (orig >> BAR_MEM_TYPE_SHIFT) & BAR_MEM_TYPE_MASK;
    uint32_t lo_mask = probed & ~BAR_MEM_FLAGS, hi = 0, hi_probed = 0xffffffffu;
    uint64_t mask;

    if (type != BAR_MEM_TYPE_32 && type != BAR_MEM_TYPE_64)
        return bar_fail(d, "memory BAR %u has the reserved type %u", i, type);
    if (type == BAR_MEM_TYPE_64) {
        if (i + 1 >= d->bar_count)
            return bar_fail(d, "BAR %u is 64-bit but is the last BAR slot", i);
        hi_probed = bar_size_word(a, d, PCI_BAR0 + 4 * (i + 1), &hi);
        *used = 2;
    }
    mask = (uint64_t)hi_probed << 32 | lo_mask;
    if (lo_mask == 0 && (type == BAR_MEM_TYPE_32 || hi_probed == 0))
        return bar_fail(d, "memory BAR %u reads 0x%x and decodes no address bits (size 0)", i,
                        orig);
    b->kind = PCI_BAR_MEMORY;
    b->is_64 = type == BAR_MEM_TYPE_64;
    b->prefetchable = (orig & BAR_PREFETCH) != 0;
    b->base = (uint64_t)hi << 32 | (orig & ~BAR_MEM_FLAGS);
    b->size = ~mask + 1u;
    return bar_check(d, i, b);
}

/* Slot i: its kind, base and size; *used: the slots it takes. A BAR
 * that is not implemented reads 0 before and after the probe. */
static int bar_decode(const struct pci_access *a, struct pci_device *d, uint32_t i,
                      uint32_t *used)
{
    uint32_t orig, probed = bar_size_word(a, d, PCI_BAR0 + 4 * i, &orig);

    *used = 1;
    if (orig == 0 && probed == 0)
        return 0;
    if (orig & BAR_IS_IO)
        return bar_io(d, i, orig, probed);
    return bar_memory(a, d, i, orig, probed, used);
}

/* Two assigned BARs of one kind that share an address. */
static int bars_overlap(struct pci_device *d)
{
    for (uint32_t i = 0; i < d->bar_count; i++) {
        const struct pci_bar *x = &d->bars[i];
        if (x->kind == PCI_BAR_NONE || x->base == 0)
            continue;
        for (uint32_t k = i + 1; k < d->bar_count; k++) {
            const struct pci_bar *y = &d->bars[k];
            if (y->kind == x->kind && y->base != 0 && x->base < y->base + y->size &&
                y->base < x->base + x->size)
                return bar_fail(d, "BARs %u and %u overlap at 0x%llx", i, k,
                                (unsigned long long)(x->base > y->base ? x->base : y->base));
        }
    }
    return 0;
}

/* Sizes every BAR with decode off, then restores the command register.
 * A host bridge keeps decoding: on some chipsets turning its memory
 * decode off cuts the CPU off from RAM. The first nonsense found marks
 * the device bad and ends the probe. */
static void bars_read(const struct pci_access *a, struct pci_device *d)
{
    uint32_t cmd = cfg_read(a, d, PCI_COMMAND) & 0xffffu, used = 1;
    int bad = 0, toggle = (d->class_code >> 8) != PCI_CLASS_HOST_BRIDGE;

    if (d->bar_count == 0)
        return;
    if (toggle)
        cfg_write(a, d, PCI_COMMAND, cmd & ~(uint32_t)(PCI_CMD_IO | PCI_CMD_MEMORY));
    for (uint32_t i = 0; i < d->bar_count && !bad; i += used)
        bad = bar_decode(a, d, i, &used) != 0;
    if (toggle)
        cfg_write(a, d, PCI_COMMAND, cmd);
    if (!bad)
        bad = bars_overlap(d) != 0;
    if (bad) {
        d->bars_bad = 1;
        memset(d->bars, 0, sizeof(d->bars));
    }
}

static uint8_t bars_in_header(uint8_t header_type)
{
    switch (header_type) {
    case HEADER_NORMAL:
        return PCI_BARS;
    case HEADER_BRIDGE:
        return 2;
    default:
        return 0;                   /* CardBus and unknown layouts: none sized */
    }
}

void pci_read_device(const struct pci_access *a, uint8_t bus, uint8_t dev, uint8_t fn,
                     struct pci_device *d)
{
    uint32_t id, cls, hdr;

    memset(d, 0, sizeof(*d));
    d->bus = bus;
    d->dev = dev;
    d->fn = fn;
    id = cfg_read(a, d, PCI_VENDOR_ID);
    cls = cfg_read(a, d, PCI_CLASS_REVISION);
    hdr = (cfg_read(a, d, PCI_HEADER_WORD) >> 16) & 0xffu;
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    d->revision = (uint8_t)cls;
    d->class_code = cls >> 8;
    d->header_type = (uint8_t)(hdr & HEADER_TYPE_MASK);
    d->multifunction = (hdr & HEADER_MULTI) != 0;
    d->bar_count = bars_in_header(d->header_type);
    bars_read(a, d);
}

/* Whether a function answers: vendor 0xffff is an empty slot, and 0 is
 * no vendor's either. */
static int function_present(const struct pci_access *a, uint8_t bus, uint8_t dev, uint8_t fn)
{
    uint16_t vendor = (uint16_t)a->read32(a->arg, bus, dev, fn, PCI_VENDOR_ID);

    return vendor != PCI_VENDOR_NONE && vendor != 0;
}

/* Device dev on bus: function 0, and 1..7 when it is multi-function. */
static uint32_t scan_device(const struct pci_access *a, uint8_t bus, uint8_t dev,
                            pci_found_fn found, void *arg)
{
    struct pci_device d;
    uint32_t count = 0, fns = 1;

    for (uint32_t fn = 0; fn < fns; fn++) {
        if (!function_present(a, bus, dev, (uint8_t)fn))
            continue;
        pci_read_device(a, bus, dev, (uint8_t)fn, &d);
        if (fn == 0 && d.multifunction)
            fns = PCI_FUNCTIONS;
        found(arg, &d);
        count++;
    }
    return count;
}

uint32_t pci_scan(const struct pci_access *a, pci_found_fn found, void *arg)
{
    uint32_t count = 0;

    for (uint32_t bus = 0; bus < PCI_BUSES; bus++)
        for (uint32_t dev = 0; dev < PCI_DEVICES; dev++)
            count += scan_device(a, (uint8_t)bus, (uint8_t)dev, found, arg);
    return count;
}

void pci_enable(const struct pci_access *a, const struct pci_device *d)
{
    uint32_t cmd = cfg_read(a, d, PCI_COMMAND) & 0xffffu;

    cmd |= PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER | PCI_CMD_INTX_DISABLE;
    cmd &= ~(uint32_t)PCI_CMD_IO;
    cfg_write(a, d, PCI_COMMAND, cmd);      /* status half 0: clears no status bit */
}

int (*pci_map_device)(uint64_t base, uint64_t size);

int pci_bar_reachable(const struct pci_bar *b)
{
    if (b->kind != PCI_BAR_MEMORY || b->base == 0)
        return 0;
    if (b->size <= PCI_BAR_REACHABLE_TOP && b->base <= PCI_BAR_REACHABLE_TOP - b->size)
        return 1;
    return pci_map_device && pci_map_device(b->base, b->size) == 0;
}

void pci_format_address(const struct pci_device *d, char *buf, size_t size)
{
    fmt_snprintf(buf, size, "%02x:%02x.%u", d->bus, d->dev, d->fn);
}

int pci_mcfg_segment0(const uint8_t *table, size_t len, struct pci_ecam *out, char *why,
                      size_t n)
{
    memset(out, 0, sizeof(*out));
    if (len < MCFG_ENTRIES_AT)
        return fmt_error(why, n, -1, "ACPI MCFG: %zu bytes, shorter than its %u-byte header",
                         len, MCFG_ENTRIES_AT);
    for (size_t off = MCFG_ENTRIES_AT; len - off >= MCFG_ENTRY_SIZE; off += MCFG_ENTRY_SIZE) {
        const uint8_t *e = table + off;
        uint64_t base = load_u64(e);

        if (load_u16(e + 8) != 0)
            continue;               /* another PCI segment: Mayfly walks segment 0 only */
        if (e[10] > e[11])
            return fmt_error(why, n, -1, "ACPI MCFG: segment 0 buses %u-%u run backwards",
                             e[10], e[11]);
        if (base == 0 || (base & ((1ull << ECAM_BUS_SHIFT) - 1)) != 0)
            return fmt_error(why, n, -1, "ACPI MCFG: segment 0 ECAM base 0x%llx is not a "
                             "non-zero 1 MiB-aligned address", (unsigned long long)base);
        if (base + ((uint64_t)e[11] + 1) * (1ull << ECAM_BUS_SHIFT) < base)
            return fmt_error(why, n, -1, "ACPI MCFG: segment 0 ECAM at 0x%llx wraps past the top",
                             (unsigned long long)base);
        out->base = base;
        out->start_bus = e[10];
        out->end_bus = e[11];
        return 0;
    }
    return fmt_error(why, n, -1, "ACPI MCFG: no entry for PCI segment 0");
}
