/*
 * ACPI CPU discovery (hv/madt.h). Firmware tables are input, not truth:
 * every length is bounded before it is used (a root table of at most
 * ROOT_ENTRIES_MAX entries, a MADT of at most MADT_TABLE_MAX bytes), every
 * checksum is checked, addresses plus lengths are checked for wrap before
 * the accessor sees them, and the accessor is asked only for the exact
 * ranges the walk needs: the RSDP, the root table (in pieces, for its
 * checksum, then one entry at a time), 8 bytes of each table it lists and
 * the whole MADT once. The MADT is read once into a buffer and parsed
 * from there by madt_parse(), the fuzzed path.
 */
#include "madt.h"
#include "fmt.h"
#include "lib.h"

#define SDT_HEADER          36u             /* signature .. creator revision */
#define SDT_LENGTH_AT       4u
#define RSDP_V1_LEN         20u             /* the ACPI 1.0 part, its checksum */
#define RSDP_V2_LEN         36u
#define RSDP_LEN_MAX        64u             /* 36 today; room for a longer one */
#define RSDP_REVISION_AT    15u
#define RSDP_RSDT_AT        16u
#define RSDP_LENGTH_AT      20u
#define RSDP_XSDT_AT        24u
#define ROOT_ENTRIES_MAX    256u            /* tables a RSDT/XSDT may list */
#define MADT_TABLE_MAX      (64u * 1024u)
#define MADT_ENTRIES_AT     44u             /* header, local APIC address, flags */
#define MADT_FLAG_PCAT      0x1u
#define CPU_FLAG_ENABLED    0x1u
#define CPU_FLAG_ONLINE     0x2u
#define CHUNK               64u             /* root table bytes read at a time */

enum madt_entry_type {
    ENTRY_LAPIC = 0,
    ENTRY_IOAPIC = 1,
    ENTRY_LAPIC_OVERRIDE = 5,
    ENTRY_X2APIC = 9,
};

/* The placeholder ids some firmware gives the disabled entries of CPUs
 * that are not there (0xff is also the xAPIC broadcast id). */
#define LAPIC_ID_NONE       0xffu
#define X2APIC_ID_NONE      0xffffffffu

/* One madt_parse() call: where it writes and which entry put each kept
 * CPU there (to name both entries of a duplicate id). */
struct madt_check {
    struct madt_info *out;
    uint32_t cpu_entry[MADT_CPUS_MAX];
    uint8_t have_override;
    char *err;
    size_t err_size;
};

/* One madt_discover() call: the accessor and where the reason goes. */
struct madt_walk {
    madt_read_fn read;
    void *arg;
    char *err;
    size_t err_size;
};

#define check_fail(c, ...) fmt_error((c)->err, (c)->err_size, -1, __VA_ARGS__)
#define walk_fail(w, ...) fmt_error((w)->err, (w)->err_size, -1, __VA_ARGS__)

/* The MADT being discovered: 64 KiB is too much for a boot stack, and
 * discovery runs once, on the boot CPU, before any other CPU is up. */
static uint8_t madt_buffer[MADT_TABLE_MAX];

static uint8_t sum_bytes(const uint8_t *p, size_t len, uint8_t sum)
{
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

/* ---- the MADT itself ---------------------------------------------------- */

/* The entry size each parsed type needs, and its name for reasons; 0 for
 * the types Mayfly skips. */
static uint32_t entry_need(uint8_t type, const char **name)
{
    switch (type) {
    case ENTRY_LAPIC:
        *name = "a local APIC";
        return 8;
    case ENTRY_IOAPIC:
        *name = "an I/O APIC";
        return 12;
    case ENTRY_LAPIC_OVERRIDE:
        *name = "a local APIC address override";
        return 12;
    case ENTRY_X2APIC:
        *name = "a local x2APIC";
        return 16;
    default:
        *name = "";
        return 0;
    }
}

/* Records one processor entry (index i). Placeholder ids of disabled
 * entries are skipped; a duplicate id is refused. When cpus[] is full an
 * enabled CPU takes the place of a kept disabled one, so cpus_dropped
 * counts exactly the enabled CPUs that did not fit. */
static int add_cpu(struct madt_check *c, uint32_t i, uint8_t type, uint32_t id, uint32_t uid,
                   uint32_t flags, uint32_t id_none)
{
    struct madt_info *m = c->out;
    uint8_t enabled = (flags & CPU_FLAG_ENABLED) != 0;
    uint32_t slot = m->cpu_count;

    if (id == id_none) {
        if (enabled)
            return check_fail(c, "ACPI MADT: entry %u (type %u) is an enabled CPU with APIC id 0x%x, which is no CPU's",
                              i, type, id);
        return 0;
    }
    for (uint32_t k = 0; k < m->cpu_count; k++)
        if (m->cpus[k].apic_id == id)
            return check_fail(c, "ACPI MADT: entry %u (type %u) has APIC id %u, as entry %u has",
                              i, type, id, c->cpu_entry[k]);
    if (slot == MADT_CPUS_MAX) {
        if (!enabled)
            return 0;
        for (slot = 0; slot < MADT_CPUS_MAX && m->cpus[slot].enabled; slot++)
            ;
        if (slot == MADT_CPUS_MAX) {
            m->cpus_dropped++;
            return 0;
        }
    } else {
        m->cpu_count++;
    }
    m->cpus[slot].apic_id = id;
    m->cpus[slot].uid = uid;
    m->cpus[slot].enabled = enabled;
    m->cpus[slot].online_capable = (flags & CPU_FLAG_ONLINE) != 0;
    c->cpu_entry[slot] = i;
    return 0;
}

/* Keeps the first MADT_IOAPICS_MAX I/O APICs (a later one is not needed to
 * bring CPUs up and is ignored). */
static void add_ioapic(struct madt_check *c, const uint8_t *e)
{
    struct madt_info *m = c->out;

    if (m->ioapic_count == MADT_IOAPICS_MAX)
        return;
    m->ioapics[m->ioapic_count].id = e[2];
    m->ioapics[m->ioapic_count].addr = load_u32(e + 4);
    m->ioapics[m->ioapic_count].gsi_base = load_u32(e + 8);
    m->ioapic_count++;
}

/* Entry i (type, at e, its length already checked to fit and to be at
 * least what the type needs). */
static int parse_entry(struct madt_check *c, uint32_t i, const uint8_t *e)
{
    switch (e[0]) {
    case ENTRY_LAPIC:
        return add_cpu(c, i, e[0], e[3], e[2], load_u32(e + 4), LAPIC_ID_NONE);
    case ENTRY_X2APIC:
        return add_cpu(c, i, e[0], load_u32(e + 4), load_u32(e + 12), load_u32(e + 8),
                       X2APIC_ID_NONE);
    case ENTRY_IOAPIC:
        add_ioapic(c, e);
        return 0;
    case ENTRY_LAPIC_OVERRIDE:
        if (c->have_override)
            return check_fail(c, "ACPI MADT: entry %u is a second local APIC address override", i);
        c->have_override = 1;
        c->out->lapic_addr = load_u64(e + 4);
        return 0;
    default:
        return 0;
    }
}

/* The header's signature, length (== len) and checksum. */
static int check_header(struct madt_check *c, const uint8_t *table, size_t len)
{
    uint32_t stated;

    if (len < MADT_ENTRIES_AT)
        return check_fail(c, "ACPI MADT: %zu bytes, shorter than its %u-byte header", len,
                          MADT_ENTRIES_AT);
    if (memcmp(table, "APIC", 4) != 0)
        return check_fail(c, "ACPI MADT: signature %02x %02x %02x %02x, expected \"APIC\"",
                          table[0], table[1], table[2], table[3]);
    stated = load_u32(table + SDT_LENGTH_AT);
    if (stated != len)
        return check_fail(c, "ACPI MADT: the header says %u bytes, the table has %zu", stated, len);
    if (len > MADT_TABLE_MAX)
        return check_fail(c, "ACPI MADT: %zu bytes, more than the %u Mayfly reads", len,
                          MADT_TABLE_MAX);
    if (sum_bytes(table, len, 0) != 0)
        return check_fail(c, "ACPI MADT: bad checksum (the %zu bytes sum to 0x%02x, not 0)", len,
                          sum_bytes(table, len, 0));
    return 0;
}

/* Walks the entries after the fixed fields. */
static int parse_entries(struct madt_check *c, const uint8_t *table, size_t len)
{
    size_t off = MADT_ENTRIES_AT;
    const char *name;
    uint32_t need;

    for (uint32_t i = 0; off < len; i++) {
        const uint8_t *e = table + off;

        if (len - off < 2)
            return check_fail(c, "ACPI MADT: entry %u at offset %zu has 1 byte, an entry header needs 2",
                              i, off);
        if (e[1] < 2)
            return check_fail(c, "ACPI MADT: entry %u (type %u) at offset %zu says it is %u bytes, at least 2 are needed",
                              i, e[0], off, e[1]);
        if (e[1] > len - off)
            return check_fail(c, "ACPI MADT: entry %u (type %u) at offset %zu is %u bytes, past the table's end (%zu)",
                              i, e[0], off, e[1], len);
        need = entry_need(e[0], &name);
        if (e[1] < need)
            return check_fail(c, "ACPI MADT: entry %u (type %u) is %u bytes, %s entry needs %u",
                              i, e[0], e[1], name, need);
        if (parse_entry(c, i, e) != 0)
            return -1;
        off += e[1];
    }
    return 0;
}

/* At least one CPU the firmware says is usable: the boot CPU is one. */
static int check_cpus(struct madt_check *c)
{
    for (uint32_t k = 0; k < c->out->cpu_count; k++)
        if (c->out->cpus[k].enabled)
            return 0;
    return check_fail(c, "ACPI MADT: no enabled processor entry (not even the boot CPU's)");
}

int madt_parse(const uint8_t *table, size_t len, struct madt_info *out, char *err,
               size_t err_size)
{
    struct madt_check c = { .out = out, .err = err, .err_size = err_size };

    memset(out, 0, sizeof(*out));
    if (check_header(&c, table, len) != 0 || parse_entries(&c, table, len) != 0 ||
        check_cpus(&c) != 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    if (!c.have_override)
        out->lapic_addr = load_u32(table + SDT_HEADER);
    out->pcat_compat = (load_u32(table + SDT_HEADER + 4) & MADT_FLAG_PCAT) != 0;
    return 0;
}

/* ---- from the RSDP to the MADT -------------------------------------------- */

/* len bytes at addr through the accessor; what names the range. */
static int walk_read(struct madt_walk *w, uint64_t addr, void *dst, size_t len, const char *what)
{
    if (addr + len < addr)
        return walk_fail(w, "ACPI %s at 0x%llx: %zu bytes wrap past the top of memory", what,
                         (unsigned long long)addr, len);
    if (w->read(w->arg, addr, dst, len) != 0)
        return walk_fail(w, "ACPI %s at 0x%llx: its %zu bytes cannot be read", what,
                         (unsigned long long)addr, len);
    return 0;
}

/* The RSDP (from the copy or from memory) into rsdp; *len: its checked
 * length (20 for ACPI 1.0, else its length field). A copy that holds only
 * the ACPI 1.0 part of a newer RSDP (shorter than 36 bytes, or a zero
 * length field) is read as ACPI 1.0: its RSDT is still checksummed. */
static int rsdp_load(struct madt_walk *w, uint64_t addr, const uint8_t *copy, size_t copy_len,
                     uint8_t rsdp[RSDP_LEN_MAX], uint32_t *len)
{
    if (copy) {
        if (copy_len < RSDP_V1_LEN)
            return walk_fail(w, "ACPI RSDP: the boot loader's copy has %zu bytes, at least %u are needed",
                             copy_len, RSDP_V1_LEN);
        memcpy(rsdp, copy, copy_len < RSDP_LEN_MAX ? copy_len : RSDP_LEN_MAX);
    } else if (addr == 0) {
        return walk_fail(w, "ACPI RSDP: the boot loader handed none over");
    } else if (walk_read(w, addr, rsdp, RSDP_V1_LEN, "RSDP") != 0) {
        return -1;
    }
    if (memcmp(rsdp, "RSD PTR ", 8) != 0)
        return walk_fail(w, "ACPI RSDP: no \"RSD PTR \" signature");
    if (sum_bytes(rsdp, RSDP_V1_LEN, 0) != 0)
        return walk_fail(w, "ACPI RSDP: bad checksum over its first %u bytes", RSDP_V1_LEN);
    *len = RSDP_V1_LEN;
    if (rsdp[RSDP_REVISION_AT] < 2)
        return 0;
    if (copy && (copy_len < RSDP_V2_LEN || load_u32(rsdp + RSDP_LENGTH_AT) == 0))
        return 0;                   /* GRUB's ACPI 1.0 tag: 20 bytes of a newer RSDP */
    if (!copy && walk_read(w, addr, rsdp, RSDP_V2_LEN, "RSDP") != 0)
        return -1;                  /* the length field, then the rest */
    *len = load_u32(rsdp + RSDP_LENGTH_AT);
    if (*len < RSDP_V2_LEN || *len > RSDP_LEN_MAX)
        return walk_fail(w, "ACPI RSDP: revision %u with length %u, expected %u to %u",
                         rsdp[RSDP_REVISION_AT], *len, RSDP_V2_LEN, RSDP_LEN_MAX);
    if (copy && copy_len < *len)
        return walk_fail(w, "ACPI RSDP: length %u, the boot loader's copy has only %zu bytes",
                         *len, copy_len);
    if (!copy && *len > RSDP_V2_LEN && walk_read(w, addr, rsdp, *len, "RSDP") != 0)
        return -1;
    if (sum_bytes(rsdp, *len, 0) != 0)
        return walk_fail(w, "ACPI RSDP: bad extended checksum over its %u bytes", *len);
    return 0;
}

/* The root table the RSDP names: the XSDT where it has one (revision 2
 * and a non-zero address), else the RSDT. */
static int rsdp_root(struct madt_walk *w, const uint8_t *rsdp, uint32_t len, uint64_t *root,
                     uint32_t *entry_size)
{
    if (len >= RSDP_V2_LEN && load_u64(rsdp + RSDP_XSDT_AT) != 0) {
        *root = load_u64(rsdp + RSDP_XSDT_AT);
        *entry_size = 8;
        return 0;
    }
    *root = load_u32(rsdp + RSDP_RSDT_AT);
    *entry_size = 4;
    if (*root == 0)
        return walk_fail(w, "ACPI RSDP: neither an XSDT nor an RSDT address");
    return 0;
}

/* Checks the root table at root (signature, length, checksum, read in
 * pieces so that no buffer has to hold it) and counts its entries. */
static int root_check(struct madt_walk *w, uint64_t root, uint32_t entry_size, const char *name,
                      uint32_t *count)
{
    uint8_t chunk[CHUNK];
    uint32_t len;
    uint8_t sum;

    if (walk_read(w, root, chunk, SDT_HEADER, name) != 0)
        return -1;
    if (memcmp(chunk, name, 4) != 0)
        return walk_fail(w, "ACPI %s at 0x%llx: signature %02x %02x %02x %02x, expected \"%s\"",
                         name, (unsigned long long)root, chunk[0], chunk[1], chunk[2], chunk[3],
                         name);
    len = load_u32(chunk + SDT_LENGTH_AT);
    if (len < SDT_HEADER || (len - SDT_HEADER) % entry_size != 0)
        return walk_fail(w, "ACPI %s: length %u is not a %u-byte header and %u-byte entries", name,
                         len, SDT_HEADER, entry_size);
    *count = (len - SDT_HEADER) / entry_size;
    if (*count > ROOT_ENTRIES_MAX)
        return walk_fail(w, "ACPI %s: %u entries, more than the %u Mayfly looks at", name, *count,
                         ROOT_ENTRIES_MAX);
    sum = sum_bytes(chunk, SDT_HEADER, 0);
    for (uint32_t off = SDT_HEADER; off < len; off += CHUNK) {
        uint32_t n = len - off < CHUNK ? len - off : CHUNK;
        if (walk_read(w, root + off, chunk, n, name) != 0)
            return -1;
        sum = sum_bytes(chunk, n, sum);
    }
    if (sum != 0)
        return walk_fail(w, "ACPI %s: bad checksum (the %u bytes sum to 0x%02x, not 0)", name, len,
                         sum);
    return 0;
}

/* Reads the MADT at addr (length already read: len) into madt_buffer and
 * parses it. */
static int madt_load(struct madt_walk *w, uint64_t addr, uint32_t len, struct madt_info *out)
{
    if (len < MADT_ENTRIES_AT || len > MADT_TABLE_MAX)
        return walk_fail(w, "ACPI MADT at 0x%llx: length %u, expected %u to %u",
                         (unsigned long long)addr, len, MADT_ENTRIES_AT, MADT_TABLE_MAX);
    if (walk_read(w, addr, madt_buffer, len, "MADT") != 0)
        return -1;
    return madt_parse(madt_buffer, len, out, w->err, w->err_size);
}

/* The first table with signature "APIC" among the root table's entries. */
static int root_find_madt(struct madt_walk *w, uint64_t root, uint32_t entry_size,
                          const char *name, uint32_t count, struct madt_info *out)
{
    uint8_t head[8];
    char what[32];
    uint64_t addr;

    for (uint32_t i = 0; i < count; i++) {
        if (walk_read(w, root + SDT_HEADER + (uint64_t)i * entry_size, head, entry_size, name) != 0)
            return -1;
        addr = entry_size == 8 ? load_u64(head) : load_u32(head);
        if (addr == 0)
            continue;               /* an empty slot: nothing to look at */
        fmt_snprintf(what, sizeof(what), "%s entry %u's table", name, i);
        if (walk_read(w, addr, head, sizeof(head), what) != 0)
            return -1;
        if (memcmp(head, "APIC", 4) == 0)
            return madt_load(w, addr, load_u32(head + SDT_LENGTH_AT), out);
    }
    return walk_fail(w, "ACPI %s: no MADT (\"APIC\") among its %u tables", name, count);
}

/* ---- any other table, by signature (hv/pci.c's MCFG) ---------------------- */

/* The first table with signature sig among the root table's entries,
 * read whole (length checked against size, checksum checked) into buf. */
static int root_find_table(struct madt_walk *w, uint64_t root, uint32_t entry_size,
                           const char *name, uint32_t count, const char *sig, uint8_t *buf,
                           size_t size, size_t *len)
{
    uint8_t head[8];
    char what[32];
    uint64_t addr;
    uint32_t stated;

    for (uint32_t i = 0; i < count; i++) {
        if (walk_read(w, root + SDT_HEADER + (uint64_t)i * entry_size, head, entry_size, name) != 0)
            return -1;
        addr = entry_size == 8 ? load_u64(head) : load_u32(head);
        if (addr == 0)
            continue;
        fmt_snprintf(what, sizeof(what), "%s entry %u's table", name, i);
        if (walk_read(w, addr, head, sizeof(head), what) != 0)
            return -1;
        if (memcmp(head, sig, 4) != 0)
            continue;
        stated = load_u32(head + SDT_LENGTH_AT);
        if (stated < SDT_HEADER || stated > size)
            return walk_fail(w, "ACPI %s at 0x%llx: length %u, expected %u to %zu", sig,
                             (unsigned long long)addr, stated, SDT_HEADER, size);
        if (walk_read(w, addr, buf, stated, sig) != 0)
            return -1;
        if (sum_bytes(buf, stated, 0) != 0)
            return walk_fail(w, "ACPI %s: bad checksum (the %u bytes sum to 0x%02x, not 0)",
                             sig, stated, sum_bytes(buf, stated, 0));
        *len = stated;
        return 0;
    }
    return walk_fail(w, "ACPI %s: no \"%s\" table among its %u tables", name, sig, count);
}

int madt_find_table(madt_read_fn read, void *arg, uint64_t rsdp_addr, const uint8_t *rsdp_copy,
                    size_t rsdp_copy_len, const char *sig, uint8_t *buf, size_t size,
                    size_t *len, char *err, size_t err_size)
{
    struct madt_walk w = { .read = read, .arg = arg, .err = err, .err_size = err_size };
    uint8_t rsdp[RSDP_LEN_MAX] = { 0 };
    uint32_t rsdp_len = 0, entry_size = 0, count = 0;
    uint64_t root = 0;
    const char *name;

    *len = 0;
    if (rsdp_load(&w, rsdp_addr, rsdp_copy, rsdp_copy_len, rsdp, &rsdp_len) != 0 ||
        rsdp_root(&w, rsdp, rsdp_len, &root, &entry_size) != 0)
        return -1;
    name = entry_size == 8 ? "XSDT" : "RSDT";
    if (root_check(&w, root, entry_size, name, &count) != 0)
        return -1;
    return root_find_table(&w, root, entry_size, name, count, sig, buf, size, len);
}

int madt_discover(madt_read_fn read, void *arg, uint64_t rsdp_addr, const uint8_t *rsdp_copy,
                  size_t rsdp_copy_len, struct madt_info *out, char *err, size_t err_size)
{
    struct madt_walk w = { .read = read, .arg = arg, .err = err, .err_size = err_size };
    uint8_t rsdp[RSDP_LEN_MAX] = { 0 };
    uint32_t rsdp_len = 0, entry_size = 0, count = 0;
    uint64_t root = 0;
    const char *name;

    memset(out, 0, sizeof(*out));
    if (rsdp_load(&w, rsdp_addr, rsdp_copy, rsdp_copy_len, rsdp, &rsdp_len) != 0 ||
        rsdp_root(&w, rsdp, rsdp_len, &root, &entry_size) != 0)
        return -1;
    name = entry_size == 8 ? "XSDT" : "RSDT";
    if (root_check(&w, root, entry_size, name, &count) != 0 ||
        root_find_madt(&w, root, entry_size, name, count, out) != 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}
