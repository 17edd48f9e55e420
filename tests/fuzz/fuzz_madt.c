/*
 * libFuzzer target for hv/madt.c. The first input byte picks what the
 * rest is:
 *   bit 0 clear: a MADT for madt_parse();
 *   bit 0 set:   physical memory from address 0 for madt_discover(), the
 *                RSDP at FUZZ_RSDP_AT (bit 2: handed over as a copy of its
 *                36 bytes instead, as Multiboot2 does);
 *   bit 1:       the harness first fixes the lengths and checksums it can
 *                find (the MADT's; in memory the RSDP's, its root table's
 *                and the MADT's), so mutations reach past the checksums;
 *   bit 3 (with bit 0): madt_find_table() instead, for the "APIC" table
 *                (the one the fixes reach) into a buffer of exactly
 *                36 + (byte >> 4) * 16 bytes, so "too long" is hit too.
 * Accepted tables must give what the contract promises: 1 to
 * MADT_CPUS_MAX CPUs kept, at least one enabled, their APIC ids unique,
 * at most MADT_IOAPICS_MAX I/O APICs, flags 0 or 1. A refusal must be one
 * line starting "ACPI " that fits MADT_REASON_MAX, with *out zeroed. A
 * table found must be the one asked for, whole in the buffer (its
 * stated length, at least a header) and summing to zero.
 * Seeds: tests/fuzz/corpus/madt/ (tests/fuzz/make_corpus.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "madt.h"

#define MODE_DISCOVER   0x1u
#define MODE_FIXUP      0x2u
#define MODE_COPY       0x4u
#define MODE_FIND       0x8u
#define FUZZ_RSDP_AT    16u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake_mem {
    const uint8_t *bytes;
    size_t size;
};

static int fake_read(void *arg, uint64_t addr, void *dst, size_t len)
{
    const struct fake_mem *m = arg;

    if (addr > m->size || len > m->size - addr)
        return -1;
    memcpy(dst, m->bytes + addr, len);
    return 0;
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Makes the len bytes at p sum to 0 by their byte at sum_at. */
static void fix_sum(uint8_t *p, size_t len, size_t sum_at)
{
    uint8_t sum = 0;

    p[sum_at] = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    p[sum_at] = (uint8_t)(0x100 - sum);
}

static int inside(size_t size, uint64_t addr, uint64_t len)
{
    return addr <= size && len <= size - addr;
}

/* A MADT given whole: its length field is its size, its checksum right. */
static void fixup_table(uint8_t *t, size_t size)
{
    uint32_t len = (uint32_t)size;

    if (size < 10)
        return;
    memcpy(t + 4, &len, sizeof(len));
    fix_sum(t, size, 9);
}

/* Memory: the RSDP's checksums, then the root table's and the MADT's
 * where their stated lengths fit. */
static void fixup_memory(uint8_t *m, size_t size)
{
    uint8_t *r = m + FUZZ_RSDP_AT;
    uint64_t root, addr;
    uint32_t len, entry_size = 4;

    if (!inside(size, FUZZ_RSDP_AT, 36))
        return;
    fix_sum(r, 20, 8);
    root = get32(r + 16);
    if (r[15] >= 2 && get32(r + 20) == 36) {
        fix_sum(r, 36, 32);
        if (get64(r + 24) != 0) {
            root = get64(r + 24);
            entry_size = 8;
        }
    }
    if (!inside(size, root, 36) || (len = get32(m + root + 4)) < 36 || !inside(size, root, len))
        return;
    for (uint32_t off = 36; off + entry_size <= len; off += entry_size) {
        addr = entry_size == 8 ? get64(m + root + off) : get32(m + root + off);
        if (inside(size, addr, 10) && memcmp(m + addr, "APIC", 4) == 0 &&
            inside(size, addr, get32(m + addr + 4)) && get32(m + addr + 4) >= 10)
            fix_sum(m + addr, get32(m + addr + 4), 9);
    }
    fix_sum(m + root, len, 9);
}

static void check_info(const struct madt_info *info)
{
    uint32_t enabled = 0;

    if (info->cpu_count < 1 || info->cpu_count > MADT_CPUS_MAX ||
        info->ioapic_count > MADT_IOAPICS_MAX || info->pcat_compat > 1)
        abort();
    for (uint32_t i = 0; i < info->cpu_count; i++) {
        if (info->cpus[i].enabled > 1 || info->cpus[i].online_capable > 1)
            abort();
        enabled += info->cpus[i].enabled;
        for (uint32_t j = 0; j < i; j++)
            if (info->cpus[i].apic_id == info->cpus[j].apic_id)
                abort();
    }
    if (enabled == 0 || (info->cpus_dropped && enabled != MADT_CPUS_MAX))
        abort();
}

static void check_refusal(const struct madt_info *info, const char *err)
{
    size_t n = strlen(err);

    if (n == 0 || n >= MADT_REASON_MAX || memchr(err, '\n', n) || strncmp(err, "ACPI ", 5))
        abort();
    for (size_t i = 0; i < sizeof(*info); i++)
        if (((const uint8_t *)info)[i] != 0)
            abort();                /* nothing half-parsed is left */
}

static void check_found(const uint8_t *buf, size_t size, size_t len)
{
    uint32_t stated;
    uint8_t sum = 0;

    if (len < 36 || len > size || memcmp(buf, "APIC", 4) != 0)
        abort();
    memcpy(&stated, buf + 4, sizeof(stated));
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + buf[i]);
    if (stated != len || sum != 0)
        abort();
}

/* madt_find_table over memory: a found table checked, a refusal must be
 * one "ACPI " line. */
static void find_table(const struct fake_mem *mem, const uint8_t *rsdp_copy, size_t copy_len,
                       uint64_t rsdp_addr, uint8_t mode)
{
    static const struct madt_info zero;
    size_t size = 36 + (size_t)(mode >> 4) * 16, len = 7;
    uint8_t *buf = malloc(size);        /* exact: ASan sees any overrun */
    char err[2 * MADT_REASON_MAX] = "";

    if (!buf)
        return;
    if (madt_find_table(fake_read, (void *)mem, rsdp_addr, rsdp_copy, copy_len, "APIC", buf, size,
                        &len, err, sizeof(err)) == 0)
        check_found(buf, size, len);
    else if (len != 0)
        abort();
    else
        check_refusal(&zero, err);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct madt_info info;
    char err[2 * MADT_REASON_MAX];
    struct fake_mem mem;
    const uint8_t *copy = NULL;
    size_t copy_len = 0;
    uint64_t rsdp_at = FUZZ_RSDP_AT;
    uint8_t *bytes;
    uint8_t mode;
    int rc;

    if (size < 1)
        return 0;
    mode = data[0];
    size--;
    bytes = malloc(size ? size : 1);        /* exact: ASan sees any overrun */
    if (!bytes)
        return 0;
    memcpy(bytes, data + 1, size);
    memset(&info, 0x5a, sizeof(info));
    err[0] = '\0';
    if (!(mode & MODE_DISCOVER)) {
        if (mode & MODE_FIXUP)
            fixup_table(bytes, size);
        rc = madt_parse(bytes, size, &info, err, sizeof(err));
    } else {
        if (mode & MODE_FIXUP)
            fixup_memory(bytes, size);
        mem.bytes = bytes;
        mem.size = size;
        if (mode & MODE_COPY) {
            rsdp_at = 0;
            copy = size > FUZZ_RSDP_AT ? bytes + FUZZ_RSDP_AT : NULL;
            copy_len = size > FUZZ_RSDP_AT + 36 ? 36 : size > FUZZ_RSDP_AT ? size - FUZZ_RSDP_AT : 0;
        }
        if (mode & MODE_FIND) {
            find_table(&mem, copy, copy_len, rsdp_at, mode);
            free(bytes);
            return 0;
        }
        rc = madt_discover(fake_read, &mem, rsdp_at, copy, copy_len, &info, err, sizeof(err));
    }
    if (rc == 0)
        check_info(&info);
    else
        check_refusal(&info, err);
    free(bytes);
    return 0;
}
