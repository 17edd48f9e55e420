# mfctl with --key against a fake control server (tests/system/
# fake_ctl_server.py) that lies: a HELLO reply saying no authentication is
# needed, unsigned successes, successes under another key, unsigned
# refusals. With a key mfctl must fail each time, with a message and a
# non-zero status, and never print success (issue 8 item 11). Two sanity
# cases show the fake itself works: without a key against the "no
# authentication" fake, and with the key against the well-behaved keyed
# fake, `mfctl stop 5` succeeds. Needs no emulator.
source "$(dirname "$0")/lib.sh"

MFCTL=$MAYFLY_BUILD/mfctl
FAKE=$(dirname "$0")/fake_ctl_server.py
KEY=00112233445566778899aabbccddeeff
SOCK_DIR=
FAKE_PID=

CASES="key_refuses_hello_without_auth key_refuses_unsigned_success
key_refuses_foreign_mac key_reports_unsigned_refusal no_key_against_open_fake
key_against_honest_fake"

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

missing=
command -v python3 >/dev/null || missing=python3
[ -x "$MFCTL" ] || missing="$MFCTL (run make)"
if [ -n "$missing" ]; then
    for c in $CASES; do
        echo "SKIP: $c: $missing not found"
    done
    exit 0
fi

SOCK_DIR=$(mktemp -d /tmp/mayfly-fake.XXXXXX)
trap 'fake_stop; rm -rf "$SOCK_DIR"' EXIT
mkdir -p "$SYSTEST_OUT"
for c in $CASES; do
    run_case "$c"
done
