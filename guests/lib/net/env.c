/* env.h for real guests: the port's hypercalls, MF_HC_WAIT and the TSC. */
#include "mf.h"
#include "env.h"

long net_env_setup(unsigned slot, struct mf_net_setup *setup)
{
    return mf_hypercall2(MF_HC_NET_SETUP, slot, (uint64_t)(uintptr_t)setup);
}

long net_env_kick(unsigned slot, unsigned queue)
{
    return mf_hypercall2(MF_HC_NET_KICK, slot, queue);
}

long net_env_status(unsigned slot, struct mf_net_status *status)
{
    return mf_hypercall2(MF_HC_NET_STATUS, slot, (uint64_t)(uintptr_t)status);
}

long net_env_wait(uint64_t deadline_tsc)
{
    return mf_wait_until(deadline_tsc);
}

long net_env_yield(void)
{
    return mf_yield();
}

uint64_t net_env_now(void)
{
    return mf_tsc();
}

uint64_t net_env_tsc_hz(void)
{
    return mf_tsc_hz();
}
