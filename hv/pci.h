/*
 * PCI enumeration (issue 13): every bus, device and function behind one
 * configuration-space accessor, each function found handed to a callback
 * with its identity and its BARs decoded and sized. Pure logic over the
 * accessor: the arch provides the accessor (x86/pci.c: ECAM from the ACPI
 * MCFG table, else ports 0xCF8/0xCFC), unit tests a fake configuration
 * space.
 *
 * What a device reports is input: a BAR whose size probe reads nonsense
 * (size 0, not a power of two, base not aligned to its size, overlapping
 * another, a 64-bit BAR in the last slot) marks the device as not to be
 * used, with the reason, rather than being trusted.
 */
#ifndef HV_PCI_H
#define HV_PCI_H

#include <stddef.h>
#include <stdint.h>

#define PCI_BUSES       256u
#define PCI_DEVICES     32u
#define PCI_FUNCTIONS   8u
#define PCI_BARS        6u
#define PCI_WHY_MAX     120

/* Configuration-space offsets and bits the core uses. */
#define PCI_VENDOR_ID       0x00u       /* device id in the upper half */
#define PCI_COMMAND         0x04u       /* status in the upper half */
#define PCI_CLASS_REVISION  0x08u       /* class, subclass, prog-if, revision */
#define PCI_HEADER_WORD     0x0cu       /* header type in bits 16..23 */
#define PCI_BAR0            0x10u

#define PCI_CMD_IO              0x0001u
#define PCI_CMD_MEMORY          0x0002u
#define PCI_CMD_BUS_MASTER      0x0004u
#define PCI_CMD_INTX_DISABLE    0x0400u

#define PCI_VENDOR_NONE     0xffffu

/* Reads and writes one aligned 32-bit configuration register. A function
 * that is not there reads all ones; writes to it are dropped. */
struct pci_access {
    uint32_t (*read32)(void *arg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
    void (*write32)(void *arg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v);
    void *arg;
    /* For the log: how the space is reached and, after a fallback, why:
     * "ECAM at 0xb0000000, buses 0-255", "ports 0xcf8/0xcfc (no MCFG)". */
    const char *name;
};

enum pci_bar_kind {
    PCI_BAR_NONE = 0,               /* not implemented (reads 0 after the all-ones probe) */
    PCI_BAR_MEMORY,
    PCI_BAR_IO,
};

struct pci_bar {
    uint8_t kind;                   /* enum pci_bar_kind */
    uint8_t is_64;                  /* a 64-bit memory BAR (it takes this slot and the next) */
    uint8_t prefetchable;
    uint64_t base;                  /* 0: the firmware assigned it no address */
    uint64_t size;                  /* a power of two when kind != NONE */
};

struct pci_device {
    uint8_t bus, dev, fn;
    uint8_t header_type;            /* bits 0..6; the multi-function bit masked off */
    uint8_t multifunction;          /* function 0's header type bit 7 */
    uint8_t revision;
    uint16_t vendor, device;
    uint32_t class_code;            /* class << 16 | subclass << 8 | prog-if */
    struct pci_bar bars[PCI_BARS];  /* the upper half of a 64-bit BAR reads PCI_BAR_NONE */
    uint8_t bar_count;              /* 6 for a type 0 header, 2 for a bridge, else 0 */
    uint8_t bars_bad;               /* a BAR probe read nonsense: do not use the device */
    char why[PCI_WHY_MAX];          /* when bars_bad: which BAR, what was wrong */
};

/* Called for each function found, in bus, device, function order; d is
 * valid during the call only. */
typedef void (*pci_found_fn)(void *arg, const struct pci_device *d);

/* Walks every bus (PCI_BUSES), device and function (functions 1..7 only
 * where function 0 says it is multi-function; vendor 0xffff is nothing
 * there), sizes each function's BARs (memory and I/O decode off during
 * the probe, the command register restored after) and calls found for
 * each. Returns the number of functions found. */
uint32_t pci_scan(const struct pci_access *a, pci_found_fn found, void *arg);

/* Reads and decodes one function (it must be present): what pci_scan
 * hands its callback. */
void pci_read_device(const struct pci_access *a, uint8_t bus, uint8_t dev, uint8_t fn,
                     struct pci_device *d);

/* Turns on memory decode and bus mastering, I/O decode off, INTx off
 * (Mayfly polls its devices). */
void pci_enable(const struct pci_access *a, const struct pci_device *d);

/* The part of the identity map that is always there (paging_arch_init
 * maps [0, max(4 GiB, end of RAM))): a BAR below it is reachable as is. */
#define PCI_BAR_REACHABLE_TOP   (4ull << 30)

/* Set by the arch (x86/pci.c: paging_arch_map_device): maps device
 * memory above the identity map at its own address, uncached; 0 or -1.
 * NULL (host tests): nothing above PCI_BAR_REACHABLE_TOP is reachable. */
extern int (*pci_map_device)(uint64_t base, uint64_t size);

/* 1 when b is an assigned memory BAR the hypervisor can reach: below
 * PCI_BAR_REACHABLE_TOP, or mapped now through pci_map_device (a 64-bit
 * BAR above the identity map); else 0. */
int pci_bar_reachable(const struct pci_bar *b);

/* The "bb:dd.f" of d into buf (at least 8 bytes). */
void pci_format_address(const struct pci_device *d, char *buf, size_t size);

/*
 * ECAM windows from the ACPI MCFG table (pure logic, for x86/pci.c):
 * finds the entry for PCI segment 0 in the len bytes of table (the whole
 * MCFG, header included, checksum already checked). Returns 0 with its
 * base address and bus range, or -1 with the reason in why.
 */
struct pci_ecam {
    uint64_t base;                  /* of bus start_bus */
    uint8_t start_bus, end_bus;
};

int pci_mcfg_segment0(const uint8_t *table, size_t len, struct pci_ecam *out, char *why,
                      size_t n);

/*
 * Provided by the arch (x86/pci.c), not by hv/pci.c: the configuration
 * space accessor for this machine, ECAM where the firmware's MCFG names
 * one for segment 0 and it lies below the identity map's always-mapped
 * 4 GiB, else the legacy ports. Never NULL on x86. Its name says which
 * it chose and, when it fell back to the ports, why. Call it once, at
 * boot, on one CPU (the port pair is not locked).
 */
struct boot_info;
const struct pci_access *pci_arch_access(const struct boot_info *info);

#endif
