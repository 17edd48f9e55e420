/*
 * The guest runtime: hypercall wrappers, console output, time and the
 * boot-info accessors.
 */
#include "mf.h"

static const struct mf_boot_info *boot_info;
/* NUL-terminated copies: the boot-info strings are not trusted to be. */
static char boot_name[sizeof(boot_info->name)];
static char boot_cmdline[MF_CMDLINE_MAX];
static struct mf_args boot_args;

static void copy_string(char *dst, const char *src, size_t size)
{
    size_t len = strnlen(src, size - 1);

    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void start_fail(const char *why)
{
    mf_puts("mayfly guest runtime: ");
    mf_puts(why);
    mf_puts("\n");
    mf_exit(125);
}

uint8_t mf_use_vmmcall;

void mf_start(const struct mf_boot_info *bi)
{
    /* First: every hypercall, start_fail's too, uses the instruction. */
    mf_use_vmmcall = bi && bi->magic == MF_BOOT_INFO_MAGIC && (bi->features & MF_FEATURE_VMMCALL);
    boot_info = bi;
    if (bi == NULL || bi->magic != MF_BOOT_INFO_MAGIC)
        start_fail("bad boot-info magic");
    if (bi->abi_version != MF_ABI_VERSION)
        start_fail("boot-info ABI version mismatch");
    copy_string(boot_name, bi->name, sizeof(boot_name));
    copy_string(boot_cmdline, bi->cmdline, sizeof(boot_cmdline));
    mf_args_split(&boot_args, boot_cmdline);
    mf_exit((uint64_t)(int64_t)main(bi));
}

long mf_console_write(const void *buf, size_t len)
{
    const char *p = buf;
    size_t done = 0;

    while (done < len) {
        size_t chunk = len - done;
        long ret;

        if (chunk > MF_CONSOLE_WRITE_MAX)
            chunk = MF_CONSOLE_WRITE_MAX;
        ret = mf_hypercall3(MF_HC_CONSOLE_WRITE, MF_CAP_CONSOLE, (uint64_t)(p + done), chunk);
        if (ret < 0)
            return done > 0 ? (long)done : ret;
        if (ret == 0)
            break;
        done += (size_t)ret;
    }
    return (long)done;
}

long mf_puts(const char *s)
{
    return mf_console_write(s, strlen(s));
}

long mf_vprintf(const char *fmt, va_list ap)
{
    char buf[MF_PRINTF_MAX];
    size_t len = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);

    if (len >= sizeof(buf))
        len = sizeof(buf) - 1;
    return mf_console_write(buf, len);
}

long mf_printf(const char *fmt, ...)
{
    va_list ap;
    long ret;

    va_start(ap, fmt);
    ret = mf_vprintf(fmt, ap);
    va_end(ap);
    return ret;
}

void mf_exit(uint64_t status)
{
    /* MF_HC_EXIT does not return; if it ever did, asking again is the
     * only safe thing left (a guest takes no interrupts and has no IDT). */
    for (;;)
        mf_hypercall1(MF_HC_EXIT, status);
}

long mf_wait_until(uint64_t deadline_tsc)
{
    return mf_hypercall2(MF_HC_WAIT, MF_CAP_NOTIFICATION, deadline_tsc);
}

uint64_t mf_entry_tsc;

long mf_yield(void)
{
    return mf_hypercall0(MF_HC_YIELD);
}

long mf_info(struct mf_info *info)
{
    return mf_hypercall1(MF_HC_INFO, (uint64_t)info);
}

/* Whole seconds and the remainder separately, so ns * hz cannot overflow
 * for any TSC below 18 GHz (the remainder is under 10^9). */
uint64_t mf_ns_to_tsc(uint64_t ns)
{
    uint64_t hz = mf_tsc_hz();

    return ns / 1000000000u * hz + ns % 1000000000u * hz / 1000000000u;
}

void mf_sleep_ns(uint64_t ns)
{
    uint64_t deadline = mf_tsc() + mf_ns_to_tsc(ns);

    /* A notification ends the wait early; wait again for the rest. */
    while (mf_tsc() < deadline)
        mf_wait_until(deadline);
}

const struct mf_boot_info *mf_boot_info(void) { return boot_info; }
const char *mf_name(void) { return boot_name; }
uint32_t mf_instance(void) { return boot_info->instance; }
uint32_t mf_guest_id(void) { return boot_info->guest_id; }
const char *mf_cmdline(void) { return boot_cmdline; }
uint64_t mf_mem_size(void) { return boot_info->mem_size; }
uint64_t mf_tsc_hz(void) { return boot_info->tsc_hz; }

int mf_argc(void)
{
    return boot_args.argc;
}

const char *mf_arg(int i)
{
    return i >= 0 && i < boot_args.argc ? boot_args.argv[i] : NULL;
}
