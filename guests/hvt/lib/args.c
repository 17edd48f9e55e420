/* Command-line words: the host passes the config's args="..." as one
 * NUL-terminated string; words are separated by spaces. */
#include "hvtlib.h"

/* Start of word i in s and its length, or NULL. */
static const char *word_find(const char *s, unsigned i, size_t *len)
{
    for (;;) {
        while (*s == ' ')
            s++;
        if (*s == '\0')
            return NULL;
        const char *w = s;
        while (*s != '\0' && *s != ' ')
            s++;
        if (i-- == 0) {
            *len = (size_t)(s - w);
            return w;
        }
    }
}

int hvt_word(const char *s, unsigned i, char *buf, size_t size)
{
    size_t len;
    const char *w = word_find(s, i, &len);

    if (w == NULL || len >= size)
        return -1;
    memcpy(buf, w, len);
    buf[len] = '\0';
    return 0;
}

int hvt_arg(const char *key, char *buf, size_t size)
{
    const char *s = hvt_cmdline();
    size_t klen = strlen(key), len;
    const char *w;

    for (unsigned i = 0; (w = word_find(s, i, &len)) != NULL; i++) {
        if (len > klen && w[klen] == '=' && strncmp(w, key, klen) == 0) {
            if (len - klen - 1 >= size)
                return -1;
            memcpy(buf, w + klen + 1, len - klen - 1);
            buf[len - klen - 1] = '\0';
            return 0;
        }
    }
    return -1;
}

int hvt_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}
