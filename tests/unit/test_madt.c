/*
 * Unit tests of hv/madt.c. The tests build ACPI tables (RSDP, RSDT or
 * XSDT, MADT and a few others) byte by byte in a fake physical memory
 * (MEM_SIZE bytes at MEM_BASE) read through fake_read(), which refuses
 * any range outside it and logs every read, so a test can check that the
 * walk asked only for the ranges it needed. madt_parse() is always given
 * an exact-size heap copy of the table, so a read past its end is an
 * ASan report. Each refusal test breaks one rule and checks the reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "madt.h"

#define MEM_BASE    0xe0000ull
#define MEM_SIZE    0x40000u
#define RSDP_AT     0xf5a10ull          /* where Bochs' BIOS puts it */
#define RSDT_AT     0x100000ull
#define XSDT_AT     0x100403ull         /* odd: its u64 entries are unaligned */
#define MADT_AT     0x101000ull
#define MADT2_AT    0x102000ull
#define FACP_AT     0x103000ull
#define SSDT_AT     0x103400ull
#define BIG_AT      0x104000ull         /* room for a MADT past 64 KiB */
#define READS_MAX   1024u

static uint8_t mem[MEM_SIZE];
static struct madt_info info;
static char err[512];
static unsigned reads;
static struct { uint64_t addr; size_t len; } read_log[READS_MAX];

static uint8_t *at(uint64_t addr) { return mem + (addr - MEM_BASE); }
static void put8(uint64_t addr, uint8_t v) { *at(addr) = v; }
static void put32(uint64_t addr, uint32_t v) { memcpy(at(addr), &v, sizeof(v)); }
static void put64(uint64_t addr, uint64_t v) { memcpy(at(addr), &v, sizeof(v)); }
static uint32_t get32(uint64_t addr) { uint32_t v; memcpy(&v, at(addr), sizeof(v)); return v; }

static int fake_read(void *arg, uint64_t addr, void *dst, size_t len)
{
    (void)arg;
    if (reads < READS_MAX) {
        read_log[reads].addr = addr;
        read_log[reads].len = len;
    }
    reads++;
    if (addr < MEM_BASE || addr - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (addr - MEM_BASE))
        return -1;
    memcpy(dst, at(addr), len);
    return 0;
}

/* Sets the checksum byte (offset 9 of an SDT header) so the len bytes at
 * addr sum to 0. */
static void fix_checksum(uint64_t addr, uint32_t len, uint32_t checksum_at)
{
    uint8_t sum = 0;

    put8(addr + checksum_at, 0);
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + *at(addr + i));
    put8(addr + checksum_at, (uint8_t)(0x100 - sum));
}

/* ---- table builders ---- */

/* The table being built: where it starts and how long it is so far. */
static uint64_t tab_at;
static uint32_t tab_len;

static void sdt_begin(uint64_t addr, const char *sig)
{
    tab_at = addr;
    tab_len = 36;
    memset(at(addr), 0, 36);
    memcpy(at(addr), sig, 4);
    put8(addr + 8, 1);
    memcpy(at(addr + 10), "BOCHS ", 6);
    memcpy(at(addr + 16), "BXPC    ", 8);
}

static void sdt_end(void)
{
    put32(tab_at + 4, tab_len);
    fix_checksum(tab_at, tab_len, 9);
}

static void madt_begin(uint64_t addr, uint32_t lapic, uint32_t flags)
{
    sdt_begin(addr, "APIC");
    put32(addr + 36, lapic);
    put32(addr + 40, flags);
    tab_len = 44;
}

/* An entry of type and len bytes; the bytes after the 2-byte header are
 * zero until the caller fills them. Returns the entry's address. */
static uint64_t entry(uint8_t type, uint8_t len)
{
    uint64_t e = tab_at + tab_len;

    memset(at(e), 0, len < 2 ? 2 : len);
    put8(e, type);
    put8(e + 1, len);
    tab_len += len;
    return e;
}

static void lapic(uint8_t uid, uint8_t id, uint32_t flags)
{
    uint64_t e = entry(0, 8);

    put8(e + 2, uid);
    put8(e + 3, id);
    put32(e + 4, flags);
}

static void ioapic(uint8_t id, uint32_t addr, uint32_t gsi)
{
    uint64_t e = entry(1, 12);

    put8(e + 2, id);
    put32(e + 4, addr);
    put32(e + 8, gsi);
}

static void x2apic(uint32_t id, uint32_t flags, uint32_t uid)
{
    uint64_t e = entry(9, 16);

    put32(e + 4, id);
    put32(e + 8, flags);
    put32(e + 12, uid);
}

static void lapic_override(uint64_t addr)
{
    put64(entry(5, 12) + 4, addr);
}

/* An interrupt source override (type 2, 10 bytes) and a local APIC NMI
 * (type 4, 6 bytes): types the parser skips, as firmware lists them. */
static void others(void)
{
    uint64_t e = entry(2, 10);

    put8(e + 3, 0);
    put32(e + 4, 2);
    e = entry(4, 6);
    put8(e + 2, 0xff);
    put8(e + 5, 1);
}

static void rsdt(uint64_t addr, const uint64_t *tables, uint32_t n)
{
    sdt_begin(addr, "RSDT");
    for (uint32_t i = 0; i < n; i++)
        put32(addr + 36 + 4 * i, (uint32_t)tables[i]);
    tab_len = 36 + 4 * n;
    sdt_end();
}

static void xsdt(uint64_t addr, const uint64_t *tables, uint32_t n)
{
    sdt_begin(addr, "XSDT");
    for (uint32_t i = 0; i < n; i++)
        put64(addr + 36 + 8 * (uint64_t)i, tables[i]);
    tab_len = 36 + 8 * n;
    sdt_end();
}

static void rsdp_v1(uint64_t addr, uint32_t rsdt_addr)
{
    memset(at(addr), 0, 36);
    memcpy(at(addr), "RSD PTR ", 8);
    memcpy(at(addr + 9), "BOCHS ", 6);
    put32(addr + 16, rsdt_addr);
    fix_checksum(addr, 20, 8);
}

static void rsdp_v2(uint64_t addr, uint32_t rsdt_addr, uint64_t xsdt_addr)
{
    rsdp_v1(addr, rsdt_addr);
    put8(addr + 15, 2);
    fix_checksum(addr, 20, 8);
    put32(addr + 20, 36);
    put64(addr + 24, xsdt_addr);
    fix_checksum(addr, 36, 32);
}

/* A FACP and an SSDT, the tables before and after the MADT. */
static void plain_tables(void)
{
    sdt_begin(FACP_AT, "FACP");
    tab_len = 116;
    sdt_end();
    sdt_begin(SSDT_AT, "SSDT");
    sdt_end();
}

/* What Bochs' BIOS builds for `cpu: count=4`: RSDP revision 0, an RSDT
 * of FACP, SSDT, APIC; four enabled local APICs, I/O APIC id 4. */
static void bochs_tables(void)
{
    static const uint64_t tables[] = { FACP_AT, SSDT_AT, MADT_AT };

    memset(mem, 0, sizeof(mem));
    plain_tables();
    madt_begin(MADT_AT, 0xfee00000u, 1);
    for (uint8_t i = 0; i < 4; i++)
        lapic(i, i, 1);
    ioapic(4, 0xfec00000u, 0);
    others();
    sdt_end();
    rsdt(RSDT_AT, tables, 3);
    rsdp_v1(RSDP_AT, (uint32_t)RSDT_AT);
}

/* What QEMU q35 with OVMF hands over: RSDP revision 2, an XSDT (and an
 * RSDT, whose MADT here has a single CPU, so taking it shows); CPUs 0 and
 * 1 as local APICs, 256 and 257 as x2APICs. */
static void qemu_tables(void)
{
    static const uint64_t tables[] = { FACP_AT, MADT_AT, SSDT_AT };
    static const uint64_t old[] = { MADT2_AT };

    memset(mem, 0, sizeof(mem));
    plain_tables();
    madt_begin(MADT_AT, 0xfee00000u, 1);
    lapic(0, 0, 1);
    lapic(1, 1, 1);
    x2apic(256, 1, 2);
    x2apic(257, 1, 3);
    ioapic(0, 0xfec00000u, 0);
    put8(entry(0xa, 12) + 8, 0xff);         /* local x2APIC NMI: skipped */
    sdt_end();
    madt_begin(MADT2_AT, 0xfee00000u, 1);
    lapic(0, 0, 1);
    sdt_end();
    xsdt(XSDT_AT, tables, 3);
    rsdt(RSDT_AT, old, 1);
    rsdp_v2(RSDP_AT, (uint32_t)RSDT_AT, XSDT_AT);
}

/* ---- running the parser ---- */

static int discover_copy(const uint8_t *copy, size_t copy_len)
{
    memset(err, 0, sizeof(err));
    reads = 0;
    return madt_discover(fake_read, NULL, copy ? 0 : RSDP_AT, copy, copy_len, &info, err,
                         sizeof(err));
}

static int discover(void)
{
    return discover_copy(NULL, 0);
}

/* madt_parse() on an exact-size copy of len bytes at addr. */
static int parse_at(uint64_t addr, uint32_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, at(addr), len);
    memset(err, 0, sizeof(err));
    rc = madt_parse(copy, len, &info, err, sizeof(err));
    free(copy);
    return rc;
}

/* The table just built, parsed on its own. */
static int parse(void)
{
    return parse_at(tab_at, tab_len);
}

static void accept(int rc)
{
    if (rc != 0)
        fail_msg("refused: %s", err);
}

/* Expects a refusal whose reason contains want, starts "ACPI", is one line
 * that fits MADT_REASON_MAX, and leaves *out zeroed. */
static void refuse(int rc, const char *want)
{
    static const struct madt_info zero;

    if (rc != -1)
        fail_msg("accepted, expected \"%s\"", want);
    if (!strstr(err, want))
        fail_msg("reason \"%s\", expected \"%s\"", err, want);
    assert_int_equal(strncmp(err, "ACPI ", 5), 0);
    assert_null(strchr(err, '\n'));
    if (strlen(err) >= MADT_REASON_MAX)
        fail_msg("reason \"%s\" is %zu bytes, more than MADT_REASON_MAX", err, strlen(err));
    assert_memory_equal(&info, &zero, sizeof(info));
}

/* Every read so far lies inside one of the n ranges. */
static void reads_inside(const uint64_t (*ranges)[2], unsigned n)
{
    assert_true(reads <= READS_MAX);
    for (unsigned r = 0; r < reads; r++) {
        unsigned k = 0;
        while (k < n && !(read_log[r].addr >= ranges[k][0] &&
                          read_log[r].addr + read_log[r].len <= ranges[k][0] + ranges[k][1]))
            k++;
        if (k == n)
            fail_msg("read of %zu bytes at 0x%llx is outside every table", read_log[r].len,
                     (unsigned long long)read_log[r].addr);
    }
}

static void prime(void)
{
    memset(&info, 0x5a, sizeof(info));
}

/* ---- real firmware ---- */

static void test_bochs(void **state)
{
    (void)state;
    bochs_tables();
    const uint64_t ranges[][2] = { { RSDP_AT, 20 }, { RSDT_AT, 48 }, { FACP_AT, 8 },
                                   { SSDT_AT, 8 }, { MADT_AT, get32(MADT_AT + 4) } };
    accept(discover());
    assert_int_equal(info.cpu_count, 4);
    assert_int_equal(info.cpus_dropped, 0);
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(info.cpus[i].apic_id, i);
        assert_int_equal(info.cpus[i].uid, i);
        assert_int_equal(info.cpus[i].enabled, 1);
        assert_int_equal(info.cpus[i].online_capable, 0);
    }
    assert_int_equal(info.ioapic_count, 1);
    assert_int_equal(info.ioapics[0].id, 4);
    assert_int_equal(info.ioapics[0].addr, 0xfec00000u);
    assert_int_equal(info.ioapics[0].gsi_base, 0);
    assert_int_equal(info.lapic_addr, 0xfee00000u);
    assert_int_equal(info.pcat_compat, 1);
    reads_inside(ranges, 5);
}

static void test_qemu_xsdt(void **state)
{
    (void)state;
    qemu_tables();
    accept(discover());
    assert_int_equal(info.cpu_count, 4);        /* the XSDT's MADT, not the RSDT's */
    assert_int_equal(info.cpus[1].apic_id, 1);
    assert_int_equal(info.cpus[2].apic_id, 256);
    assert_int_equal(info.cpus[2].uid, 2);
    assert_int_equal(info.cpus[3].apic_id, 257);
    assert_int_equal(info.cpus[3].uid, 3);
    assert_int_equal(info.cpus[3].enabled, 1);
    assert_int_equal(info.ioapic_count, 1);
}

static void test_revision2_without_xsdt(void **state)
{
    (void)state;
    qemu_tables();
    rsdp_v2(RSDP_AT, (uint32_t)RSDT_AT, 0);
    accept(discover());
    assert_int_equal(info.cpu_count, 1);        /* the RSDT's MADT */
}

static void test_rsdp_copy(void **state)
{
    uint8_t copy[36];

    (void)state;
    bochs_tables();
    memcpy(copy, at(RSDP_AT), 20);
    memset(at(RSDP_AT), 0, 36);                 /* the original is gone */
    accept(discover_copy(copy, 20));
    assert_int_equal(info.cpu_count, 4);
    memset(copy + 20, 0, 16);                   /* boot_info's 36-byte copy */
    accept(discover_copy(copy, sizeof(copy)));
    assert_int_equal(info.cpu_count, 4);

    qemu_tables();
    memcpy(copy, at(RSDP_AT), 36);
    memset(at(RSDP_AT), 0, 36);
    accept(discover_copy(copy, sizeof(copy)));
    assert_int_equal(info.cpu_count, 4);

    /* GRUB's ACPI 1.0 tag of a revision 2 RSDP: 20 bytes, so the RSDT. */
    accept(discover_copy(copy, 20));
    assert_int_equal(info.cpu_count, 1);
    memset(copy + 20, 0, 16);
    accept(discover_copy(copy, sizeof(copy)));
    assert_int_equal(info.cpu_count, 1);

    /* A longer RSDP than the copy holds. */
    qemu_tables();
    put32(RSDP_AT + 20, 40);
    fix_checksum(RSDP_AT, 40, 32);
    memcpy(copy, at(RSDP_AT), 36);
    prime();
    refuse(discover_copy(copy, sizeof(copy)), "length 40, the boot loader's copy has only 36 bytes");
    accept(discover());                         /* in memory, all 40 are there */
    assert_int_equal(info.cpu_count, 4);
    prime();
    refuse(discover_copy(copy, 19), "the boot loader's copy has 19 bytes, at least 20");
}

/* ---- the RSDP ---- */

static void test_rsdp_refusals(void **state)
{
    (void)state;
    bochs_tables();
    prime();
    memset(err, 0, sizeof(err));
    refuse(madt_discover(fake_read, NULL, 0, NULL, 0, &info, err, sizeof(err)),
           "ACPI RSDP: the boot loader handed none over");
    prime();
    memset(err, 0, sizeof(err));
    refuse(madt_discover(fake_read, NULL, 0x10000, NULL, 0, &info, err, sizeof(err)),
           "ACPI RSDP at 0x10000: its 20 bytes cannot be read");

    put8(RSDP_AT + 3, 'X');
    prime();
    refuse(discover(), "no \"RSD PTR \" signature");
    bochs_tables();
    put8(RSDP_AT + 16, 0x01);                  /* checksum not updated */
    prime();
    refuse(discover(), "ACPI RSDP: bad checksum over its first 20 bytes");

    qemu_tables();
    put8(RSDP_AT + 30, 0x01);
    prime();
    refuse(discover(), "ACPI RSDP: bad extended checksum over its 36 bytes");
    qemu_tables();
    put32(RSDP_AT + 20, 20);
    fix_checksum(RSDP_AT, 36, 32);
    prime();
    refuse(discover(), "ACPI RSDP: revision 2 with length 20, expected 36 to 64");
    put32(RSDP_AT + 20, 0xffffffffu);
    fix_checksum(RSDP_AT, 36, 32);
    prime();
    refuse(discover(), "with length 4294967295");

    bochs_tables();
    rsdp_v1(RSDP_AT, 0);
    prime();
    refuse(discover(), "ACPI RSDP: neither an XSDT nor an RSDT address");
}

/* ---- the RSDT and XSDT ---- */

static void test_root_refusals(void **state)
{
    const uint64_t header_only[][2] = { { RSDP_AT, 20 }, { RSDT_AT, 36 } };
    static const uint64_t self[] = { RSDT_AT, RSDT_AT };
    static const uint64_t none[] = { FACP_AT, 0, SSDT_AT };
    static const uint64_t gone[] = { FACP_AT, 0x7000000 };

    (void)state;
    bochs_tables();
    memcpy(at(RSDT_AT), "XSDT", 4);
    prime();
    refuse(discover(), "ACPI RSDT at 0x100000: signature 58 53 44 54, expected \"RSDT\"");
    bochs_tables();
    put8(RSDT_AT + 40, 0x55);
    prime();
    refuse(discover(), "ACPI RSDT: bad checksum (the 48 bytes sum to");
    bochs_tables();
    put32(RSDT_AT + 4, 46);
    prime();
    refuse(discover(), "ACPI RSDT: length 46 is not a 36-byte header and 4-byte entries");
    put32(RSDT_AT + 4, 20);
    prime();
    refuse(discover(), "ACPI RSDT: length 20 is not");

    /* A huge length is refused from the header alone. */
    put32(RSDT_AT + 4, 0xfffffff0u);
    prime();
    refuse(discover(), "ACPI RSDT: 1073741811 entries, more than the 256 Mayfly looks at");
    reads_inside(header_only, 2);

    qemu_tables();
    put32(XSDT_AT + 4, 36 + 257 * 8);
    prime();
    refuse(discover(), "ACPI XSDT: 257 entries, more than the 256");

    bochs_tables();
    rsdt(RSDT_AT, self, 2);
    prime();
    refuse(discover(), "ACPI RSDT: no MADT (\"APIC\") among its 2 tables");
    rsdt(RSDT_AT, none, 3);
    prime();
    refuse(discover(), "ACPI RSDT: no MADT (\"APIC\") among its 3 tables");
    rsdt(RSDT_AT, gone, 2);
    prime();
    refuse(discover(), "ACPI RSDT entry 1's table at 0x7000000: its 8 bytes cannot be read");

    qemu_tables();
    memset(at(RSDP_AT), 0, 36);
    rsdp_v2(RSDP_AT, 0, 0xfffffffffffffff0ull);
    prime();
    refuse(discover(), "ACPI XSDT at 0xfffffffffffffff0: 36 bytes wrap past the top of memory");
}

/* The most entries a root table may have, the MADT last; and an empty
 * slot (address 0) skipped. */
static void test_root_most_entries(void **state)
{
    static uint64_t tables[256];

    (void)state;
    qemu_tables();
    for (unsigned i = 0; i < 255; i++)
        tables[i] = i == 7 ? 0 : FACP_AT;
    tables[255] = MADT_AT;
    xsdt(XSDT_AT, tables, 256);
    accept(discover());
    assert_int_equal(info.cpu_count, 4);
}

/* ---- the MADT ---- */

static void test_madt_header_refusals(void **state)
{
    (void)state;
    bochs_tables();
    prime();
    refuse(parse_at(MADT_AT, 43), "ACPI MADT: 43 bytes, shorter than its 44-byte header");
    prime();
    refuse(parse_at(MADT_AT, get32(MADT_AT + 4) - 1), "ACPI MADT: the header says 104 bytes, the table has 103");
    put8(MADT_AT + 50, 0x77);
    prime();
    refuse(discover(), "ACPI MADT: bad checksum (the 104 bytes sum to");
    bochs_tables();
    memcpy(at(MADT_AT), "APIX", 4);
    prime();
    refuse(parse_at(MADT_AT, get32(MADT_AT + 4)), "ACPI MADT: signature 41 50 49 58, expected \"APIC\"");
    prime();
    refuse(discover(), "ACPI RSDT: no MADT");

    /* Lengths refused before the table is read. */
    bochs_tables();
    put32(MADT_AT + 4, 0x10001);
    prime();
    refuse(discover(), "ACPI MADT at 0x101000: length 65537, expected 44 to 65536");
    put32(MADT_AT + 4, 0xffffffffu);
    prime();
    refuse(discover(), "length 4294967295, expected 44 to 65536");
    put32(MADT_AT + 4, 40);
    prime();
    refuse(discover(), "length 40, expected 44");
}

/* A MADT of exactly 64 KiB is read and parsed (filled with skipped
 * entries); one byte more is not. */
static void test_madt_largest(void **state)
{
    static const uint64_t tables[] = { BIG_AT };

    (void)state;
    memset(mem, 0, sizeof(mem));
    madt_begin(BIG_AT, 0xfee00000u, 0);
    lapic(0, 0, 1);
    while (tab_len + 255 <= 0x10000)
        entry(0x80, 255);
    entry(0x80, (uint8_t)(0x10000 - tab_len));
    assert_int_equal(tab_len, 0x10000);
    sdt_end();
    rsdt(RSDT_AT, tables, 1);
    rsdp_v1(RSDP_AT, (uint32_t)RSDT_AT);
    accept(discover());
    assert_int_equal(info.cpu_count, 1);
    assert_int_equal(info.pcat_compat, 0);
    prime();
    refuse(parse_at(BIG_AT, 0x10001), "the header says 65536 bytes, the table has 65537");
}

static void test_entry_overruns(void **state)
{
    (void)state;
    madt_begin(MADT_AT, 0xfee00000u, 1);
    lapic(0, 0, 1);
    entry(2, 10);
    tab_len -= 3;                               /* the table ends inside it */
    sdt_end();
    prime();
    refuse(parse(), "ACPI MADT: entry 1 (type 2) at offset 52 is 10 bytes, past the table's end (59)");

    madt_begin(MADT_AT, 0xfee00000u, 1);
    lapic(0, 0, 1);
    entry(4, 1);                                /* would not advance */
    tab_len += 5;
    sdt_end();
    prime();
    refuse(parse(), "ACPI MADT: entry 1 (type 4) at offset 52 says it is 1 bytes, at least 2 are needed");

    madt_begin(MADT_AT, 0xfee00000u, 1);
    entry(0x7f, 0);
    tab_len += 8;
    sdt_end();
    prime();
    refuse(parse(), "entry 0 (type 127) at offset 44 says it is 0 bytes");

    madt_begin(MADT_AT, 0xfee00000u, 1);
    lapic(0, 0, 1);
    put8(tab_at + tab_len, 0);
    tab_len++;
    sdt_end();
    prime();
    refuse(parse(), "ACPI MADT: entry 1 at offset 52 has 1 byte, an entry header needs 2");
}

/* Every parsed type shorter than its layout, named; a longer entry is
 * fine (later ACPI revisions append fields). */
static void test_truncated_types(void **state)
{
    static const struct { uint8_t type, len; const char *want; } cases[] = {
        { 0, 6, "ACPI MADT: entry 3 (type 0) is 6 bytes, a local APIC entry needs 8" },
        { 1, 10, "ACPI MADT: entry 3 (type 1) is 10 bytes, an I/O APIC entry needs 12" },
        { 5, 11, "ACPI MADT: entry 3 (type 5) is 11 bytes, a local APIC address override entry needs 12" },
        { 9, 12, "ACPI MADT: entry 3 (type 9) is 12 bytes, a local x2APIC entry needs 16" },
        { 9, 2, "ACPI MADT: entry 3 (type 9) is 2 bytes, a local x2APIC entry needs 16" },
    };

    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        madt_begin(MADT_AT, 0xfee00000u, 1);
        lapic(0, 0, 1);
        others();
        entry(cases[k].type, cases[k].len);
        sdt_end();
        prime();
        refuse(parse(), cases[k].want);
    }

    madt_begin(MADT_AT, 0xfee00000u, 1);
    put8(entry(0, 12) + 4, 1);                  /* longer than 8: accepted */
    put32(entry(9, 20) + 4, 300);
    put8(tab_at + tab_len - 12, 1);
    sdt_end();
    accept(parse());
    assert_int_equal(info.cpu_count, 2);
    assert_int_equal(info.cpus[1].apic_id, 300);
}

static void test_duplicate_ids(void **state)
{
    (void)state;
    madt_begin(MADT_AT, 0xfee00000u, 1);
    lapic(0, 0, 1);
    lapic(1, 1, 1);
    lapic(2, 1, 1);
    sdt_end();
    prime();
    refuse(parse(), "ACPI MADT: entry 2 (type 0) has APIC id 1, as entry 1 has");

    madt_begin(MADT_AT, 0xfee00000u, 1);
    lapic(0, 0, 1);
    others();
    lapic(1, 7, 0);                             /* disabled ones count too */
    x2apic(7, 1, 9);
    sdt_end();
    prime();
    refuse(parse(), "ACPI MADT: entry 4 (type 9) has APIC id 7, as entry 3 has");
}

/* Disabled and online-capable entries are kept; placeholders (id 0xff or
 * 0xffffffff, disabled) are skipped however many there are; an enabled
 * CPU with such an id is refused. */
static void test_disabled_and_placeholders(void **state)
{
    (void)state;
    madt_begin(MADT_AT, 0xfee00000u, 1);
    lapic(0, 0, 1);
    lapic(1, 1, 0);
    lapic(2, 2, 2);
    lapic(3, 0xff, 0);
    lapic(4, 0xff, 0);
    x2apic(0xffffffffu, 0, 5);
    sdt_end();
    accept(parse());
    assert_int_equal(info.cpu_count, 3);
    assert_int_equal(info.cpus_dropped, 0);
    assert_int_equal(info.cpus[1].enabled, 0);
    assert_int_equal(info.cpus[1].online_capable, 0);
    assert_int_equal(info.cpus[2].enabled, 0);
    assert_int_equal(info.cpus[2].online_capable, 1);

    madt_begin(MADT_AT, 0xfee00000u, 1);
    lapic(0, 0, 1);
    lapic(1, 0xff, 1);
    sdt_end();
    prime();
    refuse(parse(), "ACPI MADT: entry 1 (type 0) is an enabled CPU with APIC id 0xff, which is no CPU's");
    madt_begin(MADT_AT, 0xfee00000u, 1);
    x2apic(0xffffffffu, 3, 0);
    sdt_end();
    prime();
    refuse(parse(), "entry 0 (type 9) is an enabled CPU with APIC id 0xffffffff");

    madt_begin(MADT_AT, 0xfee00000u, 1);
    lapic(0, 0, 0);
    lapic(1, 1, 2);
    sdt_end();
    prime();
    refuse(parse(), "ACPI MADT: no enabled processor entry");
    madt_begin(MADT_AT, 0xfee00000u, 1);
    ioapic(0, 0xfec00000u, 0);
    sdt_end();
    prime();
    refuse(parse(), "ACPI MADT: no enabled processor entry");
}

/* More CPUs than MADT_CPUS_MAX: the enabled ones that do not fit are
 * counted, disabled ones make room for enabled ones and are never
 * counted. */
static void test_too_many_cpus(void **state)
{
    uint32_t enabled;

    (void)state;
    madt_begin(MADT_AT, 0xfee00000u, 1);
    for (uint32_t i = 0; i < MADT_CPUS_MAX + 6; i++)
        x2apic(i, 1, i);
    sdt_end();
    accept(parse());
    assert_int_equal(info.cpu_count, MADT_CPUS_MAX);
    assert_int_equal(info.cpus_dropped, 6);
    assert_int_equal(info.cpus[MADT_CPUS_MAX - 1].apic_id, MADT_CPUS_MAX - 1);

    madt_begin(MADT_AT, 0xfee00000u, 1);
    for (uint32_t i = 0; i < 10; i++)
        x2apic(1000 + i, 0, i);                 /* hot-pluggable slots first */
    for (uint32_t i = 0; i < MADT_CPUS_MAX + 2; i++)
        x2apic(i, 1, 100 + i);
    sdt_end();
    accept(parse());
    assert_int_equal(info.cpu_count, MADT_CPUS_MAX);
    assert_int_equal(info.cpus_dropped, 2);
    enabled = 0;
    for (uint32_t k = 0; k < info.cpu_count; k++)
        enabled += info.cpus[k].enabled;
    assert_int_equal(enabled, MADT_CPUS_MAX);

    madt_begin(MADT_AT, 0xfee00000u, 1);
    for (uint32_t i = 0; i < MADT_CPUS_MAX; i++)
        x2apic(i, 1, i);
    for (uint32_t i = 0; i < 5; i++)
        x2apic(500 + i, 2, i);
    sdt_end();
    accept(parse());
    assert_int_equal(info.cpu_count, MADT_CPUS_MAX);
    assert_int_equal(info.cpus_dropped, 0);
}

static void test_override(void **state)
{
    (void)state;
    madt_begin(MADT_AT, 0xfee00000u, 0);
    lapic(0, 0, 1);
    lapic_override(0x1fee00000ull);
    sdt_end();
    accept(parse());
    assert_true(info.lapic_addr == 0x1fee00000ull);
    assert_int_equal(info.pcat_compat, 0);

    madt_begin(MADT_AT, 0xfee00000u, 0);
    lapic_override(0xfed00000ull);
    lapic(0, 0, 1);
    lapic_override(0xfec00000ull);
    sdt_end();
    prime();
    refuse(parse(), "ACPI MADT: entry 2 is a second local APIC address override");
}

/* Only MADT_IOAPICS_MAX I/O APICs are kept, the first ones. */
static void test_ioapics(void **state)
{
    (void)state;
    madt_begin(MADT_AT, 0xfee00000u, 1);
    lapic(0, 0, 1);
    for (uint8_t i = 0; i < MADT_IOAPICS_MAX + 2; i++)
        ioapic((uint8_t)(i + 1), 0xfec00000u + 0x1000u * i, 24u * i);
    sdt_end();
    accept(parse());
    assert_int_equal(info.ioapic_count, MADT_IOAPICS_MAX);
    assert_int_equal(info.ioapics[MADT_IOAPICS_MAX - 1].id, MADT_IOAPICS_MAX);
    assert_int_equal(info.ioapics[MADT_IOAPICS_MAX - 1].gsi_base, 24u * (MADT_IOAPICS_MAX - 1));
}

/* A reason is cut to err_size, and no err at all is fine. */
static void test_small_err(void **state)
{
    char small[8];

    (void)state;
    madt_begin(MADT_AT, 0xfee00000u, 1);
    sdt_end();
    memset(small, 'x', sizeof(small));
    assert_int_equal(madt_parse(at(MADT_AT), tab_len, &info, small, sizeof(small)), -1);
    assert_string_equal(small, "ACPI MA");
    assert_int_equal(madt_parse(at(MADT_AT), tab_len, &info, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bochs),
        cmocka_unit_test(test_qemu_xsdt),
        cmocka_unit_test(test_revision2_without_xsdt),
        cmocka_unit_test(test_rsdp_copy),
        cmocka_unit_test(test_rsdp_refusals),
        cmocka_unit_test(test_root_refusals),
        cmocka_unit_test(test_root_most_entries),
        cmocka_unit_test(test_madt_header_refusals),
        cmocka_unit_test(test_madt_largest),
        cmocka_unit_test(test_entry_overruns),
        cmocka_unit_test(test_truncated_types),
        cmocka_unit_test(test_duplicate_ids),
        cmocka_unit_test(test_disabled_and_placeholders),
        cmocka_unit_test(test_too_many_cpus),
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_ioapics),
        cmocka_unit_test(test_small_err),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
