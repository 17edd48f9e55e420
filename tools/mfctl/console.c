/*
 * The hypervisor's serial console, relayed to stdout. The console sends
 * CR LF; stdout gets LF so that the output greps and diffs like any log.
 * Each line is also matched for what ends a run: the hypervisor's
 * "mayfly: power off (status N)" and OVMF's "Shell>" prompt (no boot
 * application found, or it returned), which otherwise waits forever. Both
 * count only at the start of a line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mfctl.h"

#define POWER_OFF_MARK "mayfly: power off (status "

void console_init(struct console *c)
{
    memset(c, 0, sizeof(*c));
    c->power_status = -1;
}

static void line_end(struct console *c)
{
    c->line[c->line_len] = '\0';
    /* At the start of a line only: guest output is prefixed. */
    if (!strncmp(c->line, POWER_OFF_MARK, strlen(POWER_OFF_MARK))) {
        const char *digits = c->line + strlen(POWER_OFF_MARK);
        char *end;
        long status = strtol(digits, &end, 10);
        if (end != digits && *end == ')' && status >= 0 && status < 256)
            c->power_status = (int)status;
    }
    c->line_len = 0;
}

/* The line is kept without ANSI escape sequences (OVMF colours its text);
 * the hypervisor replaces control characters in guest output, so only the
 * firmware and the hypervisor can start a line with a marker. */
static void line_add(struct console *c, char ch)
{
    if (c->escape == 1) {
        c->escape = ch == '[' ? 2 : 0;
        return;
    }
    if (c->escape == 2) {
        if (ch >= 0x40 && ch <= 0x7e)
            c->escape = 0;
        return;
    }
    if (ch == 0x1b) {
        c->escape = 1;
        return;
    }
    if (c->line_len + 1 < sizeof(c->line))
        c->line[c->line_len++] = ch;
    c->line[c->line_len] = '\0';
    /* The shell's prompt ends no line. */
    if (ch == '>' && !strcmp(c->line, "Shell>"))
        c->saw_shell = 1;
}

void console_feed(struct console *c, const char *buf, size_t len)
{
    char out[8192];
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        char ch = buf[i];
        if (n + 2 > sizeof(out)) {
            fwrite(out, 1, n, stdout);
            n = 0;
        }
        if (c->cr_pending && ch != '\n')
            out[n++] = '\r';
        c->cr_pending = ch == '\r';
        if (ch == '\r')
            continue;
        out[n++] = ch;
        if (ch == '\n')
            line_end(c);
        else
            line_add(c, ch);
    }
    fwrite(out, 1, n, stdout);
    fflush(stdout);
}

void console_finish(struct console *c)
{
    if (c->cr_pending)
        fputc('\r', stdout);
    c->cr_pending = 0;
    if (c->line_len)
        line_end(c);
    fflush(stdout);
}
