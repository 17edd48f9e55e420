/*
 * The runtime of the hvt test unikernels (guests/hvt/lib/): a tiny
 * freestanding library written against include/mayfly/hvt.h, the Solo5
 * hvt interface as Mayfly implements it. An image is its main() plus this
 * library, linked with hvt.ld (ABI version 2) or hvt-v1.ld (ABI version
 * 1), and one HVT_MANIFEST(...) line naming the devices it needs.
 *
 * Start-up (start.S, runtime.c): the stack-protector guard from RDTSC,
 * our own GDT, TSS and IDT (exceptions print "Solo5: trap: ..." and halt
 * with HVT_EXIT_ABORT), then main(bi); main's return value is the HALT
 * status. Nothing else is set up: the host enabled SSE, zeroed .bss and
 * memory above the image, and put the stack at the top of guest memory.
 */
#ifndef GUESTS_HVT_LIB_HVTLIB_H
#define GUESTS_HVT_LIB_HVTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <mayfly/hvt.h>

/* The image's entry point after start-up; returns the exit status. */
int main(const struct hvt_boot_info *bi);

/* --- the notes --- */

/* An ELF note header with the name "Solo5" padded to 8: 20 bytes. */
struct hvt_note_header {
    uint32_t namesz;
    uint32_t descsz;
    uint32_t type;
    char name[8];
};
_Static_assert(sizeof(struct hvt_note_header) == 20, "note header layout");

#define HVT_DEVICE_BLOCK(nm)    { .name = nm, .type = HVT_MFT_BLOCK_BASIC }
#define HVT_DEVICE_NET(nm)      { .name = nm, .type = HVT_MFT_NET_BASIC }

/*
 * Declares the image's manifest (the MFT1 note), ndev devices given as
 * HVT_DEVICE_BLOCK("name") / HVT_DEVICE_NET("name"); entry 0 is the
 * reserved first entry, so the first device's handle is 1. The note is
 * packed to 4-byte alignment (the ELF note alignment): header, the 4
 * padding bytes, struct hvt_mft, the entries; descsz is exactly
 * HVT_MFT_NOTE_PAD + 8 + 104 * entries. Use once, at file scope.
 */
#define HVT_MANIFEST(ndev, ...)                                                          \
    __attribute__((section(".note.solo5.manifest"), used, aligned(4)))                   \
    const struct {                                                                       \
        struct hvt_note_header h;                                                        \
        uint32_t pad;                                                                    \
        struct hvt_mft m;                                                                \
        struct hvt_mft_entry e[(ndev) + 1];                                              \
    } __attribute__((packed, aligned(4))) hvt_manifest_note = {                          \
        .h = { .namesz = sizeof(HVT_NOTE_NAME),                                          \
               .descsz = HVT_MFT_NOTE_PAD + sizeof(struct hvt_mft) +                     \
                         ((ndev) + 1) * sizeof(struct hvt_mft_entry),                    \
               .type = HVT_NOTE_TYPE_MFT, .name = HVT_NOTE_NAME },                       \
        .pad = 0,                                                                        \
        .m = { .version = HVT_MFT_VERSION, .entries = (ndev) + 1 },                      \
        .e = { { .name = "", .type = HVT_MFT_RESERVED_FIRST }, __VA_ARGS__ },            \
    };                                                                                   \
    _Static_assert(sizeof(hvt_manifest_note) ==                                          \
                   20 + HVT_MFT_NOTE_PAD + 8 + ((ndev) + 1) * 104, "manifest note size")

/* --- hypercalls (hypercall.c): thin wrappers, no checks of their own, so
 * that tests see what the host answers --- */

/* outl to port HVT_PIO_BASE + n with EAX the argument's 32-bit address. */
void hvt_hypercall(unsigned n, volatile void *arg);
void hvt_write(const char *s, size_t len);
void hvt_puts(const char *s);
void hvt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hvt_vprintf(const char *fmt, va_list ap);
__attribute__((noreturn)) void hvt_halt(int status);
/* Prints "Solo5: ABORT: why" and halts with HVT_EXIT_ABORT. */
__attribute__((noreturn)) void hvt_abort(const char *why);
uint64_t hvt_walltime(void);            /* ns since 1970 */
/* POLL: returns its ret (bits set) and the ready set in *ready (may be NULL). */
int hvt_poll(uint64_t timeout_ns, uint64_t *ready);
int hvt_block_read(uint64_t handle, uint64_t offset, void *buf, uint64_t len);
int hvt_block_write(uint64_t handle, uint64_t offset, const void *buf, uint64_t len);
int hvt_net_write(uint64_t handle, const void *frame, uint64_t len);
/* *len: the buffer's size in, the frame's length out (when HVT_R_OK). */
int hvt_net_read(uint64_t handle, void *buf, uint64_t *len);

/* --- boot info (runtime.c) --- */
/* Called by _start once the stack-protector guard is set: CPU set-up,
 * then HALT with main's status. */
__attribute__((noreturn)) void hvt_start(const struct hvt_boot_info *bi);
extern const struct hvt_boot_info *hvt_boot_info;
/* The TSC at the image's first instruction (start.S). */
extern uint64_t hvt_entry_tsc;
const char *hvt_cmdline(void);
/* The manifest copy's entry for name with that type (attached or not),
 * its handle in *handle; NULL when absent or the copy looks broken. */
const struct hvt_mft_entry *hvt_device(const char *name, uint32_t type, uint64_t *handle);
uint64_t hvt_tsc(void);
uint64_t hvt_tsc_to_ns(uint64_t ticks);
uint64_t hvt_ns_to_tsc(uint64_t ns);

/* --- command line words (args.c) --- */
/* Copies word i (0-based, space-separated) of s into buf; 0, or -1 when
 * there is no such word or it does not fit. */
int hvt_word(const char *s, unsigned i, char *buf, size_t size);
/* Copies the value of the first "key=value" word of the command line;
 * 0, or -1 when absent or too long. */
int hvt_arg(const char *key, char *buf, size_t size);
/* Decimal digits only, no overflow: 0, else -1. */
int hvt_parse_u64(const char *s, uint64_t *out);

/* --- CPU (cpu.c) --- */
/* Our GDT (code 0x08, data 0x10, TSS 0x18), TSS with an IST stack for
 * every exception, IDT for vectors 0..31. */
void hvt_cpu_init(void);
/* Called by the exception stubs: prints the trap line, halts with 255. */
struct hvt_trap_frame;
__attribute__((noreturn)) void hvt_trap(const struct hvt_trap_frame *f);
void hvt_set_fs_base(uint64_t base);

/* --- TLS (tls.c), x86-64 variant II --- */
/* Bytes a TLS block needs (the image's TLS segment rounded up to its
 * alignment, then the 8-byte TCB), and that alignment. */
size_t hvt_tls_size(void);
size_t hvt_tls_align(void);
/* Fills a block of hvt_tls_size() bytes, aligned to hvt_tls_align():
 * .tdata copied, .tbss zeroed, the TCB pointing at itself. Returns the
 * thread pointer to load into FS base. */
uint64_t hvt_tls_init(void *block);

/* --- strings (guests/lib/string.c, shared with the Mayfly runtime) --- */
#include "../../lib/cstring.h"

/* hv/fmt.c, compiled into the runtime */
size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The stack protector (ssp.c; the guard is set from RDTSC in start.S). */
extern uintptr_t __stack_chk_guard;
__attribute__((noreturn)) void __stack_chk_fail(void);

#endif
