# mfctl with --key against a fake control server (tests/system/
# fake_ctl_server.py) that lies: a HELLO reply saying no authentication is
# needed, unsigned successes, successes under another key, unsigned
# refusals. With a key mfctl must fail each time, with a message and a
# non-zero status, and never print success (issue 8 item 11). Two sanity
# cases show the fake itself works: without a key against the "no
# authentication" fake, and with the key against the well-behaved keyed
# fake, `mfctl stop 5` succeeds. Needs no emulator.
#
# The same fake on TCP (fake_ctl_server.py tcp:0, as a 'control net'
# control guest serves it) tests mfctl's TCP transport (issue 14):
# --control tcp://HOST:PORT connects, says HELLO and checks MACs with the
# same code (a keyed success, an unsigned one refused, ps and raw); a
# refused connection names the address and what to check; a server that
# closes mid-reply or at once (a control guest busy with another client)
# fails with exit 3 and says so; unix:PATH still reaches a Unix socket;
# malformed addresses are usage errors.
source "$(dirname "$0")/lib.sh"

MFCTL=$MAYFLY_BUILD/mfctl
FAKE=$(dirname "$0")/fake_ctl_server.py
KEY=00112233445566778899aabbccddeeff
SOCK_DIR=
FAKE_PID=

CASES="key_refuses_hello_without_auth key_refuses_unsigned_success
key_refuses_foreign_mac key_reports_unsigned_refusal no_key_against_open_fake
key_against_honest_fake tcp_key_against_honest_fake tcp_key_refuses_unsigned_success
tcp_ps_and_raw tcp_refused_names_the_address tcp_server_closes_mid_reply
tcp_server_closes_at_once control_address_forms"

# fake_start MODE: the fake on a fresh socket in SOCK.
fake_start() {
    SOCK=$SOCK_DIR/$1.sock
    python3 "$FAKE" "$SOCK" "$1" "$KEY" >"$CASE_DIR/fake.log" 2>&1 &
    FAKE_PID=$!
    local i
    for ((i = 0; i < 50; i++)); do
        [ -S "$SOCK" ] && grep -q listening "$CASE_DIR/fake.log" && return 0
        sleep 0.1
    done
    CASE_WHY="the fake server did not start: $(tail -2 "$CASE_DIR/fake.log")"
    return 1
}

# fake_start_tcp MODE: the fake on a free TCP port of 127.0.0.1; SOCK is
# its tcp:// address, PORT its port.
fake_start_tcp() {
    python3 "$FAKE" tcp:0 "$1" "$KEY" >"$CASE_DIR/fake.log" 2>&1 &
    FAKE_PID=$!
    local i
    for ((i = 0; i < 50; i++)); do
        PORT=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$CASE_DIR/fake.log")
        if [ -n "$PORT" ]; then
            SOCK=tcp://127.0.0.1:$PORT
            return 0
        fi
        sleep 0.1
    done
    CASE_WHY="the fake server did not start on TCP: $(tail -2 "$CASE_DIR/fake.log")"
    return 1
}

fake_stop() {
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    FAKE_PID=
}

# stop_5 ARGS...: `mfctl stop 5` against the fake; status in RC.
stop_5() {
    "$MFCTL" stop --control "$SOCK" --timeout 10 "$@" 5 >"$CASE_DIR/out" 2>"$CASE_DIR/err"
    RC=$?
    { echo "\$ mfctl stop $* 5 -> $RC"; cat "$CASE_DIR/out" "$CASE_DIR/err"; } >>"$CASE_DIR/mfctl.log"
}

# expect_failure RC REGEX: mfctl exited RC, said REGEX on stderr, printed
# no success.
expect_failure() {
    if [ "$RC" != "$1" ]; then
        CASE_WHY="mfctl exited $RC, expected $1: $(tr '\n' ' ' <"$CASE_DIR/err")$(tr '\n' ' ' <"$CASE_DIR/out")"
        return 1
    fi
    if grep -q 'stopped' "$CASE_DIR/out"; then
        CASE_WHY="mfctl printed success: $(cat "$CASE_DIR/out")"
        return 1
    fi
    grep -qE -- "$2" "$CASE_DIR/err" && return 0
    CASE_WHY="no message matching '$2': $(tr '\n' ' ' <"$CASE_DIR/err")"
    return 1
}

expect_success() {
    [ "$RC" = 0 ] && grep -q '^stopped 5$' "$CASE_DIR/out" && return 0
    CASE_WHY="mfctl exited $RC: $(tr '\n' ' ' <"$CASE_DIR/err")$(tr '\n' ' ' <"$CASE_DIR/out")"
    return 1
}

# The fake answered HELLO and nothing else: no request was sent unsigned.
expect_no_request() {
    grep -q '^answered' "$CASE_DIR/fake.log" || return 0
    CASE_WHY="mfctl sent a request after the HELLO: $(grep '^answered' "$CASE_DIR/fake.log" | head -1)"
    return 1
}

key_refuses_hello_without_auth() {
    fake_start noauth-ok || return 1
    stop_5 --key "$KEY"
    fake_stop
    expect_failure 1 "a key was given but the HELLO reply .* says no authentication is needed" &&
    expect_no_request
}

key_refuses_unsigned_success() {
    fake_start auth-unsigned || return 1
    stop_5 --key "$KEY"
    fake_stop
    expect_failure 3 "protocol error: the reply to STOP carries no MAC"
}

key_refuses_foreign_mac() {
    fake_start auth-wrongkey || return 1
    stop_5 --key "$KEY"
    fake_stop
    expect_failure 3 "protocol error: the reply to STOP has a MAC that does not match the key"
}

key_reports_unsigned_refusal() {
    fake_start auth-refuse || return 1
    stop_5 --key "$KEY"
    fake_stop
    expect_failure 1 "^mfctl: stop 5: authentication failed: wrong MAC .*the reply carries no MAC"
}

no_key_against_open_fake() {
    fake_start noauth-ok || return 1
    stop_5
    fake_stop
    expect_success
}

key_against_honest_fake() {
    fake_start auth-good || return 1
    stop_5 --key "$KEY"
    fake_stop
    expect_success
}

tcp_key_against_honest_fake() {
    fake_start_tcp auth-good || return 1
    stop_5 --key "$KEY"
    fake_stop
    expect_success
}

tcp_key_refuses_unsigned_success() {
    fake_start_tcp auth-unsigned || return 1
    stop_5 --key "$KEY"
    fake_stop
    expect_failure 3 "protocol error: the reply to STOP carries no MAC"
}

# ps, and raw's own reader, over TCP.
tcp_ps_and_raw() {
    fake_start_tcp noauth-ok || return 1
    "$MFCTL" ps --control "$SOCK" --timeout 10 >"$CASE_DIR/out" 2>"$CASE_DIR/err"
    RC=$?
    "$MFCTL" raw --control "$SOCK" --timeout 10 --hello >"$CASE_DIR/raw" 2>>"$CASE_DIR/err"
    local raw_rc=$?
    fake_stop
    if [ "$RC" != 0 ] || [ "$raw_rc" != 0 ]; then
        CASE_WHY="ps exited $RC, raw $raw_rc: $(tr '\n' ' ' <"$CASE_DIR/err")"
        return 1
    fi
    grep -q '^hello protocol=1 .*auth_required=0' "$CASE_DIR/raw" && return 0
    CASE_WHY="raw printed no HELLO reply: $(tr '\n' ' ' <"$CASE_DIR/raw")"
    return 1
}

# Nothing listens on the port (the fake's, once it has gone).
tcp_refused_names_the_address() {
    fake_start_tcp noauth-ok || return 1
    fake_stop
    stop_5
    expect_failure 3 "cannot connect to the control guest at tcp://127.0.0.1:$PORT .*refused.*'control net \.\.\.' line's ip=/port= this address\? is the uplink up\?"
}

tcp_server_closes_mid_reply() {
    fake_start_tcp close-mid-reply || return 1
    stop_5
    fake_stop
    expect_failure 3 "stop 5: tcp://127.0.0.1:$PORT: the connection was closed" || return 1
    grep -q '^closed mid-reply to type 7 seq 2$' "$CASE_DIR/fake.log" && return 0
    CASE_WHY="the fake did not close in the middle of the STOP reply: $(tr '\n' ' ' <"$CASE_DIR/fake.log")"
    return 1
}

tcp_server_closes_at_once() {
    fake_start_tcp close-at-once || return 1
    stop_5
    fake_stop
    expect_failure 3 "HELLO: tcp://127.0.0.1:$PORT: (the connection was closed|Connection reset by peer) \(the control guest closes a new connection while another client is active.*try again\)"
}

# unix:PATH is a Unix socket; malformed addresses are usage errors that
# say what an address looks like.
control_address_forms() {
    fake_start noauth-ok || return 1
    local unix=$SOCK bad
    SOCK=unix:$unix
    stop_5
    fake_stop
    expect_success || return 1
    for bad in tcp://127.0.0.1 tcp://127.0.0.1:0 tcp://127.0.0.1:70000 tcp://:7000 \
               'tcp://[::1]:7000' tcp://a/b:7000 http://127.0.0.1:7000 unix:; do
        SOCK=$bad
        stop_5
        expect_failure 2 "^mfctl: --control .*(tcp://HOST:PORT|port is a number|unix:/tmp)" ||
            { CASE_WHY="--control $bad: $CASE_WHY"; return 1; }
    done
}

missing=
command -v python3 >/dev/null || missing=python3
[ -x "$MFCTL" ] || missing="$MFCTL (run make)"
if [ -n "$missing" ]; then
    for c in $CASES; do
        echo "SKIP: $c: $missing not found"
    done
    end_of_script
fi

SOCK_DIR=$(mktemp -d /tmp/mayfly-fake.XXXXXX)
trap 'fake_stop; rm -rf "$SOCK_DIR"' EXIT
mkdir -p "$SYSTEST_OUT"
for c in $CASES; do
    run_case "$c"
done
end_of_script
