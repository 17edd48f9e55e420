/*
 * Decoding VM exits from the values the VMCS holds, without reading the
 * guest's instruction. Pure: no VMREAD here, so the host tests can feed
 * it any qualification.
 */
#include "exit_decode.h"
#include "vmcs.h"

int exit_decode_io(uint64_t qualification, uint64_t rax, uint64_t rip, struct vm_exit *exit)
{
    uint64_t size_code = IO_QUAL_SIZE(qualification);
    uint64_t mask;

    if (size_code != 0 && size_code != 1 && size_code != 3)
        return -1;
    mask = (1ULL << ((size_code + 1) * 8)) - 1;
    exit->kind = VM_EXIT_IO;
    exit->io.rip = rip;
    /* In range by construction: the port is 16 bits of the qualification,
     * the size 1, 2 or 4, and the value masked to at most 32 bits. */
    exit->io.port = (uint16_t)IO_QUAL_PORT(qualification);
    exit->io.size = (uint8_t)(size_code + 1);
    exit->io.is_in = (qualification & IO_QUAL_IN) != 0;
    exit->io.is_string = (qualification & IO_QUAL_STRING) != 0;
    /* OUT writes the low size bytes of RAX; IN and the string forms
     * carry no value in RAX. */
    exit->io.value = exit->io.is_in || exit->io.is_string ? 0 : (uint32_t)(rax & mask);
    return 0;
}
