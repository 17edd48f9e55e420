/* hello: prints who it is and its arguments, then exits 0. */
#include "mf.h"

int main(const struct mf_boot_info *bi)
{
    int i;

    mf_printf("hello from %s.%u (guest %u): %s\n",
              mf_name(), bi->instance, bi->guest_id, mf_cmdline());
    for (i = 0; i < mf_argc(); i++)
        mf_printf("arg[%d] = %s\n", i, mf_arg(i));
    return 0;
}
