# Network namespaces for tests and benchmarks that reach guests through
# the uplink from the host's own TCP stack (issue 14): a namespace with a
# tap (10.0.0.1/24) the emulator's NIC sits on, the emulator started in
# it in the background, commands run in it, and everything in it ended
# and the namespace deleted afterwards. Source after tests/system/lib.sh
# (boot_bochs) and call netns_cleanup on exit.
NETNS_LIST=()
NETNS_BOOT_PID=

netns_cleanup() {
    netns_stop
    local ns
    for ns in "${NETNS_LIST[@]}"; do
        ip netns del "$ns" 2>/dev/null
    done
}

# netns_can_run: root, `ip netns` and /dev/net/tun work here; else says why.
netns_can_run() {
    local probe=mfns-$$-probe
    [ "$(id -u)" = 0 ] || { echo "not root"; return 1; }
    [ -c /dev/net/tun ] || { echo "no /dev/net/tun"; return 1; }
    command -v ip >/dev/null || { echo "no ip (iproute2)"; return 1; }
    ip netns add "$probe" 2>/dev/null || { echo "ip netns add failed"; return 1; }
    ip netns del "$probe"
    return 0
}

# netns_make TAG: a fresh namespace mfns-$$-TAG with lo and tap0
# (10.0.0.1/24) up, IPv6 off (no router solicitations queued at the NIC
# before the guest enables receive) and ARP retried every 20 ms (while a
# guest idles in Bochs a wall second is a minute of its time); its name in
# NETNS_NAME. 1 with NETNS_WHY when it cannot be made.
netns_make() {
    local ns=mfns-$$-$1
    ip netns add "$ns" || { NETNS_WHY="ip netns add $ns failed"; return 1; }
    NETNS_LIST+=("$ns")
    ip netns exec "$ns" sh -c '
        sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
        ip link set lo up &&
        ip tuntap add dev tap0 mode tap &&
        ip addr add 10.0.0.1/24 dev tap0 &&
        ip link set tap0 up &&
        sysctl -qw net.ipv4.neigh.tap0.retrans_time_ms=20 net.ipv4.neigh.tap0.mcast_solicit=20' ||
        { NETNS_WHY="could not set up tap0 in $ns"; return 1; }
    NETNS_NAME=$ns
}

# netns_wrap NS PROGRAM OUT: writes OUT, a script that runs PROGRAM (a
# path) inside NS with its arguments.
netns_wrap() {
    printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$1" "$2" > "$3" && chmod +x "$3"
}

# netns_boot NS EMU DIR CONFIG FILE...: boot_bochs (EMU bochs: tigerlake,
# its e1000 on NS's tap0 with mac NETNS_NIC_MAC; EMU qemu: the software
# CPU with an e1000 there) in the background, the run's files in DIR; the
# run ends when netns_stop ends it (or after NETNS_SECONDS). Returns at
# once; NETNS_BOOT_PID is the background job.
netns_boot() {
    local ns=$1 emu=$2 dir=$3 conf=$4 prog real; shift 4
    mkdir -p "$dir/bin"
    : > "$dir/serial.log"
    prog=$([ "$emu" = qemu ] && echo qemu-system-x86_64 || echo bochs)
    real=$(command -v "$prog") || { NETNS_WHY="no $prog"; return 1; }
    netns_wrap "$ns" "$real" "$dir/bin/$prog"
    (
        CASE_DIR=$dir
        export PATH=$dir/bin:$PATH
        if [ "$emu" = qemu ]; then
            MAYFLY_EMULATOR=qemu QEMU_NIC="e1000,mac=$NETNS_NIC_MAC" QEMU_NIC_TAP=tap0 \
                QEMU_SECONDS=${NETNS_SECONDS:-150} boot_bochs tigerlake 256 "$conf" "$@"
        else
            BOCHS_BUDGET=${BOCHS_BUDGET:-400000000000} BOCHS_SECONDS=${NETNS_SECONDS:-150} \
                BOCHS_E1000="mac=$NETNS_NIC_MAC, ethmod=tuntap, ethdev=/dev/net/tun:tap0" \
                boot_bochs tigerlake 128 "$conf" "$@"
        fi
        echo "$EMU_RESULT" > "$dir/emu.result"
    ) 2>>"$dir/boot.err" &
    NETNS_BOOT_PID=$!
}

# netns_wait_line DIR REGEX SECONDS: until the run's serial log has a
# match; 1 with NETNS_WHY when the run ended or the time ran out first.
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
# namespaces made here.
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
