/* Freestanding C library subset; compilers also emit calls to these.
 * memcpy and memset are weak: GNU-EFI's library brings its own, which
 * win in the UEFI link. */
#include "lib.h"

/* On x86-64, REP MOVSQ and REP MOVSB for the tail: one instruction for
 * every 8 bytes, where the loop below takes five (issue 15: the copies
 * of a launch and of every switched frame), and the fast-string path of
 * the CPU on hardware. The direction flag is clear in C code, and a VM
 * exit gives the host its own RFLAGS. Elsewhere, eight bytes at a time
 * whatever the alignment: __builtin_memcpy of a fixed 8 bytes becomes
 * one load and one store where the CPU allows unaligned access, and
 * safe code where it does not. Both copy upwards, as memmove relies on. */
__attribute__((weak)) void *memcpy(void *dst, const void *src, size_t n)
{
#if defined(__x86_64__)
    void *d = dst;
    size_t words = n / 8, tail = n % 8;

    __asm__ volatile("rep movsq\n\tmovq %3, %%rcx\n\trep movsb"
                     : "+D"(d), "+S"(src), "+c"(words)
                     : "r"(tail)
                     : "memory");
    return dst;
#else
    unsigned char *d = dst;
    const unsigned char *s = src;

    for (; n >= 8; n -= 8, d += 8, s += 8) {
        uint64_t w;
        __builtin_memcpy(&w, s, 8);
        __builtin_memcpy(d, &w, 8);
    }
    while (n--)
        *d++ = *s++;
    return dst;
#endif
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

/* On x86-64, REP STOSQ and REP STOSB for the tail, as memcpy: a
 * launch clears a vCPU's FXSAVE area and registers and the guest's
 * capability space, where the loop took three instructions per 8 bytes. */
__attribute__((weak)) void *memset(void *dst, int c, size_t n)
{
#if defined(__x86_64__)
    void *d = dst;
    size_t words = n / 8, tail = n % 8;

    __asm__ volatile("rep stosq\n\tmovq %3, %%rcx\n\trep stosb"
                     : "+D"(d), "+c"(words)
                     : "a"(0x0101010101010101ULL * (unsigned char)c), "r"(tail)
                     : "memory");
    return dst;
#else
    unsigned char *d = dst;

    if (((uintptr_t)d & 7) == 0) {
        uint64_t word = 0x0101010101010101ULL * (unsigned char)c;
        for (; n >= 8; n -= 8, d += 8)
            *(uint64_t *)(void *)d = word;
    }
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
#endif
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}
