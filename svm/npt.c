#include "npt.h"
#include "../hv/param.h"

/* PAT, PCD and PWT clear: host PAT entry 0, write-back, combined with
 * the guest's own memory type. */
const struct pt_format npt_format = {
    .table = NPT_P | NPT_RW | NPT_US,
    .leaf_2m = NPT_P | NPT_RW | NPT_US | NPT_PS,
    .leaf_4k = NPT_P | NPT_RW | NPT_US,
    .large = NPT_PS,
};

uint64_t npt_build(struct pt_ctx *c, uint64_t base, uint64_t size)
{
    if (!size || (base | size) & (PAGE_2M - 1))
        return 0;
    c->fmt = &npt_format;
    if (pt_init(c) < 0 || pt_map(c, 0, base, size, PAGE_2M) < 0)
        return 0;
    return c->root;
}
