/* Command-line splitting and number parsing. */
#include "mf.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

int mf_args_split(struct mf_args *a, const char *line)
{
    size_t len = strnlen(line, sizeof(a->buf) - 1);
    size_t i = 0;

    memcpy(a->buf, line, len);
    a->buf[len] = '\0';
    a->argc = 0;
    while (i < len) {
        while (i < len && is_space(a->buf[i]))
            a->buf[i++] = '\0';
        if (i == len)
            break;
        if (a->argc < MF_ARGS_MAX)
            a->argv[a->argc++] = &a->buf[i];
        while (i < len && !is_space(a->buf[i]))
            i++;
    }
    return a->argc;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

static int parse_base(const char *s, unsigned base, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -MF_EINVAL;
    for (; *s != '\0'; s++) {
        unsigned d = (unsigned)digit_value(*s);

        if (d >= base)
            return -MF_EINVAL;
        if (v > (UINT64_MAX - d) / base)
            return -MF_ERANGE;
        v = v * base + d;
    }
    *out = v;
    return 0;
}

static int has_hex_prefix(const char *s)
{
    return s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

int mf_parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL)
        return -MF_EINVAL;
    if (has_hex_prefix(s))
        return parse_base(s + 2, 16, out);
    return parse_base(s, 10, out);
}

int mf_parse_hex(const char *s, uint64_t *out)
{
    if (s == NULL)
        return -MF_EINVAL;
    return parse_base(has_hex_prefix(s) ? s + 2 : s, 16, out);
}
