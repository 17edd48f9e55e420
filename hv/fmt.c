#include "fmt.h"
#include <stdint.h>

struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void out_char(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

struct spec {
    int left;
    int zero;
    unsigned width;
};

static void out_padded(struct out *o, const struct spec *sp, const char *s, size_t n)
{
    size_t pad = sp->width > n ? sp->width - n : 0;
    char padc = sp->zero && !sp->left ? '0' : ' ';
    size_t i;

    if (!sp->left)
        for (i = 0; i < pad; i++)
            out_char(o, padc);
    for (i = 0; i < n; i++)
        out_char(o, s[i]);
    if (sp->left)
        for (i = 0; i < pad; i++)
            out_char(o, ' ');
}

/* prefix ("0x" for %p) is padded together with the digits. */
static void out_number(struct out *o, const struct spec *sp, uint64_t v,
                       unsigned base, int negative, int upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    struct spec rest = *sp;
    char tmp[26], rev[26];
    size_t n = 0, i, p = 0;

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    while (prefix && prefix[p])
        p++;
    while (p)
        tmp[n++] = prefix[--p];
    if (negative) {
        /* "-0042": the sign goes before zero padding, inside the width. */
        if (sp->zero && !sp->left) {
            out_char(o, '-');
            if (rest.width)
                rest.width--;
        } else {
            tmp[n++] = '-';
        }
    }
    for (i = 0; i < n; i++)
        rev[i] = tmp[n - 1 - i];
    out_padded(o, &rest, rev, n);
}

/* Reads one conversion's argument by its length modifier. */
static uint64_t take_unsigned(va_list *ap, int lng)
{
    if (lng >= 2)
        return va_arg(*ap, unsigned long long);
    if (lng == 1)
        return va_arg(*ap, unsigned long);
    return va_arg(*ap, unsigned int);
}

static int64_t take_signed(va_list *ap, int lng)
{
    if (lng >= 2)
        return va_arg(*ap, long long);
    if (lng == 1)
        return va_arg(*ap, long);
    return va_arg(*ap, int);
}

static const char *parse_spec(const char *f, struct spec *sp, int *lng)
{
    sp->left = sp->zero = 0;
    sp->width = 0;
    *lng = 0;
    for (;; f++) {
        if (*f == '-')
            sp->left = 1;
        else if (*f == '0')
            sp->zero = 1;
        else
            break;
    }
    while (*f >= '0' && *f <= '9' && sp->width < 1000)
        sp->width = sp->width * 10 + (unsigned)(*f++ - '0');
    while (*f == 'l') {
        (*lng)++;
        f++;
    }
    if (*f == 'z') {
        *lng = 1;
        f++;
    }
    return f;
}

static void convert(struct out *o, const struct spec *sp, int lng, char c, va_list *ap)
{
    switch (c) {
    case 'd':
    case 'i': {
        int64_t v = take_signed(ap, lng);
        out_number(o, sp, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, 10, v < 0, 0, NULL);
        break;
    }
    case 'u':
        out_number(o, sp, take_unsigned(ap, lng), 10, 0, 0, NULL);
        break;
    case 'x':
    case 'X':
        out_number(o, sp, take_unsigned(ap, lng), 16, 0, c == 'X', NULL);
        break;
    case 'p':
        out_number(o, sp, (uint64_t)(uintptr_t)va_arg(*ap, void *), 16, 0, 0, "0x");
        break;
    case 'c': {
        char ch = (char)va_arg(*ap, int);
        out_padded(o, sp, &ch, 1);
        break;
    }
    case 's': {
        const char *s = va_arg(*ap, const char *);
        size_t n = 0;
        if (!s)
            s = "(null)";
        while (s[n])
            n++;
        out_padded(o, sp, s, n);
        break;
    }
    case '%':
        out_char(o, '%');
        break;
    default:
        out_char(o, '%');
        if (c)
            out_char(o, c);
        break;
    }
}

size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    va_list args;

    va_copy(args, ap);
    while (*fmt) {
        struct spec sp;
        int lng;

        if (*fmt != '%') {
            out_char(&o, *fmt++);
            continue;
        }
        fmt = parse_spec(fmt + 1, &sp, &lng);
        convert(&o, &sp, lng, *fmt, &args);
        if (*fmt)
            fmt++;
    }
    va_end(args);
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len;
}

size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

char *fmt_mac(char buf[FMT_MAC_LEN], const uint8_t mac[6])
{
    fmt_snprintf(buf, FMT_MAC_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                 mac[3], mac[4], mac[5]);
    return buf;
}

char *fmt_ipv4(char buf[FMT_IPV4_LEN], const uint8_t ip[4])
{
    fmt_snprintf(buf, FMT_IPV4_LEN, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
    return buf;
}

int fmt_error(char *buf, size_t size, int err, const char *fmt, ...)
{
    va_list ap;

    if (buf && size) {
        va_start(ap, fmt);
        fmt_vsnprintf(buf, size, fmt, ap);
        va_end(ap);
    }
    return err;
}
