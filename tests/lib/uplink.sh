# Uplink helpers for tests/system/uplink.sh and uplink_qemu.sh: a guest
# behind an uplink, booted with the machine's NIC on a loopback UDP port
# pair and tests/system/wire.py playing the host on the wire. Source
# after tests/system/lib.sh (boot_bochs, CASE_DIR, CASE_WHY).
WIRE=$(dirname "${BASH_SOURCE[0]}")/../system/wire.py

# wire_boot EMU_PORT HOST_PORT MEM_MB CONFIG WIRE_ARGS...: `wire.py echo`
# on HOST_PORT facing the emulator's NIC on EMU_PORT, in the background;
# boot_bochs tigerlake MEM_MB CONFIG udp-echo.elf (the caller puts the
# NIC's settings, BOCHS_E1000 or QEMU_NIC..., in front of the call); then
# waits for the wire. The wire's output is $CASE_DIR/wire.out and its
# status WIRE_RC; returns boot_bochs's status.
wire_boot() {
    local emu=$1 host=$2 mem=$3 conf=$4; shift 4
    python3 "$WIRE" echo --port "$host" --emu-port "$emu" "$@" > "$CASE_DIR/wire.out" 2>&1 &
    local wire_pid=$!
    boot_bochs tigerlake "$mem" "$conf" "$MAYFLY_BUILD/guests/udp-echo.elf"
    local boot_rc=$?
    wait "$wire_pid"
    WIRE_RC=$?
    return $boot_rc
}

# expect_wire REGEX: wire.py printed a line matching REGEX (grep -E);
# otherwise CASE_WHY is its last verdict (the round-trip timing it
# prints after it says nothing about what went wrong).
expect_wire() {
    grep -Eq "^$1\$" "$CASE_DIR/wire.out" && return 0
    CASE_WHY="wire.py said '$(grep -v ' per round trip ' "$CASE_DIR/wire.out" | tail -n 1)', not '$1'"
    return 1
}

# expect_echoed N: the guest echoed N datagrams and ended normally, the
# machine powered off cleanly, and wire.py got all N back intact.
expect_echoed() {
    expect_line "^\\[echo\\.0\\] udp-echo: echoed $1 datagrams\$" &&
    expect_guest echo.0 'exited with status 0$' &&
    expect_poweroff 0 &&
    expect_wire "wire: $1/$1 echoed intact"
}
