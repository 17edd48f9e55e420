/*
 * The Mayfly ABI note (include/mayfly/abi.h): an ELF note with the usual
 * 4-byte field alignment, so the name "Mayfly" with its NUL (7 bytes) is
 * padded to 8 and the descriptor starts 20 bytes into the note. guest.ld
 * puts section .note.mayfly in its own PT_NOTE program header.
 */
#include <mayfly/abi.h>

struct mf_note_image {
    uint32_t namesz;
    uint32_t descsz;
    uint32_t type;
    char name[8];
    struct mf_abi_note desc;
};
_Static_assert(sizeof(struct mf_note_image) == 28, "note layout");
_Static_assert(sizeof(MF_NOTE_NAME) == 7, "note name padding");

__attribute__((section(".note.mayfly"), aligned(4), used))
static const struct mf_note_image mf_abi_note = {
    .namesz = sizeof(MF_NOTE_NAME),
    .descsz = sizeof(struct mf_abi_note),
    .type = MF_NOTE_TYPE_ABI,
    .name = MF_NOTE_NAME,
    .desc = { .abi_version = MF_ABI_VERSION, .flags = 0 },
};
