/*
 * net_config() and net_arg(): the stack's settings from the boot arguments
 * and the boot info (through the guest runtime, no hypercalls).
 */
#include "mf.h"
#include "net.h"

const char *net_arg(const char *key)
{
    const char *argv[MF_ARGS_MAX];
    int argc = mf_argc();

    for (int i = 0; i < argc && i < MF_ARGS_MAX; i++)
        argv[i] = mf_arg(i);
    return net_arg_find(argc < MF_ARGS_MAX ? argc : MF_ARGS_MAX, argv, key);
}

/* "ip=A.B.C.D" or "ip=A.B.C.D+": the second form adds the instance number,
 * so that count=N instances of one config line get N addresses. */
static int parse_own_ip(const char *ip, uint32_t *out)
{
    char buf[20];
    size_t n = strlen(ip);

    if (n == 0 || n >= sizeof(buf))
        return -MF_EINVAL;
    if (ip[n - 1] != '+')
        return net_parse_ip(ip, out);
    net_memcpy(buf, ip, n - 1);
    buf[n - 1] = '\0';
    if (net_parse_ip(buf, out) < 0 || (*out & 0xff) + mf_instance() > 254)
        return -MF_EINVAL;
    *out += mf_instance();
    return 0;
}

int net_config(struct net_config *cfg)
{
    const struct mf_boot_info *bi = mf_boot_info();
    const char *ip = net_arg("ip");

    net_memset(cfg, 0, sizeof(*cfg));
    if (ip == NULL || parse_own_ip(ip, &cfg->ip) < 0)
        return -MF_EINVAL;
    for (uint32_t i = 0; i < bi->cap_count && i < MF_CAP_SLOTS; i++) {
        if (bi->caps[i].type == MF_OBJ_NET_PORT) {
            cfg->slot = bi->caps[i].slot;
            net_memcpy(cfg->mac, bi->caps[i].mac, ETH_ALEN);
            return 0;
        }
    }
    return -MF_ENOENT;
}
