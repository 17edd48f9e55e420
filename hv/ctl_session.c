/*
 * Control sessions and the limit on unauthenticated replies (see
 * ctl_session.h). Nothing here refuses by side effect: a request is
 * checked against the session and every pending one first, and only an
 * admitted request changes the session.
 */
#include "ctl_session.h"
#include "../include/mayfly/abi.h"
#include "fmt.h"
#include "lib.h"
#include "sha256.h"

void ctl_session_init(struct ctl_session *s, const uint8_t *key, size_t key_len)
{
    memset(s, 0, sizeof(*s));
    s->key = key_len ? key : NULL;
    s->key_len = key ? key_len : 0;
}

void ctl_session_close(struct ctl_session *s)
{
    s->open = 0;
    s->last_seq = 0;
    memset(s->nonce, 0, sizeof(s->nonce));
    memset(s->pending, 0, sizeof(s->pending));
}

int ctl_session_signs(const struct ctl_session *s)
{
    return s->key_len && s->open;
}

/* The hash of a counter that only grows and the caller's entropy: no two
 * HELLOs get the same nonce. */
static void nonce_make(struct ctl_session *s, uint64_t entropy, uint8_t out[MF_CTL_NONCE_BYTES])
{
    uint8_t seed[16], digest[SHA256_DIGEST_BYTES];

    s->nonces_made++;
    memcpy(seed, &s->nonces_made, 8);
    memcpy(seed + 8, &entropy, 8);
    sha256(seed, sizeof(seed), digest);
    memcpy(out, digest, MF_CTL_NONCE_BYTES);
}

void ctl_session_hello(struct ctl_session *s, uint32_t seq, uint64_t entropy,
                       uint8_t nonce_out[MF_CTL_NONCE_BYTES])
{
    struct ctl_pending *slot = &s->pending[0];

    nonce_make(s, entropy, nonce_out);
    if (!s->key_len) {
        memcpy(s->nonce, nonce_out, MF_CTL_NONCE_BYTES);
        s->open = 1;
        s->last_seq = seq;
        return;
    }
    for (uint32_t i = 0; i < CTL_PENDING_MAX; i++) {
        struct ctl_pending *p = &s->pending[i];
        if (!p->valid) {
            slot = p;
            break;
        }
        if (p->made < slot->made)
            slot = p;
    }
    memcpy(slot->nonce, nonce_out, MF_CTL_NONCE_BYTES);
    slot->hello_seq = seq;
    slot->made = s->nonces_made;
    slot->valid = 1;
}

static int verifies(const struct ctl_session *s, const struct ctl_frame *f,
                    const uint8_t nonce[MF_CTL_NONCE_BYTES])
{
    return ctl_frame_verify(f, s->key, s->key_len, nonce) == 0;
}

static int any_pending(const struct ctl_session *s)
{
    for (uint32_t i = 0; i < CTL_PENDING_MAX; i++)
        if (s->pending[i].valid)
            return 1;
    return 0;
}

/* The pending session whose nonce f's MAC verifies under, or NULL. */
static struct ctl_pending *pending_match(struct ctl_session *s, const struct ctl_frame *f)
{
    for (uint32_t i = 0; i < CTL_PENDING_MAX; i++)
        if (s->pending[i].valid && verifies(s, f, s->pending[i].nonce))
            return &s->pending[i];
    return NULL;
}

static int admit_keyed(struct ctl_session *s, const struct ctl_frame *f, char *why, size_t n)
{
    struct ctl_pending *p;

    if (!f->has_mac)
        return fmt_error(why, n, -MF_EPERM, "authentication failed: the request carries no MAC "
                         "and this hypervisor has a key");
    if (s->open && verifies(s, f, s->nonce)) {
        if (f->hdr.seq <= s->last_seq)
            return fmt_error(why, n, -MF_EPERM, "replayed or out-of-order request (seq %u, "
                             "last %u)", f->hdr.seq, s->last_seq);
        s->last_seq = f->hdr.seq;
        return 0;
    }
    p = pending_match(s, f);
    if (!p)
        return fmt_error(why, n, -MF_EPERM, s->open || any_pending(s)
                         ? "authentication failed: wrong MAC (check the key)"
                         : "no session: send HELLO first");
    if (f->hdr.seq <= p->hello_seq)
        return fmt_error(why, n, -MF_EPERM, "replayed or out-of-order request (seq %u, last %u)",
                         f->hdr.seq, p->hello_seq);
    memcpy(s->nonce, p->nonce, MF_CTL_NONCE_BYTES);
    s->open = 1;
    s->last_seq = f->hdr.seq;
    p->valid = 0;
    return 0;
}

int ctl_session_admit(struct ctl_session *s, const struct ctl_frame *f, char *why, size_t n)
{
    if (s->key_len)
        return admit_keyed(s, f, why, n);
    if (s->open && f->hdr.seq <= s->last_seq)
        return fmt_error(why, n, -MF_EINVAL, "out-of-order request (seq %u, last %u)",
                         f->hdr.seq, s->last_seq);
    if (s->open)
        s->last_seq = f->hdr.seq;
    return 0;
}

void ctl_limit_init(struct ctl_limit *l, uint64_t tsc_hz, uint32_t per_second, uint32_t burst,
                    uint64_t interval_tsc)
{
    memset(l, 0, sizeof(*l));
    l->cost = per_second ? tsc_hz / per_second : tsc_hz;
    if (!l->cost)
        l->cost = 1;
    l->cap = l->cost * (burst ? burst : 1);
    l->credit = l->cap;
    l->interval = interval_tsc ? interval_tsc : 1;
}

/* Starts the summary interval and the credit clock on first use. */
static void limit_start(struct ctl_limit *l, uint64_t now)
{
    if (l->started)
        return;
    l->started = 1;
    l->interval_start = now;
    if (!l->last)
        l->last = now;
}

int ctl_limit_take(struct ctl_limit *l, uint64_t now)
{
    uint64_t earned;

    limit_start(l, now);
    earned = now > l->last ? now - l->last : 0;
    l->last = now > l->last ? now : l->last;
    l->credit = earned >= l->cap - l->credit ? l->cap : l->credit + earned;
    if (l->credit < l->cost) {
        l->dropped++;
        l->dropped_total++;
        return 0;
    }
    l->credit -= l->cost;
    l->answered++;
    return 1;
}

void ctl_limit_drop(struct ctl_limit *l, uint64_t now)
{
    limit_start(l, now);
    l->dropped++;
    l->dropped_total++;
}

int ctl_limit_summary(struct ctl_limit *l, uint64_t now, uint32_t *answered, uint32_t *dropped)
{
    if (!l->started || now - l->interval_start < l->interval)
        return 0;
    if (!l->answered && !l->dropped) {
        l->started = 0;                 /* quiet: the next refusal starts an interval */
        return 0;
    }
    *answered = l->answered;
    *dropped = l->dropped;
    l->answered = l->dropped = 0;
    l->interval_start = now;
    return 1;
}
