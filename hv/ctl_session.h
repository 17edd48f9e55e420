/*
 * The control server's session state and its guard against traffic from
 * nobody in particular. Pure logic (compiles freestanding and on the
 * host, reads no clock: callers pass the TSC).
 *
 * With a key, a HELLO does not replace the session: it makes a pending
 * session (a fresh nonce, remembered among the last CTL_PENDING_MAX),
 * which becomes the session only when a request MAC'd with its nonce
 * arrives. So an unauthenticated HELLO cannot break an authenticated
 * client's session. Without a key a HELLO opens the session at once.
 *
 * A ctl_limit is a token bucket over TSC time: it says whether one more
 * unauthenticated reply may go out, counts those that may not, and sums
 * up each interval for one log line instead of one line per refusal.
 */
#ifndef HV_CTL_SESSION_H
#define HV_CTL_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_frame.h"

#define CTL_PENDING_MAX 4       /* HELLOs not yet followed by a request */

struct ctl_pending {
    uint8_t nonce[MF_CTL_NONCE_BYTES];
    uint32_t hello_seq;         /* requests of this session need a larger seq */
    uint64_t made;              /* order of creation (oldest is replaced) */
    int valid;
};

struct ctl_session {
    const uint8_t *key;         /* NULL, key_len 0: no authentication */
    size_t key_len;
    int open;                   /* a session is established */
    uint8_t nonce[MF_CTL_NONCE_BYTES];  /* its nonce (MACs of requests and replies) */
    uint32_t last_seq;          /* its last admitted request */
    struct ctl_pending pending[CTL_PENDING_MAX];
    uint64_t nonces_made;
};

/* No session yet; key (kept by pointer) may be NULL with key_len 0. */
void ctl_session_init(struct ctl_session *s, const uint8_t *key, size_t key_len);

/*
 * A HELLO with seq has arrived and will be answered: fills nonce_out with
 * a nonce no earlier HELLO got (from a counter and entropy, say the TSC).
 * With a key the session in place is kept and the nonce becomes a pending
 * session (replacing the oldest pending one); without a key the session
 * is this one from now on.
 */
void ctl_session_hello(struct ctl_session *s, uint32_t seq, uint64_t entropy,
                       uint8_t nonce_out[MF_CTL_NONCE_BYTES]);

/*
 * Admits a request other than HELLO, or refuses it without changing
 * anything. With a key: its MAC must verify under the session's nonce
 * (then its seq must exceed the session's last) or under a pending one's
 * (then its seq must exceed that HELLO's, and that pending session
 * becomes the session; the others stay pending). Without a key: inside a
 * session the seq must grow. Returns 0 (admitted: the session's last seq
 * is now the request's), or -MF_EPERM / -MF_EINVAL with why.
 */
int ctl_session_admit(struct ctl_session *s, const struct ctl_frame *f, char *why, size_t n);

/* Ends the session and forgets the pending ones (their client has gone);
 * the nonce counter goes on, so no later HELLO gets a nonce used before. */
void ctl_session_close(struct ctl_session *s);

/* Whether replies to admitted requests carry a MAC (under s->nonce). */
int ctl_session_signs(const struct ctl_session *s);

struct ctl_limit {
    uint64_t cost;              /* TSC ticks of credit one reply takes */
    uint64_t cap;               /* credit at most (the burst) */
    uint64_t credit, last;      /* credit at TSC last */
    uint64_t interval;          /* TSC ticks per summary */
    uint64_t interval_start;
    int started;                /* interval_start and last are set */
    uint32_t answered, dropped; /* in this interval */
    uint64_t dropped_total;
};

/* per_second replies a second on average, burst at once, summaries every
 * interval_tsc ticks; tsc_hz is the TSC's frequency. */
void ctl_limit_init(struct ctl_limit *l, uint64_t tsc_hz, uint32_t per_second, uint32_t burst,
                    uint64_t interval_tsc);

/* One unauthenticated reply wants out at TSC now: 1 may send it (counted
 * as answered), 0 drop it (counted as dropped). */
int ctl_limit_take(struct ctl_limit *l, uint64_t now);

/* Force a drop for another reason (no room to send): counted as dropped. */
void ctl_limit_drop(struct ctl_limit *l, uint64_t now);

/* At TSC now: 1 when an interval with something counted in it has ended,
 * with its counts in *answered and *dropped (the next interval starts);
 * 0 otherwise. */
int ctl_limit_summary(struct ctl_limit *l, uint64_t now, uint32_t *answered, uint32_t *dropped);

#endif
