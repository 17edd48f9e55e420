/* String helpers shared by the core and host-side tools. */
#include "lib.h"

size_t str_copy(char *dst, const char *src, size_t size)
{
    size_t n = 0;
    while (n + 1 < size && src[n]) {
        dst[n] = src[n];
        n++;
    }
    dst[n] = '\0';
    return n;
}
