/*
 * The control protocol between mfctl and a running hypervisor: framed,
 * versioned, checksummed, optionally authenticated. Carried over the
 * second serial port (COM2; a socket in the emulators). Defined once,
 * here; hv/ctl_frame.c encodes and decodes it for both sides. C99 only;
 * append-only. All integers little-endian; structures are packed by
 * layout (every field naturally aligned, sizes asserted).
 *
 * A frame:
 *   struct mf_ctl_header   (24 bytes)
 *   payload                (header.length bytes, at most MF_CTL_PAYLOAD_MAX)
 *   mac                    (32 bytes, only when header.flags has MF_CTL_F_AUTH)
 *
 * checksum is CRC-32 (IEEE 802.3, as zlib's crc32) over the header with
 * checksum = 0, then the payload. mac is HMAC-SHA-256 with the shared key
 * over: the session nonce (16 bytes, from the HELLO reply), then the
 * header (checksum filled in), then the payload. Requests carry a seq that
 * must grow strictly within a session; a reply carries its request's seq.
 *
 * Every request gets exactly one reply: type | MF_CTL_REPLY, whose payload
 * starts with struct mf_ctl_status (status 0 or -MF_E*, and for errors a
 * message saying what was wrong and what to do). A request the hypervisor
 * cannot use (bad checksum, truncated, oversized, unknown version or type,
 * bad or replayed MAC, out-of-order chunk) gets an error reply and changes
 * nothing.
 *
 * Requests grow only by appending fields: a request's payload may be as
 * long as its first version or as long as the struct now; what a shorter
 * one lacks reads as zero. Replies grow only at their end too, or where a
 * reserved field was 0 before.
 */
#ifndef MAYFLY_CONTROL_H
#define MAYFLY_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#define MF_CTL_MAGIC            0x4c54434du     /* "MCTL" */
#define MF_CTL_VERSION          1
#define MF_CTL_PAYLOAD_MAX      4096
#define MF_CTL_MAC_BYTES        32
#define MF_CTL_NONCE_BYTES      16
#define MF_CTL_NAME_MAX         32
#define MF_CTL_ARGS_MAX         256
#define MF_CTL_MESSAGE_MAX      160

/* header.flags */
#define MF_CTL_F_AUTH           (1u << 0)       /* a MAC follows the payload */

/* header.type: requests; replies set MF_CTL_REPLY. */
#define MF_CTL_HELLO            1   /* -> struct mf_ctl_hello_reply */
#define MF_CTL_LIST             2   /* struct mf_ctl_list -> struct mf_ctl_list_reply + entries */
#define MF_CTL_UPLOAD_BEGIN     3   /* struct mf_ctl_upload_begin -> status */
#define MF_CTL_UPLOAD_CHUNK     4   /* struct mf_ctl_upload_chunk + data -> status */
#define MF_CTL_UPLOAD_END       5   /* struct mf_ctl_upload_end -> status (validated, stored) */
#define MF_CTL_START            6   /* struct mf_ctl_start -> struct mf_ctl_start_reply */
#define MF_CTL_STOP             7   /* struct mf_ctl_guest_ref -> status */
#define MF_CTL_STATS            8   /* struct mf_ctl_guest_ref (id 0: global) -> struct mf_ctl_stats_reply */
#define MF_CTL_LOGS             9   /* struct mf_ctl_logs -> struct mf_ctl_logs_reply + text */
#define MF_CTL_SERVICES         10  /* struct mf_ctl_services -> struct mf_ctl_services_reply + entries */
#define MF_CTL_TYPE_COUNT       11
#define MF_CTL_REPLY            0x80

struct mf_ctl_header {
    uint32_t magic;             /* MF_CTL_MAGIC */
    uint8_t version;            /* MF_CTL_VERSION */
    uint8_t type;
    uint16_t flags;
    uint32_t seq;
    uint32_t length;            /* payload bytes */
    uint32_t checksum;          /* CRC-32, see above */
    uint32_t reserved;          /* 0 */
};
_Static_assert(sizeof(struct mf_ctl_header) == 24, "mf_ctl_header layout");

/* First in every reply payload. */
struct mf_ctl_status {
    int32_t status;             /* 0 or -MF_E* */
    uint32_t reserved;
    char message[MF_CTL_MESSAGE_MAX];   /* NUL-terminated; "" on success */
};
_Static_assert(sizeof(struct mf_ctl_status) == 168, "mf_ctl_status layout");

struct mf_ctl_hello_reply {
    struct mf_ctl_status st;
    uint32_t protocol_version;  /* MF_CTL_VERSION */
    uint32_t abi_version;       /* MF_ABI_VERSION */
    uint8_t nonce[MF_CTL_NONCE_BYTES];  /* this session's nonce */
    uint32_t auth_required;     /* 1 when the config sets a key */
    uint32_t guests_running;
    uint64_t store_size;        /* image store bytes */
    uint64_t store_free;
    uint64_t tsc_hz;
    char version[32];           /* hypervisor version string */
};
_Static_assert(sizeof(struct mf_ctl_hello_reply) == 256, "mf_ctl_hello_reply layout");

/* Guest states in listings. */
#define MF_CTL_GUEST_RUNNING    1
#define MF_CTL_GUEST_WAITING    2
#define MF_CTL_GUEST_PENDING    3   /* waiting for a free partition */

struct mf_ctl_guest_entry {
    uint32_t id;
    uint32_t state;             /* MF_CTL_GUEST_* */
    char name[MF_CTL_NAME_MAX]; /* "<name>.<instance>" */
    char image[MF_CTL_NAME_MAX];
    char class_name[MF_CTL_NAME_MAX];
    uint64_t mem_size;
    uint64_t uptime_tsc;
    uint64_t hypercalls;
};
_Static_assert(sizeof(struct mf_ctl_guest_entry) == 128, "mf_ctl_guest_entry layout");

/* A LIST entry with the personality: sent only to a client that asks
 * for entries of this size (struct mf_ctl_list), so a client that knows
 * only the 128-byte entry still reads every entry at its place. */
#define MF_CTL_PERSONALITY_MAX  16

struct mf_ctl_guest_entry2 {
    struct mf_ctl_guest_entry e;
    char personality[MF_CTL_PERSONALITY_MAX];  /* "mayfly", "solo5-hvt"; "" unknown */
};
_Static_assert(sizeof(struct mf_ctl_guest_entry2) == 144, "mf_ctl_guest_entry2 layout");

/* A LIST entry that also says which summoned service (summon lines,
 * docs/summon.md) an instance serves: sent only to a client that asks
 * for entries of at least this size. A hypervisor that serves these
 * also serves MF_CTL_SERVICES. */
struct mf_ctl_guest_entry3 {
    struct mf_ctl_guest_entry2 e2;
    char service[MF_CTL_NAME_MAX];  /* the summon line's name; "" for other guests */
    uint32_t service_slot;          /* the instance's slot in its service (0..max-1) */
    uint32_t reserved;              /* 0 */
};
_Static_assert(sizeof(struct mf_ctl_guest_entry3) == 184, "mf_ctl_guest_entry3 layout");

/* LIST's payload: empty (first 0, 128-byte entries), first alone (4
 * bytes), or the whole struct. */
struct mf_ctl_list {
    uint32_t first;             /* index of the first entry wanted */
    uint32_t entry_size;        /* 0 or 128: mf_ctl_guest_entry; 144: mf_ctl_guest_entry2;
                                 * 184 or more: mf_ctl_guest_entry3 */
};
_Static_assert(sizeof(struct mf_ctl_list) == 8, "mf_ctl_list layout");

struct mf_ctl_list_reply {
    struct mf_ctl_status st;
    uint32_t count;             /* entries that follow in this reply */
    uint32_t total;             /* guests alive in all */
    uint32_t first;             /* index of the first entry (LIST's payload: u32 first) */
    uint32_t entry_size;        /* bytes of each entry that follows; 0 (older
                                 * hypervisors): 128 */
    /* struct mf_ctl_guest_entry, _entry2 or _entry3 entries[count]; */
};
_Static_assert(sizeof(struct mf_ctl_list_reply) == 184, "mf_ctl_list_reply layout");

/* What an upload is (UPLOAD_BEGIN's kind): an image is validated as a
 * guest ELF at UPLOAD_END, a disk (a Solo5 block device's backing,
 * block:<device>=<name>) is stored as it is. */
#define MF_CTL_UPLOAD_IMAGE     0
#define MF_CTL_UPLOAD_DISK      1

/* UPLOAD_BEGIN's payload: the first MF_CTL_UPLOAD_BEGIN_V1_BYTES alone
 * (an image), or the whole struct. */
struct mf_ctl_upload_begin {
    char name[MF_CTL_NAME_MAX]; /* image name, as image= in the config */
    uint64_t size;              /* total bytes to come */
    uint32_t kind;              /* MF_CTL_UPLOAD_* */
    uint32_t reserved;          /* 0 */
};
#define MF_CTL_UPLOAD_BEGIN_V1_BYTES 40
_Static_assert(sizeof(struct mf_ctl_upload_begin) == 48, "mf_ctl_upload_begin layout");
_Static_assert(offsetof(struct mf_ctl_upload_begin, kind) == MF_CTL_UPLOAD_BEGIN_V1_BYTES,
               "mf_ctl_upload_begin: kind follows the first version");

struct mf_ctl_upload_chunk {
    uint64_t offset;            /* must equal the bytes received so far */
    /* data: header.length - 8 bytes */
};
_Static_assert(sizeof(struct mf_ctl_upload_chunk) == 8, "mf_ctl_upload_chunk layout");

struct mf_ctl_upload_end {
    uint32_t crc32;             /* of the whole image */
    uint32_t reserved;
};
_Static_assert(sizeof(struct mf_ctl_upload_end) == 8, "mf_ctl_upload_end layout");

#define MF_CTL_NETS_MAX 4
#define MF_CTL_DEVICES_MAX      8       /* as CONFIG_DEVICES_MAX */
#define MF_CTL_DEVICE_NAME_MAX  68      /* as CONFIG_DEVICE_NAME_MAX, with the NUL */
#define MF_CTL_TARGET_MAX       64      /* as BOOT_NAME_MAX, with the NUL */

/* A Solo5 image's device mapped by START (net:<name>=<switch>,
 * block:<name>=<file>, block-sector-size:<name>=<n> in the config). */
#define MF_CTL_DEVICE_NET       1
#define MF_CTL_DEVICE_BLOCK     2

struct mf_ctl_device {
    uint32_t kind;                      /* MF_CTL_DEVICE_* */
    uint32_t sector_size;               /* BLOCK: a power of two 512..32768, 0: 512; NET: 0 */
    char name[MF_CTL_DEVICE_NAME_MAX];  /* the manifest's device name */
    char target[MF_CTL_TARGET_MAX];     /* NET: a switch; BLOCK: a stored disk or boot file */
};
_Static_assert(sizeof(struct mf_ctl_device) == 140, "mf_ctl_device layout");

/* START's payload: the first MF_CTL_START_V1_BYTES alone (no devices),
 * or the whole struct. */
struct mf_ctl_start {
    char name[MF_CTL_NAME_MAX];         /* guest name for the log and listings */
    char image[MF_CTL_NAME_MAX];        /* a stored image (or one from the boot) */
    char class_name[MF_CTL_NAME_MAX];   /* "" for the smallest class that fits */
    uint32_t count;                     /* instances, >= 1 */
    uint32_t timeout_ms;                /* 0: no time limit */
    char args[MF_CTL_ARGS_MAX];
    char nets[MF_CTL_NETS_MAX][16];     /* switch names, "" for none */
    uint32_t device_count;              /* devices[] entries used, in order */
    struct mf_ctl_device devices[MF_CTL_DEVICES_MAX];
};
#define MF_CTL_START_V1_BYTES   424
_Static_assert(offsetof(struct mf_ctl_start, device_count) == MF_CTL_START_V1_BYTES,
               "mf_ctl_start: devices follow the first version");
_Static_assert(sizeof(struct mf_ctl_start) == 1548, "mf_ctl_start layout");

struct mf_ctl_start_reply {
    struct mf_ctl_status st;
    uint32_t started;           /* instances running now */
    uint32_t pending;           /* instances waiting for a partition */
    uint32_t first_id;          /* id of the first started instance (ids are consecutive) */
    uint32_t reserved;
};
_Static_assert(sizeof(struct mf_ctl_start_reply) == 184, "mf_ctl_start_reply layout");

struct mf_ctl_guest_ref {
    uint32_t id;                /* guest id; STATS: 0 for the whole hypervisor */
    uint32_t reserved;
};
_Static_assert(sizeof(struct mf_ctl_guest_ref) == 8, "mf_ctl_guest_ref layout");

struct mf_ctl_stats_reply {
    struct mf_ctl_status st;
    uint32_t id;                /* 0: global */
    uint32_t state;
    uint64_t uptime_tsc;        /* guest: since start; global: since boot */
    uint64_t hypercalls;
    uint64_t preemptions;
    uint64_t guests_started;    /* global */
    uint64_t guests_running;    /* global */
    uint64_t guests_exited;     /* global: ended with status 0 */
    uint64_t guests_failed;     /* global: non-zero status or killed */
    uint64_t partitions_free;   /* global */
    uint64_t net_rx_frames, net_tx_frames, net_drops;  /* guest: its ports; global: switches */
    uint64_t control_requests;  /* global: requests served */
    uint64_t control_errors;    /* global: requests refused */
    uint64_t guests_pending;    /* global: instances waiting for a partition */
    uint64_t control_unanswered;    /* global: frames refused without a reply (rate limit) */
};
_Static_assert(sizeof(struct mf_ctl_stats_reply) == 296, "mf_ctl_stats_reply layout");

struct mf_ctl_logs {
    uint32_t id;                /* guest id; 0 for the hypervisor's own lines */
    uint32_t max_bytes;         /* at most this much text (bounded by the frame) */
};
_Static_assert(sizeof(struct mf_ctl_logs) == 8, "mf_ctl_logs layout");

struct mf_ctl_logs_reply {
    struct mf_ctl_status st;
    uint32_t length;            /* text bytes that follow (lines ending in \n) */
    uint32_t truncated;         /* 1 when older lines were dropped */
};
_Static_assert(sizeof(struct mf_ctl_logs_reply) == 176, "mf_ctl_logs_reply layout");

/* SERVICES' payload: the index of the first service wanted (a reply
 * holds as many as fit; ask again from first + count for the rest). */
struct mf_ctl_services {
    uint32_t first;
    uint32_t reserved;          /* 0 */
};
_Static_assert(sizeof(struct mf_ctl_services) == 8, "mf_ctl_services layout");

struct mf_ctl_services_reply {
    struct mf_ctl_status st;
    uint32_t count;             /* entries that follow in this reply */
    uint32_t total;             /* services the config brought up */
    uint32_t first;             /* index of the first entry */
    uint32_t entry_size;        /* bytes of each entry that follows (entries grow at
                                 * their end: read the first sizeof of what you know) */
    /* struct mf_ctl_service_entry entries[count]; */
};
_Static_assert(sizeof(struct mf_ctl_services_reply) == 184, "mf_ctl_services_reply layout");

/* One summoned service: its line, its instances now, and what it did
 * since boot. */
struct mf_ctl_service_entry {
    char name[MF_CTL_NAME_MAX];     /* the summon line's name */
    uint32_t ip;                    /* the service address a.b.c.d as a << 24 | b << 16 | ... */
    uint16_t port;                  /* its TCP/UDP port; 0: any */
    uint16_t reserved;              /* 0 */
    uint32_t max;                   /* instances at once (max=) */
    uint32_t running;               /* instances alive now */
    uint32_t idle_ms;               /* an instance idle this long is retired (idle=) */
    uint32_t reserved2;             /* 0 */
    uint64_t summoned;              /* instances started */
    uint64_t idled;                 /* retired when idle */
    uint64_t ended;                 /* instances that ended, however */
    uint64_t launch_failures;       /* starts that failed */
    uint64_t flows;                 /* flows pinned to an instance */
    uint64_t held;                  /* frames held until an instance's port ran */
    uint64_t flushed;               /* held frames delivered to it */
    uint64_t hold_drops;            /* no room to hold, held too long, or its instance died */
    uint64_t no_instance_drops;     /* frames for no port the service serves, none running */
    uint64_t arp_answered;          /* ARP requests for the address answered */
    uint64_t latency_avg;           /* TSC ticks from the first frame for a new instance */
    uint64_t latency_min;           /*   to its first reply (HELLO's tsc_hz converts); */
    uint64_t latency_max;           /*   all 0 while latency_count is 0 */
    uint64_t latency_count;         /* instances timed */
};
_Static_assert(sizeof(struct mf_ctl_service_entry) == 168, "mf_ctl_service_entry layout");

#endif
