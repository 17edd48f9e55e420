/*
 * Thread-local storage, x86-64 variant II with the local-exec model: the
 * thread pointer (FS base) points at the TCB, whose first word points at
 * itself (%fs:0), and the TLS block lies just below it, its size the TLS
 * segment's rounded up to the segment's alignment. The linker script
 * gives the segment's bounds (__tdata_start.. __tbss_end) and alignment.
 */
#include "hvtlib.h"

extern const char __tdata_start[], __tdata_end[], __tbss_end[], __tls_align[];

static size_t tls_block_size(void)
{
    size_t align = hvt_tls_align();
    size_t memsz = (size_t)(__tbss_end - __tdata_start);

    return (memsz + align - 1) & ~(align - 1);
}

size_t hvt_tls_align(void)
{
    size_t align = (size_t)(uintptr_t)__tls_align;

    return align < 8 ? 8 : align;
}

size_t hvt_tls_size(void)
{
    return tls_block_size() + sizeof(uint64_t);
}

uint64_t hvt_tls_init(void *block)
{
    uint8_t *b = block;
    size_t filesz = (size_t)(__tdata_end - __tdata_start), size = tls_block_size();
    uint64_t *tcb = (uint64_t *)(void *)(b + size);

    memcpy(b, __tdata_start, filesz);
    memset(b + filesz, 0, size - filesz);
    *tcb = (uint64_t)(uintptr_t)tcb;
    return (uint64_t)(uintptr_t)tcb;
}
