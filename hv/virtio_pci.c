/*
 * virtio 1.x PCI transport, driver side (hv/virtio_pci.h). The
 * capability walk reads configuration space in aligned dwords (all that
 * struct pci_access offers) and stops after CAP_WALK_MAX entries, so a
 * list that loops ends. Each structure found is checked against the BAR
 * it names before its address is kept.
 */
#include "virtio_pci.h"
#include "fmt.h"
#include "lib.h"

#define PCI_STATUS_CAP_LIST     (1u << 20)  /* in the command/status dword */
#define PCI_CAP_PTR             0x34u
#define PCI_CAP_FIRST           0x40u       /* capabilities live past the header */
#define PCI_CFG_SIZE            0x100u
#define CAP_WALK_MAX            48u
#define RESET_POLLS             100000u
#define CFGGEN_TRIES            16u

static uint32_t io_read(const struct virtio_pci *t, uint64_t addr, uint32_t width)
{
    return t->io.read(t->io.arg, addr, width);
}

static void io_write(const struct virtio_pci *t, uint64_t addr, uint32_t width, uint32_t v)
{
    t->io.write(t->io.arg, addr, width, v);
}

static uint32_t common_read(const struct virtio_pci *t, uint32_t off, uint32_t width)
{
    return io_read(t, t->common.addr + off, width);
}

static void common_write(const struct virtio_pci *t, uint32_t off, uint32_t width, uint32_t v)
{
    io_write(t, t->common.addr + off, width, v);
}

/* The hypervisor's BAR access: loads and stores of the field's width. */
static uint32_t mmio_read(void *arg, uint64_t addr, uint32_t width)
{
    (void)arg;
    if (width == 1)
        return *(volatile uint8_t *)(uintptr_t)addr;
    if (width == 2)
        return *(volatile uint16_t *)(uintptr_t)addr;
    return *(volatile uint32_t *)(uintptr_t)addr;
}

static void mmio_write(void *arg, uint64_t addr, uint32_t width, uint32_t v)
{
    (void)arg;
    if (width == 1)
        *(volatile uint8_t *)(uintptr_t)addr = (uint8_t)v;
    else if (width == 2)
        *(volatile uint16_t *)(uintptr_t)addr = (uint16_t)v;
    else
        *(volatile uint32_t *)(uintptr_t)addr = v;
}

const struct virtio_pci_io virtio_pci_mmio = { mmio_read, mmio_write, NULL };

/* ---- capabilities ------------------------------------------------------- */

static uint32_t cfg_read(const struct pci_access *a, const struct pci_device *d, uint32_t off)
{
    return a->read32(a->arg, d->bus, d->dev, d->fn, (uint16_t)(off & ~3u));
}

static uint8_t cfg_byte(const struct pci_access *a, const struct pci_device *d, uint32_t off)
{
    return (uint8_t)(cfg_read(a, d, off) >> (8 * (off & 3u)));
}

/* One vendor capability as read from configuration space. */
struct vcap {
    uint8_t type, bar, len;
    uint32_t offset, length, mult;
};

/* Checks cap's structure lies inside its BAR, a reachable memory BAR of
 * d, and fills r. *mapped: the BARs already found reachable (each is
 * mapped once: pci_bar_reachable maps one above the identity map). 0, or
 * -1 with why. */
static int region_take(const struct pci_device *d, const struct vcap *cap, uint32_t min_len,
                       struct virtio_pci_region *r, uint8_t *mapped, char *why, size_t n)
{
    static const char *const names[] = { "?", "common", "notify", "ISR", "device" };
    const char *name = names[cap->type];
    const struct pci_bar *b;

    if (cap->bar >= PCI_BARS || cap->bar >= d->bar_count)
        return fmt_error(why, n, -1, "the %s capability names BAR %u, which the device "
                         "does not have", name, cap->bar);
    b = &d->bars[cap->bar];
    if (b->kind != PCI_BAR_MEMORY)
        return fmt_error(why, n, -1, "the %s structure is in BAR %u, not a memory BAR "
                         "(I/O BARs are not supported)", name, cap->bar);
    if (cap->length < min_len || cap->offset > b->size || cap->length > b->size - cap->offset)
        return fmt_error(why, n, -1, "the %s structure (offset 0x%x, length 0x%x) does not "
                         "fit BAR %u (0x%llx bytes, at least 0x%x needed)", name, cap->offset,
                         cap->length, cap->bar, (unsigned long long)b->size, min_len);
    if (!(*mapped & 1u << cap->bar) && !pci_bar_reachable(b))
        return fmt_error(why, n, -1, "BAR %u at 0x%llx (the %s structure) is %s", cap->bar,
                         (unsigned long long)b->base, name,
                         b->base ? "not reachable (not below 4 GiB and not mappable)" :
                                   "unassigned");
    *mapped |= (uint8_t)(1u << cap->bar);
    r->addr = b->base + cap->offset;
    r->len = cap->length;
    return 0;
}

static void cap_read(const struct pci_access *a, const struct pci_device *d, uint32_t at,
                     struct vcap *c)
{
    c->len = cfg_byte(a, d, at + 2);
    c->type = cfg_byte(a, d, at + 3);
    c->bar = cfg_byte(a, d, at + 4);
    c->offset = cfg_read(a, d, at + 8);
    c->length = cfg_read(a, d, at + 12);
    c->mult = c->len >= VIRTIO_PCI_NOTIFY_CAP_LEN && at + 16 < PCI_CFG_SIZE ?
              cfg_read(a, d, at + 16) : 0;
}

/* Takes cap into t when it is the first of a type we use. */
static int cap_use(const struct pci_device *d, const struct vcap *c, struct virtio_pci *t,
                   uint8_t *mapped, char *why, size_t n)
{
    static const uint32_t min_len[] = { 0, VIRTIO_COMMON_LEN, 2, 1, 6 };
    struct virtio_pci_region *slot[] = { NULL, &t->common, &t->notify, &t->isr, &t->device };

    if (c->type < VIRTIO_PCI_CAP_COMMON || c->type > VIRTIO_PCI_CAP_DEVICE || slot[c->type]->len)
        return 0;
    if (c->len < (c->type == VIRTIO_PCI_CAP_NOTIFY ? VIRTIO_PCI_NOTIFY_CAP_LEN :
                  VIRTIO_PCI_CAP_LEN))
        return fmt_error(why, n, -1, "a virtio capability of type %u is %u bytes long, too "
                         "short", c->type, c->len);
    if (region_take(d, c, min_len[c->type], slot[c->type], mapped, why, n) != 0)
        return -1;
    if (c->type == VIRTIO_PCI_CAP_NOTIFY)
        t->notify_mult = c->mult;
    return 0;
}

int virtio_pci_find(const struct pci_access *a, const struct pci_device *d,
                    const struct virtio_pci_io *io, struct virtio_pci *t, char *why, size_t n)
{
    uint8_t mapped = 0;
    uint32_t at;

    memset(t, 0, sizeof(*t));
    t->io = *io;
    if ((cfg_read(a, d, PCI_COMMAND) & PCI_STATUS_CAP_LIST) == 0)
        return fmt_error(why, n, -1, "no capability list: a legacy-only virtio device "
                         "(Mayfly drives virtio 1.x)");
    at = cfg_byte(a, d, PCI_CAP_PTR) & ~3u;
    for (uint32_t i = 0; i < CAP_WALK_MAX && at >= PCI_CAP_FIRST && at < PCI_CFG_SIZE; i++) {
        struct vcap c;
        if (cfg_byte(a, d, at) == VIRTIO_PCI_CAP_ID && at + VIRTIO_PCI_CAP_LEN <= PCI_CFG_SIZE) {
            cap_read(a, d, at, &c);
            if (cap_use(d, &c, t, &mapped, why, n) != 0)
                return -1;
        }
        at = cfg_byte(a, d, at + 1) & ~3u;
    }
    if (!t->common.len || !t->notify.len || !t->device.len)
        return fmt_error(why, n, -1, "no virtio 1.x %s capability (a legacy-only device? "
                         "Mayfly drives virtio 1.x)", !t->common.len ? "common" :
                         !t->notify.len ? "notify" : "device");
    return 0;
}

/* ---- common configuration ----------------------------------------------- */

int virtio_pci_reset(const struct virtio_pci *t)
{
    common_write(t, VIRTIO_COMMON_STATUS, 1, 0);
    for (uint32_t i = 0; i < RESET_POLLS; i++)
        if (common_read(t, VIRTIO_COMMON_STATUS, 1) == 0)
            return 0;
    return -1;
}

uint8_t virtio_pci_status(const struct virtio_pci *t)
{
    return (uint8_t)common_read(t, VIRTIO_COMMON_STATUS, 1);
}

void virtio_pci_status_set(const struct virtio_pci *t, uint8_t status)
{
    common_write(t, VIRTIO_COMMON_STATUS, 1, status);
}

uint64_t virtio_pci_features(const struct virtio_pci *t)
{
    uint64_t lo, hi;

    common_write(t, VIRTIO_COMMON_DFSELECT, 4, 0);
    lo = common_read(t, VIRTIO_COMMON_DF, 4);
    common_write(t, VIRTIO_COMMON_DFSELECT, 4, 1);
    hi = common_read(t, VIRTIO_COMMON_DF, 4);
    return hi << 32 | lo;
}

void virtio_pci_features_set(const struct virtio_pci *t, uint64_t features)
{
    common_write(t, VIRTIO_COMMON_GFSELECT, 4, 0);
    common_write(t, VIRTIO_COMMON_GF, 4, (uint32_t)features);
    common_write(t, VIRTIO_COMMON_GFSELECT, 4, 1);
    common_write(t, VIRTIO_COMMON_GF, 4, (uint32_t)(features >> 32));
}

static void common_write64(const struct virtio_pci *t, uint32_t off, uint64_t v)
{
    common_write(t, off, 4, (uint32_t)v);
    common_write(t, off + 4, 4, (uint32_t)(v >> 32));
}

int virtio_pci_queue_setup(const struct virtio_pci *t, struct virtio_pci_queue *q,
                           uint16_t max, char *why, size_t n)
{
    uint32_t dev_max, size, noff;
    uint64_t at;

    common_write(t, VIRTIO_COMMON_Q_SELECT, 2, q->index);
    dev_max = common_read(t, VIRTIO_COMMON_Q_SIZE, 2);
    if (dev_max == 0)
        return fmt_error(why, n, -1, "the device has no queue %u", q->index);
    size = dev_max < max ? dev_max : max;
    if (size & (size - 1))
        return fmt_error(why, n, -1, "queue %u's size %u is not a power of two", q->index,
                         dev_max);
    noff = common_read(t, VIRTIO_COMMON_Q_NOFF, 2);
    at = (uint64_t)noff * t->notify_mult;
    if (at + 2 > t->notify.len)
        return fmt_error(why, n, -1, "queue %u's notify offset %u x %u lies outside the "
                         "notify structure (0x%x bytes)", q->index, noff, t->notify_mult,
                         t->notify.len);
    common_write(t, VIRTIO_COMMON_Q_SIZE, 2, size);
    common_write(t, VIRTIO_COMMON_Q_MSIX, 2, VIRTIO_MSI_NO_VECTOR);
    common_write64(t, VIRTIO_COMMON_Q_DESCLO, q->desc);
    common_write64(t, VIRTIO_COMMON_Q_AVAILLO, q->avail);
    common_write64(t, VIRTIO_COMMON_Q_USEDLO, q->used);
    common_write(t, VIRTIO_COMMON_Q_ENABLE, 2, 1);
    q->size = (uint16_t)size;
    q->notify = t->notify.addr + at;
    return 0;
}

void virtio_pci_notify(const struct virtio_pci *t, const struct virtio_pci_queue *q)
{
    io_write(t, q->notify, 2, q->index);
}

int virtio_pci_device_read(const struct virtio_pci *t, uint32_t off, uint8_t *buf,
                           uint32_t len)
{
    if (off > t->device.len || len > t->device.len - off)
        return -1;
    for (uint32_t k = 0; k < CFGGEN_TRIES; k++) {
        uint32_t gen = common_read(t, VIRTIO_COMMON_CFGGEN, 1);
        for (uint32_t i = 0; i < len; i++)
            buf[i] = (uint8_t)io_read(t, t->device.addr + off + i, 1);
        if (common_read(t, VIRTIO_COMMON_CFGGEN, 1) == gen)
            return 0;
    }
    return -1;
}
