/* Every fixed limit of the hypervisor, in one place. */
#ifndef HV_PARAM_H
#define HV_PARAM_H

#define PAGE_SIZE           0x1000ULL
#define PAGE_2M             0x200000ULL
#define MIB                 (1024ULL * 1024ULL)

#define BOOT_MAX_RANGES     128   /* usable RAM ranges after normalisation */
#define BOOT_MAX_FILES      64    /* config + guest images handed over by the loader */
#define BOOT_NAME_MAX       64    /* file name length, including the NUL */
#define BOOT_CMDLINE_MAX    256

#define CONFIG_MAX_CLASSES  16
#define CONFIG_MAX_GUESTS   64    /* guest declarations, each may have count=N */
#define CONFIG_NAME_MAX     32
#define CONFIG_ARGS_MAX     256
#define CONFIG_LINE_MAX     512
#define CONFIG_NETS_MAX     4     /* net=<switch>[,<switch>...] per guest line */
#define CONFIG_DEVICES_MAX  8     /* net:/block: device mappings per guest line */
#define CONFIG_DEVICE_NAME_MAX 68 /* a Solo5 manifest name, including the NUL */
#define CONFIG_SWITCHES_MAX 8     /* distinct switches over the whole config */
#define CONFIG_UPLINKS_MAX  4     /* uplink lines: physical NICs on switches */
#define CONFIG_SUMMONS_MAX  8     /* summon lines: services started by their first frame */
#define SUMMON_INSTANCES_MAX 8    /* max= of a summon line, at most */
#define SWITCH_NAME_MAX     16
#define CONFIG_TIMEOUT_MAX_MS (1000ULL * 3600 * 24 * 365)   /* timeout=, a year */
#define CONFIG_KEY_MAX      64    /* control-channel key bytes */
#define STORE_DEFAULT       (16 * MIB)
#define STORE_MAX           (1024 * MIB)

#define PARTITION_MAX       4096  /* partitions over all classes */
#define PARTITION_ALIGN     PAGE_2M

/* Memory below this address is left alone: real-mode structures, firmware. */
#define LOW_MEMORY_LIMIT    0x100000ULL

/* Hypervisor pool: this fixed part (page tables, bitmaps) plus each
 * partition's control structures (run_footprint()). */
#define POOL_FIXED_BYTES    (4 * MIB)

/* Console: the transmit ring, how much of it one guest's lines may hold
 * (beyond that they are dropped and counted), and guest lines in it. */
#define CONSOLE_RING_BYTES  (64 * 1024)
#define CONSOLE_GUEST_SHARE (16 * 1024)
#define CONSOLE_CHUNKS      1024
/* Kept back from guests with more than CONSOLE_QUIET_BYTES queued: room
 * for the hypervisor's lines and for quiet guests, however many flood. */
#define CONSOLE_RESERVE         (8 * 1024)
#define CONSOLE_CHUNKS_RESERVE  128
#define CONSOLE_QUIET_BYTES     1024
/* A hypervisor line is gathered per CPU up to this long (then cut). */
#define CONSOLE_LINE_MAX        512

/* The log ring behind the control channel's LOGS. */
#define LOG_RING_BYTES      (64 * 1024)

/* The run loop: the quantum, and how often the pollers (console, control
 * channel) run while guests run or the CPU idles. */
#define RUN_QUANTUM_MS      10
#define RUN_POLL_US         1000

/* Instances waiting for a partition: at most this many per START
 * request, and in all over requests from the control channel. */
#define RUN_PENDING_PER_START 64
#define RUN_PENDING_MAX       256

/* The fleet checks that every partition, port and pool byte is where
 * its owner says every this many guest ends (and when all have ended). */
#define FLEET_CHECK_EVERY     1000
/* Idle zeroing's slice: 32,768 REP STOSQ steps, what arriving work (an
 * exit, a START, a frame) may wait for on a CPU zeroing at idle. */
#define FLEET_SCRUB_SLICE     (256 * 1024)

/* CPUs that run guests (issue 12): per-CPU tables are this long; a
 * machine with more brings up this many. */
#define CPU_MAX             64
/* Pool bytes each CPU beyond the boot CPU takes besides its scheduler
 * queues: stacks, descriptor tables, VMXON region or AMD-V host areas. */
#define CPU_POOL_BYTES      (24 * PAGE_SIZE)

#endif
