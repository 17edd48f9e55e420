/*
 * Guest ELF validation and loading, for both personalities (hv/elf.h).
 * Every header field is hostile: each check is written so that no sum or
 * product can wrap, and nothing outside [data, data + size) is read.
 * Fields are read with memcpy (no unaligned casts); the hypervisor and the
 * test hosts are little-endian like the only images accepted
 * (ELFDATA2LSB).
 *
 * The personality (which note the image carries) decides some loading
 * rules, and notes may come after the PT_LOADs, so the program header
 * table is read once into struct check, its notes walked first, and its
 * loads checked afterwards from that copy.
 */
#include "elf.h"
#include "fmt.h"
#include "lib.h"
#include "param.h"
#include "../include/mayfly/abi.h"
#include "../include/mayfly/hvt.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "fields are read in host byte order");
_Static_assert(HVT_IMAGE_BASE == MF_IMAGE_BASE, "one image base for both personalities");

/* ELF64 constants (System V gABI, x86-64 psABI). */
#define EHDR_SIZE       64
#define PHDR_SIZE       56
#define EI_CLASS        4
#define EI_DATA         5
#define EI_VERSION      6
#define ELFCLASS64      2
#define ELFDATA2LSB     1
#define EV_CURRENT      1
#define ET_EXEC         2
#define ET_DYN          3
#define EM_X86_64       62
#define PT_LOAD         1
#define PT_DYNAMIC      2
#define PT_INTERP       3
#define PT_NOTE         4
#define PF_X            1u
#define PF_W            2u
#define NOTE_HEADER     12          /* namesz, descsz, type */
#define NOTE_ALIGN      4ULL

/* The fields of a program header this file uses. */
struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz, align;
};

/* State of one elf_validate() call. */
struct check {
    const uint8_t *data;
    size_t size;
    uint64_t image_end;             /* images must end at or below this */
    uint64_t mem_limit;
    struct elf_image *img;
    struct phdr ph[ELF_MAX_PHNUM];  /* the table, each entry read once */
    uint32_t phdr_of[ELF_MAX_SEGMENTS]; /* program header index of each segment */
    uint32_t mayfly_notes;          /* Mayfly ABI notes seen */
    uint32_t mayfly_version;        /* from the Mayfly ABI note */
    uint32_t solo5_notes;           /* Solo5 ABI1 notes seen */
    uint32_t solo5_target, solo5_version;   /* from the Solo5 ABI1 note */
    uint32_t mft_notes;             /* Solo5 MFT1 notes seen (parsed into img->mft) */
    char *err;
    size_t err_size;
};

static int fail(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct check *c, const char *fmt, ...)
{
    va_list ap;

    if (c->err && c->err_size > 0) {
        va_start(ap, fmt);
        fmt_vsnprintf(c->err, c->err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static unsigned long long ull(uint64_t v)
{
    return (unsigned long long)v;
}

/* Whether [offset, offset + len) lies inside a file of size bytes. */
static int in_file(uint64_t offset, uint64_t len, size_t size)
{
    return offset <= size && len <= size - offset;
}

/* "2 MiB", "68 KiB" or "1000 bytes", for messages. */
static void describe_size(char *buf, size_t n, uint64_t bytes)
{
    if (bytes != 0 && bytes % MIB == 0)
        fmt_snprintf(buf, n, "%llu MiB", ull(bytes / MIB));
    else if (bytes != 0 && bytes % 1024 == 0)
        fmt_snprintf(buf, n, "%llu KiB", ull(bytes / 1024));
    else
        fmt_snprintf(buf, n, "%llu bytes", ull(bytes));
}

static int check_ident(struct check *c)
{
    static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };
    const uint8_t *d = c->data;
    uint32_t version;

    if (c->size < EHDR_SIZE)
        return fail(c, "not an ELF file (%zu bytes, shorter than an ELF header)", c->size);
    if (memcmp(d, magic, sizeof(magic)) != 0)
        return fail(c, "not an ELF file (bad magic)");
    if (d[EI_CLASS] != ELFCLASS64)
        return fail(c, "not a 64-bit ELF file (class %u); build the guest for x86-64",
                    d[EI_CLASS]);
    if (d[EI_DATA] != ELFDATA2LSB)
        return fail(c, "not a little-endian ELF file (data encoding %u)", d[EI_DATA]);
    version = d[EI_VERSION] != EV_CURRENT ? d[EI_VERSION] : load_u32(d + 20);
    if (version != EV_CURRENT)
        return fail(c, "unknown ELF version %u", version);
    return 0;
}

/* Checks the ELF header; on success the program header table (img->phoff,
 * img->phnum: the values checked, read once) is in the file. */
static int check_header(struct check *c)
{
    const uint8_t *d = c->data;
    uint16_t type, machine, phentsize, phnum;
    uint64_t phoff;

    if (check_ident(c) != 0)
        return -1;
    type = load_u16(d + 16);
    machine = load_u16(d + 18);
    phoff = load_u64(d + 32);
    phentsize = load_u16(d + 54);
    phnum = load_u16(d + 56);
    if (type == ET_DYN)
        return fail(c, "position-independent executables are not supported: link with -static -no-pie");
    if (type != ET_EXEC)
        return fail(c, "ELF type %u is not an executable (ET_EXEC)", type);
    if (machine != EM_X86_64)
        return fail(c, "ELF machine %u is not x86-64 (%u)", machine, EM_X86_64);
    if (phentsize != PHDR_SIZE)
        return fail(c, "program header size %u, expected %u", phentsize, PHDR_SIZE);
    if (phnum < 1 || phnum > ELF_MAX_PHNUM)
        return fail(c, "%u program headers, expected 1 to %u", phnum, ELF_MAX_PHNUM);
    if (!in_file(phoff, (uint64_t)phnum * PHDR_SIZE, c->size))
        return fail(c, "program header table (offset 0x%llx, %u entries) lies outside the file (%zu bytes)",
                    ull(phoff), phnum, c->size);
    c->img->phoff = phoff;
    c->img->phnum = phnum;
    return 0;
}

static void read_phdr(const uint8_t *p, struct phdr *ph)
{
    ph->type = load_u32(p);
    ph->flags = load_u32(p + 4);
    ph->offset = load_u64(p + 8);
    ph->vaddr = load_u64(p + 16);
    ph->filesz = load_u64(p + 32);
    ph->memsz = load_u64(p + 40);
    ph->align = load_u64(p + 48);
}

/* The file-side checks of a PT_LOAD that is read from the file (every
 * Mayfly one, empty or not). */
static int check_load_file(struct check *c, uint32_t i, const struct phdr *ph)
{
    if (ph->filesz > ph->memsz)
        return fail(c, "segment %u has more file bytes (0x%llx) than memory bytes (0x%llx)",
                    i, ull(ph->filesz), ull(ph->memsz));
    if (!in_file(ph->offset, ph->filesz, c->size))
        return fail(c, "segment %u (offset 0x%llx, 0x%llx bytes) lies outside the file (%zu bytes)",
                    i, ull(ph->offset), ull(ph->filesz), c->size);
    if (ph->align & (ph->align - 1))
        return fail(c, "segment %u alignment 0x%llx is not a power of two", i, ull(ph->align));
    if (ph->align > 1 && (ph->vaddr & (ph->align - 1)) != (ph->offset & (ph->align - 1)))
        return fail(c, "segment %u address 0x%llx and file offset 0x%llx differ modulo its alignment 0x%llx",
                    i, ull(ph->vaddr), ull(ph->offset), ull(ph->align));
    return 0;
}

/* Where a segment of memsz bytes at vaddr may go: at or above the image
 * base, below the stack reserve at the top of the partition. */
static int check_placement(struct check *c, uint32_t i, const struct phdr *ph)
{
    char limit[32], reserve[32];

    if (ph->vaddr < MF_IMAGE_BASE)
        return fail(c, "segment %u at 0x%llx is below 0x%llx (the low 1 MiB is the hypervisor's); link the guest at 0x%llx or above",
                    i, ull(ph->vaddr), ull(MF_IMAGE_BASE), ull(MF_IMAGE_BASE));
    if (ph->memsz > UINT64_MAX - ph->vaddr)
        return fail(c, "segment %u at 0x%llx (0x%llx bytes) wraps around the address space",
                    i, ull(ph->vaddr), ull(ph->memsz));
    if (ph->vaddr + ph->memsz > c->image_end) {
        describe_size(limit, sizeof(limit), c->mem_limit);
        describe_size(reserve, sizeof(reserve), MF_STACK_RESERVE);
        return fail(c, "segment %u [0x%llx-0x%llx) ends beyond the partition (%s, the top %s kept for the stack); use a larger class",
                    i, ull(ph->vaddr), ull(ph->vaddr + ph->memsz), limit, reserve);
    }
    return 0;
}

/* Records an approved segment. */
static int add_segment(struct check *c, uint32_t i, const struct phdr *ph)
{
    struct elf_image *img = c->img;
    struct elf_segment *s;

    if (img->segment_count == ELF_MAX_SEGMENTS)
        return fail(c, "more than %u loadable segments", ELF_MAX_SEGMENTS);
    c->phdr_of[img->segment_count] = i;
    s = &img->segments[img->segment_count++];
    /* A Solo5 segment of zeroes has an unchecked offset: elf_load is
     * never to compute a pointer from it. */
    s->offset = ph->filesz ? ph->offset : 0;
    s->vaddr = ph->vaddr;
    s->filesz = ph->filesz;
    s->memsz = ph->memsz;
    s->flags = ph->flags;
    return 0;
}

/*
 * A Mayfly PT_LOAD: the file-side checks for every one, empty or not; one
 * that occupies no memory is not loaded and not counted.
 */
static int check_load_mayfly(struct check *c, uint32_t i, const struct phdr *ph)
{
    if (check_load_file(c, i, ph) != 0)
        return -1;
    if (ph->memsz == 0)
        return 0;
    if (check_placement(c, i, ph) != 0)
        return -1;
    return add_segment(c, i, ph);
}

/*
 * A Solo5 PT_LOAD, as the hvt tender takes it: one with no file bytes is
 * never read from the file, so its file fields are not checked (an empty
 * PT_LOAD at 0 is fine). One with no file bytes but memory (Solo5 0.12's
 * .bss) still has to fit the partition and counts towards the image's
 * end, so that the partition chosen holds it; it becomes a segment of
 * zeroes. No segment may be both writable and executable.
 */
static int check_load_solo5(struct check *c, uint32_t i, const struct phdr *ph)
{
    if (ph->memsz == 0 && ph->filesz == 0)
        return 0;
    if (ph->filesz != 0 && check_load_file(c, i, ph) != 0)
        return -1;
    if ((ph->flags & PF_W) && (ph->flags & PF_X))
        return fail(c, "segment %u is both writable and executable", i);
    if (check_placement(c, i, ph) != 0)
        return -1;
    return add_segment(c, i, ph);
}

/* The Mayfly ABI note: counted, its version kept. */
static int take_mayfly_note(struct check *c, uint32_t i, uint32_t type, const uint8_t *desc,
                            uint32_t descsz)
{
    if (type != MF_NOTE_TYPE_ABI)
        return 0;                   /* a later Mayfly note type */
    if (descsz < sizeof(struct mf_abi_note))
        return fail(c, "Mayfly ABI note in segment %u has a %u-byte descriptor, expected at least %zu",
                    i, descsz, sizeof(struct mf_abi_note));
    if (++c->mayfly_notes > 1)
        return fail(c, "more than one Mayfly ABI note");
    c->mayfly_version = load_u32(desc);
    return 0;
}

/* Solo5's ABI1 note (target and version kept) and MFT1 note (parsed into
 * img->mft); other Solo5 note types are ignored. */
static int take_solo5_note(struct check *c, uint32_t i, uint32_t type, const uint8_t *desc,
                           uint32_t descsz)
{
    if (type == HVT_NOTE_TYPE_ABI) {
        if (descsz < 8)
            return fail(c, "Solo5 ABI note in segment %u has a %u-byte descriptor, expected at least 8",
                        i, descsz);
        if (++c->solo5_notes > 1)
            return fail(c, "more than one Solo5 ABI note");
        c->solo5_target = load_u32(desc);
        c->solo5_version = load_u32(desc + 4);
    } else if (type == HVT_NOTE_TYPE_MFT) {
        if (++c->mft_notes > 1)
            return fail(c, "more than one Solo5 manifest (MFT1 note)");
        /* Its reasons start with "Solo5 manifest" and fit MFT_REASON_MAX. */
        return mft_parse(desc, descsz, &c->img->mft, c->err, c->err_size);
    }
    return 0;
}

/* One note: its name decides whose it is; the name is compared once. */
static int take_note(struct check *c, uint32_t i, const uint8_t *name, uint32_t namesz,
                     uint32_t type, const uint8_t *desc, uint32_t descsz)
{
    if (namesz == sizeof(MF_NOTE_NAME) && memcmp(name, MF_NOTE_NAME, sizeof(MF_NOTE_NAME)) == 0)
        return take_mayfly_note(c, i, type, desc, descsz);
    if (namesz == sizeof(HVT_NOTE_NAME) && memcmp(name, HVT_NOTE_NAME, sizeof(HVT_NOTE_NAME)) == 0)
        return take_solo5_note(c, i, type, desc, descsz);
    return 0;
}

/* Walks the notes of one PT_NOTE segment (4-byte aligned name and descriptor). */
static int check_notes(struct check *c, uint32_t i, const struct phdr *ph)
{
    const uint8_t *p;
    uint64_t left;

    if (!in_file(ph->offset, ph->filesz, c->size))
        return fail(c, "note segment %u (offset 0x%llx, 0x%llx bytes) lies outside the file",
                    i, ull(ph->offset), ull(ph->filesz));
    p = c->data + ph->offset;
    left = ph->filesz;
    while (left >= NOTE_HEADER) {
        uint32_t namesz = load_u32(p), descsz = load_u32(p + 4), type = load_u32(p + 8);
        uint64_t name_space = ALIGN_UP((uint64_t)namesz, NOTE_ALIGN);
        uint64_t desc_space = ALIGN_UP((uint64_t)descsz, NOTE_ALIGN);
        const uint8_t *name = p + NOTE_HEADER;

        /* Sums of values below 2^33 cannot wrap. The last descriptor's
         * padding may be missing. */
        if (name_space + descsz > left - NOTE_HEADER)
            return fail(c, "note segment %u: a note (name %u bytes, descriptor %u bytes) runs past the segment's end",
                        i, namesz, descsz);
        if (take_note(c, i, name, namesz, type, name + name_space, descsz) != 0)
            return -1;
        if (name_space + desc_space >= left - NOTE_HEADER)
            break;
        p += NOTE_HEADER + name_space + desc_space;
        left -= NOTE_HEADER + name_space + desc_space;
    }
    return 0;
}

/* Reads the table check_header() approved into c->ph, each entry once, and
 * walks its notes; refuses what no personality runs (PT_DYNAMIC). */
static int read_table(struct check *c)
{
    const struct elf_image *img = c->img;

    for (uint32_t i = 0; i < img->phnum; i++) {
        struct phdr *ph = &c->ph[i];
        read_phdr(c->data + img->phoff + (uint64_t)i * PHDR_SIZE, ph);
        if (ph->type == PT_DYNAMIC)
            return fail(c, "dynamic executables are not supported: link statically");
        if (ph->type == PT_NOTE && check_notes(c, i, ph) != 0)
            return -1;
    }
    return 0;
}

/* "spt" for HVT_TARGET_SPT, for messages. */
static const char *solo5_target_name(uint32_t target)
{
    static const char *const names[] = {
        [HVT_TARGET_HVT] = "hvt", [HVT_TARGET_SPT] = "spt", [HVT_TARGET_VIRTIO] = "virtio",
        [HVT_TARGET_MUEN] = "muen", [HVT_TARGET_GENODE] = "genode", [HVT_TARGET_XEN] = "xen",
    };

    if (target < ARRAY_SIZE(names) && names[target])
        return names[target];
    return "unknown";
}

/* The Solo5 notes seen make an hvt image this hypervisor runs. */
static int check_solo5(struct check *c)
{
    struct elf_image *img = c->img;

    if (c->solo5_target != HVT_TARGET_HVT)
        return fail(c, "Solo5 ABI target %u (%s) is not hvt: build the unikernel for the hvt target",
                    c->solo5_target, solo5_target_name(c->solo5_target));
    if (c->solo5_version < HVT_ABI_VERSION_MIN || c->solo5_version > HVT_ABI_VERSION_MAX)
        return fail(c, "Solo5 hvt ABI version %u is not supported: this hypervisor runs hvt ABI versions %u to %u (Solo5 up to 0.12)",
                    c->solo5_version, HVT_ABI_VERSION_MIN, HVT_ABI_VERSION_MAX);
    if (c->mft_notes == 0)
        return fail(c, "no Solo5 manifest (MFT1 note): an hvt unikernel declares its devices in one; build it with Solo5's toolchain");
    img->personality = ELF_SOLO5_HVT;
    img->abi_version = c->solo5_version;
    return 0;
}

/* Decides the personality from the notes read_table() saw. */
static int choose_personality(struct check *c)
{
    struct elf_image *img = c->img;

    if (c->mayfly_notes && c->solo5_notes)
        return fail(c, "carries both a Mayfly and a Solo5 ABI note: an image is built for one personality");
    if (c->solo5_notes)
        return check_solo5(c);
    if (c->mayfly_notes == 0)
        return fail(c, "not a Mayfly or Solo5 hvt image: it has no Mayfly ABI note and no Solo5 ABI note (link Mayfly guests with guests/lib; build Solo5 unikernels for the hvt target)");
    if (c->mft_notes)
        return fail(c, "a Mayfly image (Mayfly ABI note) carries a Solo5 manifest (MFT1 note): an image is built for one personality");
    if (c->mayfly_version != MF_ABI_VERSION)
        return fail(c, "ABI note version %u, this hypervisor speaks version %u; rebuild the guest against this include/mayfly/abi.h",
                    c->mayfly_version, MF_ABI_VERSION);
    img->personality = ELF_MAYFLY;
    img->abi_version = c->mayfly_version;
    return 0;
}

/* Checks the loads of c->ph by the rules of the image's personality. */
static int check_loads(struct check *c)
{
    int solo5 = c->img->personality == ELF_SOLO5_HVT;

    for (uint32_t i = 0; i < c->img->phnum; i++) {
        const struct phdr *ph = &c->ph[i];
        /* Solo5 images carry a fake PT_INTERP so that a host OS will not
         * run them; for Mayfly images it means a dynamic executable. */
        if (ph->type == PT_INTERP && !solo5)
            return fail(c, "dynamic executables are not supported: link statically");
        if (ph->type != PT_LOAD)
            continue;
        if ((solo5 ? check_load_solo5(c, i, ph) : check_load_mayfly(c, i, ph)) != 0)
            return -1;
    }
    return 0;
}

/* Sorts the segments by address (insertion sort: at most ELF_MAX_SEGMENTS). */
static void sort_segments(struct check *c)
{
    struct elf_segment *seg = c->img->segments;

    for (uint32_t i = 1; i < c->img->segment_count; i++) {
        struct elf_segment s = seg[i];
        uint32_t phdr_index = c->phdr_of[i], j = i;
        for (; j > 0 && seg[j - 1].vaddr > s.vaddr; j--) {
            seg[j] = seg[j - 1];
            c->phdr_of[j] = c->phdr_of[j - 1];
        }
        seg[j] = s;
        c->phdr_of[j] = phdr_index;
    }
}

/* Sorted, so only neighbours can overlap; every end is below image_end. */
static int check_overlap(struct check *c)
{
    const struct elf_segment *seg = c->img->segments;

    for (uint32_t i = 1; i < c->img->segment_count; i++) {
        if (seg[i - 1].vaddr + seg[i - 1].memsz > seg[i].vaddr) {
            uint32_t a = c->phdr_of[i - 1], b = c->phdr_of[i];
            return fail(c, "segments %u and %u overlap", a < b ? a : b, a < b ? b : a);
        }
    }
    return 0;
}

static int check_entry(struct check *c)
{
    const struct elf_image *img = c->img;

    for (uint32_t i = 0; i < img->segment_count; i++) {
        const struct elf_segment *s = &img->segments[i];
        if ((s->flags & PF_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
            return 0;
    }
    return fail(c, "entry point 0x%llx is not inside an executable segment", ull(img->entry));
}

/* Everything elf_validate() checks, in order: header, notes and
 * personality, loads by that personality's rules, layout, entry. */
static int validate(struct check *c)
{
    struct elf_image *img = c->img;
    const struct elf_segment *last;

    img->file_size = c->size;
    if (check_header(c) != 0 || read_table(c) != 0 || choose_personality(c) != 0 ||
        check_loads(c) != 0)
        return -1;
    if (img->segment_count == 0)
        return fail(c, "no loadable segment");
    sort_segments(c);
    if (check_overlap(c) != 0)
        return -1;
    img->entry = load_u64(c->data + 24);
    if (check_entry(c) != 0)
        return -1;
    last = &img->segments[img->segment_count - 1];
    img->lowest = img->segments[0].vaddr;
    img->highest = last->vaddr + last->memsz;
    if (img->personality == ELF_SOLO5_HVT)
        img->kernel_end = ALIGN_UP(img->highest, 4096ULL);
    return 0;
}

int elf_validate(const uint8_t *data, size_t size, uint64_t mem_limit,
                 struct elf_image *out, char *err, size_t err_size)
{
    struct check c = {
        .data = data, .size = size, .mem_limit = mem_limit, .img = out,
        .image_end = mem_limit > MF_STACK_RESERVE ? mem_limit - MF_STACK_RESERVE : 0,
        .err = err, .err_size = err_size,
    };
    int rc;

    memset(out, 0, sizeof(*out));
    rc = validate(&c);
    if (rc != 0)
        memset(out, 0, sizeof(*out));   /* nothing half-approved */
    return rc;
}

uint64_t elf_memory_needed(const struct elf_image *img)
{
    return ALIGN_UP(img->highest + MF_STACK_RESERVE, PARTITION_ALIGN);
}

void elf_load_zeroed(const struct elf_image *img, const uint8_t *data, uint8_t *dst)
{
    for (uint32_t i = 0; i < img->segment_count; i++) {
        const struct elf_segment *s = &img->segments[i];
        memcpy(dst + s->vaddr, data + s->offset, s->filesz);
    }
}

void elf_load(const struct elf_image *img, const uint8_t *data, uint8_t *dst)
{
    for (uint32_t i = 0; i < img->segment_count; i++) {
        const struct elf_segment *s = &img->segments[i];
        memcpy(dst + s->vaddr, data + s->offset, s->filesz);
        memset(dst + s->vaddr + s->filesz, 0, s->memsz - s->filesz);
    }
}
