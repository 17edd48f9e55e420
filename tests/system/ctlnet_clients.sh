# The control guest (guests/ctlnet) against clients that misbehave
# (issue 14), from a network namespace whose tap is Bochs's e1000, as
# tests/system/control_net.sh reaches it: while a busy client is served a
# second connection is closed at once (mfctl says so, exit 3) and the
# busy one is kept; a client that went quiet is replaced by the next;
# 64 KiB of garbage is carried and the next client is served; a keyed
# client that never reads its replies is no longer read from (what it
# sent waits in its own send queue and stays there: the guest and the
# hypervisor hold a bounded amount; that nothing is dropped on the way is
# tests/unit/test_ctlnet.c's to show); a client
# that vanishes with replies in flight (the namespace's ARP entry for the
# guest pointed elsewhere: no ACK, no RST) is dropped when TCP gives up.
# After each, `mfctl ps` over TCP works. One Bochs boot (tigerlake, one
# CPU); the misbehaving clients are tests/system/ctlnet_client.py. Needs
# root and network namespaces; skips cleanly elsewhere.
#
# Bochs's guest clock races while the guest idles (a wall second is many
# of its seconds), so its 2 s idle rule is a small part of a wall second:
# the busy client sends every 20 ms, and the quiet one waits 3 s.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../lib/control.sh"
source "$(dirname "$0")/../lib/netns.sh"
trap netns_cleanup EXIT
trap 'exit 1' INT TERM
KEY=00112233445566778899aabbccddeeff
NETNS_NIC_MAC=52:54:00:12:34:56
CLIENT=$(cd "$(dirname "$0")" && pwd)/ctlnet_client.py
REAL_MFCTL=$MFCTL
PEER="10.0.0.1:[0-9]+"

# in_ns COMMAND...: runs COMMAND in the boot's namespace.
in_ns() {
    ip netns exec "$NETNS_NAME" "$@"
}

# client MODE ARGS...: ctlnet_client.py in the namespace.
client() {
    in_ns python3 "$CLIENT" "$1" --addr 10.0.0.2 --port 7000 --key "$KEY" "${@:2}"
}

# wait_for FILE REGEX SECONDS: until FILE (a client's output or the serial
# log) has a line matching REGEX; 1 with CASE_WHY otherwise.
wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    CASE_WHY="no line matching '$2' in $(basename "$1") within $3 s: $(tail -3 "$1" 2>/dev/null | tr '\n' ' ')"
    return 1
}

ccl_boot() {
    BOOT_DIR=$SYSTEST_OUT/ctlnet_clients_bochs
    BOOT_WHY=
    SOCK=tcp://10.0.0.2:7000
    KEY_ARGS=(--key "$KEY")
    CTL_TIMEOUT=30
    rm -rf "$BOOT_DIR"
    mkdir -p "$BOOT_DIR"
    netns_make ccl && netns_wrap_to "$NETNS_NAME" "$REAL_MFCTL" "$BOOT_DIR/mfctl" &&
        netns_boot_bg "$NETNS_NAME" bochs "$BOOT_DIR" "$(printf '%s\n' "partition small 2M x 2" \
            "uplink lan0" "control net lan0 ip=10.0.0.2 port=7000 mac=$NETNS_NIC_MAC key=$KEY")" &&
        netns_wait_line "$BOOT_DIR" "ctlnet: serving control on 10.0.0.2:7000" 120 ||
        { BOOT_WHY=$NETNS_WHY; return 1; }
    MFCTL=$BOOT_DIR/mfctl
    local i
    for ((i = 0; i < 30; i++)); do
        "$MFCTL" ps --control "$SOCK" --timeout 10 "${KEY_ARGS[@]}" >"$BOOT_DIR/first.out" 2>&1 &&
            return 0
        sleep 1
    done
    BOOT_WHY="the control guest does not answer: $(tail -2 "$BOOT_DIR/first.out" | tr '\n' ' ')"
    return 1
}

# The guest serves the next client: ps over TCP lists it.
expect_served() {
    ctl ps
    expect_ctl_rc 0 "ps after $1" && expect_out '^1 +control\.0 +ctlnet\.elf'
}

ctlnet_one_client_at_a_time() {
    need_boot || return 1
    client hold --seconds 4 > "$CASE_DIR/hold.out" 2>&1 &
    local hold=$! port
    wait_for "$CASE_DIR/hold.out" '^hold: port [0-9]+$' 20 || { kill "$hold" 2>/dev/null; return 1; }
    port=$(sed -n 's/^hold: port \([0-9]*\)$/\1/p' "$CASE_DIR/hold.out")
    wait_for "$CASE_DIR/serial.log" "ctlnet: client 10\.0\.0\.1:$port connected" 20 ||
        { kill "$hold" 2>/dev/null; return 1; }
    ctl ps
    wait "$hold"
    local hold_rc=$?
    expect_ctl_rc 3 "ps beside a busy client" &&
    expect_err "HELLO: tcp://10\.0\.0\.2:7000: .*the control guest closes a new connection while another client is active.*try again" &&
    expect_line "^\[control\.0\] ctlnet: refused $PEER: serving $PEER \(one client at a time\)" ||
        return 1
    [ "$hold_rc" = 0 ] && grep -q ', kept$' "$CASE_DIR/hold.out" ||
        { CASE_WHY="the busy client was not kept: $(cat "$CASE_DIR/hold.out")"; return 1; }
    expect_served "the busy client"
}

ctlnet_idle_client_replaced() {
    need_boot || return 1
    client idle --seconds 30 > "$CASE_DIR/idle.out" 2>&1 &
    local idle=$!
    wait_for "$CASE_DIR/idle.out" '^idle: ready$' 20 || { kill "$idle" 2>/dev/null; return 1; }
    sleep 3
    expect_served "a quiet client"
    local served=$?
    wait "$idle"
    [ "$served" = 0 ] &&
    expect_line "^\[control\.0\] ctlnet: client $PEER idle, replaced by a newer connection" || return 1
    grep -q '^idle: closed by the guest$' "$CASE_DIR/idle.out" && return 0
    CASE_WHY="the quiet client was not closed: $(cat "$CASE_DIR/idle.out")"
    return 1
}

ctlnet_garbage_carried() {
    need_boot || return 1
    client garbage --seconds 2 > "$CASE_DIR/garbage.out" 2>&1 ||
        { CASE_WHY="the garbage client failed: $(tail -2 "$CASE_DIR/garbage.out")"; return 1; }
    expect_line "^\[control\.0\] ctlnet: client $PEER disconnected \(65536 bytes in, [0-9]+ out\)" &&
    expect_served "64 KiB of garbage"
}

ctlnet_reader_that_stops_is_not_read() {
    need_boot || return 1
    client noread --seconds 3 > "$CASE_DIR/noread.out" 2>&1 ||
        { CASE_WHY="the client failed: $(tail -2 "$CASE_DIR/noread.out")"; return 1; }
    local port sent queued later taken
    read -r port sent queued later < <(sed -n 's/^noread: port \([0-9]*\), sent \([0-9]*\) bytes, \([0-9]*\) unacknowledged, \([0-9]*\) after 2 s more$/\1 \2 \3 \4/p' "$CASE_DIR/noread.out")
    [ -n "$later" ] || { CASE_WHY="the client said: $(cat "$CASE_DIR/noread.out")"; return 1; }
    wait_for "$BOOT_DIR/serial.log" "ctlnet: client 10\.0\.0\.1:$port (reset the connection|disconnected)" 20 ||
        return 1
    taken=$(sed -n "s/.*ctlnet: client 10\.0\.0\.1:$port [a-z ]* (\([0-9]*\) bytes in.*/\1/p" "$BOOT_DIR/serial.log")
    echo "  ctlnet_clients: a client that does not read sent $sent bytes, the hypervisor took $taken, $queued stayed queued at the client ($later 2 s later)"
    # Once the replies back up, the guest reads nothing more: what waits
    # at the client (several times what the guest and the hypervisor
    # hold) is not taken, however long it waits.
    [ "$queued" -ge 16384 ] && [ "$later" = "$queued" ] && [ "$taken" -lt "$sent" ] ||
        { CASE_WHY="sent $sent, the hypervisor took $taken, $queued unacknowledged, $later 2 s later: the guest kept reading"; return 1; }
    expect_served "a client that stopped reading"
}

ctlnet_vanished_client_dropped() {
    need_boot || return 1
    client stall --seconds 120 > "$CASE_DIR/stall.out" 2>&1 &
    local stall=$! port ok=0
    wait_for "$CASE_DIR/stall.out" '^stall: stalled$' 30 || { kill "$stall" 2>/dev/null; return 1; }
    port=$(sed -n 's/^stall: port \([0-9]*\)$/\1/p' "$CASE_DIR/stall.out")
    in_ns ip neigh replace 10.0.0.2 lladdr 02:00:00:00:00:99 nud permanent dev tap0
    wait_for "$BOOT_DIR/serial.log" "^\[control\.0\] ctlnet: client 10\.0\.0\.1:$port vanished \(TCP timed out\)" 90 ||
        ok=1
    in_ns ip neigh del 10.0.0.2 dev tap0
    kill "$stall" 2>/dev/null
    wait "$stall" 2>/dev/null
    [ "$ok" = 0 ] && expect_served "a client that vanished"
}

LIVE="ctlnet_one_client_at_a_time ctlnet_idle_client_replaced ctlnet_garbage_carried
ctlnet_reader_that_stops_is_not_read ctlnet_vanished_client_dropped"

missing=$(missing_tools)
[ -n "$missing" ] || [ -f "$G/ctlnet.elf" ] || missing="$G/ctlnet.elf not found (run make)"
[ -n "$missing" ] || missing=$(netns_can_run) && missing=${missing:-}
if [ -n "$missing" ]; then
    for c in $LIVE; do
        echo "SKIP: $c: $missing"
    done
    end_of_script
fi
mkdir -p "$SYSTEST_OUT"
if wanted $LIVE; then
    ccl_boot
    for c in $LIVE; do
        run_check "$c" "$BOOT_DIR"
    done
    netns_stop
fi
end_of_script
