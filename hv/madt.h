/*
 * ACPI CPU discovery: the RSDP, the RSDT or XSDT it points at, and the
 * MADT ("APIC") they list, read into the CPUs (local APICs and x2APICs)
 * and I/O APICs the firmware reports. Firmware input is untrusted: every
 * length and checksum is checked, nothing outside the tables' stated
 * lengths is read. Pure logic over a memory accessor, so the same code
 * runs in the hypervisor (physical memory through the identity map) and
 * on the host (unit tests, fuzzing).
 */
#ifndef HV_MADT_H
#define HV_MADT_H

#include <stddef.h>
#include <stdint.h>

#define MADT_CPUS_MAX       64      /* CPUs recorded; more are counted, not kept */
#define MADT_IOAPICS_MAX    8
#define MADT_REASON_MAX     160

struct madt_cpu {
    uint32_t apic_id;               /* local APIC (or x2APIC) id */
    uint32_t uid;                   /* ACPI processor UID */
    uint8_t enabled;                /* firmware says usable now */
    uint8_t online_capable;         /* may be enabled later (ACPI 6.3+) */
};

struct madt_ioapic {
    uint32_t id, gsi_base;
    uint64_t addr;
};

struct madt_info {
    uint64_t lapic_addr;            /* the MADT's (or its override entry's) */
    uint32_t cpu_count;             /* entries kept in cpus[] */
    uint32_t cpus_dropped;          /* enabled CPUs beyond MADT_CPUS_MAX */
    struct madt_cpu cpus[MADT_CPUS_MAX];
    uint32_t ioapic_count;
    struct madt_ioapic ioapics[MADT_IOAPICS_MAX];
    uint8_t pcat_compat;            /* dual 8259s present (flags bit 0) */
};

/* Reads len bytes of physical memory at addr into dst: 0, or -1 when
 * that range cannot be read. */
typedef int (*madt_read_fn)(void *arg, uint64_t addr, void *dst, size_t len);

/*
 * Finds and parses the MADT starting from the RSDP at rsdp_addr (or, when
 * rsdp_copy is not NULL, from that copy of the RSDP's first 36 bytes: the
 * Multiboot2 tag hands over only a copy). Returns 0 with *out filled, or
 * -1 with a one-line reason in err (which table, what is wrong).
 */
int madt_discover(madt_read_fn read, void *arg, uint64_t rsdp_addr, const uint8_t *rsdp_copy,
                  size_t rsdp_copy_len, struct madt_info *out, char *err, size_t err_size);

/* Finds another ACPI table by its signature sig ("MCFG": 4 characters
 * and a NUL; the first one the root table lists) through the same RSDP
 * walk and checks, and reads it whole into buf: 0 with *len its length (at most size), or -1 with
 * the reason in err (no such table, too long, bad checksum ...). */
int madt_find_table(madt_read_fn read, void *arg, uint64_t rsdp_addr, const uint8_t *rsdp_copy,
                    size_t rsdp_copy_len, const char *sig, uint8_t *buf, size_t size,
                    size_t *len, char *err, size_t err_size);

/* Parses one MADT already in memory (len bytes at table, header
 * included): the same checks. For the fuzz target and unit tests. */
int madt_parse(const uint8_t *table, size_t len, struct madt_info *out, char *err,
               size_t err_size);

#endif
