/*
 * The ABI1 note: "Solo5", type HVT_NOTE_TYPE_ABI, struct hvt_abi_info
 * {HVT_TARGET_HVT, version}. Built twice (guests.mk): HVT_ABI_NOTE_VERSION
 * 2 for images linked with hvt.ld, 1 for hvt-v1.ld.
 */
#include "hvtlib.h"

#ifndef HVT_ABI_NOTE_VERSION
#error "HVT_ABI_NOTE_VERSION must be 1 or 2 (set by guests/guests.mk)"
#endif

struct hvt_abi_note {
    struct hvt_note_header h;
    struct hvt_abi_info desc;
};
_Static_assert(sizeof(struct hvt_abi_note) == 36, "ABI note layout");
_Static_assert(sizeof(HVT_NOTE_NAME) == 6, "note name padding");

__attribute__((section(".note.solo5.abi"), aligned(4), used))
static const struct hvt_abi_note hvt_abi_note = {
    .h = { .namesz = sizeof(HVT_NOTE_NAME), .descsz = sizeof(struct hvt_abi_info),
           .type = HVT_NOTE_TYPE_ABI, .name = HVT_NOTE_NAME },
    .desc = { .target = HVT_TARGET_HVT, .version = HVT_ABI_NOTE_VERSION },
};
