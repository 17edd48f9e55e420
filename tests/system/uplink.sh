# Uplinks (issue 13): a physical NIC on a switch, in Bochs (tigerlake)
# with its e1000 on the 'socket' backend: every frame the NIC sends goes
# to a UDP port on loopback and what is sent to another is put on the
# wire, so tests/system/wire.py plays the outside host without root and
# nothing leaves the machine. Bochs passes in only frames for the MAC it
# was given (and broadcast), so the guest behind the uplink takes that
# address with mac=. Bochs takes at most one frame from the host per
# emulated millisecond: the counts here are sized to it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../lib/uplink.sh"
G=$MAYFLY_BUILD/guests
NIC_MAC=52:54:00:12:34:56

# A loopback UDP port pair no other case of this run uses: the emulator
# listens on the first, the test on the second.
wire_ports() {
    local base=$(( 41000 + (RANDOM % 200) * 4 ))
    echo "$base $(( base + 1 ))"
}

# uplink_boot CONFIG WIRE_ARGS...: boots with the e1000 on a fresh port
# pair and wire.py on the far end; the wire's output is $CASE_DIR/wire.out
# and its status WIRE_RC.
uplink_boot() {
    local conf=$1 emu port; shift
    read -r emu port <<<"$(wire_ports)"
    BOCHS_E1000="mac=$NIC_MAC, ethmod=socket, ethdev=$emu" wire_boot "$emu" "$port" 128 "$conf" "$@"
}

UPLINK_ECHO_CONF="partition small 2M x 2
uplink lan0
guest echo image=udp-echo.elf net=lan0 mac=$NIC_MAC args=\"ip=10.0.0.2 count=COUNT idle=0\"
poweroff when-idle"

# The PCI scan names the e1000, the uplink binds it, and a host on the
# wire gets 40 UDP datagrams echoed intact through it.
uplink_udp_echo_from_the_host() {
    uplink_boot "${UPLINK_ECHO_CONF/COUNT/40}" --guest-ip 10.0.0.2 --guest-mac "$NIC_MAC" \
        --count 40 --timeout 150 &&
    expect_line '^mayfly: pci 00:[0-9a-f]{2}\.0 8086:100e ' &&
    expect_line "^mayfly: uplink lan0: e1000 [0-9a-f:.]+, mac $NIC_MAC$" &&
    expect_line '^mayfly: uplink lan0: [0-9]+ frames in, [0-9]+ out; 0 malformed' &&
    expect_echoed 40
}

# Malformed frames from the wire (runt, oversized, bad IPv4 length and
# checksum, truncated UDP, random bytes, unknown unicast, a frame claiming
# the guest's MAC) change nothing but counters: the echo run after them
# is intact and the guest ends normally.
uplink_malformed_frames_change_nothing() {
    uplink_boot "${UPLINK_ECHO_CONF/COUNT/10}" --guest-ip 10.0.0.2 --guest-mac "$NIC_MAC" \
        --count 10 --garbage --timeout 150 &&
    expect_no_line 'mayfly: panic|echo\.0 killed' &&
    expect_wire 'wire: sent [0-9]+ malformed frames' &&
    expect_echoed 10
}

# An uplink line for a NIC the machine does not have: one line, and the
# switch and its guests run without it.
uplink_without_nic() {
    boot_bochs tigerlake 128 'partition small 2M x 2
uplink lan0 pci=00:09.0
guest echo image=udp-echo.elf net=lan0 args="ip=10.0.0.2 idle=10"
poweroff when-idle' "$G/udp-echo.elf" &&
    expect_line '^mayfly: uplink lan0: no usable NIC at pci 00:09\.0 ' &&
    expect_guest echo.0 'exited with status 0$' &&
    expect_poweroff 0
}

run_case uplink_udp_echo_from_the_host
run_case uplink_malformed_frames_change_nothing
run_case uplink_without_nic
end_of_script
