/*
 * hvt-test: the Solo5 hvt test unikernel, one mode per run, picked by the
 * first word of the command line (the config's args="..."). Manifest: no
 * device. Built twice: hvt-test.hvt (ABI 2, hvt.ld) and hvt-test-v1.hvt
 * (ABI 1, hvt-v1.ld: no TLS segment; its tls mode prints
 * "tls: no TLS in this image (ABI 1 layout)" and exits 1).
 *
 * Every run first prints "hvt-test: mode <mode>". Then, by mode:
 *
 *   hello [words...] (also: empty command line)
 *       hello from hvt
 *       hvt-test: cmdline "<the whole command line>"
 *     exit 0.
 *   data      checks initialised .data/.rodata values, that .bss and the 64
 *             KiB above kernel_end read zero, that .data is writable, that
 *             kernel_end lies between the end of .bss and the stack:
 *       data ok                         exit 0
 *       data: FAIL <what>               exit 1
 *   tls       two TLS blocks, FS base (WRMSR 0xC0000100) switched between
 *             them; __thread values (.tdata and .tbss) kept per block:
 *       tls ok                          exit 0
 *       tls: FAIL <what>                exit 1
 *   sse       double/float arithmetic checked bit for bit, and xmm0..15
 *             kept across a PUTS hypercall (which prints
 *             "sse: xmm registers across a hypercall"):
 *       sse ok                          exit 0
 *       sse: FAIL <what>                exit 1
 *   time      POLL 200 ms with no device, measured with the TSC; WALLTIME:
 *       time: cpu_cycle_freq <hz>
 *       time: poll 200 ms took <N> ms
 *       time ok                         (N within 160..240, POLL ret 0 and
 *                                        empty ready set) else time: FAIL ...
 *       walltime ok <seconds>           (after 2020-01-01) else walltime: FAIL <seconds>
 *     exit 0 only if both hold, else 1.
 *   trap-pf   reads the byte at bi->mem_size:
 *       trap-pf: reading 0x<mem_size>
 *       Solo5: trap: type=#PF ec=0x<ec> rip=0x<rip> cr2=0x<mem_size>
 *     exit 255 (the guest's own handler). If the read succeeds:
 *       trap-pf: FAIL no fault          exit 1
 *   trap-null reads address 0: like trap-pf with
 *       trap-null: reading 0x0
 *       Solo5: trap: type=#PF ec=0x<ec> rip=0x<rip> cr2=0x0
 *     exit 255.
 *   ssp       overruns a stack buffer in a -fstack-protector-strong function:
 *       ssp: overrunning a stack buffer
 *       Solo5: stack smashing detected
 *     exit 255.
 *   ud        executes ud2:
 *       ud: executing ud2
 *       Solo5: trap: type=#UD ec=0x0 rip=0x<rip>
 *     exit 255.
 *
 * Hostile modes: the host must end the guest (or fail the call) and no
 * one else. Each prints what it does first; a line with "survived" means
 * the host let the call through as if it were fine (then exit 1).
 *   bad-struct  PUTS whose argument struct is at gpa 0xfffff000:
 *       bad-struct: PUTS with its argument at 0xfffff000
 *       bad-struct: survived            exit 1 (host should end it first)
 *   puts-wrap   PUTS with data = mem_size - 16, len = 2^64 - 8 (data + len
 *               wraps past 2^64):
 *       puts-wrap: PUTS of 0x<len> bytes at 0x<data>
 *       puts-wrap: survived             exit 1 (host should end it first)
 *   bad-handle  BLOCK_READ, BLOCK_WRITE, NET_READ, NET_WRITE with handles
 *               0, 1, 63, 64 and 2^40 (no device is attached to this
 *               image), each must return HVT_R_EINVAL (2):
 *       bad-handle ok                   exit 0
 *       bad-handle: FAIL <call> handle <h> returned <r>, expected 2    exit 1
 *   bad-port    outl to port 0x5ff:
 *       bad-port: outl to port 0x5ff
 *       bad-port: survived              exit 1
 *   spin        never makes another hypercall:
 *       spin: looping forever
 *     (the host's time limit or a stop must end it)
 *   in-port     inl from port 0x501:
 *       in-port: inl from port 0x501
 *       in-port: survived, read 0x<v>   exit 1
 *
 * Any other first word:
 *   hvt-test: unknown mode "<word>"     exit 2
 */
#include "test.h"

HVT_MANIFEST(0);

#define MODE_MAX 32

struct mode {
    const char *name;
    int (*run)(const struct hvt_boot_info *bi);
};

static const struct mode modes[] = {
    { "hello", test_hello },        { "data", test_data },
    { "tls", test_tls },            { "sse", test_sse },
    { "time", test_time },          { "trap-pf", test_trap_pf },
    { "trap-null", test_trap_null }, { "ssp", test_ssp },
    { "ud", test_ud },              { "bad-struct", test_bad_struct },
    { "puts-wrap", test_puts_wrap }, { "bad-handle", test_bad_handle },
    { "bad-port", test_bad_port },  { "spin", test_spin },
    { "in-port", test_in_port },
};

/* The ABI 1 image has no TLS segment and links without tls.c. */
__attribute__((weak)) int test_tls(const struct hvt_boot_info *bi)
{
    (void)bi;
    hvt_puts("tls: no TLS in this image (ABI 1 layout)\n");
    return 1;
}

int test_hello(const struct hvt_boot_info *bi)
{
    (void)bi;
    hvt_puts("hello from hvt\n");
    hvt_printf("hvt-test: cmdline \"%s\"\n", hvt_cmdline());
    return 0;
}

static int blank(const char *s)
{
    while (*s == ' ')
        s++;
    return *s == '\0';
}

int main(const struct hvt_boot_info *bi)
{
    char mode[MODE_MAX];

    if (hvt_word(hvt_cmdline(), 0, mode, sizeof(mode)) < 0) {
        if (!blank(hvt_cmdline())) {
            hvt_puts("hvt-test: unknown mode (its name is too long)\n");
            return 2;
        }
        memcpy(mode, "hello", sizeof("hello"));
    }
    hvt_printf("hvt-test: mode %s\n", mode);
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(mode, modes[i].name) == 0)
            return modes[i].run(bi);
    hvt_printf("hvt-test: unknown mode \"%s\"\n", mode);
    return 2;
}
