# Network namespaces for tests that put the host's own network stack in
# front of a guest: each namespace has lo and a tap (tap0, 10.0.0.1/24)
# that the emulator's NIC sits on, so the namespace's kernel (curl,
# ping, mfctl over TCP) talks to guests behind the uplink; nothing
# outside it is touched, and every namespace made here is deleted when
# the script exits. Sourced after tests/system/lib.sh.

NETNS_LIST=()
netns_cleanup() {
    local ns p
    for ns in "${NETNS_LIST[@]}"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            kill "$p" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null
    done
}
trap netns_cleanup EXIT
trap 'exit 1' INT TERM

# netns_can_run: root, `ip netns` and /dev/net/tun work here; else says why.
netns_can_run() {
    local probe=mfly-$$-probe
    [ "$(id -u)" = 0 ] || { echo "not root"; return 1; }
    [ -c /dev/net/tun ] || { echo "no /dev/net/tun"; return 1; }
    ip netns add "$probe" 2>/dev/null || { echo "ip netns add failed"; return 1; }
    ip netns del "$probe"
    return 0
}

# netns_make N: a fresh namespace mfly-$$-N with lo and tap0 up, IPv6
# off (no router solicitations queued at the NIC before the guest
# enables receive), and ARP retried every 20 ms (not 1 s: while Bochs
# idles a wall second is a minute of guest time). Its name in
# NETNS_NAME.
netns_make() {
    local ns=mfly-$$-$1
    ip netns add "$ns" || { CASE_WHY="ip netns add $ns failed"; NETNS_WHY=$CASE_WHY; return 1; }
    NETNS_LIST+=("$ns")
    ip netns exec "$ns" sh -c '
        sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
        ip link set lo up &&
        ip tuntap add dev tap0 mode tap &&
        ip addr add 10.0.0.1/24 dev tap0 &&
        ip link set tap0 up &&
        sysctl -qw net.ipv4.neigh.tap0.retrans_time_ms=20 net.ipv4.neigh.tap0.mcast_solicit=20' ||
        { CASE_WHY="could not set up tap0 in $ns"; NETNS_WHY=$CASE_WHY; return 1; }
    NETNS_NAME=$ns
}

# netns_wrap NS PROG: $CASE_DIR/bin/PROG runs PROG inside NS (put
# $CASE_DIR/bin first on PATH).
netns_wrap() {
    local real
    real=$(command -v "$2") || { CASE_WHY="no $2"; return 1; }
    mkdir -p "$CASE_DIR/bin"
    printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$1" "$real" > "$CASE_DIR/bin/$2"
    chmod +x "$CASE_DIR/bin/$2"
}

# netns_boot NS EMU NIC_MAC CONFIG FILE...: boot_bochs with the emulator
# (EMU: bochs, or qemu with NETNS_QEMU_NIC, default e1000) inside NS, its
# NIC (MAC NIC_MAC) on NS's tap0.
netns_boot() {
    local ns=$1 emu=$2 mac=$3 conf=$4 prog; shift 4
    prog=$([ "$emu" = qemu ] && echo qemu-system-x86_64 || echo bochs)
    netns_wrap "$ns" "$prog" || return 1
    if [ "$emu" = qemu ]; then
        PATH=$CASE_DIR/bin:$PATH MAYFLY_EMULATOR=qemu \
            QEMU_NIC="${NETNS_QEMU_NIC:-e1000},mac=$mac" QEMU_NIC_TAP=tap0 \
            QEMU_SECONDS=${QEMU_SECONDS:-60} boot_bochs tigerlake 256 "$conf" "$@"
        return
    fi
    PATH=$CASE_DIR/bin:$PATH BOCHS_BUDGET=${BOCHS_BUDGET:-100000000000} \
        BOCHS_SECONDS=${BOCHS_SECONDS:-150} \
        BOCHS_E1000="mac=$mac, ethmod=tuntap, ethdev=/dev/net/tun:tap0" \
        boot_bochs tigerlake 128 "$conf" "$@"
}

# ---- a run in the background (tests/system/control_net.sh, bench) ------
# The hypervisor serving control never powers off: the run goes on in the
# background while the host side drives it, and netns_stop ends it.
NETNS_BOOT_PID=

# netns_wrap_to NS PATH OUT: writes OUT, a script that runs PATH inside NS
# with its arguments.
netns_wrap_to() {
    printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$1" "$2" > "$3" && chmod +x "$3"
}

# netns_boot_bg NS EMU DIR CONFIG FILE...: netns_boot (its NIC's MAC
# NETNS_NIC_MAC) in the background, the run's files in DIR; it ends when
# netns_stop ends it (or after BOCHS_SECONDS / QEMU_SECONDS, default 150).
# NETNS_BOOT_PID is the background job.
netns_boot_bg() {
    local ns=$1 emu=$2 dir=$3 conf=$4; shift 4
    mkdir -p "$dir"
    : > "$dir/serial.log"
    (
        CASE_DIR=$dir
        BOCHS_BUDGET=${BOCHS_BUDGET:-400000000000} BOCHS_SECONDS=${BOCHS_SECONDS:-150} \
            QEMU_SECONDS=${QEMU_SECONDS:-150} netns_boot "$ns" "$emu" "$NETNS_NIC_MAC" "$conf" "$@"
        echo "$EMU_RESULT ${CASE_WHY:-}" > "$dir/emu.result"
    ) 2>>"$dir/boot.err" &
    NETNS_BOOT_PID=$!
}

# netns_wait_line DIR REGEX SECONDS: until the background run's serial log
# has a match; 1 with NETNS_WHY when the run ended or the time ran out.
netns_wait_line() {
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        grep -qE -- "$2" "$1/serial.log" && return 0
        kill -0 "$NETNS_BOOT_PID" 2>/dev/null ||
            { NETNS_WHY="the run ended first: $(tail -2 "$1/serial.log" | tr '\n' ' ')"; return 1; }
        sleep 0.2
    done
    NETNS_WHY="no line matching '$2' within $3 s"
    return 1
}

# netns_stop: ends the background run, by the ids of what runs in the
# namespaces made here, and waits for it.
netns_stop() {
    local ns p
    [ -n "$NETNS_BOOT_PID" ] || return 0
    for ns in "${NETNS_LIST[@]}"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            kill "$p" 2>/dev/null
        done
    done
    wait "$NETNS_BOOT_PID" 2>/dev/null
    NETNS_BOOT_PID=
}
