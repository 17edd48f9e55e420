/*
 * Unit tests of hv/pci.c (and madt_find_table, which x86/pci.c uses for
 * the MCFG). The configuration space is a table of fake functions: each
 * has 64 registers and, per BAR, the address bits it decodes; a write to
 * a BAR keeps its read-only low bits, as hardware does. The fake checks
 * that BARs are written only while the function's memory and I/O decode
 * are off, and counts every access to a function that is not there.
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
#include "pci.h"

#define FAKES_MAX 16u

struct fake_fn {
    uint8_t bus, dev, fn;
    uint32_t regs[64];
    uint32_t bar_mask[PCI_BARS];        /* writable (decoded) bits of each BAR */
    uint8_t scripted[PCI_BARS];         /* reads probe[i] after all ones are written */
    uint32_t probe[PCI_BARS];
    unsigned command_writes;
};

static struct fake_fn fakes[FAKES_MAX];
static unsigned fake_count;
static unsigned bar_writes_decoding;    /* BAR writes while decode was on */
static unsigned absent_writes;

static struct fake_fn *fake_find(uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (unsigned i = 0; i < fake_count; i++)
        if (fakes[i].bus == bus && fakes[i].dev == dev && fakes[i].fn == fn)
            return &fakes[i];
    return NULL;
}

static uint32_t fake_read(void *arg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    struct fake_fn *f = fake_find(bus, dev, fn);

    (void)arg;
    assert_true(off % 4 == 0 && off < 256);
    return f ? f->regs[off / 4] : 0xffffffffu;
}

static void fake_write(void *arg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
    struct fake_fn *f = fake_find(bus, dev, fn);
    uint32_t i = (uint32_t)(off - PCI_BAR0) / 4;

    (void)arg;
    assert_true(off % 4 == 0 && off < 256);
    if (!f) {
        absent_writes++;
        return;
    }
    if (off == PCI_COMMAND)
        f->command_writes++;
    if (off >= PCI_BAR0 && i < PCI_BARS) {
        if (f->regs[PCI_COMMAND / 4] & (PCI_CMD_IO | PCI_CMD_MEMORY))
            bar_writes_decoding++;
        if (f->scripted[i])
            f->regs[off / 4] = v == 0xffffffffu ? f->probe[i] : v;
        else
            f->regs[off / 4] = (v & f->bar_mask[i]) | (f->regs[off / 4] & ~f->bar_mask[i]);
        return;
    }
    f->regs[off / 4] = v;
}

static const struct pci_access fake_access = { fake_read, fake_write, NULL, "fake" };

static struct fake_fn *fake_add(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor,
                                uint16_t device, uint32_t class_rev, uint8_t header)
{
    struct fake_fn *f = &fakes[fake_count++];

    assert_true(fake_count <= FAKES_MAX);
    memset(f, 0, sizeof(*f));
    f->bus = bus;
    f->dev = dev;
    f->fn = fn;
    f->regs[0] = (uint32_t)device << 16 | vendor;
    f->regs[PCI_COMMAND / 4] = PCI_CMD_IO | PCI_CMD_MEMORY | 0x02000000u;  /* status bit */
    f->regs[PCI_CLASS_REVISION / 4] = class_rev;
    f->regs[PCI_HEADER_WORD / 4] = (uint32_t)header << 16;
    return f;
}

/* BAR i of f: value (base and flag bits) and the bits it decodes. */
static void fake_bar(struct fake_fn *f, unsigned i, uint32_t value, uint32_t mask)
{
    f->regs[PCI_BAR0 / 4 + i] = value;
    f->bar_mask[i] = mask;
}

/* BAR i of f reads value, and probed once all ones are written: a device
 * that decodes nonsense. */
static void fake_bar_scripted(struct fake_fn *f, unsigned i, uint32_t value, uint32_t probed)
{
    f->regs[PCI_BAR0 / 4 + i] = value;
    f->scripted[i] = 1;
    f->probe[i] = probed;
}

#define SEEN_MAX 16u
static struct pci_device seen[SEEN_MAX];
static unsigned seen_count;

static void record(void *arg, const struct pci_device *d)
{
    (void)arg;
    assert_true(seen_count < SEEN_MAX);
    seen[seen_count++] = *d;
}

static int setup(void **state)
{
    (void)state;
    fake_count = seen_count = bar_writes_decoding = absent_writes = 0;
    return 0;
}

/* An i440FX-like machine: host bridge, a multi-function PIIX (function 2
 * absent), an e1000 with a memory and an I/O BAR, a single-function
 * device whose function 1 answers too (it must not be looked at), and a
 * device on bus 5. */
static void test_scan_machine(void **state)
{
    struct fake_fn *e, *h;
    uint32_t n;

    (void)state;
    h = fake_add(0, 0, 0, 0x8086, 0x1237, 0x06000002u, 0);
    fake_bar(h, 0, 0xe0000000u, 0xf0000000u);          /* a host bridge with a BAR */
    fake_add(0, 1, 0, 0x8086, 0x7000, 0x06010000u, 0x80);
    fake_add(0, 1, 1, 0x8086, 0x7010, 0x01018000u, 0);
    fake_add(0, 1, 3, 0x8086, 0x7113, 0x06800003u, 0);
    e = fake_add(0, 3, 0, 0x8086, 0x100e, 0x02000003u, 0);
    fake_bar(e, 0, 0xfebc0000u, 0xfffe0000u);
    fake_bar(e, 1, 0x0000c001u, 0xffffffc0u);
    fake_add(0, 4, 0, 0x1234, 0x1111, 0x03000002u, 0);
    fake_add(0, 4, 1, 0x1234, 0x2222, 0x03000002u, 0);    /* ghost: 0:4.0 is single-function */
    fake_add(5, 31, 0, 0x1af4, 0x1000, 0x02000000u, 0);

    n = pci_scan(&fake_access, record, NULL);
    assert_int_equal(n, 7);
    assert_int_equal(seen_count, 7);
    assert_int_equal(seen[1].dev, 1);
    assert_int_equal(seen[1].fn, 0);
    assert_true(seen[1].multifunction);
    assert_int_equal(seen[1].header_type, 0);
    assert_int_equal(seen[2].fn, 1);
    assert_int_equal(seen[3].fn, 3);
    assert_int_equal(seen[4].device, 0x100e);
    assert_int_equal(seen[4].vendor, 0x8086);
    assert_int_equal(seen[4].class_code, 0x020000);
    assert_int_equal(seen[4].revision, 3);
    assert_false(seen[4].bars_bad);
    assert_int_equal(seen[4].bars[0].kind, PCI_BAR_MEMORY);
    assert_int_equal(seen[4].bars[0].base, 0xfebc0000u);
    assert_int_equal(seen[4].bars[0].size, 0x20000u);
    assert_false(seen[4].bars[0].is_64);
    assert_int_equal(seen[4].bars[1].kind, PCI_BAR_IO);
    assert_int_equal(seen[4].bars[1].base, 0xc000);
    assert_int_equal(seen[4].bars[1].size, 0x40);
    assert_int_equal(seen[4].bars[2].kind, PCI_BAR_NONE);
    assert_int_equal(seen[5].dev, 4);
    assert_int_equal(seen[6].bus, 5);
    assert_int_equal(seen[6].dev, 31);
    /* The probe restored every BAR and the command register, and wrote
     * BARs only with decode off. */
    assert_int_equal(e->regs[PCI_BAR0 / 4], 0xfebc0000u);
    assert_int_equal(e->regs[PCI_BAR0 / 4 + 1], 0xc001u);
    assert_int_equal(e->regs[PCI_COMMAND / 4] & 0xffffu, PCI_CMD_IO | PCI_CMD_MEMORY);
    assert_int_equal(bar_writes_decoding, 2 * PCI_BARS); /* the host bridge's, on purpose */
    assert_int_equal(absent_writes, 0);
    /* A host bridge keeps decoding while it is sized. */
    assert_int_equal(h->command_writes, 0);
    assert_int_equal(seen[0].bars[0].size, 0x10000000u);
    assert_int_equal(e->command_writes, 2);
}

/* A prefetchable 64-bit BAR above 4 GiB (8 GiB in size), a 64-bit BAR
 * below 4 GiB, and a bridge with its two BAR slots. */
static void test_bar_64(void **state)
{
    struct fake_fn *f, *b;

    (void)state;
    f = fake_add(0, 2, 0, 0x1b36, 0x0010, 0x01080200u, 0);
    fake_bar(f, 0, 0x0000000cu, 0x00000000u);               /* 64-bit, prefetchable, lo */
    fake_bar(f, 1, 0x00000004u, 0xfffffffeu);               /* hi: base 0x4_0000_0000 */
    fake_bar(f, 2, 0xfe000004u, 0xffffc000u);               /* 64-bit, 16 KiB, below 4 GiB */
    fake_bar(f, 3, 0x00000000u, 0xffffffffu);
    b = fake_add(0, 6, 0, 0x8086, 0x2448, 0x06040001u, 1);
    fake_bar(b, 0, 0xfd000000u, 0xfff00000u);
    b->regs[PCI_BAR0 / 4 + 4] = 0x12345678u;                 /* past a bridge's BARs: not read */

    assert_int_equal(pci_scan(&fake_access, record, NULL), 2);
    if (seen[0].bars_bad)
        fail_msg("%s", seen[0].why);
    assert_int_equal(seen[0].bars[0].kind, PCI_BAR_MEMORY);
    assert_true(seen[0].bars[0].is_64);
    assert_true(seen[0].bars[0].prefetchable);
    assert_int_equal(seen[0].bars[0].base, 0x400000000ull);
    assert_int_equal(seen[0].bars[0].size, 0x200000000ull);
    assert_int_equal(seen[0].bars[1].kind, PCI_BAR_NONE);   /* the upper half */
    assert_true(seen[0].bars[2].is_64);
    assert_false(seen[0].bars[2].prefetchable);
    assert_int_equal(seen[0].bars[2].base, 0xfe000000u);
    assert_int_equal(seen[0].bars[2].size, 0x4000u);
    assert_false(pci_bar_reachable(&seen[0].bars[0]));      /* above 4 GiB */
    assert_true(pci_bar_reachable(&seen[0].bars[2]));
    assert_int_equal(f->regs[PCI_BAR0 / 4 + 1], 4);         /* restored */
    assert_int_equal(seen[1].header_type, 1);
    assert_int_equal(seen[1].bar_count, 2);
    assert_int_equal(seen[1].bars[0].size, 0x100000u);
}

/* One device per malformed BAR: each is reported with its reason and no
 * BAR of it is kept. */
static void test_bar_malformed(void **state)
{
    static const struct {
        uint32_t value, probed, value2, probed2;
        const char *why;
    } cases[] = {
        { 0xfebc0000u, 0x00000000u, 0, 0, "decodes no address bits" },     /* size 0 */
        { 0xfeb00000u, 0xfff0f000u, 0, 0, "not a power of two" },
        { 0xfebc1000u, 0xffffe000u, 0, 0, "not aligned" },                 /* 8 KiB at +4K */
        { 0x00000002u, 0xfffff002u, 0, 0, "reserved type" },               /* type 1: <1 MiB */
        { 0xfe000000u, 0xfff00000u, 0xfe080000u, 0xfff80000u, "overlap" },
        { 0x0000c001u, 0x00000001u, 0, 0, "decodes no address bits" },     /* I/O, size 0 */
        { 0xfffff000u, 0xffffe000u, 0, 0, "not aligned" },
    };

    (void)state;
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fake_fn *f;

        setup(NULL);
        f = fake_add(0, 3, 0, 0x8086, 0x100e, 0x02000003u, 0);
        fake_bar_scripted(f, 0, cases[i].value, cases[i].probed);
        fake_bar_scripted(f, 1, cases[i].value2, cases[i].probed2);
        assert_int_equal(pci_scan(&fake_access, record, NULL), 1);
        assert_true(seen[0].bars_bad);
        if (!strstr(seen[0].why, cases[i].why))
            fail_msg("case %u: \"%s\" lacks \"%s\"", i, seen[0].why, cases[i].why);
        assert_int_equal(seen[0].bars[0].kind, PCI_BAR_NONE);
        assert_int_equal(f->regs[PCI_COMMAND / 4] & 0xffffu, PCI_CMD_IO | PCI_CMD_MEMORY);
        assert_int_equal(f->regs[PCI_BAR0 / 4], cases[i].value);
    }
    /* A 64-bit BAR in the last slot. */
    setup(NULL);
    fake_bar(fake_add(0, 3, 0, 0x8086, 0x100e, 0x02000003u, 0), 5, 0xfe000004u, 0xfff00000u);
    pci_scan(&fake_access, record, NULL);
    assert_true(seen[0].bars_bad);
    assert_non_null(strstr(seen[0].why, "BAR 5 is 64-bit but is the last"));
}

/* Memory and bus mastering on, I/O off, INTx off; status not cleared. */
static void test_enable(void **state)
{
    struct fake_fn *f;

    (void)state;
    f = fake_add(0, 3, 0, 0x8086, 0x100e, 0x02000003u, 0);
    fake_bar(f, 0, 0xfebc0000u, 0xfffe0000u);
    pci_scan(&fake_access, record, NULL);
    pci_enable(&fake_access, &seen[0]);
    assert_int_equal(f->regs[PCI_COMMAND / 4],
                     PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER | PCI_CMD_INTX_DISABLE);
}

/* An unassigned BAR (base 0) and a BAR past the reachable top are not
 * reachable; an I/O BAR is never. */
static void test_reachable(void **state)
{
    struct pci_bar b = { .kind = PCI_BAR_MEMORY, .base = 0xfebc0000u, .size = 0x20000u };

    (void)state;
    assert_true(pci_bar_reachable(&b));
    b.base = 0;
    assert_false(pci_bar_reachable(&b));
    b.base = 0xfffe0000u;
    assert_true(pci_bar_reachable(&b));
    b.base = 0x100000000ull - 0x10000u;
    assert_false(pci_bar_reachable(&b));
    b.base = 0xc000;
    b.kind = PCI_BAR_IO;
    assert_false(pci_bar_reachable(&b));
}

/* ---- MCFG ---------------------------------------------------------------- */

static void mcfg_entry(uint8_t *t, unsigned i, uint64_t base, uint16_t seg, uint8_t s, uint8_t e)
{
    uint8_t *p = t + 44 + 16 * i;

    memcpy(p, &base, 8);
    memcpy(p + 8, &seg, 2);
    p[10] = s;
    p[11] = e;
}

static void test_mcfg(void **state)
{
    uint8_t t[44 + 3 * 16] = "MCFG";
    struct pci_ecam ecam;
    char why[PCI_WHY_MAX];

    (void)state;
    mcfg_entry(t, 0, 0xc0000000u, 1, 0, 255);               /* segment 1: skipped */
    mcfg_entry(t, 1, 0xb0000000u, 0, 0, 255);
    assert_int_equal(pci_mcfg_segment0(t, 44 + 32, &ecam, why, sizeof(why)), 0);
    assert_int_equal(ecam.base, 0xb0000000u);
    assert_int_equal(ecam.end_bus, 255);
    /* No segment 0 within the stated length; a partial entry is ignored. */
    assert_int_equal(pci_mcfg_segment0(t, 44 + 16 + 15, &ecam, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "no entry for PCI segment 0"));
    assert_int_equal(pci_mcfg_segment0(t, 40, &ecam, why, sizeof(why)), -1);
    mcfg_entry(t, 1, 0xb0080000u, 0, 0, 255);
    assert_int_equal(pci_mcfg_segment0(t, 44 + 32, &ecam, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "1 MiB-aligned"));
    mcfg_entry(t, 1, 0xb0000000u, 0, 9, 3);
    assert_int_equal(pci_mcfg_segment0(t, 44 + 32, &ecam, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "backwards"));
    mcfg_entry(t, 1, 0xfffffffffff00000ull, 0, 0, 255);
    assert_int_equal(pci_mcfg_segment0(t, 44 + 32, &ecam, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "wraps"));
}

/* madt_find_table over a fake memory: RSDP (ACPI 1.0) -> RSDT -> a FACP
 * and the MCFG, read whole and checksummed. */
#define MEM_BASE 0xe0000u
static uint8_t mem[0x4000];

static int mem_read(void *arg, uint64_t addr, void *dst, size_t len)
{
    (void)arg;
    if (addr < MEM_BASE || addr - MEM_BASE > sizeof(mem) || len > sizeof(mem) - (addr - MEM_BASE))
        return -1;
    memcpy(dst, mem + (addr - MEM_BASE), len);
    return 0;
}

/* Sets the checksum byte at sum_at so the len bytes at at sum to 0. */
static void checksum(uint32_t at, uint32_t len, uint8_t sum_at)
{
    uint8_t *p = mem + (at - MEM_BASE), sum = 0;

    p[sum_at] = 0;
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    p[sum_at] = (uint8_t)-sum;
}

static void sdt(uint32_t at, const char *sig, uint32_t len)
{
    memcpy(mem + (at - MEM_BASE), sig, 4);
    memcpy(mem + (at - MEM_BASE) + 4, &len, 4);
    checksum(at, len, 9);
}

static void test_find_mcfg(void **state)
{
    uint8_t buf[256];
    uint32_t rsdt = 0xe1000, facp = 0xe2000, mcfg = 0xe3000;
    size_t len = 0;
    char err[160];

    (void)state;
    memset(mem, 0, sizeof(mem));
    memcpy(mem, "RSD PTR ", 8);
    memcpy(mem + 16, &rsdt, 4);
    checksum(MEM_BASE, 20, 8);
    memcpy(mem + (rsdt - MEM_BASE) + 36, &facp, 4);
    memcpy(mem + (rsdt - MEM_BASE) + 40, &mcfg, 4);
    sdt(rsdt, "RSDT", 44);
    sdt(facp, "FACP", 116);
    mcfg_entry(mem + (mcfg - MEM_BASE), 0, 0xb0000000u, 0, 0, 255);
    sdt(mcfg, "MCFG", 60);
    assert_int_equal(madt_find_table(mem_read, NULL, MEM_BASE, NULL, 0, "MCFG", buf, sizeof(buf),
                                     &len, err, sizeof(err)), 0);
    assert_int_equal(len, 60);
    assert_memory_equal(buf, mem + (mcfg - MEM_BASE), 60);
    /* Too long for the buffer, bad checksum, absent. */
    assert_int_equal(madt_find_table(mem_read, NULL, MEM_BASE, NULL, 0, "MCFG", buf, 59, &len,
                                     err, sizeof(err)), -1);
    assert_non_null(strstr(err, "length 60"));
    mem[mcfg - MEM_BASE + 50] ^= 1;
    assert_int_equal(madt_find_table(mem_read, NULL, MEM_BASE, NULL, 0, "MCFG", buf, sizeof(buf),
                                     &len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bad checksum"));
    assert_int_equal(madt_find_table(mem_read, NULL, MEM_BASE, NULL, 0, "HPET", buf, sizeof(buf),
                                     &len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no \"HPET\" table"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_scan_machine, setup),
        cmocka_unit_test_setup(test_bar_64, setup),
        cmocka_unit_test_setup(test_bar_malformed, setup),
        cmocka_unit_test_setup(test_enable, setup),
        cmocka_unit_test_setup(test_reachable, setup),
        cmocka_unit_test_setup(test_mcfg, setup),
        cmocka_unit_test_setup(test_find_mcfg, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
