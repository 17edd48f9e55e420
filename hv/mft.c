/*
 * Solo5 manifests (hv/mft.h). The descriptor is hostile: its size is
 * checked against the entry count before any entry is read, every field
 * is copied out (memcpy, no unaligned casts) exactly once, and a name is
 * checked in the copy, so bytes that change under the parser cannot make
 * it accept what it did not check. Only as many entries as Mayfly can
 * attach are kept (hv/mft.h): a longer manifest is refused before any
 * entry is copied, so nothing is written beyond out->e[].
 */
#include "mft.h"
#include "fmt.h"
#include "lib.h"

/* Descriptor bytes before the first entry: padding, version, entries. */
#define MFT_HEADER      (HVT_MFT_NOTE_PAD + sizeof(struct hvt_mft))
#define ENTRY_SIZE      sizeof(struct hvt_mft_entry)
#define ENTRY_TYPE      offsetof(struct hvt_mft_entry, type)
#define ENTRY_ATTACHED  offsetof(struct hvt_mft_entry, attached)

_Static_assert(MFT_HEADER == 12, "manifest header layout");
_Static_assert(ENTRY_TYPE == HVT_MFT_NAME_SIZE, "the type follows the name");
_Static_assert(1 + MFT_DEVICES_MAX <= HVT_MFT_ENTRIES_MAX, "a kept manifest fits a Solo5 one");

/* One mft_parse() call: where its reason goes. */
struct mft_check {
    struct mft_info *out;
    char *err;
    size_t err_size;
};

/* The reason into c's buffer; -1. */
#define mft_fail(c, ...) fmt_error((c)->err, (c)->err_size, -1, __VA_ARGS__)

static int name_char_ok(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* Checks the copied name of entry i (i > 0): 1..67 of [A-Za-z0-9], then a
 * NUL; the bytes after the NUL are zeroed so that the copy is canonical. */
static int check_name(struct mft_check *c, uint32_t i)
{
    char *name = c->out->e[i].name;
    size_t n = 0;

    while (n < HVT_MFT_NAME_SIZE && name[n] != '\0')
        n++;
    if (n == HVT_MFT_NAME_SIZE)
        return mft_fail(c, "Solo5 manifest entry %u: the name is not NUL-terminated within %u bytes",
                        i, HVT_MFT_NAME_SIZE);
    if (n == 0)
        return mft_fail(c, "Solo5 manifest entry %u: the name is empty", i);
    for (size_t j = 0; j < n; j++)
        if (!name_char_ok(name[j]))
            return mft_fail(c, "Solo5 manifest entry %u: the name has byte 0x%02x at %zu; names are 1 to %u of A-Z, a-z, 0-9",
                            i, (unsigned)(uint8_t)name[j], j, HVT_MFT_NAME_SIZE - 1);
    memset(name + n, 0, HVT_MFT_NAME_SIZE - n);
    return 0;
}

/* Entry 0: HVT_MFT_RESERVED_FIRST with an empty name. */
static int check_first(struct mft_check *c, uint32_t type)
{
    if (type != HVT_MFT_RESERVED_FIRST)
        return mft_fail(c, "Solo5 manifest entry 0: type %u, expected RESERVED_FIRST (0x%x)",
                        type, HVT_MFT_RESERVED_FIRST);
    if (c->out->e[0].name[0] != '\0')
        return mft_fail(c, "Solo5 manifest entry 0: the name is not empty (entry 0 is reserved)");
    memset(c->out->e[0].name, 0, HVT_MFT_NAME_SIZE);
    return 0;
}

/* Copies entry i out of the descriptor (ent: its 104 bytes) and checks it. */
static int parse_entry(struct mft_check *c, uint32_t i, const uint8_t *ent)
{
    struct mft_device *d = &c->out->e[i];
    uint32_t type = load_u32(ent + ENTRY_TYPE);
    uint8_t attached = ent[ENTRY_ATTACHED];

    memcpy(d->name, ent, HVT_MFT_NAME_SIZE);
    d->type = type;
    if (i == 0) {
        if (check_first(c, type) != 0)
            return -1;
        if (attached != 0)
            return mft_fail(c, "Solo5 manifest entry 0: attached is %u, expected 0 in an image",
                            attached);
        return 0;
    }
    if (check_name(c, i) != 0)
        return -1;
    if (type != HVT_MFT_BLOCK_BASIC && type != HVT_MFT_NET_BASIC)
        return mft_fail(c, "Solo5 manifest entry %u (\"%s\"): type %u is not BLOCK_BASIC (%u) or NET_BASIC (%u)",
                        i, d->name, type, HVT_MFT_BLOCK_BASIC, HVT_MFT_NET_BASIC);
    if (attached != 0)
        return mft_fail(c, "Solo5 manifest entry %u (\"%s\"): attached is %u, expected 0 in an image",
                        i, d->name, attached);
    return 0;
}

/* No two entries share a name (entry 0, the only empty one, excluded). */
static int check_unique(struct mft_check *c)
{
    const struct mft_info *m = c->out;

    for (uint32_t i = 2; i < m->entries; i++)
        for (uint32_t j = 1; j < i; j++)
            if (strcmp(m->e[i].name, m->e[j].name) == 0)
                return mft_fail(c, "Solo5 manifest entries %u and %u are both called \"%s\"",
                                j, i, m->e[i].name);
    return 0;
}

int mft_parse(const uint8_t *desc, size_t descsz, struct mft_info *out, char *err,
              size_t err_size)
{
    struct mft_check c = { .out = out, .err = err, .err_size = err_size };
    uint32_t version, entries;

    memset(out, 0, sizeof(*out));
    if (descsz < MFT_HEADER)
        return mft_fail(&c, "Solo5 manifest: the descriptor is %zu bytes, shorter than its %zu-byte header",
                        descsz, MFT_HEADER);
    version = load_u32(desc + HVT_MFT_NOTE_PAD);
    entries = load_u32(desc + HVT_MFT_NOTE_PAD + 4);
    if (version != HVT_MFT_VERSION)
        return mft_fail(&c, "Solo5 manifest: version %u, expected %u", version, HVT_MFT_VERSION);
    if (entries < 1 || entries > HVT_MFT_ENTRIES_MAX)
        return mft_fail(&c, "Solo5 manifest: %u entries, expected 1 to %u", entries,
                        HVT_MFT_ENTRIES_MAX);
    /* entries <= 64: the product cannot wrap. */
    if (descsz != MFT_HEADER + (size_t)entries * ENTRY_SIZE)
        return mft_fail(&c, "Solo5 manifest: the descriptor is %zu bytes, expected %zu for %u entries",
                        descsz, MFT_HEADER + (size_t)entries * ENTRY_SIZE, entries);
    /* Before any entry is read: e[] holds no more than this. */
    if (entries > 1 + MFT_DEVICES_MAX)
        return mft_fail(&c, "Solo5 manifest: %u devices, Mayfly attaches at most %u to one guest",
                        entries - 1, (unsigned)MFT_DEVICES_MAX);
    out->entries = entries;
    for (uint32_t i = 0; i < entries; i++)
        if (parse_entry(&c, i, desc + MFT_HEADER + (size_t)i * ENTRY_SIZE) != 0)
            goto refused;
    if (check_unique(&c) != 0)
        goto refused;
    return 0;
refused:
    memset(out, 0, sizeof(*out));
    return -1;
}

int mft_find(const struct mft_info *m, const char *name)
{
    for (uint32_t i = 1; i < m->entries && i < 1 + MFT_DEVICES_MAX; i++)
        if (strcmp(m->e[i].name, name) == 0)
            return (int)i;
    return -1;
}

size_t mft_copy_size(const struct mft_info *m)
{
    return sizeof(struct hvt_mft) + (size_t)m->entries * sizeof(struct hvt_mft_entry);
}
