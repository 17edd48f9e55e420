/*
 * The Mayfly guest ABI: shared by the hypervisor (hv/), guests (guests/)
 * and tools (tools/). C99 only. Append-only: new hypercalls, fields and
 * feature bits are added at the end, never reordered or reused; every
 * struct's size is pinned by a static assertion.
 *
 * Calling convention: VMCALL with the hypercall number in RAX and
 * arguments in RDI, RSI, RDX, R10, R8 (in that order); VMMCALL instead
 * when the boot info's features have MF_FEATURE_VMMCALL (an AMD-V host:
 * VMCALL is #UD there, and the other way round on VT-x), so one guest
 * binary runs on both. The result comes
 * back in RAX: 0 or a positive count on success, -MF_E* on failure. Every
 * other register is preserved.
 */
#ifndef MAYFLY_ABI_H
#define MAYFLY_ABI_H

#include <stdint.h>

#include "cap.h"

#define MF_ABI_VERSION          1

/* Feature bits in mf_boot_info.features. */
#define MF_FEATURE_WAIT         (1ULL << 0)     /* MF_HC_WAIT with deadlines */
#define MF_FEATURE_VMMCALL      (1ULL << 1)     /* hypercalls are VMMCALL (AMD-V), not VMCALL */

/* Error codes (returned negated). A small fixed set, as in seL4. */
#define MF_EINVAL               1   /* an argument is malformed */
#define MF_EFAULT               2   /* a buffer is not inside the guest's memory */
#define MF_ENOSYS               3   /* no such hypercall */
#define MF_EPERM                4   /* the capability lacks the right */
#define MF_ENOENT               5   /* no such object (empty capability slot) */
#define MF_EAGAIN               6   /* try again: nothing ready now */
#define MF_ERANGE               7   /* a number is out of range */
#define MF_ENOMEM               8   /* out of a fixed resource */
#define MF_ETYPE                9   /* the capability is of another object type */
#define MF_EIO                  10  /* the object has failed (a broken ring) */

/* Hypercall numbers. "cap" is a capability slot (cap.h); a hypercall on
 * an object checks the slot's type and rights first: -MF_ENOENT for an
 * empty or out-of-range slot, -MF_ETYPE for another object type,
 * -MF_EPERM for a missing right, and nothing has happened. */
#define MF_HC_CONSOLE_WRITE     1   /* (cap console W, gpa buf, u64 len) -> bytes written */
#define MF_HC_EXIT              2   /* (u64 status) -> does not return */
#define MF_HC_WAIT              3   /* (cap notification R, u64 deadline_tsc) -> fired
                                       notification bits (then cleared), 0 on timeout;
                                       MF_WAIT_FOREVER: no deadline */
#define MF_HC_YIELD             4   /* () -> 0 */
#define MF_HC_INFO              5   /* (gpa struct mf_info) -> 0 */
#define MF_HC_NULL              6   /* () -> 0: does nothing (for measuring) */
#define MF_HC_NET_SETUP         7   /* (cap port W, gpa struct mf_net_setup) -> 0 */
#define MF_HC_NET_KICK          8   /* (cap port W, u64 queue) -> frames processed */
#define MF_HC_NET_STATUS        9   /* (cap port R, gpa struct mf_net_status) -> 0 */
#define MF_HC_NOTIFY            10  /* (cap notification W, u64 bits) -> 0: signals it */
#define MF_HC_CTL_XFER          11  /* (cap guest-control R+W, gpa struct mf_ctl_xfer) -> 0:
                                       carries control-protocol bytes both ways */
#define MF_HC_COUNT             12  /* one past the last number */

/* The deadline of a wait that ends only by a notification (or the
 * guest's time limit). Deadlines compare as unsigned TSC values: one at
 * or before the current TSC returns at once, any later one (however far)
 * is a real deadline. */
#define MF_WAIT_FOREVER         UINT64_MAX

/* Most bytes one MF_HC_CONSOLE_WRITE accepts. */
#define MF_CONSOLE_WRITE_MAX    4096

/*
 * Guest-physical layout of a partition. The low 1 MiB holds what the
 * hypervisor builds; images load at MF_IMAGE_BASE or above; the stack
 * starts at the top of the partition and grows down.
 */
#define MF_GDT_GPA              0x1000ULL
#define MF_BOOT_INFO_GPA        0x2000ULL
#define MF_PAGE_TABLE_GPA       0x10000ULL  /* up to MF_PAGE_TABLE_END */
#define MF_PAGE_TABLE_END       0x30000ULL
#define MF_IMAGE_BASE           0x100000ULL
#define MF_STACK_RESERVE        0x10000ULL  /* kept free below the top for the stack */

#define MF_BOOT_INFO_MAGIC      0x796c6679614d0001ULL   /* "Mayfly", layout 1 */
#define MF_CMDLINE_MAX          256

/* The page RDI points at when a guest starts (read-only by convention). */
struct mf_boot_info {
    uint64_t magic;             /* MF_BOOT_INFO_MAGIC */
    uint32_t abi_version;       /* MF_ABI_VERSION */
    uint32_t guest_id;          /* unique over the hypervisor's lifetime */
    uint64_t features;          /* MF_FEATURE_* */
    uint64_t mem_size;          /* bytes of guest-physical memory from 0 */
    uint64_t tsc_hz;            /* TSC ticks per second */
    uint64_t start_tsc;         /* TSC when the guest was started */
    uint32_t instance;          /* index among the instances of its config line */
    uint32_t cmdline_len;       /* bytes in cmdline, without the NUL */
    char name[32];              /* config name, NUL-terminated */
    char cmdline[MF_CMDLINE_MAX];   /* args="..." from the config, NUL-terminated */
    uint64_t scrub_tsc;         /* launch cost: ticks spent zeroing the partition */
    uint64_t load_tsc;          /* launch cost: ticks spent copying the image */
    uint32_t cap_count;         /* valid entries in caps */
    uint32_t reserved;
    struct mf_cap_info caps[MF_CAP_SLOTS];  /* the guest's capability space */
    uint64_t request_tsc;       /* started over the control channel: TSC when the
                                   START request had arrived; 0 otherwise */
};
_Static_assert(sizeof(struct mf_boot_info) == 632, "mf_boot_info layout");

/* MF_HC_INFO fills this in. */
struct mf_info {
    uint32_t abi_version;       /* OUT */
    uint32_t guest_id;          /* OUT */
    uint64_t tsc_hz;            /* OUT */
    uint64_t now_tsc;           /* OUT */
    uint64_t guests_running;    /* OUT: guests alive now, this one included */
};
_Static_assert(sizeof(struct mf_info) == 32, "mf_info layout");

/*
 * MF_HC_CTL_XFER: the network control guest (config 'control net')
 * carries the control protocol's byte stream (include/mayfly/control.h)
 * between one network client and the hypervisor's control server, which
 * parses and authenticates every frame itself: the key never leaves the
 * hypervisor, so the guest can delay or drop requests but not forge
 * them. The guest's capability for it (type MF_OBJ_GUEST_CONTROL, rights
 * read, write and control) sits in the slot after its network ports;
 * when reply bytes become ready the hypervisor signals the guest's
 * notification with MF_NOTIFY_BIT(that slot).
 */
#define MF_CTL_XFER_NEW_CLIENT  (1u << 0)   /* a new client: bytes a previous one left
                                               half-sent or unread are dropped first */

struct mf_ctl_xfer {
    uint64_t in_gpa;            /* IN: bytes from the client */
    uint64_t out_gpa;           /* IN: room for bytes to the client */
    uint32_t in_len;            /* IN */
    uint32_t out_room;          /* IN */
    uint32_t flags;             /* IN: MF_CTL_XFER_* */
    uint32_t in_taken;          /* OUT: bytes of in taken (offer the rest again later) */
    uint32_t out_len;           /* OUT: bytes written at out_gpa */
    uint32_t out_pending;       /* OUT: bytes still waiting for the client after this */
};
_Static_assert(sizeof(struct mf_ctl_xfer) == 40, "mf_ctl_xfer layout");

/*
 * The ELF note that marks a Mayfly guest: in a PT_NOTE segment, name
 * "Mayfly" (with its NUL, padded to 8), type MF_NOTE_TYPE_ABI, and a
 * descriptor holding struct mf_abi_note.
 */
#define MF_NOTE_NAME            "Mayfly"
#define MF_NOTE_TYPE_ABI        0x4d460001u

struct mf_abi_note {
    uint32_t abi_version;       /* MF_ABI_VERSION the guest was built for */
    uint32_t flags;             /* 0 */
};
_Static_assert(sizeof(struct mf_abi_note) == 8, "mf_abi_note layout");

#endif
