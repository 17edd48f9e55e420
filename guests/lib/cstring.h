/* The C string functions every guest runtime has (guests/lib/string.c):
 * the Mayfly runtime (mf.h) and the hvt runtime (guests/hvt/lib) share
 * them. */
#ifndef GUESTS_LIB_CSTRING_H
#define GUESTS_LIB_CSTRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
