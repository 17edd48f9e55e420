/*
 * NIC discovery (hv/nicscan.h): pci_arch_access, pci_scan, and for each
 * function a log line and, for a model a driver takes (e1000, virtio-net),
 * its probe.
 */
#include "nicscan.h"
#include "console.h"
#include "e1000.h"
#include "fmt.h"
#include "pci.h"
#include "virtio_net.h"

#define NICSCAN_WHY_MAX 160

/* The drivers, asked in this order which of them takes a device. */
struct nic_driver {
    const char *name;
    int (*supported)(uint16_t vendor, uint16_t device);
    struct nic *(*probe)(const struct pci_access *a, const struct pci_device *d, char *why,
                         size_t n);
};

static const struct nic_driver drivers[] = {
    { "e1000", e1000_supported, e1000_probe },
    { "virtio-net", virtio_net_supported, virtio_net_probe },
};

struct nicscan {
    const struct pci_access *access;
    struct nic **out;
    uint32_t max, ready;
};

static const struct nic_driver *driver_find(const struct pci_device *d)
{
    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
        if (drivers[i].supported(d->vendor, d->device))
            return &drivers[i];
    return NULL;
}

/* What became of d, for its line: a NIC brought up, or why not. */
static void device_attach(struct nicscan *s, const struct pci_device *d, char *what, size_t n)
{
    const struct nic_driver *drv = driver_find(d);
    char why[NICSCAN_WHY_MAX], mac[FMT_MAC_LEN];
    struct nic *nic;

    if (!drv) {
        if (d->bars_bad)
            fmt_snprintf(what, n, "no driver; BARs not usable: %s", d->why);
        else
            fmt_snprintf(what, n, "no driver");
        return;
    }
    if (s->ready == s->max) {
        fmt_snprintf(what, n, "%s: not used, %u NICs are all the uplink takes", drv->name,
                     s->max);
        return;
    }
    nic = drv->probe(s->access, d, why, sizeof(why));
    if (!nic) {
        fmt_snprintf(what, n, "%s: %s", drv->name, why);
        return;
    }
    s->out[s->ready++] = nic;
    fmt_snprintf(what, n, "%s: mac %s", drv->name, fmt_mac(mac, nic->mac));
}

static void device_found(void *arg, const struct pci_device *d)
{
    char addr[16], what[NICSCAN_WHY_MAX + 16];

    device_attach(arg, d, what, sizeof(what));
    pci_format_address(d, addr, sizeof(addr));
    kprintf("mayfly: pci %s %04x:%04x class %06x (%s)\n", addr, d->vendor, d->device,
            d->class_code, what);
}

uint32_t nic_scan(const struct boot_info *info, struct nic **out, uint32_t max)
{
    struct nicscan s = { pci_arch_access(info), out, max, 0 };
    uint32_t found;

    found = pci_scan(s.access, device_found, &s);
    kprintf("mayfly: pci: %u functions through %s, %u NICs ready\n", found, s.access->name,
            s.ready);
    return s.ready;
}
