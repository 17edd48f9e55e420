#include "console.h"
#include "arch.h"
#include "control.h"
#include "fmt.h"
#include "hv.h"

void console_init(void)
{
    console_arch_init();
}

/* The line being printed, kept for the control channel's LOGS (id 0). */
static char line[160];
static uint32_t line_len;

static void line_add(char c)
{
    if (c == '\n') {
        control_log(0, line, line_len);
        line_len = 0;
    } else if (line_len < sizeof(line)) {
        line[line_len++] = c;
    }
}

void kvprintf(const char *fmt, va_list ap)
{
    char buf[256];
    size_t n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);

    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n')
            console_arch_putc('\r');
        console_arch_putc(buf[i]);
        line_add(buf[i]);
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

void hv_power_off(int status)
{
    kprintf("mayfly: power off (status %d)\n", status);
    console_arch_flush();
    power_arch_off(status);
}

void fatal(int status, const char *fmt, ...)
{
    va_list ap;

    kprintf("mayfly: fatal: ");
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    hv_power_off(status);
}

void panic(const char *fmt, ...)
{
    va_list ap;

    kprintf("mayfly: panic: ");
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    hv_power_off(HV_PANIC);
}
