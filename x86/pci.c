/*
 * PCI configuration space on x86 (pci_arch_access, hv/pci.h): ECAM
 * (memory-mapped, 4 KiB per function) where the ACPI MCFG names a window
 * for segment 0 that lies in the always-mapped first 4 GiB of the
 * identity map, else configuration mechanism #1 (ports 0xCF8/0xCFC,
 * 256 bytes per function). Bochs's i440FX has no MCFG and takes the
 * ports; QEMU's q35 has one. Used at boot on one CPU only: the port pair
 * is not locked.
 */
#include "../hv/boot_info.h"
#include "../hv/fmt.h"
#include "../hv/lib.h"
#include "../hv/madt.h"
#include "../hv/arch.h"
#include "../hv/pci.h"
#include "x86.h"

#define PCI_CONFIG_ADDRESS  0xcf8u
#define PCI_CONFIG_DATA     0xcfcu
#define PCI_CONFIG_ENABLE   0x80000000u
#define PORTS_OFF_LIMIT     0x100u      /* mechanism #1 reaches 256 bytes */
#define ECAM_OFF_LIMIT      0x1000u
#define ECAM_MAPPED_TOP     (4ull << 30)
#define MCFG_MAX            1024u       /* 60 segments: more than any machine has */

static inline uint32_t port_in32(uint16_t port)
{
    uint32_t v;

    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static uint32_t ports_address(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    return PCI_CONFIG_ENABLE | (uint32_t)bus << 16 | (uint32_t)(dev & 0x1fu) << 11 |
           (uint32_t)(fn & 0x7u) << 8 | (off & 0xfcu);
}

static uint32_t ports_read32(void *arg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    (void)arg;
    if (off >= PORTS_OFF_LIMIT)
        return 0xffffffffu;
    outl(PCI_CONFIG_ADDRESS, ports_address(bus, dev, fn, off));
    return port_in32(PCI_CONFIG_DATA);
}

static void ports_write32(void *arg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
                          uint32_t v)
{
    (void)arg;
    if (off >= PORTS_OFF_LIMIT)
        return;
    outl(PCI_CONFIG_ADDRESS, ports_address(bus, dev, fn, off));
    outl(PCI_CONFIG_DATA, v);
}

static struct pci_ecam ecam;

/* The register's address in the window, or NULL for a bus outside it. */
static volatile uint32_t *ecam_register(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    if (bus < ecam.start_bus || bus > ecam.end_bus || off >= ECAM_OFF_LIMIT)
        return NULL;
    return (volatile uint32_t *)(uintptr_t)(ecam.base + ((uint64_t)bus << 20) +
                                            ((uint64_t)(dev & 0x1fu) << 15) +
                                            ((uint64_t)(fn & 0x7u) << 12) + (off & 0xffcu));
}

static uint32_t ecam_read32(void *arg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    volatile uint32_t *r = ecam_register(bus, dev, fn, off);

    (void)arg;
    return r ? *r : 0xffffffffu;
}

static void ecam_write32(void *arg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
                         uint32_t v)
{
    volatile uint32_t *r = ecam_register(bus, dev, fn, off);

    (void)arg;
    if (r)
        *r = v;
}

static char access_name[PCI_WHY_MAX + 48];
static struct pci_access ports = { ports_read32, ports_write32, NULL, access_name };
static struct pci_access ecam_access = { ecam_read32, ecam_write32, NULL, access_name };

/* madt_read_fn over the first 4 GiB of the identity map, where the
 * firmware's tables are. */
static int read_low(void *arg, uint64_t addr, void *dst, size_t len)
{
    (void)arg;
    if (addr > ECAM_MAPPED_TOP || len > ECAM_MAPPED_TOP - addr)
        return -1;
    memcpy(dst, (const void *)(uintptr_t)addr, len);
    return 0;
}

/* The MCFG's segment 0 window into ecam: 0, or -1 with why. */
static int ecam_find(const struct boot_info *info, char *why, size_t n)
{
    static uint8_t mcfg[MCFG_MAX];      /* boot only, one CPU: not on the stack */
    const uint8_t *copy = info->rsdp == (uint64_t)(uintptr_t)info->rsdp_copy ?
                          info->rsdp_copy : NULL;
    size_t len = 0;
    uint64_t end;

    if (!info->rsdp)
        return fmt_error(why, n, -1, "no ACPI RSDP");
    if (madt_find_table(read_low, NULL, info->rsdp, copy, copy ? sizeof(info->rsdp_copy) : 0,
                        "MCFG", mcfg, sizeof(mcfg), &len, why, n) != 0 ||
        pci_mcfg_segment0(mcfg, len, &ecam, why, n) != 0)
        return -1;
    end = ecam.base + (((uint64_t)ecam.end_bus + 1) << 20);
    if (end > ECAM_MAPPED_TOP)
        return fmt_error(why, n, -1, "ECAM at 0x%llx-0x%llx lies above the 4 GiB the "
                         "hypervisor always maps", (unsigned long long)ecam.base,
                         (unsigned long long)end);
    return 0;
}

/* BARs above the identity map are mapped when a driver asks for them. */
const struct pci_access *pci_arch_access(const struct boot_info *info)
{
    char why[PCI_WHY_MAX];

    pci_map_device = paging_arch_map_device;

    if (ecam_find(info, why, sizeof(why)) == 0) {
        fmt_snprintf(access_name, sizeof(access_name), "ECAM at 0x%llx, buses %u-%u",
                     (unsigned long long)ecam.base, ecam.start_bus, ecam.end_bus);
        return &ecam_access;
    }
    fmt_snprintf(access_name, sizeof(access_name), "ports 0xcf8/0xcfc (%s)", why);
    return &ports;
}
