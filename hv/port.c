/*
 * What every port implementation shares: its states, its failure (an
 * event told to the owner once, not something the owner has to scan for)
 * and its counters as the guest reads them.
 */
#include <stdarg.h>

#include "port.h"
#include "fmt.h"
#include "lib.h"

void port_init(struct port *p, const struct port_ops *ops, uint32_t flags, const uint8_t mac[6],
               void (*notify)(struct port *p, enum port_event event), void *owner)
{
    memset(p, 0, sizeof(*p));
    p->ops = ops;
    p->flags = flags;
    if (mac)
        memcpy(p->mac, mac, sizeof(p->mac));
    p->notify = notify;
    p->owner = owner;
    p->state = p->stats.state = MF_NET_STATE_RESET;
}

int port_set_running(struct port *p)
{
    if (p->state == MF_NET_STATE_FAILED)
        return -1;
    p->why[0] = '\0';
    p->state = p->stats.state = MF_NET_STATE_RUNNING;
    if ((p->flags & PORT_F_SERVICE) && p->hooks)
        p->hooks->running(p);
    return 0;
}

void port_fail(struct port *p, const char *fmt, ...)
{
    va_list ap;

    if (p->state == MF_NET_STATE_FAILED)
        return;                     /* told once already */
    va_start(ap, fmt);
    fmt_vsnprintf(p->why, sizeof(p->why), fmt, ap);
    va_end(ap);
    p->state = p->stats.state = MF_NET_STATE_FAILED;
    if (p->ops && p->ops->fail)
        p->ops->fail(p);
    if (p->notify)
        p->notify(p, PORT_EVENT_FAILED);
}

void port_wake(struct port *p)
{
    if (p->notify)
        p->notify(p, PORT_EVENT_WAKE);
}

void port_status(const struct port *p, struct mf_net_status *out)
{
    *out = p->stats;
    out->state = p->state;
}
