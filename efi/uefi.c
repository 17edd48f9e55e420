/*
 * UEFI entry (GNU-EFI): finds the ESP, reads \mayfly\mayfly.conf and the
 * files it names (guest images, block devices' disks), takes the memory
 * map, exits boot services and calls hv_main() on a stack and page
 * tables inside loader memory. The core never calls firmware; this file
 * is the only one that does.
 */
#include <efi.h>
#include <efilib.h>

#include "../hv/boot_info.h"
#include "../hv/config.h"
#include "../hv/lib.h"
#include "../hv/memmap.h"
#include "../hv/pagetable.h"

#define UEFI_MAX_RAW_ENTRIES 512
#define UEFI_STACK_SIZE      (64 * 1024)
#define MAP_SLACK_ENTRIES    16      /* our own allocations may split descriptors */
#define EXIT_ATTEMPTS        3
#define GIB                  (1ULL << 30)
#define PTE_PRESENT          (1ULL << 0)
#define PTE_WRITE            (1ULL << 1)
#define PTE_LARGE            (1ULL << 7)

static struct boot_info boot_info;
static struct config config;
static struct mem_entry raw_map[UEFI_MAX_RAW_ENTRIES];
static uint8_t hv_stack[UEFI_STACK_SIZE] __attribute__((aligned(16)));
static uint64_t handover_cr3;
static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;
/* Not const: EFI_FILE_PROTOCOL.Open takes a CHAR16 * (it never writes it). */
static CHAR16 conf_path[] = L"\\mayfly\\mayfly.conf";

static void close_file(EFI_FILE_HANDLE f)
{
    if (f)
        uefi_call_wrapper(f->Close, 1, f);
}

/* The root of the volume on handle h if it holds \mayfly\mayfly.conf. */
static EFI_FILE_HANDLE root_with_config(EFI_HANDLE h)
{
    EFI_FILE_HANDLE root = LibOpenRoot(h), probe;

    if (!root)
        return NULL;
    if (EFI_ERROR(uefi_call_wrapper(root->Open, 5, root, &probe, conf_path,
                                    EFI_FILE_MODE_READ, 0))) {
        close_file(root);
        return NULL;
    }
    close_file(probe);
    return root;
}

/*
 * Opens the volume we were loaded from, or else the first volume that
 * has \mayfly\mayfly.conf (under QEMU -kernel the device handle is the
 * loader, not a disk). Without one, returns our own volume (or NULL) so
 * that the core reports the missing config.
 */
static EFI_FILE_HANDLE open_root(EFI_HANDLE image)
{
    EFI_LOADED_IMAGE *li = NULL;
    EFI_FILE_HANDLE root;
    EFI_HANDLE *handles = NULL;
    UINTN count = 0;

    if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
                                    (void **)&li)))
        li = NULL;
    if (li && (root = root_with_config(li->DeviceHandle)))
        return root;
    if (!EFI_ERROR(LibLocateHandle(ByProtocol, &FileSystemProtocol, NULL, &count, &handles))) {
        for (UINTN i = 0; i < count; i++)
            if ((root = root_with_config(handles[i]))) {
                FreePool(handles);
                return root;
            }
        FreePool(handles);
    }
    return li ? LibOpenRoot(li->DeviceHandle) : NULL;
}

/* "\mayfly\<name>" as a UEFI path; '/' in name becomes '\'. */
static void file_path(CHAR16 *path, UINTN size, const char *name)
{
    UINTN n = 0;

    for (const char *p = "\\mayfly\\"; *p && n + 1 < size; p++)
        path[n++] = (CHAR16)*p;
    for (; *name && n + 1 < size; name++)
        path[n++] = *name == '/' ? L'\\' : (CHAR16)*name;
    path[n] = 0;
}

/* Reads all of an open file into fresh loader-data pages. */
static EFI_STATUS read_whole(EFI_FILE_HANDLE file, EFI_PHYSICAL_ADDRESS *addr, UINTN *size)
{
    EFI_FILE_INFO *fi = LibFileInfo(file);
    UINTN want, got;
    EFI_STATUS st;

    if (!fi)
        return EFI_DEVICE_ERROR;
    want = fi->FileSize;
    FreePool(fi);
    st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData,
                           EFI_SIZE_TO_PAGES(want ? want : 1), addr);
    if (EFI_ERROR(st))
        return st;
    got = want;
    st = uefi_call_wrapper(file->Read, 3, file, &got, (void *)(uintptr_t)*addr);
    if (!EFI_ERROR(st) && got != want)
        st = EFI_END_OF_FILE;
    if (EFI_ERROR(st)) {
        uefi_call_wrapper(BS->FreePages, 2, *addr, EFI_SIZE_TO_PAGES(want ? want : 1));
        return st;
    }
    *size = want;
    return EFI_SUCCESS;
}

/* Reads \mayfly\<name> and records it as a boot file. Returns 0 or -1. */
static int load_file(EFI_FILE_HANDLE root, const char *name)
{
    CHAR16 path[BOOT_NAME_MAX + 8];
    EFI_FILE_HANDLE file;
    EFI_PHYSICAL_ADDRESS addr = 0;
    UINTN size = 0;
    EFI_STATUS st;
    struct boot_file *f;

    file_path(path, ARRAY_SIZE(path), name);
    if (boot_info.file_count == BOOT_MAX_FILES) {
        Print(L"mayfly: loader: more than %d files, %s not read\n", BOOT_MAX_FILES, path);
        boot_info.dropped++;
        return -1;
    }
    st = uefi_call_wrapper(root->Open, 5, root, &file, path, EFI_FILE_MODE_READ, 0);
    if (EFI_ERROR(st)) {
        Print(L"mayfly: loader: cannot open %s (%r)\n", path, st);
        return -1;
    }
    st = read_whole(file, &addr, &size);
    close_file(file);
    if (EFI_ERROR(st)) {
        Print(L"mayfly: loader: cannot read %s (%r)\n", path, st);
        return -1;
    }
    f = &boot_info.files[boot_info.file_count++];
    str_copy(f->name, name, sizeof(f->name));
    f->addr = addr;
    f->size = size;
    Print(L"mayfly: loader: read %s (%lu bytes)\n", path, (UINT64)size);
    return 0;
}

/* Reads \mayfly\<name> unless an earlier line named it already. */
static void load_once(EFI_FILE_HANDLE root, const char *name)
{
    if (!boot_find_file(&boot_info, name))
        load_file(root, name);
}

/* Reads the config, then every file it names (each once): a guest or
 * summon line's image, then its block devices' backings. A missing or bad config is
 * left for the core to report, with its line number. */
static void load_files(EFI_HANDLE image)
{
    EFI_FILE_HANDLE root = open_root(image);
    const struct boot_file *conf;
    struct config_error err;

    if (!root) {
        Print(L"mayfly: loader: no readable file system found\n");
        return;
    }
    if (load_file(root, "mayfly.conf") == 0) {
        conf = &boot_info.files[0];
        if (config_parse((const char *)(uintptr_t)conf->addr, conf->size, &config, &err) == 0)
            for (uint32_t g = 0; g < config_image_lines(&config); g++) {
                const struct config_guest *line = config_image_line(&config, g);
                load_once(root, line->image);
                for (uint32_t d = 0; d < line->device_count; d++)
                    if (line->devices[d].kind == CONFIG_DEVICE_BLOCK)
                        load_once(root, line->devices[d].target);
            }
    }
    close_file(root);
}

static void find_rsdp(void)
{
    for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];
        if (!CompareGuid(&t->VendorGuid, &acpi20_guid) ||
            (!boot_info.rsdp && !CompareGuid(&t->VendorGuid, &acpi10_guid)))
            boot_info.rsdp = (uint64_t)(uintptr_t)t->VendorTable;
    }
}

/* The descriptor at byte offset off; descriptors are desc_size apart,
 * which is larger than sizeof(EFI_MEMORY_DESCRIPTOR). */
static const EFI_MEMORY_DESCRIPTOR *map_at(const UINT8 *map, UINTN off)
{
    return (const EFI_MEMORY_DESCRIPTOR *)(map + off);
}

/* Boot-services memory becomes ours after exit; loader code and data hold
 * this image, its stack, its page tables and the files we read, so they
 * stay reserved. */
static uint32_t usable_type(UINT32 type)
{
    return type == EfiConventionalMemory || type == EfiBootServicesCode ||
           type == EfiBootServicesData ? MEM_USABLE : MEM_RESERVED;
}

static void convert_map(const UINT8 *map, UINTN map_size, UINTN desc_size)
{
    uint32_t n = 0;

    for (UINTN off = 0; off + desc_size <= map_size; off += desc_size) {
        const EFI_MEMORY_DESCRIPTOR *d = map_at(map, off);
        if (n == UEFI_MAX_RAW_ENTRIES) {
            boot_info.dropped++;
            continue;
        }
        raw_map[n].base = d->PhysicalStart;
        raw_map[n].size = d->NumberOfPages * EFI_PAGE_SIZE;
        raw_map[n].type = usable_type(d->Type);
        n++;
    }
    boot_info.range_count = memmap_normalise(raw_map, n, boot_info.ranges, BOOT_MAX_RANGES,
                                             &boot_info.dropped);
}

/* End of the highest memory (not MMIO) in the map, at least 4 GiB so
 * that the low MMIO holes stay mapped too. */
static uint64_t map_top(const UINT8 *map, UINTN map_size, UINTN desc_size)
{
    uint64_t top = 4 * GIB;

    for (UINTN off = 0; off + desc_size <= map_size; off += desc_size) {
        const EFI_MEMORY_DESCRIPTOR *d = map_at(map, off);
        uint64_t end = memmap_end(d->PhysicalStart, d->NumberOfPages * EFI_PAGE_SIZE);
        if (d->Type != EfiMemoryMappedIO && d->Type != EfiMemoryMappedIOPortSpace && end > top)
            top = end;
    }
    return top;
}

/*
 * Identity-maps [0, top) with 2 MiB pages in loader-data pages. The core
 * zeroes pool pages (boot-services memory included) before it switches
 * to tables of its own, so it must not start on firmware's tables, which
 * live in boot-services data. Four-level paging, as the core assumes.
 */
/* Hands out the pages of one pre-allocated, zeroed block in order. */
struct page_block {
    uint64_t next, end;
};

static uint64_t block_page(void *arg)
{
    struct page_block *b = arg;
    uint64_t p = b->next;

    if (p >= b->end)
        return 0;
    b->next += EFI_PAGE_SIZE;
    return p;
}

static uint64_t *block_table(void *arg, uint64_t addr)
{
    (void)arg;
    return (uint64_t *)(uintptr_t)addr;     /* firmware identity-maps memory */
}

static const struct pt_format handover_format = {
    .table = PTE_PRESENT | PTE_WRITE,
    .leaf_2m = PTE_PRESENT | PTE_WRITE | PTE_LARGE,
    .leaf_4k = PTE_PRESENT | PTE_WRITE,
    .large = PTE_LARGE,
};

static EFI_STATUS build_page_tables(uint64_t top)
{
    UINTN pds = (UINTN)((top + GIB - 1) / GIB), pdpts = (pds + 511) / 512;
    UINTN pages = 1 + pdpts + pds;
    EFI_PHYSICAL_ADDRESS base;
    struct page_block block;
    struct pt_ctx c = { .fmt = &handover_format, .alloc = block_page,
                        .table_ptr = block_table, .arg = &block };
    EFI_STATUS st;

    if (pdpts > 512)
        return EFI_UNSUPPORTED;
    st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData, pages, &base);
    if (EFI_ERROR(st))
        return st;
    ZeroMem((void *)(uintptr_t)base, pages * EFI_PAGE_SIZE);
    block.next = base;
    block.end = base + pages * EFI_PAGE_SIZE;
    if (pt_init(&c) < 0 || pt_map(&c, 0, 0, (uint64_t)pds * GIB, 0x200000ULL) < 0)
        return EFI_OUT_OF_RESOURCES;
    handover_cr3 = c.root;
    return EFI_SUCCESS;
}

/*
 * Builds the hand-over page tables from a first look at the map, then
 * takes the final map and exits boot services, retrying with a fresh map
 * when the key went stale. Nothing may be printed (or allocated) between
 * GetMemoryMap and ExitBootServices.
 */
static EFI_STATUS exit_boot_services(EFI_HANDLE image)
{
    UINTN size = 0, key = 0, desc_size = 0, capacity;
    UINT32 version;
    UINT8 *map;
    EFI_STATUS st;

    st = uefi_call_wrapper(BS->GetMemoryMap, 5, &size, NULL, &key, &desc_size, &version);
    if (st != EFI_BUFFER_TOO_SMALL || desc_size < sizeof(EFI_MEMORY_DESCRIPTOR))
        return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
    capacity = size + MAP_SLACK_ENTRIES * desc_size;
    map = AllocatePool(capacity);
    if (!map)
        return EFI_OUT_OF_RESOURCES;
    size = capacity;
    st = uefi_call_wrapper(BS->GetMemoryMap, 5, &size, (EFI_MEMORY_DESCRIPTOR *)map, &key,
                           &desc_size, &version);
    if (!EFI_ERROR(st))
        st = build_page_tables(map_top(map, size, desc_size));
    if (EFI_ERROR(st))
        return st;
    for (int attempt = 0; attempt < EXIT_ATTEMPTS; attempt++) {
        size = capacity;
        st = uefi_call_wrapper(BS->GetMemoryMap, 5, &size, (EFI_MEMORY_DESCRIPTOR *)map, &key,
                               &desc_size, &version);
        if (EFI_ERROR(st))
            return st;
        st = uefi_call_wrapper(BS->ExitBootServices, 2, image, key);
        if (!EFI_ERROR(st)) {
            convert_map(map, size, desc_size);
            return EFI_SUCCESS;
        }
    }
    return st;
}

/* Switches to our page tables and stack, then into the core. The stack
 * top is 16-byte aligned, so hv_main starts with the ABI's alignment. */
static void __attribute__((noreturn)) enter_core(void)
{
    uint64_t top = (uint64_t)(uintptr_t)(hv_stack + UEFI_STACK_SIZE);

    __asm__ volatile("cli\n\t"
                     "movq %1, %%cr3\n\t"
                     "movq %0, %%rsp\n\t"
                     "xorl %%ebp, %%ebp\n\t"
                     "call hv_main"
                     :
                     : "r"(top), "r"(handover_cr3), "D"(&boot_info)
                     : "memory");
    __builtin_unreachable();
}

/* Called by GNU-EFI's crt0 (_start), which no header declares. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab);

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    EFI_LOADED_IMAGE *li = NULL;
    EFI_STATUS st;

    InitializeLib(image, systab);
    Print(L"mayfly: UEFI loader\n");
    boot_info.entry_name = "uefi";
    if (!EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
                                     (void **)&li))) {
        boot_info.image_base = (uint64_t)(uintptr_t)li->ImageBase;
        boot_info.image_end = boot_info.image_base + li->ImageSize;
    }
    load_files(image);
    find_rsdp();
    st = exit_boot_services(image);
    if (EFI_ERROR(st)) {
        /* Boot services may be half gone: this may not reach the screen. */
        Print(L"mayfly: loader: cannot exit boot services (%r); reboot and try again\n", st);
        return st;
    }
    enter_core();
}
