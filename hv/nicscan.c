/*
 * NIC discovery (hv/nicscan.h): pci_arch_access, pci_scan, and for each
 * function a log line and, for a model a driver takes, its probe.
 */
#include "nicscan.h"
#include "console.h"
#include "e1000.h"
#include "fmt.h"
#include "pci.h"

#define NICSCAN_WHY_MAX 160

struct nicscan {
    const struct pci_access *access;
    struct nic **out;
    uint32_t max, ready;
};

/* What became of d, for its line: a NIC brought up, or why not. */
static void device_attach(struct nicscan *s, const struct pci_device *d, char *what, size_t n)
{
    char why[NICSCAN_WHY_MAX];
    struct nic *nic;

    if (!e1000_supported(d->vendor, d->device)) {
        if (d->bars_bad)
            fmt_snprintf(what, n, "no driver; BARs not usable: %s", d->why);
        else
            fmt_snprintf(what, n, "no driver");
        return;
    }
    if (s->ready == s->max) {
        fmt_snprintf(what, n, "e1000: not used, %u NICs are all the uplink takes", s->max);
        return;
    }
    nic = e1000_probe(s->access, d, why, sizeof(why));
    if (!nic) {
        fmt_snprintf(what, n, "e1000: %s", why);
        return;
    }
    s->out[s->ready++] = nic;
    fmt_snprintf(what, n, "e1000: mac %02x:%02x:%02x:%02x:%02x:%02x", nic->mac[0], nic->mac[1],
                 nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
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
