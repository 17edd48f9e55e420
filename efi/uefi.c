/*
 * UEFI entry (GNU-EFI): finds the ESP, reads \mayfly\mayfly.conf and the
 * guest images it names, takes the memory map, exits boot services and
 * calls hv_main() on a stack inside the image. The core never calls
 * firmware; this file is the only one that does.
 */
#include <efi.h>
#include <efilib.h>

#include "../hv/boot_info.h"
#include "../hv/config.h"
#include "../hv/lib.h"
#include "../hv/memmap.h"

#define UEFI_MAX_RAW_ENTRIES 512
#define UEFI_STACK_SIZE      (64 * 1024)
#define MAP_SLACK_ENTRIES    16

static struct boot_info boot_info;
static struct config config;
static struct mem_entry raw_map[UEFI_MAX_RAW_ENTRIES];
static uint8_t hv_stack[UEFI_STACK_SIZE] __attribute__((aligned(16)));
static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;

/* Opens the root of the volume we were loaded from, or of any volume
 * that has \mayfly\mayfly.conf (under QEMU -kernel the device handle is
 * the loader, not a disk). */
static EFI_FILE_HANDLE open_root(EFI_HANDLE image)
{
    EFI_LOADED_IMAGE *li = NULL;
    EFI_FILE_HANDLE root = NULL, probe;
    EFI_HANDLE *handles = NULL;
    UINTN count = 0;

    if (!EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
                                     (void **)&li))) {
        root = LibOpenRoot(li->DeviceHandle);
        if (root && !EFI_ERROR(uefi_call_wrapper(root->Open, 5, root, &probe,
                                                  L"\\mayfly\\mayfly.conf",
                                                  EFI_FILE_MODE_READ, 0))) {
            uefi_call_wrapper(probe->Close, 1, probe);
            return root;
        }
    }
    if (EFI_ERROR(LibLocateHandle(ByProtocol, &FileSystemProtocol, NULL, &count, &handles)))
        return root;
    for (UINTN i = 0; i < count; i++) {
        EFI_FILE_HANDLE r = LibOpenRoot(handles[i]);
        if (r && !EFI_ERROR(uefi_call_wrapper(r->Open, 5, r, &probe, L"\\mayfly\\mayfly.conf",
                                               EFI_FILE_MODE_READ, 0))) {
            uefi_call_wrapper(probe->Close, 1, probe);
            return r;
        }
    }
    return root;
}

/* Reads \mayfly\<name> into pages of loader data and records it as a file. */
static int load_file(EFI_FILE_HANDLE root, const char *name)
{
    CHAR16 path[BOOT_NAME_MAX + 8];
    EFI_FILE_HANDLE file;
    EFI_FILE_INFO *fi;
    EFI_PHYSICAL_ADDRESS addr = 0;
    UINTN size, i, n = 0;
    struct boot_file *f;

    if (boot_info.file_count == BOOT_MAX_FILES)
        return -1;
    for (const char *p = "\\mayfly\\"; *p; p++)
        path[n++] = (CHAR16)*p;
    for (i = 0; name[i] && n + 1 < ARRAY_SIZE(path); i++)
        path[n++] = (CHAR16)name[i];
    path[n] = 0;
    if (EFI_ERROR(uefi_call_wrapper(root->Open, 5, root, &file, path, EFI_FILE_MODE_READ, 0))) {
        Print(L"mayfly: loader: cannot open %s\n", path);
        return -1;
    }
    fi = LibFileInfo(file);
    size = fi ? fi->FileSize : 0;
    if (fi)
        FreePool(fi);
    if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData,
                                    EFI_SIZE_TO_PAGES(size ? size : 1), &addr)) ||
        EFI_ERROR(uefi_call_wrapper(file->Read, 3, file, &size, (void *)addr))) {
        Print(L"mayfly: loader: cannot read %s\n", path);
        uefi_call_wrapper(file->Close, 1, file);
        return -1;
    }
    uefi_call_wrapper(file->Close, 1, file);
    f = &boot_info.files[boot_info.file_count++];
    str_copy(f->name, name, sizeof(f->name));
    f->addr = addr;
    f->size = size;
    Print(L"mayfly: loader: read %s (%lu bytes)\n", path, (UINT64)size);
    return 0;
}

/* Reads the config, then every image it names (each once). */
static void load_files(EFI_HANDLE image)
{
    EFI_FILE_HANDLE root = open_root(image);
    struct config_error err;
    const struct boot_file *conf;

    if (!root) {
        Print(L"mayfly: loader: no readable file system found\n");
        return;
    }
    if (load_file(root, "mayfly.conf") < 0)
        return;
    conf = &boot_info.files[0];
    /* A bad config is reported by the core, with its line number. */
    if (config_parse((const char *)(uintptr_t)conf->addr, conf->size, &config, &err) < 0)
        return;
    for (uint32_t g = 0; g < config.guest_count; g++)
        if (!boot_find_file(&boot_info, config.guests[g].image))
            load_file(root, config.guests[g].image);
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

/* Boot-services memory becomes ours after exit; loader code and data hold
 * this image, its stack and the files we read, so they stay reserved. */
static uint32_t usable_type(UINT32 type)
{
    return type == EfiConventionalMemory || type == EfiBootServicesCode ||
           type == EfiBootServicesData ? MEM_USABLE : MEM_RESERVED;
}

static void convert_map(const UINT8 *map, UINTN map_size, UINTN desc_size)
{
    uint32_t n = 0;

    for (UINTN off = 0; off + desc_size <= map_size && n < UEFI_MAX_RAW_ENTRIES;
         off += desc_size) {
        const EFI_MEMORY_DESCRIPTOR *d = (const EFI_MEMORY_DESCRIPTOR *)(map + off);
        raw_map[n].base = d->PhysicalStart;
        raw_map[n].size = d->NumberOfPages * EFI_PAGE_SIZE;
        raw_map[n].type = usable_type(d->Type);
        n++;
    }
    boot_info.range_count = memmap_normalise(raw_map, n, boot_info.ranges, BOOT_MAX_RANGES,
                                             &boot_info.dropped);
}

/* Nothing may be printed between GetMemoryMap and ExitBootServices. */
static EFI_STATUS exit_boot_services(EFI_HANDLE image)
{
    UINTN size = 0, key, desc_size, capacity;
    UINT32 version;
    UINT8 *map = NULL;
    EFI_STATUS st;

    uefi_call_wrapper(BS->GetMemoryMap, 5, &size, NULL, &key, &desc_size, &version);
    capacity = size + MAP_SLACK_ENTRIES * (desc_size ? desc_size : 64);
    map = AllocatePool(capacity);
    if (!map)
        return EFI_OUT_OF_RESOURCES;
    for (int attempt = 0; attempt < 3; attempt++) {
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

static void __attribute__((noreturn)) enter_core(void)
{
    uint64_t top = (uint64_t)(uintptr_t)(hv_stack + UEFI_STACK_SIZE);

    __asm__ volatile("cli\n\t"
                     "movq %0, %%rsp\n\t"
                     "xorl %%ebp, %%ebp\n\t"
                     "call hv_main"
                     :
                     : "r"(top), "D"(&boot_info)
                     : "memory");
    __builtin_unreachable();
}

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
        Print(L"mayfly: loader: ExitBootServices failed (%r); reboot and try again\n", st);
        return st;
    }
    enter_core();
}
