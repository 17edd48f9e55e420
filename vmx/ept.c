#include "ept.h"
#include "../hv/param.h"

const struct pt_format ept_format = {
    .table = EPT_READ | EPT_WRITE | EPT_EXECUTE,
    .leaf_2m = EPT_READ | EPT_WRITE | EPT_EXECUTE | EPT_MEMTYPE_WB | EPT_LARGE,
    .leaf_4k = EPT_READ | EPT_WRITE | EPT_EXECUTE | EPT_MEMTYPE_WB,
    .large = EPT_LARGE,
};

uint64_t ept_build(struct pt_ctx *c, uint64_t base, uint64_t size)
{
    if (!size || (base | size) & (PAGE_2M - 1))
        return 0;
    c->fmt = &ept_format;
    if (pt_init(c) < 0 || pt_map(c, 0, base, size, PAGE_2M) < 0)
        return 0;
    return c->root | EPTP_WALK_4 | EPTP_WB;
}
