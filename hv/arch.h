/*
 * The arch contract: everything the core needs from the CPU architecture
 * and its virtualisation extension. vmx/ implements it for Intel VT-x; an
 * AMD-V backend implements the same functions. The core includes no arch
 * header but this one.
 */
#ifndef HV_ARCH_H
#define HV_ARCH_H

#include <stddef.h>
#include <stdint.h>

/* Serial console. */
void console_arch_init(void);
void console_arch_putc(char c);         /* waits for room */
/* Writes what the UART takes now without waiting; returns the count. */
size_t console_arch_write_some(const uint8_t *buf, size_t len);
void console_arch_flush(void);          /* waits until every byte has left */

/* The control channel's serial line (COM2 on x86): non-blocking reads of
 * what has arrived, blocking writes. */
void control_arch_init(void);
size_t control_arch_read(uint8_t *buf, size_t max);
void control_arch_write(const uint8_t *buf, size_t len);
size_t control_arch_write_some(const uint8_t *buf, size_t len);   /* no waiting */

/* Descriptor tables and exception handling: an exception in the
 * hypervisor is reported on the console, then the machine powers off. */
void cpu_arch_init(void);

/* Identity-maps [0, max_addr) with page tables taken from the pool and
 * switches to them. Returns 0, or -1 when the pool is too small. */
int paging_arch_init(uint64_t max_addr);

/* The end of that identity map; and device memory (a PCI BAR) mapped
 * uncached where it lies above it, at its own address. 0, or -1 when
 * the pool has no room for the tables or the range wraps. */
uint64_t paging_arch_identity_top(void);
int paging_arch_map_device(uint64_t base, uint64_t size);

/* Powers the machine off (QEMU, Bochs) or halts it (hardware). */
void power_arch_off(int status) __attribute__((noreturn));

/* Reads the CPU's virtualisation features. Returns HV_OK with a one-line
 * summary in buf, or a fatal hv_status with the reason and fix in buf. */
int virt_arch_probe(char *buf, size_t size);

/* Turns virtualisation on for this CPU (VMXON). Returns HV_OK, or a fatal
 * hv_status with the reason in buf. */
int virt_arch_cpu_init(char *buf, size_t size);

/* Application processors (after virt_arch_cpu_init on the boot CPU).
 * smp_arch_plan reads the ACPI MADT from info's RSDP and says how many
 * CPUs smp_arch_start will try to bring up (max_cpus of them at most,
 * 0: every one; the boot CPU counts; at least 1), so that the pool can
 * be sized for their queues. smp_arch_start starts them: each turns
 * virtualisation on for itself (virt_arch_cpu_init's work) and waits.
 * It writes one line for the log to log (what the MADT lists, how many
 * came up, which did not and why) and returns the number of CPUs up,
 * at least 1; their indexes are 0 (the boot CPU) to that number - 1.
 * Never fatal: an AP or MADT that fails leaves the hypervisor with the
 * CPUs it has. smp_arch_release then lets every AP run: each calls
 * hv_ap_main with its index and never comes back. */
struct boot_info;
uint32_t smp_arch_plan(const struct boot_info *info, uint32_t max_cpus);
uint32_t smp_arch_start(const struct boot_info *info, uint32_t max_cpus, char *log, size_t n);
void smp_arch_release(void);
void hv_ap_main(uint32_t cpu) __attribute__((noreturn));       /* the core's */

/* This CPU's index (0 on the boot CPU, also before the APs start), the
 * number of CPUs up, and a kick: an interrupt that wakes cpu from its
 * idle HLT or makes the guest it runs exit (vcpu_arch_run then ends with
 * VM_EXIT_PREEMPTED), so that it looks at its queues again. A kick of a
 * CPU that is not up does nothing. */
uint32_t cpu_arch_self(void);
uint32_t cpu_arch_count(void);
void cpu_arch_kick(uint32_t cpu);

/* Whether guests make hypercalls with VMMCALL (AMD-V) rather than
 * VMCALL (VT-x): guests are told in their boot info. */
int virt_arch_hypercall_vmmcall(void);

/* Test hooks named on the boot command line ("selftest=irq": see
 * docs/decisions.md); does nothing for any other command line. */
void virt_arch_selftest(const char *cmdline);

/* Time-stamp counter, its frequency (measured once at boot), and idling:
 * stops the CPU until the TSC reaches deadline or a kick
 * (cpu_arch_kick) arrives, whichever is first; it may also return
 * early for no reason, so callers look at their queues again. */
uint64_t time_arch_tsc(void);
uint64_t time_arch_tsc_hz(void);

/* Wall-clock time: nanoseconds since 1970-01-01 UTC that the real-time
 * clock showed when time_arch_wall_init ran (once, at boot), and the TSC
 * then. 0 when the machine has no readable clock. */
void time_arch_wall_init(void);
uint64_t time_arch_wall_ns_at(uint64_t *tsc);
void time_arch_idle_until(uint64_t deadline);

/* Zeroes n bytes at p (n a multiple of 8, p 8-byte aligned), fast. */
void mem_arch_zero(void *p, uint64_t n);

/*
 * vCPUs: one per partition, created at boot with everything it will ever
 * need (VMCS, EPT over the partition), so starting a guest allocates
 * nothing. The core sees them only through these functions.
 */
struct vcpu_arch;

/* What a run of a vCPU ended with; the arch handles everything else. */
enum vm_exit_kind {
    VM_EXIT_HYPERCALL,      /* hypercall: RIP is already past the call */
    VM_EXIT_IO,             /* io: port I/O, RIP still at the instruction */
    VM_EXIT_PREEMPTED,      /* the quantum ran out; no fields */
    VM_EXIT_KILL,           /* kill: the guest did something it may not */
};

/* Why a guest is ended, in kinds a caller can count or route without
 * reading the text. */
enum vm_kill_code {
    VM_KILL_EXCEPTION,      /* a guest exception (Mayfly guests take none) */
    VM_KILL_EPT_VIOLATION,  /* a memory access outside the partition */
    VM_KILL_DENIED_INSN,    /* HLT, CR or DR access, INVD, WBINVD, XSETBV */
    VM_KILL_DENIED_IO,      /* port I/O no personality takes (the core decides) */
    VM_KILL_DENIED_MSR,     /* RDMSR or WRMSR of an MSR the guest may not touch */
    VM_KILL_BAD_ENTRY,      /* VM entry failed, or the guest state is invalid */
    VM_KILL_TRIPLE_FAULT,
    VM_KILL_UNKNOWN_EXIT,   /* an exit reason the arch has no handler for */
};

#define VM_KILL_WHY_MAX 160

/* One exit, by kind; only the member its kind names is valid. */
struct vm_exit {
    enum vm_exit_kind kind;
    /* Null hypercalls the backend answered itself during this run (its
     * fast path, docs/fastpaths.md); the core counts them as the
     * guest's hypercalls. */
    uint64_t fast_hypercalls;
    union {
        struct {
            uint64_t nr;
            uint64_t args[5];
        } hypercall;
        /* Decoded from the exit alone (no instruction decoding). value
         * is what an OUT writes (zero-extended from size bytes); an IN
         * has none yet. A string or REP form carries no value: its
         * data are in guest memory (is_string). */
        struct {
            uint64_t rip;       /* of the I/O instruction */
            uint32_t value;
            uint16_t port;
            uint8_t size;       /* 1, 2 or 4 bytes */
            uint8_t is_in;      /* 1: IN or INS, 0: OUT or OUTS */
            uint8_t is_string;  /* 1: INS or OUTS, maybe with REP */
        } io;
        struct {
            enum vm_kill_code code;
            char why[VM_KILL_WHY_MAX];  /* one line for the log: what, where */
        } kill;
    };
};

/* Creates the vCPU for partition index, mapping guest-physical
 * [0, size) to host-physical [base, base + size). NULL when the pool is
 * exhausted. */
struct vcpu_arch *vcpu_arch_create(uint32_t index, uint64_t base, uint64_t size);

/* The guest-physical layout and first state a personality asks for. */
enum vcpu_layout {
    /* include/mayfly/abi.h: GDT at MF_GDT_GPA, page tables from
     * MF_PAGE_TABLE_GPA, page 0 unmapped; every guest exception ends
     * the guest (VM_KILL_EXCEPTION). */
    VCPU_LAYOUT_MAYFLY,
    /* include/mayfly/hvt.h: Solo5's low-memory layout, CR0.WP set; the
     * guest handles its own exceptions through its own IDT (a machine
     * check, a triple fault or an access outside the partition still
     * end it). */
    VCPU_LAYOUT_HVT,
};

struct vcpu_boot {
    enum vcpu_layout layout;
    uint64_t mapped;            /* its page tables map [0, mapped): 2 MiB multiple */
    uint64_t entry, rsp, arg;   /* first RIP, RSP and RDI */
};

/* Prepares a fresh guest: builds its GDT and identity page tables in
 * its memory (mem is the host pointer of guest-physical 0) in the
 * layout b names and resets the vCPU to 64-bit mode at b->entry with
 * b->rsp and RDI = b->arg. Returns 0, or -1 when b->mapped does not
 * fit the layout's page-table area. */
int vcpu_arch_reset(struct vcpu_arch *v, uint8_t *mem, const struct vcpu_boot *b);

/* Serves a hypercall or port-I/O exit in the middle of vcpu_arch_run
 * (for a hypercall the guest's RIP is already past the instruction; for
 * I/O it is not until vcpu_arch_complete_io): returns 1 when the guest
 * runs on, 0 to end the run with this exit. */
typedef int (*vm_hypercall_fn)(void *ctx, const struct vm_exit *exit);

/* Completes the I/O instruction of v's last VM_EXIT_IO, which the core
 * took: an IN's destination gets value (its size's low bytes), and RIP
 * moves past the instruction. */
void vcpu_arch_complete_io(struct vcpu_arch *v, uint32_t value);

/* Runs the vCPU until the TSC reaches deadline or an exit the core must
 * see; each hypercall or I/O exit goes to on_hypercall(ctx, exit) first
 * and the guest is entered again at once when it says so. A deadline
 * already reached (the core's own work since the last exit counts)
 * returns VM_EXIT_PREEMPTED without entering the guest. */
void vcpu_arch_run(struct vcpu_arch *v, uint64_t deadline, vm_hypercall_fn on_hypercall,
                   void *ctx, struct vm_exit *exit);

/* The guest of v has ended on this CPU, the one that ran it: whatever
 * this CPU caches of v (a current VMCS, its x87/SSE registers) is
 * dropped, so that the partition's next tenant may run on any CPU. */
void vcpu_arch_release(struct vcpu_arch *v);

/* Sets the hypercall result the guest sees in its result register. */
void vcpu_arch_set_result(struct vcpu_arch *v, int64_t value);

/* Hypervisor bytes per vCPU, for the memory report. */
uint64_t vcpu_arch_footprint(uint64_t partition_size);

#endif
