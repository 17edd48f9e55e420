/*
 * The Solo5 "hvt" guest interface, as Mayfly's Solo5 personality
 * implements it on x86-64 (docs/solo5.md). Written here from the public
 * description of the interface (Solo5's hvt_abi.h, mft_abi.h,
 * elf_abi.h): the numbers and layouts below are the interface's, the
 * names are ours. Shared by the hypervisor (hv/), the hvt test
 * unikernels (guests/hvt/, tests/guests/) and tools. C99 only; every
 * struct's size is pinned by a static assertion.
 *
 * An hvt unikernel is a static ELF64 executable linked at 0x100000 with
 * two notes named "Solo5": ABI1 (struct hvt_abi_info: target hvt,
 * version 1 or 2) and MFT1 (the manifest: the devices it needs). It
 * starts in 64-bit mode at its entry with RDI pointing at struct
 * hvt_boot_info and makes hypercalls with `outl %eax, %dx`: port
 * HVT_PIO_BASE + n, EAX the 32-bit guest-physical address of the
 * hypercall's argument struct, results written back into that struct.
 */
#ifndef MAYFLY_HVT_H
#define MAYFLY_HVT_H

#include <stdint.h>

/* The notes. */
#define HVT_NOTE_NAME           "Solo5"         /* namesz 6, padded to 8 */
#define HVT_NOTE_TYPE_ABI       0x31494241u     /* "ABI1" */
#define HVT_NOTE_TYPE_MFT       0x3154464du     /* "MFT1" */

/* ABI targets a Solo5 ABI note may name; Mayfly runs only hvt. */
#define HVT_TARGET_HVT          1
#define HVT_TARGET_SPT          2
#define HVT_TARGET_VIRTIO       3
#define HVT_TARGET_MUEN         4
#define HVT_TARGET_GENODE       5
#define HVT_TARGET_XEN          6
#define HVT_ABI_VERSION_MIN     1               /* Solo5 up to 0.7 */
#define HVT_ABI_VERSION_MAX     2               /* Solo5 0.8 to 0.12 */

struct hvt_abi_info {
    uint32_t target;            /* HVT_TARGET_* */
    uint32_t version;           /* of the target's ABI */
    uint32_t reserved0;
    uint32_t reserved1;
};
_Static_assert(sizeof(struct hvt_abi_info) == 16, "hvt_abi_info layout");

/*
 * The manifest (MFT1 note). Its descriptor starts with 4 bytes of
 * padding (so that struct hvt_mft is 8-byte aligned after the 20-byte
 * note header), then struct hvt_mft and `entries` struct hvt_mft_entry;
 * the descriptor is exactly 4 + 8 + entries * 104 bytes. Entry 0 is
 * HVT_MFT_RESERVED_FIRST with an empty name; names are NUL-terminated
 * within HVT_MFT_NAME_SIZE bytes; `attached` is 0 in the image. A
 * device's handle (NET_* and BLOCK_* hypercalls) is its entry's index.
 */
#define HVT_MFT_VERSION         1
#define HVT_MFT_ENTRIES_MAX     64
#define HVT_MFT_NAME_SIZE       68              /* including the NUL */
#define HVT_MFT_NOTE_PAD        4               /* descriptor bytes before struct hvt_mft */

#define HVT_MFT_BLOCK_BASIC     1u
#define HVT_MFT_NET_BASIC       2u
#define HVT_MFT_RESERVED_FIRST  (1u << 30)

struct hvt_mft_entry {
    char name[HVT_MFT_NAME_SIZE];
    uint32_t type;              /* HVT_MFT_* */
    union {
        struct {
            uint64_t capacity;          /* bytes */
            uint16_t block_size;        /* bytes per sector */
        } block;
        struct {
            uint8_t mac[6];
            uint16_t mtu;               /* bytes of payload after the Ethernet header */
        } net;
    } u;                        /* filled in by the host for attached devices */
    uint64_t backing;           /* host-private in Solo5; Mayfly writes 0 */
    uint8_t attached;           /* 1: the host attached it */
    uint8_t pad[7];
};
_Static_assert(sizeof(struct hvt_mft_entry) == 104, "hvt_mft_entry layout");

struct hvt_mft {
    uint32_t version;           /* HVT_MFT_VERSION */
    uint32_t entries;           /* 1..HVT_MFT_ENTRIES_MAX */
    /* struct hvt_mft_entry e[entries]; */
};
_Static_assert(sizeof(struct hvt_mft) == 8, "hvt_mft layout");

/*
 * Guest-physical layout the host builds (identity paging, 2 MiB pages
 * above 2 MiB, 4 KiB pages below):
 *
 *   0x0000-0x0fff     unmapped (null pointers fault)
 *   0x1000            GDT (0x08: 64-bit code, 0x10: data), unmapped
 *   0x2000-0xffff     the host's page tables, unmapped
 *   0x10000           struct hvt_boot_info, then the manifest copy, then
 *                     the command line (HVT_CMDLINE_SIZE); read-only up
 *                     to HVT_IMAGE_BASE
 *   0x100000          the image (its PT_LOAD segments), read-write
 *   mem_size          nothing is mapped at or above it
 *
 * The first instruction runs with CR0 = PE|NE|WP|PG (ET set), CR4 =
 * PAE|OSFXSR|OSXMMEXCPT (SSE usable), EFER = LME|LMA, RFLAGS = 0x2,
 * RSP = mem_size - 8, RDI = HVT_BOOT_INFO_GPA.
 */
#define HVT_GDT_GPA             0x1000ULL
#define HVT_PAGE_TABLE_GPA      0x2000ULL       /* up to HVT_BOOT_INFO_GPA */
#define HVT_BOOT_INFO_GPA       0x10000ULL
#define HVT_IMAGE_BASE          0x100000ULL
#define HVT_MEM_MAX             (4ULL << 30)    /* guest memory the tables can map */
#define HVT_CMDLINE_SIZE        8192            /* bytes, including the NUL */

struct hvt_boot_info {
    uint64_t mem_size;          /* bytes of guest memory from 0 */
    uint64_t kernel_end;        /* end of the loaded image */
    uint64_t cpu_cycle_freq;    /* TSC ticks per second */
    uint64_t cmdline;           /* gpa of the NUL-terminated command line */
    uint64_t mft;               /* gpa of the manifest copy (struct hvt_mft) */
    /* ABI version 2 from Solo5 0.11 on; older guests do not read them. */
    uint32_t host_features;     /* 0: Mayfly offers no optional feature */
    uint32_t guest_features;
    uint64_t net_ring;          /* 0: no shared network ring */
};
_Static_assert(sizeof(struct hvt_boot_info) == 56, "hvt_boot_info layout");

/*
 * Mayfly's one addition, invisible to Solo5 guests (they find the
 * manifest and command line through the pointers above): right after
 * struct hvt_boot_info, before the manifest copy, a struct hvt_mayfly
 * that a guest may recognise by its magic. Benchmarks read the launch
 * TSC from it.
 */
#define HVT_MAYFLY_MAGIC        0x3174766879614d00ULL   /* "\0Mayhvt1" */

struct hvt_mayfly {
    uint64_t magic;             /* HVT_MAYFLY_MAGIC */
    uint64_t start_tsc;         /* TSC when the hypervisor began launching the guest */
    uint32_t guest_id;
    uint32_t reserved;
};
_Static_assert(sizeof(struct hvt_mayfly) == 24, "hvt_mayfly layout");

/* Hypercalls: `outl %eax, %dx` with DX = HVT_PIO_BASE + number. */
#define HVT_PIO_BASE            0x500
#define HVT_HC_WALLTIME         1
#define HVT_HC_PUTS             2
#define HVT_HC_POLL             3
#define HVT_HC_BLOCK_WRITE      4
#define HVT_HC_BLOCK_READ       5
#define HVT_HC_NET_WRITE        6
#define HVT_HC_NET_READ         7
#define HVT_HC_HALT             8
#define HVT_HC_COUNT            9               /* one past the last */

/* Results in the `ret` fields (Solo5's solo5_result_t). */
#define HVT_R_OK                0
#define HVT_R_AGAIN             1
#define HVT_R_EINVAL            2
#define HVT_R_EUNSPEC           3

/* Exit statuses by convention (HALT). */
#define HVT_EXIT_SUCCESS        0
#define HVT_EXIT_FAILURE        1
#define HVT_EXIT_ABORT          255

struct hvt_hc_walltime {
    uint64_t nsecs;             /* OUT: nanoseconds since 1970 (UTC) */
};
_Static_assert(sizeof(struct hvt_hc_walltime) == 8, "hvt_hc_walltime layout");

struct hvt_hc_puts {
    uint64_t data;              /* IN: gpa */
    uint64_t len;               /* IN */
};
_Static_assert(sizeof(struct hvt_hc_puts) == 16, "hvt_hc_puts layout");

/* BLOCK_WRITE and BLOCK_READ: offset and len whole sectors inside the
 * device. */
struct hvt_hc_block {
    uint64_t handle;            /* IN: manifest index of a BLOCK_BASIC device */
    uint64_t offset;            /* IN: bytes */
    uint64_t data;              /* IN: gpa */
    uint64_t len;               /* IN (and OUT for READ) */
    int32_t ret;                /* OUT: HVT_R_* */
    uint32_t pad;
};
_Static_assert(sizeof(struct hvt_hc_block) == 40, "hvt_hc_block layout");

/* NET_WRITE: len is one frame (Ethernet header on, no FCS). NET_READ: len
 * is the buffer's size in, the frame's out; HVT_R_AGAIN when none waits. */
struct hvt_hc_net {
    uint64_t handle;            /* IN: manifest index of a NET_BASIC device */
    uint64_t data;              /* IN: gpa */
    uint64_t len;               /* IN (and OUT for READ) */
    int32_t ret;                /* OUT: HVT_R_* */
    uint32_t pad;
};
_Static_assert(sizeof(struct hvt_hc_net) == 32, "hvt_hc_net layout");

/* Returns at once when a NET_BASIC device has a frame waiting, else
 * after timeout_nsecs or as soon as one arrives. */
struct hvt_hc_poll {
    uint64_t timeout_nsecs;     /* IN: relative to the call */
    uint64_t ready_set;         /* OUT: bit n: handle n has a frame waiting */
    int32_t ret;                /* OUT: number of bits set */
    uint32_t pad;
};
_Static_assert(sizeof(struct hvt_hc_poll) == 24, "hvt_hc_poll layout");

#define HVT_HALT_COOKIE_MAX     512

struct hvt_hc_halt {
    uint64_t cookie;            /* IN: gpa of HVT_HALT_COOKIE_MAX bytes, or 0 */
    int32_t exit_status;        /* IN */
    uint32_t pad;
};
_Static_assert(sizeof(struct hvt_hc_halt) == 16, "hvt_hc_halt layout");

#endif
