/*
 * Hypercalls: one table indexed by number, empty slots go to hc_bad.
 * Each handler validates its arguments without side effects, then acts.
 * Results: >= 0 on success, -MF_E* on failure; a bad argument is the
 * guest's error to handle (it is logged), never the hypervisor's.
 */
#include "../include/mayfly/abi.h"
#include "arch.h"
#include "console.h"
#include "guest.h"
#include "lib.h"

typedef int64_t (*hypercall_fn)(struct guest *g, const uint64_t *args);

static int64_t hc_bad(struct guest *g, const uint64_t *args)
{
    (void)args;
    (void)g;
    return -MF_ENOSYS;
}

static int64_t hc_console_write(struct guest *g, const uint64_t *args)
{
    uint64_t gpa = args[0], len = args[1];
    const char *buf;

    if (len > MF_CONSOLE_WRITE_MAX)
        len = MF_CONSOLE_WRITE_MAX;         /* a partial write, as write(2) */
    buf = guest_memory(g, gpa, len);
    if (!buf) {
        guest_log_error(g, "console write of %llu bytes at 0x%llx is outside its memory "
                        "(returned -MF_EFAULT)", (unsigned long long)args[1],
                        (unsigned long long)gpa);
        return -MF_EFAULT;
    }
    guest_console(g, buf, len);
    return (int64_t)len;
}

static int64_t hc_exit(struct guest *g, const uint64_t *args)
{
    g->exit_status = (int64_t)args[0];
    g->state = GUEST_EXITED;
    return 0;
}

static int64_t hc_wait(struct guest *g, const uint64_t *args)
{
    if ((int64_t)(time_arch_tsc() - args[0]) < 0)
        guest_wait(g, args[0]);
    return 0;                               /* woken by the deadline: no notification */
}

static int64_t hc_yield(struct guest *g, const uint64_t *args)
{
    (void)args;
    g->preemptions++;                       /* the scheduler requeues it */
    return 0;
}

static int64_t hc_null(struct guest *g, const uint64_t *args)
{
    (void)g;
    (void)args;
    return 0;
}

static int64_t hc_info(struct guest *g, const uint64_t *args)
{
    struct mf_info info, *out = guest_memory(g, args[0], sizeof(info));

    if (!out) {
        guest_log_error(g, "info buffer at 0x%llx is outside its memory (returned -MF_EFAULT)",
                        (unsigned long long)args[0]);
        return -MF_EFAULT;
    }
    info.abi_version = MF_ABI_VERSION;
    info.guest_id = g->id;
    info.tsc_hz = time_arch_tsc_hz();
    info.now_tsc = time_arch_tsc();
    info.guests_running = guest_running_count();
    memcpy(out, &info, sizeof(info));
    return 0;
}

static const hypercall_fn hypercalls[MF_HC_COUNT] = {
    [MF_HC_CONSOLE_WRITE] = hc_console_write,
    [MF_HC_EXIT] = hc_exit,
    [MF_HC_WAIT] = hc_wait,
    [MF_HC_YIELD] = hc_yield,
    [MF_HC_INFO] = hc_info,
    [MF_HC_NULL] = hc_null,
};

void hypercall_dispatch(struct guest *g, uint64_t nr, const uint64_t *args)
{
    hypercall_fn fn = nr < MF_HC_COUNT && hypercalls[nr] ? hypercalls[nr] : hc_bad;
    int64_t result;

    g->hypercalls++;
    result = fn(g, args);
    if (fn == hc_bad)
        guest_log_error(g, "unknown hypercall %llu (returned -MF_ENOSYS)",
                        (unsigned long long)nr);
    vcpu_arch_set_result(g->vcpu, result);
}
